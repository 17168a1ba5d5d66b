package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"
	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/internal/testenv"
)

// triage creates the events and dead-letter topics kept for ever and
// exports whether each still is: a topic that existed with the broker's
// defaults (a week, like Kafka's own) reads 0 and is named in the log
// once, with the command that fixes it.
func TestWatchKeptTopics(t *testing.T) {
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	brokers := kc.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := bus.EnsureTopics(ctx, brokers, 1, bus.DefaultTopics.Dead); err != nil { // there before triage
		t.Fatal(err)
	}
	if err := ensureBusTopics(ctx, brokers, 2); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	var logs testenv.Buffer // the watcher writes it from its goroutine
	var g errgroup.Group
	wctx, stop := context.WithCancel(ctx)
	watchKeptTopics(wctx, &g, brokers, []string{bus.DefaultTopics.Events, bus.DefaultTopics.Dead, bus.DefaultTopics.Posts},
		reg, slog.New(slog.NewTextHandler(&logs, nil)))
	want := map[string]float64{bus.DefaultTopics.Events: 1, bus.DefaultTopics.Dead: 0, bus.DefaultTopics.Posts: 0}
	for deadline := time.Now().Add(10 * time.Second); testutil.CollectAndCount(reg) < len(want) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	g.Wait()
	for topic, v := range want {
		if got := keptGauge(t, reg, topic); got != v {
			t.Errorf("tanggap_bus_topic_kept{topic=%q} = %v, want %v", topic, got, v)
		}
	}
	out := logs.String()
	if n := strings.Count(out, "topic_not_kept"); n != 2 || !strings.Contains(out, "topic="+bus.DefaultTopics.Dead+" why=\"retention.ms=604800000") ||
		!strings.Contains(out, "--add-config cleanup.policy=delete,retention.ms=-1,retention.bytes=-1") {
		t.Errorf("log:\n%s", out)
	}
}

// keptGauge reads tanggap_bus_topic_kept of one topic back from reg.
func keptGauge(t *testing.T, reg *prometheus.Registry, topic string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if mf.GetName() == "tanggap_bus_topic_kept" && l.GetName() == "topic" && l.GetValue() == topic {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no tanggap_bus_topic_kept for %s", topic)
	return 0
}
