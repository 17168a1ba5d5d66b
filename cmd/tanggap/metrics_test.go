package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/demo"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/dashboards"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/triage"
	"github.com/tanggap/tanggap/workflow"
)

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// TestDashboardMetricsExist proves every metric the dashboards and rules
// name is registered by the code, wired the way the binary wires it.
func TestDashboardMetricsExist(t *testing.T) {
	want, err := dashboards.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	reg := newRegistry()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := store.New(testRedis(t), "metrics", nil)
	clocks, err := workflow.NewClocks(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	pipe := newPipeline(cfg, st, clocks, triage.NewKeywords(cfg), []string{"127.0.0.1:1"}, bus.DefaultTopics, pipelineOptions{group: "g"}, reg, log)
	defer pipe.producer.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	posts, err := demo.Load()
	if err != nil {
		t.Fatal(err)
	}
	pollers, _, closeFakes, err := devPollers(ctx, cfg, posts, log)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFakes()
	if _, err := newRunners(pollers, cfg, st, pipe.producer, reg, log, collectors.RunnerOptions{Interval: time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, err := newWeb(cfg, st, clocks, reg, log, false); err != nil {
		t.Fatal(err)
	}
	// Every registered collector describes its metrics, labelled or not.
	have := map[string]bool{}
	ch := make(chan *prometheus.Desc, 256)
	go func() { reg.Describe(ch); close(ch) }()
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			have[m[1]] = true
		}
	}
	if len(have) < 10 {
		t.Fatalf("only %d metrics described: the test is not seeing the registry", len(have))
	}
	for _, m := range want {
		if !have[m.Name] {
			t.Errorf("dashboards/metrics.txt names %s, which the code does not register", m.Name)
		}
	}
}

// The holiday table's last year is what the calendar alerts compare with
// the clock: the embedded table's, or that of the table TANGGAP_HOLIDAYS
// names.
func TestCalendarLastYear(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := workflow.NewClocks(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	ys := embedded.Calendar().Years()
	if got := testutil.ToFloat64(calendarLastYear(embedded)); got != float64(ys[len(ys)-1]) || got < 2026 {
		t.Errorf("embedded table: last year %v, the table's years %v", got, ys)
	}
	table, err := os.ReadFile("../../calendar/holidays-id.csv")
	if err != nil {
		t.Fatal(err)
	}
	next := ys[len(ys)-1] + 1
	path := filepath.Join(t.TempDir(), "holidays.csv")
	row := fmt.Sprintf("%d-01-01,libur_nasional,Tahun Baru %d Masehi,Contoh\n", next, next)
	if err := os.WriteFile(path, append(table, row...), 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := workflow.NewClocks(cfg, path)
	if err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(calendarLastYear(loaded)); got != float64(next) {
		t.Errorf("table with %d: last year %v", next, got)
	}
}
