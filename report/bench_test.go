package report_test

import (
	"context"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/report"
	"github.com/tanggap/tanggap/report/reporttest"
	"github.com/tanggap/tanggap/workflow"
)

// benchItems is the size of the month; TANGGAP_BENCH_ITEMS overrides it
// for quicker local runs.
func benchItems(b *testing.B) int {
	if s := os.Getenv("TANGGAP_BENCH_ITEMS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("TANGGAP_BENCH_ITEMS=%q", s)
		}
		return n
	}
	return 100_000
}

// BenchmarkMonthlyReport measures a month's report over 100,000 items, from
// the store (miniredis, or the real redis-server at TANGGAP_TEST_REDIS_ADDR)
// to the files: each phase alone, then the whole ("month" = scan + compute
// + charts + recap XLSX; "month+register" adds the 100,000-row register
// XLSX).
//
//	go test ./report -run '^$' -bench MonthlyReport -benchtime 5x
//	TANGGAP_TEST_REDIS_ADDR=127.0.0.1:6390 go test ./report -run '^$' -bench MonthlyReport -benchtime 5x
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
			c0, s0 := processCPU(), backend.ServerCPU()
			for b.Loop() {
				fn(b)
			}
			c1, s1 := processCPU(), backend.ServerCPU()
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
	n := benchItems(b)
	start := time.Now()
	if err := reporttest.Seed(ctx, st, clocks, reporttest.Options{N: n, Period: period, OPDs: codes, Now: now, Seed: 6}); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d items into %s in %v", n, backend.Name, time.Since(start).Round(time.Millisecond))
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
	rep := report.Build(d, opt)

	run("scan", func(b *testing.B) {
		load(b)
	})
	run("compute", func(b *testing.B) {
		report.Build(d, opt)
	})
	run("charts", func(b *testing.B) {
		rep.ChartSVG("id")
	})
	run("recap.xlsx", func(b *testing.B) {
		if err := report.WriteRecapXLSX(io.Discard, rep, "id"); err != nil {
			b.Fatal(err)
		}
	})
	run("recap.csv", func(b *testing.B) {
		if err := report.WriteRecapCSV(io.Discard, rep, report.CSVOptions{Lang: "id", Semicolon: true}); err != nil {
			b.Fatal(err)
		}
	})
	run("register.csv", func(b *testing.B) {
		if err := report.WriteRegisterCSV(io.Discard, rep, rep.BuildRegister(d, report.RegisterOptions{Lang: "id"}), report.CSVOptions{Lang: "id"}); err != nil {
			b.Fatal(err)
		}
	})
	run("register.xlsx", func(b *testing.B) {
		if err := report.WriteRegisterXLSX(io.Discard, rep, rep.BuildRegister(d, report.RegisterOptions{Lang: "id"}), "id"); err != nil {
			b.Fatal(err)
		}
	})
	run("month", func(b *testing.B) {
		d := load(b)
		rep := report.Build(d, opt)
		rep.ChartSVG("id")
		if err := report.WriteRecapXLSX(io.Discard, rep, "id"); err != nil {
			b.Fatal(err)
		}
	})
	run("month+register", func(b *testing.B) {
		d := load(b)
		rep := report.Build(d, opt)
		rep.ChartSVG("id")
		if err := report.WriteRecapXLSX(io.Discard, rep, "id"); err != nil {
			b.Fatal(err)
		}
		if err := report.WriteRegisterXLSX(io.Discard, rep, rep.BuildRegister(d, report.RegisterOptions{Lang: "id"}), "id"); err != nil {
			b.Fatal(err)
		}
	})
}
