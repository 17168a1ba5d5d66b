package main

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
