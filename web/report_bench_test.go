package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/internal/cputime"
	"github.com/tanggap/tanggap/report"
	"github.com/tanggap/tanggap/report/reporttest"
	"github.com/tanggap/tanggap/workflow"
)

// fixedAuth signs every request in as one principal (benchmarks).
type fixedAuth struct{ p *Principal }

func (a fixedAuth) Principal(*http.Request) (*Principal, error) { return a.p, nil }

// BenchmarkMonthlyReportHTTP serves a month of 100,000 items end to end:
// each request scans the store, computes, and renders the page or the
// file. Redis is miniredis, or the redis-server at TANGGAP_TEST_REDIS_ADDR;
// TANGGAP_BENCH_ITEMS and TANGGAP_BENCH_HISTORY change the size
// (reporttest.BenchSize).
//
//	TANGGAP_TEST_REDIS_ADDR=127.0.0.1:6392 go test ./web -run '^$' -bench MonthlyReportHTTP -benchtime 3x
//
// "month" requests the page and every export one after the other and
// reports each one's ms/op and the slowest. TANGGAP_BENCH_CITY=name keeps
// the seeded city in the redis-server for the next run.
func BenchmarkMonthlyReportHTTP(b *testing.B) {
	n, before := reporttest.BenchSize(b)
	cfg, err := config.Load("")
	if err != nil {
		b.Fatal(err)
	}
	clocks, err := workflow.NewClocks(cfg, "")
	if err != nil {
		b.Fatal(err)
	}
	loc := cfg.Location()
	now := time.Date(2026, time.April, 1, 9, 0, 0, 0, loc)
	st, backend := reporttest.Store(b, func() time.Time { return now })
	var codes []string
	for _, o := range cfg.OPDs {
		codes = append(codes, o.Code)
	}
	start := time.Now()
	reused, err := backend.Seed(context.Background(), st, clocks, reporttest.Options{N: n, Period: report.Month(2026, time.March, loc),
		OPDs: codes, Now: now, Seed: 6, Before: before})
	if err != nil {
		b.Fatal(err)
	}
	if reused {
		b.Logf("reused %d seeded items in %s", n*(1+before), backend.Name)
	} else {
		b.Logf("seeded %d items into %s in %v", n*(1+before), backend.Name, time.Since(start).Round(time.Millisecond))
	}
	s, err := New(Options{Config: cfg, Store: st, Clocks: clocks, Auth: fixedAuth{&Principal{Login: "humas", Name: "Humas", Role: RolePPIDUtama}},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(), Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	routes := []struct{ name, path string }{
		{"page", "/laporan?month=2026-03"},
		{"print", "/laporan/cetak?month=2026-03"},
		{"rekap.xlsx", "/laporan/rekap.xlsx?month=2026-03"},
		{"rekap.csv", "/laporan/rekap.csv?month=2026-03&sep=semicolon"},
		{"register.csv", "/laporan/register.csv?month=2026-03&sep=semicolon"},
		{"register.xlsx", "/laporan/register.xlsx?month=2026-03"},
	}
	// One response body for every request, as a connection would take
	// the bytes: growing a new 40 MB buffer per request would be the
	// benchmark's own cost.
	body := bytes.NewBuffer(make([]byte, 0, 64<<20))
	get := func(b *testing.B, path string) int {
		body.Reset()
		rec := httptest.NewRecorder()
		rec.Body = body
		s.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %.300s", path, rec.Code, rec.Body.String())
		}
		return rec.Body.Len()
	}
	// cpu reports, next to the wall time, the CPU per request of this
	// process and of the redis-server: on a shared machine the wall time
	// also counts other processes' work.
	cpu := func(b *testing.B, c0, s0 time.Duration) {
		c1, s1 := cputime.Process(), backend.ServerCPU()
		b.ReportMetric(float64(c1-c0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		if s1 > 0 {
			b.ReportMetric(float64(s1-s0)/float64(time.Millisecond)/float64(b.N), "redis-cpu-ms/op")
		}
	}
	for _, rt := range routes {
		path := rt.path
		b.Run(rt.name, func(b *testing.B) {
			var size int
			c0, s0 := cputime.Process(), backend.ServerCPU()
			for b.Loop() {
				size = get(b, path)
			}
			b.ReportMetric(float64(size), "bytes")
			cpu(b, c0, s0)
		})
	}
	// month: the page and every export of the month one after the other,
	// as requests (each reads the store itself), with each one's ms/op.
	b.Run("month", func(b *testing.B) {
		spent := make([]time.Duration, len(routes))
		c0, s0 := cputime.Process(), backend.ServerCPU()
		for b.Loop() {
			for i, rt := range routes {
				t := time.Now()
				get(b, rt.path)
				spent[i] += time.Since(t)
			}
		}
		var total, slowest time.Duration
		for i, d := range spent {
			total += d
			slowest = max(slowest, d)
			b.ReportMetric(float64(d)/float64(time.Millisecond)/float64(b.N), routes[i].name+"-ms")
		}
		b.ReportMetric(float64(slowest)/float64(time.Millisecond)/float64(b.N), "slowest-ms")
		cpu(b, c0, s0)
	})
}
