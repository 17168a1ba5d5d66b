package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kfake"
	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap"
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
	if _, err := newWeb(cfg, st, clocks, reg, log, webSettings{}); err != nil {
		t.Fatal(err)
	}
	var g errgroup.Group
	housekeeping(ctx, &g, cfg, st, clocks, pipe.producer, reg, log)
	defer func() { cancel(); g.Wait() }() // the rounds end with ctx
	// The digest and the webhooks, configured as tanggap triage reads them.
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	hooksFile := filepath.Join(t.TempDir(), "webhooks.yaml")
	if err := os.WriteFile(hooksFile, []byte("endpoints:\n  - name: lapor\n    url: https://example.org/hook\n    secret_env: HOOK_SECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := env{getenv: func(k string) string {
		return map[string]string{"TANGGAP_SMTP_ADDR": "127.0.0.1:1", "TANGGAP_SMTP_FROM": "tanggap@example.org",
			"TANGGAP_BASE_URL": "https://tanggap.bekasikota.go.id",
			"TANGGAP_WEBHOOKS": hooksFile, "HOOK_SECRET": "a-secret-of-thirty-two-characters"}[k]
	}}
	noBase := env{getenv: func(k string) string {
		if k == "TANGGAP_BASE_URL" {
			return ""
		}
		return e.getenv(k)
	}}
	if _, err := newDigest(noBase, cfg, st, clocks, prometheus.NewRegistry(), log); err == nil || !strings.Contains(err.Error(), "TANGGAP_BASE_URL") {
		t.Errorf("digest without TANGGAP_BASE_URL: %v", err)
	}
	if dg, err := newDigest(e, cfg, st, clocks, reg, log); err != nil || dg == nil {
		t.Fatalf("digest: %v, %v", dg, err)
	}
	hooks, closeHooks, err := newWebhooks(ctx, e, kc.ListenAddrs(), st, reg, pipe.producerMetrics, log)
	if err != nil || hooks == nil {
		t.Fatalf("webhooks: %v, %v", hooks, err)
	}
	defer closeHooks()
	// The Instagram mentions, as tanggap collect wires them.
	mprod := startMentions(ctx, &g, pollers, st, kc.ListenAddrs(), pipe.producer, pipe.producerMetrics, reg, log, defaultParking())
	instagramWebhook("secret", "verify", mprod, reg, log)
	watchKeptTopics(ctx, &g, kc.ListenAddrs(), []string{bus.DefaultTopics.Events}, reg, log)
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

// The automatic closing rounds count what they close and what fails, by
// reason: a resolved item past its citizen window closes
// (citizen_window), and with Redis gone every round fails and says so.
func TestAutoCloseMetrics(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	clocks, err := workflow.NewClocks(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	now := time.Date(2026, 4, 6, 9, 0, 0, 0, time.UTC)
	clk := func() time.Time { return now }
	st := store.New(rdb, "ac", clk)
	ctx := context.Background()
	if _, err := st.Ingest(ctx, store.Ingest{Post: tanggap.Post{Platform: tanggap.PlatformX, ID: "1", Text: "jalan rusak", Author: "warga", CreatedAt: now, ThreadID: "1"},
		Kind: tanggap.KindComplaint, OPD: "bina_marga_sda", Status: tanggap.StatusAssigned, Queued: true,
		Deadlines: clocks.Deadlines(now, tanggap.KindComplaint, "bina_marga_sda", false)}); err != nil {
		t.Fatal(err)
	}
	svc := workflow.New(st, cfg, clocks, clk)
	if _, err := svc.Do(ctx, workflow.Actor{Login: "dbm", OPD: "bina_marga_sda"}, workflow.Request{ID: "x:1", Version: -1, Action: "resolve", Evidence: "https://x.com/dbm/status/2"}); err != nil {
		t.Fatal(err)
	}
	later := clocks.Calendar().AddWorkingDays(now, cfg.Clocks.AutocloseHK+1)
	svc = workflow.New(st, cfg, clocks, func() time.Time { return later })
	reg := prometheus.NewRegistry()
	m := newAutoCloseMetrics(reg)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	round := func(wantClosed, wantErrs float64) {
		t.Helper()
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- runAutoClose(rctx, svc, st, 5*time.Millisecond, m, log) }()
		deadline := time.Now().Add(10 * time.Second)
		for testutil.ToFloat64(m.closed.WithLabelValues("citizen_window")) < wantClosed || testutil.ToFloat64(m.errors.WithLabelValues("hold_expired")) < wantErrs {
			if time.Now().After(deadline) {
				t.Fatalf("closed %v, failed rounds %v: want %v and %v", testutil.ToFloat64(m.closed.WithLabelValues("citizen_window")),
					testutil.ToFloat64(m.errors.WithLabelValues("hold_expired")), wantClosed, wantErrs)
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	round(1, 0)
	if it, _ := st.Item(ctx, "x:1"); it.Status != tanggap.StatusClosed {
		t.Fatalf("x:1 is %s after the round", it.Status)
	}
	if n := testutil.ToFloat64(m.errors.WithLabelValues("citizen_window")); n != 0 {
		t.Errorf("%v failed rounds with Redis up", n)
	}
	// hold_expire_hk set and Redis gone: the hold-expiry rounds fail.
	cfg.Clocks.HoldExpireHK = 10
	mr.Close()
	round(1, 1)
}
