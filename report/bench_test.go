package report_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/internal/cputime"
	"github.com/tanggap/tanggap/report"
	"github.com/tanggap/tanggap/report/reporttest"
	"github.com/tanggap/tanggap/workflow"
)

// BenchmarkMonthlyReport measures a month's report over 100,000 items, from
// the store (miniredis, or the real redis-server at TANGGAP_TEST_REDIS_ADDR)
// to the files. Each phase runs alone first; "month" is the figure of
// issue 6: one read of the store shared by the page and every export, then
// the computation, the page's charts, the recap (CSV and XLSX) and the
// 100,000-row detail register (CSV and XLSX), with the milliseconds of
// each part reported next to the total. The page's HTML template and the
// per-request HTTP path are measured by web's BenchmarkMonthlyReportHTTP.
//
//	redis-server --port 6392 --save "" --appendonly no --daemonize yes
//	TANGGAP_TEST_REDIS_ADDR=127.0.0.1:6392 go test ./report -run '^$' -bench 'MonthlyReport/month$' -benchtime 3x -v
//
// Seeding 100,000 items takes minutes; with TANGGAP_BENCH_CITY=name the
// seeded city stays in that redis-server for the next run.
// TANGGAP_BENCH_ITEMS changes the size, TANGGAP_BENCH_HISTORY=k seeds k
// months before the reported one too (see reporttest.BenchSize).
func BenchmarkMonthlyReport(b *testing.B) {
	ctx := context.Background()
	cfg, err := config.Load("")
	if err != nil {
		b.Fatal(err)
	}
	clocks, err := workflow.NewClocks(cfg, "")
	if err != nil {
		b.Fatal(err)
	}
	loc := cfg.Location()
	period := report.Month(2026, time.March, loc)
	now := time.Date(2026, time.April, 1, 9, 0, 0, 0, loc)
	st, backend := reporttest.Store(b, func() time.Time { return now })
	// run times fn b.N times and reports, next to the wall time, the CPU
	// time of this process and of the redis-server per operation: on a
	// shared machine the wall time also counts other processes' work.
	run := func(name string, fn func(b *testing.B)) {
		b.Run(name, func(b *testing.B) {
			c0, s0 := cputime.Process(), backend.ServerCPU()
			for b.Loop() {
				fn(b)
			}
			c1, s1 := cputime.Process(), backend.ServerCPU()
			b.ReportMetric(float64(c1-c0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			if s1 > 0 {
				b.ReportMetric(float64(s1-s0)/float64(time.Millisecond)/float64(b.N), "redis-cpu-ms/op")
			}
		})
	}
	var codes []string
	scope := report.Scope{Unrouted: true, Other: true}
	for _, o := range cfg.OPDs {
		codes = append(codes, o.Code)
		scope.OPDs = append(scope.OPDs, report.OPD{Code: o.Code, Name: o.Name, Abbrev: o.Abbrev})
	}
	n, before := reporttest.BenchSize(b)
	start := time.Now()
	reused, err := backend.Seed(ctx, st, clocks, reporttest.Options{N: n, Period: period, OPDs: codes, Now: now, Seed: 6, Before: before})
	if err != nil {
		b.Fatal(err)
	}
	if reused {
		b.Logf("reused %d seeded items in %s", n*(1+before), backend.Name)
	} else {
		b.Logf("seeded %d items into %s in %v", n*(1+before), backend.Name, time.Since(start).Round(time.Millisecond))
	}
	opt := report.Options{Calendar: clocks.Calendar(), Now: now, FirstResponseTarget: cfg.Clocks.FirstResponse.D()}

	load := func(b *testing.B) *report.Data {
		d, err := report.Load(ctx, st, period, scope, 0)
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Items) != n {
			b.Fatalf("loaded %d items, want %d", len(d.Items), n)
		}
		return d
	}
	d := load(b)
	b.Logf("the month's %d items; %d carried over and ended since, %d open outside the month (%d months before seeded)", len(d.Items), len(d.Others), len(d.Open), before)
	rep := report.Build(d, opt)
	reg := rep.BuildRegister(d, report.RegisterOptions{Lang: "id"})
	if len(reg.Rows) != n {
		b.Fatalf("register has %d rows, want %d", len(reg.Rows), n)
	}
	// The parts of a month's report, in the order a "month" run does them.
	type part struct {
		name string
		fn   func(b *testing.B, d *report.Data, rep *report.Report, reg *report.Register)
	}
	parts := []part{
		{"charts", func(b *testing.B, d *report.Data, rep *report.Report, reg *report.Register) {
			rep.ChartSVG("id")
		}},
		{"recap.csv", func(b *testing.B, d *report.Data, rep *report.Report, reg *report.Register) {
			if err := report.WriteRecapCSV(io.Discard, rep, report.CSVOptions{Lang: "id", Semicolon: true}); err != nil {
				b.Fatal(err)
			}
		}},
		{"recap.xlsx", func(b *testing.B, d *report.Data, rep *report.Report, reg *report.Register) {
			if err := report.WriteRecapXLSX(io.Discard, rep, "id"); err != nil {
				b.Fatal(err)
			}
		}},
		{"register.csv", func(b *testing.B, d *report.Data, rep *report.Report, reg *report.Register) {
			if err := report.WriteRegisterCSV(io.Discard, rep, reg, report.CSVOptions{Lang: "id", Semicolon: true}); err != nil {
				b.Fatal(err)
			}
		}},
		{"register.xlsx", func(b *testing.B, d *report.Data, rep *report.Report, reg *report.Register) {
			if err := report.WriteRegisterXLSX(io.Discard, rep, reg, "id"); err != nil {
				b.Fatal(err)
			}
		}},
	}

	run("scan", func(b *testing.B) { load(b) })
	run("compute", func(b *testing.B) { report.Build(d, opt) })
	run("register", func(b *testing.B) { rep.BuildRegister(d, report.RegisterOptions{Lang: "id"}) })
	for _, p := range parts {
		run(p.name, func(b *testing.B) { p.fn(b, d, rep, reg) })
	}
	// month: everything a month's report does, once per iteration: one
	// read of the store, the computation, then every part; each part's
	// share is reported in ms/op next to the total.
	b.Run("month", func(b *testing.B) {
		spent := make([]time.Duration, 2+len(parts))
		c0, s0 := cputime.Process(), backend.ServerCPU()
		for b.Loop() {
			t := time.Now()
			d := load(b)
			spent[0] += time.Since(t)
			t = time.Now()
			rep := report.Build(d, opt)
			reg := rep.BuildRegister(d, report.RegisterOptions{Lang: "id"})
			spent[1] += time.Since(t)
			for i, p := range parts {
				t = time.Now()
				p.fn(b, d, rep, reg)
				spent[2+i] += time.Since(t)
			}
		}
		c1, s1 := cputime.Process(), backend.ServerCPU()
		msPerOp := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(b.N) }
		var total time.Duration
		for _, d := range spent {
			total += d
		}
		b.ReportMetric(msPerOp(total), "ms/month")
		b.ReportMetric(msPerOp(spent[0]), "scan-ms")
		b.ReportMetric(msPerOp(spent[1]), "compute-ms")
		for i, p := range parts {
			b.ReportMetric(msPerOp(spent[2+i]), p.name+"-ms")
		}
		b.ReportMetric(float64(c1-c0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		if s1 > 0 {
			b.ReportMetric(float64(s1-s0)/float64(time.Millisecond)/float64(b.N), "redis-cpu-ms/op")
		}
	})
}
