package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tanggap/tanggap/internal/testenv"
)

// TestBench runs a small bench on the in-process defaults and checks the
// report's shape and counts (not its speed: the bench measures, it does not
// assert durations).
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("the bench takes a few seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errw bytes.Buffer
	getenv := func(string) string { return "" } // no REDIS_ADDR, no brokers: kfake and miniredis
	err := run(ctx, []string{"bench", "--posts", "400", "--rate", "50", "--rate-duration", "1s", "--consumers", "2", "--partitions", "3"},
		getenv, strings.NewReader(""), &out, &errw)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, errw.String())
	}
	var rep benchReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out.String())
	}
	if rep.Posts != 400 || rep.PostsPerSec <= 0 || rep.Max == nil || rep.Rate == nil || rep.Ceilings == nil {
		t.Fatalf("report: %s", out.String())
	}
	if rep.Max.Lost != 0 || rep.Max.Extra != 0 || rep.Max.BadVersions != 0 || rep.Rate.Lost != 0 {
		t.Errorf("items lost or duplicated: %+v %+v", rep.Max, rep.Rate)
	}
	if rep.Rate.Posts != 50 || rep.Rate.PublishToVisible.N != 50 || rep.Max.PublishToVisible.N == 0 {
		t.Errorf("latency samples: rate %+v, max %+v", rep.Rate.PublishToVisible, rep.Max.PublishToVisible)
	}
	c := rep.Ceilings
	if c.KafkaProduceConsume <= 0 || c.StoreIngest <= 0 || c.StoreIngestPipelined <= 0 || c.TriageCPUPerCore <= 0 || len(rep.Ratios) == 0 {
		t.Errorf("ceilings: %+v ratios %v", c, rep.Ratios)
	}
	if rep.RedisBytesPerItem != nil {
		t.Errorf("miniredis has no INFO memory, yet bytes per item %v", *rep.RedisBytesPerItem)
	}
	// Bad flags are usage errors, not panics.
	if err := run(ctx, []string{"bench", "--phases", "nope"}, getenv, strings.NewReader(""), &out, &errw); err == nil {
		t.Error("unknown phase accepted")
	}
}

// TestCompactAOF rewrites a real redis-server's AOF (the integration
// services run with appendonly yes) and waits until the rewrite is done.
func TestCompactAOF(t *testing.T) {
	if !testenv.Integration {
		t.Skip("real redis-server test: runs in the integration run (scripts/integration.sh)")
	}
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	defer rdb.Close()
	ctx := context.Background()
	on, err := infoInt(ctx, rdb, "persistence", "aof_enabled")
	if err != nil {
		t.Fatal(err)
	}
	before, err := infoInt(ctx, rdb, "persistence", "aof_rewrites")
	if err != nil {
		t.Fatal(err)
	}
	b := &bench{rdb: rdb}
	done, err := b.compactAOF(ctx)
	if err != nil || done != (on == 1) {
		t.Fatalf("compactAOF = %v, %v with aof_enabled %d", done, err, on)
	}
	after, err := infoInt(ctx, rdb, "persistence", "aof_rewrites")
	if err != nil {
		t.Fatal(err)
	}
	if busy, _ := infoInt(ctx, rdb, "persistence", "aof_rewrite_in_progress"); on == 1 && (after <= before || busy != 0) {
		t.Errorf("aof_rewrites %d -> %d, in progress %d: the rewrite did not run or was not waited for", before, after, busy)
	}
	b.redisIn = true
	if done, err := b.compactAOF(ctx); done || err != nil {
		t.Errorf("in-process Redis: compactAOF = %v, %v, want false, nil", done, err)
	}
}

// TestHostCPU reads /proc/stat's cpu line as the kernel writes it and
// turns two readings into shares of the CPUs' time.
func TestHostCPU(t *testing.T) {
	h0, err := parseHostCPU("cpu  100 5 50 1000 20 3 2 30 0 0\ncpu0 50 2 25 500 10 1 1 15 0 0\n")
	if err != nil {
		t.Fatal(err)
	}
	if h0 != (hostCPU{busy: 160, idle: 1020, steal: 30}) {
		t.Fatalf("parsed %+v", h0)
	}
	// 200 ticks pass (2 CPUs, 1 s): 120 busy, 40 idle, 40 stolen.
	h1, err := parseHostCPU("cpu  200 5 60 1030 30 8 7 70 0 0\n")
	if err != nil {
		t.Fatal(err)
	}
	got := h1.since(h0, 4000)
	want := &hostShare{BusyPct: 60, IdlePct: 20, StealPct: 20, BusyUSPerPost: 300}
	if got == nil || *got != *want {
		t.Errorf("since: %+v, want %+v", got, want)
	}
	if h0.since(h0, 10) != nil {
		t.Error("a share of no time")
	}
	// Idle (iowait) went back by 10 ticks: no idle time, not 2^64.
	back := h0
	back.busy, back.idle = h0.busy+100, h0.idle-10
	if got := back.since(h0, 1000); got == nil || got.BusyPct != 100 || got.IdlePct != 0 {
		t.Errorf("counter going back: %+v", got)
	}
	for _, bad := range []string{"", "intr 1 2 3\n", "cpu 1 2 3\n", "cpu 1 2 3 x 5 6 7 8\n"} {
		if _, err := parseHostCPU(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
