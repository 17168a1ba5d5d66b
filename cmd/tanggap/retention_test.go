package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/store"
)

// The nightly retention prunes once a city day, from 02:00 city time, in
// the process that takes the day's lease, after writing its cutoff to the
// events topic; a failed night frees the day for the next round.
func TestRetentionRound(t *testing.T) {
	ctx := context.Background()
	wib, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
	defer rdb.Close()
	night := time.Date(2026, 11, 29, 1, 30, 0, 0, wib)
	long := night.AddDate(0, 0, -400)
	st := store.New(rdb, "bekasi", func() time.Time { return long })
	seedPrunable(t, st, long, long)
	relayOutbox(t, st, nil)
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	topics := bus.DefaultTopics
	if err := bus.EnsureTopics(ctx, kc.ListenAddrs(), 1, topics.Events); err != nil {
		t.Fatal(err)
	}
	prod := bus.NewProducer(kc.ListenAddrs(), topics, bus.NewProducerMetrics(prometheus.NewRegistry()))
	defer prod.Close()

	now := night
	kafkaDown := false
	m := newRetentionMetrics(prometheus.NewRegistry())
	mark := func(ctx context.Context, before, at time.Time) error {
		if kafkaDown {
			return errors.New("kafka: connection refused")
		}
		return prod.PublishPrune(ctx, before, at)
	}
	r := &retention{st: st, mark: mark, days: 100, loc: wib, owner: "t-1", now: func() time.Time { return now }, m: m,
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	other := *r
	other.owner = "t-2"
	exists := func(id string) bool {
		_, err := st.Item(ctx, id)
		return err == nil
	}
	runs := func(result string) float64 { return testutil.ToFloat64(m.runs.WithLabelValues(result)) }

	// 01:30: not yet.
	if err := r.round(ctx); err != nil || !exists("x:1") || runs("ok") != 0 {
		t.Fatalf("before 02:00: %v, x:1 kept %v, runs %v", err, exists("x:1"), runs("ok"))
	}
	// 02:15: one process prunes what ended before 21 August 2026 (100
	// days before the 29th); the other finds the night taken.
	now = night.Add(45 * time.Minute)
	if err := r.round(ctx); err != nil {
		t.Fatal(err)
	}
	if err := other.round(ctx); err != nil {
		t.Fatal(err)
	}
	if exists("x:1") || !exists("x:2") || runs("ok") != 1 || testutil.ToFloat64(m.pruned) != 1 {
		t.Fatalf("after the night: x:1 %v, x:2 %v, runs ok %v, pruned %v", exists("x:1"), exists("x:2"), runs("ok"), testutil.ToFloat64(m.pruned))
	}
	want := time.Date(2026, 8, 21, 0, 0, 0, 0, wib)
	var marks []time.Time
	if err := bus.ReadAll(ctx, kc.ListenAddrs(), topics.Events, func(msg kafka.Message) error {
		env, err := bus.Decode(msg.Value)
		if err != nil || env.Prune == nil {
			t.Errorf("events topic: %v %+v", err, env)
			return nil
		}
		marks = append(marks, env.Prune.Before)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(marks) != 1 || !marks[0].Equal(want) {
		t.Fatalf("prune marks %v, want one at %v", marks, want)
	}
	if p, err := st.PrunedBefore(ctx); err != nil || !p.Equal(want) {
		t.Errorf("pruned before %v %v, want %v", p, err, want)
	}
	// The next night Kafka refuses the mark: nothing is pruned, the try
	// counts as failed, and the day is free for the next round.
	now = now.AddDate(0, 0, 1)
	kafkaDown = true
	if err := r.round(ctx); err == nil || runs("error") != 1 {
		t.Fatalf("with Kafka down: %v, errors %v", err, runs("error"))
	}
	kafkaDown = false
	now = now.Add(15 * time.Minute)
	if err := other.round(ctx); err != nil || runs("ok") != 2 {
		t.Fatalf("the next round: %v, runs ok %v", err, runs("ok"))
	}
}
