package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/internal/kafkatest"
	"github.com/tanggap/tanggap/store"
)

const secret = "rahasia-webhook-uji-0123456789"

var t0 = time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC)

// clock is the fake time: sleeping advances it and is recorded, no real wait.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// dead records dead letters; it fails the first failN writes.
type dead struct {
	mu    sync.Mutex
	msgs  []kafka.Message
	why   []string
	failN int
}

func (d *dead) DeadLetter(ctx context.Context, m kafka.Message, reason string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failN > 0 {
		d.failN--
		return errors.New("kafka down")
	}
	d.msgs = append(d.msgs, m)
	d.why = append(d.why, reason)
	return nil
}

// receiver is a webhook receiver that answers from a script and verifies
// every signature.
type receiver struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	got     []delivery
	answers []func(w http.ResponseWriter, r *http.Request) // one per call; the last repeats
	now     func() time.Time
}

type delivery struct {
	path   string
	header http.Header
	body   []byte
	sigErr error
}

func newReceiver(t *testing.T, now func() time.Time, answers ...func(w http.ResponseWriter, r *http.Request)) *receiver {
	rc := &receiver{t: t, answers: answers, now: now}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, delivery{path: r.URL.Path, header: r.Header.Clone(), body: b,
			sigErr: Verify([]byte(secret), r.Header, b, rc.now(), 5*time.Minute)})
		n := len(rc.got)
		rc.mu.Unlock()
		if len(rc.answers) == 0 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		rc.answers[min(n, len(rc.answers))-1](w, r)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

func status(code int) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
}

func retryAfterAnswer(code int, v string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", v)
		w.WriteHeader(code)
	}
}

type harness struct {
	d     *Dispatcher
	dead  *dead
	clock *clock
	reg   *prometheus.Registry
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{dead: &dead{}, clock: &clock{t: t0}, reg: prometheus.NewRegistry()}
	env := map[string]string{"HOOK_SECRET": secret, "OTHER_SECRET": secret}
	d, err := New(cfg, Options{
		Getenv: func(k string) string { return env[k] }, Dead: h.dead, Registry: h.reg,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: h.clock.Now, Sleep: h.clock.Sleep,
		Jitter: func(d time.Duration) time.Duration { return d / 2 },
	})
	if err != nil {
		t.Fatal(err)
	}
	h.d = d
	return h
}

func (h *harness) count(ep, result string) float64 {
	return testutil.ToFloat64(h.d.deliveries.WithLabelValues(ep, result))
}

func ep(name, url string) Endpoint { return Endpoint{Name: name, URL: url, SecretEnv: "HOOK_SECRET"} }

func statusEvent(item string, version int64, from, to tanggap.Status, opd string) tanggap.Event {
	return tanggap.Event{ID: item + "#" + itoa(version), ItemID: item, At: t0.Add(-time.Minute), Actor: "dlh", Action: "resolve",
		FromStatus: from, ToStatus: to, FromOPD: opd, ToOPD: opd, Version: version,
		Reason: "sudah diperbaiki", Data: map[string]string{"evidence": "https://x.com/dlh/status/5"}}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// offsets gives every test message its own offset (the dispatcher keys
// per-record state by topic, partition and offset).
var offsets atomic.Int64

func msg(t *testing.T, ev tanggap.Event) kafka.Message {
	t.Helper()
	b, err := json.Marshal(bus.Envelope{V: bus.EnvelopeVersion, Type: "event", Event: &ev})
	if err != nil {
		t.Fatal(err)
	}
	return kafka.Message{Topic: "tanggap.events", Partition: 1, Offset: offsets.Add(1), Key: []byte(ev.ItemID), Value: b}
}

func TestSignedDelivery(t *testing.T) {
	rc := newReceiver(t, func() time.Time { return t0 })
	h := newHarness(t, Config{Endpoints: []Endpoint{ep("dasbor", rc.srv.URL+"/hook")}, AllowLoopback: true})
	ev := statusEvent("x:101", 4, tanggap.StatusInProgress, tanggap.StatusResolved, "lingkungan_hidup")
	if err := h.d.Handle(context.Background(), msg(t, ev)); err != nil {
		t.Fatal(err)
	}
	got := rc.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries", len(got))
	}
	g := got[0]
	if g.sigErr != nil {
		t.Fatalf("signature: %v", g.sigErr)
	}
	if g.header.Get(HeaderDelivery) != "x:101#4" || g.header.Get(HeaderEvent) != EventStatusChanged ||
		g.header.Get(HeaderTimestamp) != "1773741600" || g.header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers: %v", g.header)
	}
	if want := Sign([]byte(secret), "1773741600", g.body); g.header.Get(HeaderSignature) != want {
		t.Fatalf("signature %q, want %q", g.header.Get(HeaderSignature), want)
	}
	var p Payload
	if err := json.Unmarshal(g.body, &p); err != nil {
		t.Fatal(err)
	}
	want := Payload{ID: "x:101#4", Event: EventStatusChanged, Action: "resolve", ItemID: "x:101", At: t0.Add(-time.Minute),
		FromStatus: "IN_PROGRESS", ToStatus: "RESOLVED", StatusLabel: "Selesai", OPD: "lingkungan_hidup", Version: 4}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	// No officer reason, no data, no actor: nothing beyond the documented payload.
	var raw map[string]any
	json.Unmarshal(g.body, &raw)
	for _, k := range []string{"reason", "data", "actor", "set"} {
		if _, ok := raw[k]; ok {
			t.Errorf("payload carries %q", k)
		}
	}
	if h.count("dasbor", ResultDelivered) != 1 {
		t.Fatal("delivered counter")
	}
	// A tampered body or an old timestamp fails verification.
	if Verify([]byte(secret), g.header, append(g.body, ' '), t0, time.Minute) == nil {
		t.Error("tampered body verified")
	}
	if Verify([]byte(secret), g.header, g.body, t0.Add(10*time.Minute), time.Minute) == nil {
		t.Error("stale timestamp verified")
	}
	if Verify([]byte("other-secret-0123456789"), g.header, g.body, t0, time.Minute) == nil {
		t.Error("wrong secret verified")
	}
}

func TestFilters(t *testing.T) {
	all := newReceiver(t, func() time.Time { return t0 })
	dlh := newReceiver(t, func() time.Time { return t0 })
	created := newReceiver(t, func() time.Time { return t0 })
	h := newHarness(t, Config{AllowLoopback: true, Actions: []string{"assign"}, Endpoints: []Endpoint{
		{Name: "all", URL: all.srv.URL, SecretEnv: "HOOK_SECRET", Events: []string{EventStatusChanged, "item.assign"}},
		{Name: "dlh", URL: dlh.srv.URL, SecretEnv: "OTHER_SECRET", OPDs: []string{"lingkungan_hidup"}},
		{Name: "created", URL: created.srv.URL, SecretEnv: "HOOK_SECRET", Events: []string{EventCreated}},
	}})
	ctx := context.Background()
	claim := statusEvent("x:1", 2, tanggap.StatusAssigned, tanggap.StatusAssigned, "lingkungan_hidup")
	claim.Action = "claim"
	hop := statusEvent("x:2", 3, tanggap.StatusAssigned, tanggap.StatusAssigned, "")
	hop.Action, hop.FromOPD, hop.ToOPD = "assign", "lingkungan_hidup", "bina_marga_sda"
	other := statusEvent("x:3", 2, tanggap.StatusAssigned, tanggap.StatusInProgress, "bina_marga_sda")
	ingest := tanggap.Event{ID: "x:4#1", ItemID: "x:4", At: t0, Actor: "triage", Action: "ingest", ToStatus: tanggap.StatusNew, Version: 1}
	for _, ev := range []tanggap.Event{claim, hop, other, ingest} {
		if err := h.d.Handle(ctx, msg(t, ev)); err != nil {
			t.Fatal(err)
		}
	}
	// A post record on the events topic is ignored; junk is EINVALID (the consumer dead-letters it).
	post, _ := json.Marshal(bus.Envelope{V: 1, Type: "post", Post: &tanggap.Post{Platform: tanggap.PlatformX, ID: "9", CreatedAt: t0}})
	if err := h.d.Handle(ctx, kafka.Message{Value: post}); err != nil {
		t.Fatal(err)
	}
	if err := h.d.Handle(ctx, kafka.Message{Value: []byte("not json")}); tanggap.ErrorCode(err) != tanggap.EINVALID {
		t.Fatalf("junk: %v", err)
	}
	ids := func(rc *receiver) []string {
		var out []string
		for _, d := range rc.deliveries() {
			out = append(out, d.header.Get(HeaderDelivery)+" "+d.header.Get(HeaderEvent))
		}
		return out
	}
	if diff := cmp.Diff([]string{"x:2#3 item.assign", "x:3#2 item.status_changed"}, ids(all)); diff != "" {
		t.Errorf("all (-want +got):\n%s", diff)
	}
	// The hop left DLH: DLH hears of it (from_opd), not of claims or other OPDs.
	if diff := cmp.Diff([]string(nil), ids(dlh)); diff != "" {
		t.Errorf("dlh (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"x:4#1 item.created"}, ids(created)); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	var p Payload
	json.Unmarshal(all.deliveries()[0].body, &p)
	if p.OPD != "bina_marga_sda" || p.FromOPD != "lingkungan_hidup" {
		t.Errorf("hop payload: %+v", p)
	}
}

func TestFilterFromOPD(t *testing.T) {
	dlh := newReceiver(t, func() time.Time { return t0 })
	h := newHarness(t, Config{AllowLoopback: true, Endpoints: []Endpoint{
		{Name: "dlh", URL: dlh.srv.URL, SecretEnv: "HOOK_SECRET", OPDs: []string{"lingkungan_hidup"}},
	}})
	ev := statusEvent("x:5", 3, tanggap.StatusInProgress, tanggap.StatusAssigned, "")
	ev.Action, ev.FromOPD, ev.ToOPD = "assign", "lingkungan_hidup", "bina_marga_sda"
	if err := h.d.Handle(context.Background(), msg(t, ev)); err != nil {
		t.Fatal(err)
	}
	if len(dlh.deliveries()) != 1 {
		t.Fatalf("an OPD hears of items leaving it: %d", len(dlh.deliveries()))
	}
}

func TestRetryThenSuccess(t *testing.T) {
	var h *harness
	rc := newReceiver(t, func() time.Time { return h.clock.Now() }, status(500), status(502), status(200))
	h = newHarness(t, Config{Endpoints: []Endpoint{ep("dasbor", rc.srv.URL)}, AllowLoopback: true})
	ev := statusEvent("x:1", 2, tanggap.StatusAssigned, tanggap.StatusInProgress, "perhubungan")
	if err := h.d.Handle(context.Background(), msg(t, ev)); err != nil {
		t.Fatal(err)
	}
	got := rc.deliveries()
	if len(got) != 3 {
		t.Fatalf("%d attempts, want 3", len(got))
	}
	for i, g := range got {
		if g.sigErr != nil || g.header.Get(HeaderDelivery) != "x:1#2" {
			t.Errorf("attempt %d: %v %v", i, g.sigErr, g.header)
		}
	}
	// Each retry is signed afresh with its own timestamp.
	if got[0].header.Get(HeaderTimestamp) == got[2].header.Get(HeaderTimestamp) {
		t.Error("retry reused the first timestamp")
	}
	// Base 1 s: waits are d/2 + jitter(d/2), jitter fixed at half: 0.75 s, then 1.5 s.
	if diff := cmp.Diff([]time.Duration{750 * time.Millisecond, 1500 * time.Millisecond}, h.clock.Sleeps()); diff != "" {
		t.Errorf("backoff (-want +got):\n%s", diff)
	}
	if h.count("dasbor", ResultDelivered) != 1 || testutil.ToFloat64(h.d.retries.WithLabelValues("dasbor")) != 2 || len(h.dead.msgs) != 0 {
		t.Error("metrics or dead letters wrong")
	}
}

func TestRetryAfter(t *testing.T) {
	var h *harness
	rc := newReceiver(t, func() time.Time { return h.clock.Now() },
		retryAfterAnswer(429, "7"),
		retryAfterAnswer(503, t0.Add(7*time.Second+20*time.Second).Format(http.TimeFormat)),
		status(204))
	h = newHarness(t, Config{Endpoints: []Endpoint{ep("dasbor", rc.srv.URL)}, AllowLoopback: true})
	if err := h.d.Handle(context.Background(), msg(t, statusEvent("x:1", 2, tanggap.StatusNew, tanggap.StatusAssigned, "dukcapil"))); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]time.Duration{7 * time.Second, 20 * time.Second}, h.clock.Sleeps()); diff != "" {
		t.Errorf("Retry-After not honoured (-want +got):\n%s", diff)
	}
	if h.count("dasbor", ResultDelivered) != 1 {
		t.Error("not delivered")
	}

	// A Retry-After beyond the delivery's budget gives up at once.
	rc2 := newReceiver(t, func() time.Time { return h.clock.Now() }, retryAfterAnswer(503, "3600"))
	h2 := newHarness(t, Config{Endpoints: []Endpoint{ep("lambat", rc2.srv.URL)}, AllowLoopback: true, MaxElapsed: Duration(time.Minute)})
	if err := h2.d.Handle(context.Background(), msg(t, statusEvent("x:2", 2, tanggap.StatusNew, tanggap.StatusAssigned, "dukcapil"))); err != nil {
		t.Fatal(err)
	}
	if len(rc2.deliveries()) != 1 || len(h2.clock.Sleeps()) != 0 || len(h2.dead.msgs) != 1 || !strings.Contains(h2.dead.why[0], "Retry-After") {
		t.Fatalf("Retry-After past budget: %d attempts, sleeps %v, dead %v", len(rc2.deliveries()), h2.clock.Sleeps(), h2.dead.why)
	}
}

func TestRetryAfterParse(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0}, {"0", 0}, {"-3", 0}, {"12", 12 * time.Second}, {"soon", 0},
		{t0.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{t0.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"999999999", 24 * time.Hour},
	} {
		if got := retryAfter(tc.v, t0); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.v, got, tc.want)
		}
	}
}

func TestGiveUpToDeadLetter(t *testing.T) {
	var h *harness
	rc := newReceiver(t, func() time.Time { return h.clock.Now() }, status(503))
	h = newHarness(t, Config{Endpoints: []Endpoint{ep("dasbor", rc.srv.URL)}, AllowLoopback: true, MaxAttempts: 4})
	m := msg(t, statusEvent("x:1", 2, tanggap.StatusAssigned, tanggap.StatusResolved, "perhubungan"))
	m.Headers = []kafka.Header{{Key: "trace", Value: []byte("abc")}}
	if err := h.d.Handle(context.Background(), m); err != nil {
		t.Fatalf("a failed delivery must not block the partition: %v", err)
	}
	if n := len(rc.deliveries()); n != 4 {
		t.Fatalf("%d attempts, want 4", n)
	}
	if len(h.dead.msgs) != 1 {
		t.Fatalf("%d dead letters", len(h.dead.msgs))
	}
	dm := h.dead.msgs[0]
	if string(dm.Value) != string(m.Value) || bus.HeaderValue(dm, "tanggap.webhook.endpoint") != "dasbor" || bus.HeaderValue(dm, "tanggap.webhook.attempts") != "4" ||
		bus.HeaderValue(dm, "tanggap.webhook.event") != EventStatusChanged || bus.HeaderValue(dm, "trace") != "abc" {
		t.Fatalf("dead letter: %s %v", dm.Value, dm.Headers)
	}
	if r := h.dead.why[0]; !strings.HasPrefix(r, "webhook dasbor: gave up after 4 attempts") || !strings.Contains(r, "HTTP 503") || strings.Contains(r, rc.srv.URL) {
		t.Fatalf("reason: %q", r)
	}
	if h.count("dasbor", ResultFailed) != 1 || h.count("dasbor", ResultDelivered) != 0 {
		t.Fatal("failed counter")
	}
	// The endpoint is now down: the next event costs one attempt, not four.
	if err := h.d.Handle(context.Background(), msg(t, statusEvent("x:2", 2, tanggap.StatusAssigned, tanggap.StatusResolved, "perhubungan"))); err != nil {
		t.Fatal(err)
	}
	if n := len(rc.deliveries()); n != 5 {
		t.Fatalf("while down: %d attempts in all, want 5", n)
	}
	if len(h.dead.msgs) != 2 || !strings.Contains(h.dead.why[1], "endpoint down") {
		t.Fatalf("while down: %v", h.dead.why)
	}

	// Time runs out before attempts do.
	rc3 := newReceiver(t, func() time.Time { return h.clock.Now() }, status(500))
	h3 := newHarness(t, Config{Endpoints: []Endpoint{ep("lambat", rc3.srv.URL)}, AllowLoopback: true, MaxAttempts: 50,
		MaxElapsed: Duration(10 * time.Second), BackoffBase: Duration(2 * time.Second)})
	if err := h3.d.Handle(context.Background(), msg(t, statusEvent("x:3", 2, tanggap.StatusAssigned, tanggap.StatusResolved, "perhubungan"))); err != nil {
		t.Fatal(err)
	}
	var total time.Duration
	for _, s := range h3.clock.Sleeps() {
		total += s
	}
	if total > 10*time.Second || len(rc3.deliveries()) >= 50 || len(h3.dead.msgs) != 1 || !strings.Contains(h3.dead.why[0], "budget 10s") {
		t.Fatalf("budget: waited %v over %d attempts; %v", total, len(rc3.deliveries()), h3.dead.why)
	}
}

func TestPermanentFailure(t *testing.T) {
	rc := newReceiver(t, func() time.Time { return t0 }, status(410))
	h := newHarness(t, Config{Endpoints: []Endpoint{ep("lama", rc.srv.URL)}, AllowLoopback: true})
	if err := h.d.Handle(context.Background(), msg(t, statusEvent("x:1", 2, tanggap.StatusAssigned, tanggap.StatusResolved, "sosial"))); err != nil {
		t.Fatal(err)
	}
	if len(rc.deliveries()) != 1 || len(h.dead.msgs) != 1 || h.dead.why[0] != "webhook lama: HTTP 410" || h.count("lama", ResultRejected) != 1 {
		t.Fatalf("410: %d attempts, %v", len(rc.deliveries()), h.dead.why)
	}
}

func TestRedirects(t *testing.T) {
	other := newReceiver(t, func() time.Time { return t0 })
	rc := newReceiver(t, func() time.Time { return t0 }, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/moved", http.StatusPermanentRedirect)
		case "/found":
			http.Redirect(w, r, "/moved", http.StatusFound)
		case "/away":
			http.Redirect(w, r, other.srv.URL+"/x", http.StatusTemporaryRedirect)
		default:
			w.WriteHeader(200)
		}
	})
	h := newHarness(t, Config{AllowLoopback: true, Endpoints: []Endpoint{
		ep("same", rc.srv.URL+"/same"), ep("found", rc.srv.URL+"/found"), ep("away", rc.srv.URL+"/away"),
	}})
	if err := h.d.Handle(context.Background(), msg(t, statusEvent("x:1", 2, tanggap.StatusAssigned, tanggap.StatusResolved, "sosial"))); err != nil {
		t.Fatal(err)
	}
	var moved int
	for _, d := range rc.deliveries() {
		if d.path == "/moved" {
			moved++
			if d.sigErr != nil || len(d.body) == 0 {
				t.Errorf("308 lost the body or signature: %v", d.sigErr)
			}
		}
	}
	if moved != 1 {
		t.Errorf("%d deliveries reached /moved, want 1 (the 308 only; a 302 would turn the POST into a GET)", moved)
	}
	if len(other.deliveries()) != 0 {
		t.Error("followed a redirect to another host")
	}
	if h.count("same", ResultDelivered) != 1 || h.count("found", ResultRejected) != 1 || h.count("away", ResultRejected) != 1 {
		t.Errorf("results: same %v found %v away %v", h.count("same", ResultDelivered), h.count("found", ResultRejected), h.count("away", ResultRejected))
	}
}

func TestSSRFGuard(t *testing.T) {
	rc := newReceiver(t, func() time.Time { return t0 })
	// An address literal is refused when the config is read.
	for _, u := range []string{rc.srv.URL, "http://[::1]:8080/", "http://10.0.0.5/", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]/"} {
		_, err := New(Config{Endpoints: []Endpoint{ep("x", u)}}, Options{Getenv: func(string) string { return secret }, Dead: &dead{}, Registry: prometheus.NewRegistry()})
		if err == nil || !strings.Contains(err.Error(), "address") {
			t.Errorf("%s: %v", u, err)
		}
	}
	// A name that resolves to loopback is refused at dial time, on the resolved address.
	port := rc.srv.URL[strings.LastIndex(rc.srv.URL, ":"):]
	h := newHarness(t, Config{Endpoints: []Endpoint{ep("lokal", "http://localhost"+port+"/hook")}})
	if err := h.d.Handle(context.Background(), msg(t, statusEvent("x:1", 2, tanggap.StatusAssigned, tanggap.StatusResolved, "sosial"))); err != nil {
		t.Fatal(err)
	}
	if len(rc.deliveries()) != 0 {
		t.Fatal("the guard let a request through to 127.0.0.1")
	}
	if len(h.dead.msgs) != 1 || !strings.Contains(h.dead.why[0], "SSRF guard") || h.count("lokal", ResultRejected) != 1 || len(h.clock.Sleeps()) != 0 {
		t.Fatalf("refused address: %v, sleeps %v", h.dead.why, h.clock.Sleeps())
	}

	g := newGuard(false, false)
	for _, tc := range []struct {
		ip      string
		blocked bool
	}{
		{"127.0.0.1", true}, {"127.9.9.9", true}, {"::1", true}, {"10.1.2.3", true}, {"172.16.0.1", true}, {"192.168.1.1", true},
		{"100.64.0.1", true}, {"169.254.169.254", true}, {"fe80::1", true}, {"fd00::1", true}, {"0.0.0.0", true}, {"::", true},
		{"224.0.0.1", true}, {"255.255.255.255", true}, {"::ffff:10.0.0.1", true}, {"64:ff9b::a00:1", true}, {"2002:a00:1::", true},
		{"198.18.0.1", true}, {"8.8.8.8", false}, {"103.10.20.30", false}, {"2001:4860:4860::8888", false}, {"::ffff:8.8.8.8", false},
	} {
		if got := g.blocked(netip.MustParseAddr(tc.ip)); got != tc.blocked {
			t.Errorf("%s: blocked %v, want %v", tc.ip, got, tc.blocked)
		}
	}
	open := newGuard(true, true)
	for _, ip := range []string{"127.0.0.1", "10.1.2.3", "100.64.0.1", "fd00::1"} {
		if open.blocked(netip.MustParseAddr(ip)) {
			t.Errorf("%s blocked although allowed", ip)
		}
	}
	for _, ip := range []string{"169.254.169.254", "0.0.0.0", "224.0.0.1"} {
		if !open.blocked(netip.MustParseAddr(ip)) {
			t.Errorf("%s allowed: link-local, unspecified and multicast are never allowed", ip)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	env := map[string]string{"S": secret, "SHORT": "abc"}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"scheme", Config{Endpoints: []Endpoint{{Name: "a", URL: "ftp://example.com/", SecretEnv: "S"}}}, "scheme"},
		{"file", Config{Endpoints: []Endpoint{{Name: "a", URL: "file:///etc/passwd", SecretEnv: "S"}}}, "scheme"},
		{"credentials", Config{Endpoints: []Endpoint{{Name: "a", URL: "https://u:p@example.com/", SecretEnv: "S"}}}, "credentials"},
		{"no secret env", Config{Endpoints: []Endpoint{{Name: "a", URL: "https://example.com/"}}}, "secret_env"},
		{"missing secret", Config{Endpoints: []Endpoint{{Name: "a", URL: "https://example.com/", SecretEnv: "NOPE"}}}, "NOPE"},
		{"short secret", Config{Endpoints: []Endpoint{{Name: "a", URL: "https://example.com/", SecretEnv: "SHORT"}}}, "shorter than 16"},
		{"name", Config{Endpoints: []Endpoint{{Name: "Dasbor Kota", URL: "https://example.com/", SecretEnv: "S"}}}, "name"},
		{"duplicate", Config{Endpoints: []Endpoint{{Name: "a", URL: "https://example.com/", SecretEnv: "S"}, {Name: "a", URL: "https://example.org/", SecretEnv: "S"}}}, "twice"},
		{"event", Config{Endpoints: []Endpoint{{Name: "a", URL: "https://example.com/", SecretEnv: "S", Events: []string{"item.assign"}}}}, "unknown event"},
		{"action", Config{Actions: []string{"Assign!"}}, "action"},
		{"attempts", Config{MaxAttempts: -1}, "max_attempts"},
	} {
		_, err := New(tc.cfg, Options{Getenv: func(k string) string { return env[k] }, Dead: &dead{}, Registry: prometheus.NewRegistry()})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", tc.name, err, tc.want)
		} else if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error shows the secret", tc.name)
		}
	}
	c, err := ParseConfig("uji", []byte("endpoints:\n  - name: a\n    url: https://example.com/h\n    secret_env: S\nmax_elapsed: 30s\nactions: [assign]\n"))
	if err != nil || c.MaxElapsed.D() != 30*time.Second || c.Endpoints[0].SecretEnv != "S" {
		t.Fatalf("parse: %+v %v", c, err)
	}
	for _, bad := range []string{"timeout: soon\n", "endpoints:\n  - name: a\n    secret: x\n", "max_elapsed: -1s\n"} {
		if _, err := ParseConfig("uji", []byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestRetriedRecord: when the dead-letter topic cannot be written, the
// record is retried by the consumer, and endpoints that already got it do
// not get it twice.
func TestRetriedRecord(t *testing.T) {
	ok := newReceiver(t, func() time.Time { return t0 })
	bad := newReceiver(t, func() time.Time { return t0 }, status(400))
	h := newHarness(t, Config{AllowLoopback: true, Endpoints: []Endpoint{ep("ok", ok.srv.URL), ep("bad", bad.srv.URL)}})
	h.dead.failN = 1
	m := msg(t, statusEvent("x:1", 2, tanggap.StatusAssigned, tanggap.StatusResolved, "sosial"))
	err := h.d.Handle(context.Background(), m)
	if tanggap.ErrorCode(err) != tanggap.EUNAVAILABLE {
		t.Fatalf("first try: %v", err)
	}
	if err := h.d.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if len(ok.deliveries()) != 1 || len(bad.deliveries()) != 1 || len(h.dead.msgs) != 1 {
		t.Fatalf("ok %d, bad %d, dead %d", len(ok.deliveries()), len(bad.deliveries()), len(h.dead.msgs))
	}
	if len(h.d.pending) != 0 {
		t.Fatalf("pending records kept: %d", len(h.d.pending))
	}
}

func TestShutdownStopsRetrying(t *testing.T) {
	rc := newReceiver(t, func() time.Time { return t0 }, status(500))
	h := newHarness(t, Config{Endpoints: []Endpoint{ep("dasbor", rc.srv.URL)}, AllowLoopback: true})
	ctx, cancel := context.WithCancel(context.Background())
	h.d.sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	err := h.d.Handle(ctx, msg(t, statusEvent("x:1", 2, tanggap.StatusAssigned, tanggap.StatusResolved, "sosial")))
	if err == nil || len(h.dead.msgs) != 0 || h.count("dasbor", ResultFailed) != 0 {
		t.Fatalf("shutdown: err %v, dead %d", err, len(h.dead.msgs))
	}
}

// TestThroughKafka runs the dispatcher as its own consumer group on the
// events topic of an in-process Kafka (the real broker in the integration
// run): deliveries arrive signed, a broken receiver's deliveries land on
// the dead-letter topic with the reason, and the partition keeps moving.
func TestThroughKafka(t *testing.T) {
	brokers, sfx := kafkatest.Brokers(t)
	topics := bus.Topics{Posts: "posts" + sfx, Events: "events" + sfx, Dead: "webhooks.dlq" + sfx}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := bus.EnsureTopics(ctx, brokers, 3, topics.Events); err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureTopics(ctx, brokers, 1, topics.Dead); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	prod := bus.NewProducer(brokers, topics, bus.NewProducerMetrics(reg))
	defer prod.Close()

	good := newReceiver(t, time.Now)
	broken := newReceiver(t, time.Now, status(500))
	env := map[string]string{"S": secret}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := New(Config{AllowLoopback: true, MaxAttempts: 2, Endpoints: []Endpoint{
		{Name: "dasbor", URL: good.srv.URL, SecretEnv: "S"},
		{Name: "rusak", URL: broken.srv.URL, SecretEnv: "S", OPDs: []string{"bina_marga_sda"}},
	}}, Options{Getenv: func(k string) string { return env[k] }, Dead: prod, Registry: reg, Log: log,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	evs := []tanggap.Event{
		statusEvent("x:1", 2, tanggap.StatusAssigned, tanggap.StatusInProgress, "lingkungan_hidup"),
		{ID: "x:1#3", ItemID: "x:1", At: t0, Actor: "dlh", Action: "claim", FromStatus: tanggap.StatusInProgress, ToStatus: tanggap.StatusInProgress, FromOPD: "lingkungan_hidup", ToOPD: "lingkungan_hidup", Version: 3},
		statusEvent("x:2", 5, tanggap.StatusInProgress, tanggap.StatusResolved, "bina_marga_sda"),
		statusEvent("x:1", 4, tanggap.StatusInProgress, tanggap.StatusResolved, "lingkungan_hidup"),
	}
	for i := range evs {
		evs[i].At = time.Now().UTC().Truncate(time.Millisecond)
	}
	if err := prod.PublishEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	c := bus.NewConsumer(bus.ConsumerConfig{Brokers: brokers, Group: Group + sfx, Topic: topics.Events}, d.Handle, prod, log, bus.NewConsumerMetrics(reg))
	cctx, ccancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(cctx) }()

	dr := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topics.Dead, Partition: 0, MaxWait: 100 * time.Millisecond})
	defer dr.Close()
	dm, err := dr.ReadMessage(ctx)
	if err != nil {
		t.Fatalf("no dead letter: %v", err)
	}
	if bus.HeaderValue(dm, "tanggap.webhook.endpoint") != "rusak" || !strings.HasPrefix(bus.HeaderValue(dm, "tanggap.dlq.reason"), "webhook rusak: gave up after 2 attempts") ||
		bus.HeaderValue(dm, "tanggap.dlq.topic") != topics.Events {
		t.Fatalf("dead letter headers: %v", dm.Headers)
	}
	if e, err := bus.Decode(dm.Value); err != nil || e.Event.ID != "x:2#5" {
		t.Fatalf("dead letter value: %s %v", dm.Value, err)
	}
	// Wait for the dispatcher to finish both (the dead letter can be read
	// before the producer's write returns and the counter moves).
	for len(good.deliveries()) < 3 || testutil.ToFloat64(d.deliveries.WithLabelValues("rusak", ResultFailed)) < 1 {
		select {
		case <-ctx.Done():
			t.Fatalf("delivered %d of 3", len(good.deliveries()))
		case <-time.After(10 * time.Millisecond):
		}
	}
	ccancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	var order []string
	for _, g := range good.deliveries() {
		if g.sigErr != nil {
			t.Errorf("signature: %v", g.sigErr)
		}
		id := g.header.Get(HeaderDelivery)
		got[id] = true
		if strings.HasPrefix(id, "x:1#") {
			order = append(order, id)
		}
	}
	if !got["x:1#2"] || !got["x:2#5"] || !got["x:1#4"] || got["x:1#3"] {
		t.Fatalf("delivered %v", got)
	}
	// One item's events share a partition, so they arrive in order.
	if diff := cmp.Diff([]string{"x:1#2", "x:1#4"}, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if n := len(broken.deliveries()); n != 2 {
		t.Errorf("broken receiver got %d attempts, want 2", n)
	}
	if v := testutil.ToFloat64(d.deliveries.WithLabelValues("rusak", ResultFailed)); v != 1 {
		t.Errorf("failed counter %v", v)
	}
	if v := testutil.ToFloat64(d.deliveries.WithLabelValues("dasbor", ResultDelivered)); v != 3 {
		t.Errorf("delivered counter %v", v)
	}
}

// A delivery dead-lettered while its receiver refused it is delivered again
// to that receiver alone once it accepts, signed like any delivery and never
// dead-lettered again; one the endpoint no longer wants is left alone, and
// one for an endpoint the config lost, or a record that is no delivery, is
// an error.
func TestRedeliver(t *testing.T) {
	ctx := context.Background()
	var refusing atomic.Bool
	refusing.Store(true)
	rc := newReceiver(t, func() time.Time { return t0 }, func(w http.ResponseWriter, r *http.Request) {
		if refusing.Load() {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	other := newReceiver(t, func() time.Time { return t0 })
	cfg := Config{AllowLoopback: true, Endpoints: []Endpoint{ep("lapor", rc.srv.URL), ep("dasbor", other.srv.URL)}}
	h := newHarness(t, cfg)
	ev := statusEvent("x:7", 3, tanggap.StatusInProgress, tanggap.StatusResolved, "lingkungan_hidup")
	if err := h.d.Handle(ctx, msg(t, ev)); err != nil {
		t.Fatal(err)
	}
	if len(h.dead.msgs) != 1 || bus.HeaderValue(h.dead.msgs[0], HeaderDeadEndpoint) != "lapor" || len(other.deliveries()) != 1 {
		t.Fatalf("dead letters %d, the other receiver got %d", len(h.dead.msgs), len(other.deliveries()))
	}
	dl := h.dead.msgs[0]

	// Still refused: the result says so, and nothing is dead-lettered again.
	if res, why, err := h.d.Redeliver(ctx, dl); err != nil || res != ResultRejected || !strings.Contains(why, "400") {
		t.Errorf("redelivery to a refusing receiver: %q %q %v", res, why, err)
	}
	refusing.Store(false)
	if res, _, err := h.d.Redeliver(ctx, dl); err != nil || res != ResultDelivered {
		t.Fatalf("redelivery: %q %v", res, err)
	}
	got := rc.deliveries()
	if last := got[len(got)-1]; last.sigErr != nil || last.header.Get(HeaderDelivery) != "x:7#3" {
		t.Errorf("redelivered request: signature %v, delivery %q", last.sigErr, last.header.Get(HeaderDelivery))
	}
	if len(h.dead.msgs) != 1 || len(other.deliveries()) != 1 || h.count("lapor", ResultDelivered) != 1 {
		t.Errorf("after the redelivery: %d dead letters, the other receiver got %d, delivered counted %v",
			len(h.dead.msgs), len(other.deliveries()), h.count("lapor", ResultDelivered))
	}

	// The endpoint now takes only another OPD's items.
	cfg.Endpoints[0].OPDs = []string{"bina_marga_sda"}
	if res, _, err := newHarness(t, cfg).d.Redeliver(ctx, dl); err != nil || res != ResultNotWanted {
		t.Errorf("redelivery the endpoint no longer wants: %q %v", res, err)
	}
	// The endpoint is gone from the config.
	cfg.Endpoints = cfg.Endpoints[1:]
	if _, _, err := newHarness(t, cfg).d.Redeliver(ctx, dl); tanggap.ErrorCode(err) != tanggap.ENOTFOUND {
		t.Errorf("redelivery to a removed endpoint: %v", err)
	}
	bad := dl
	bad.Value = []byte("{")
	if _, _, err := h.d.Redeliver(ctx, bad); tanggap.ErrorCode(err) != tanggap.EINVALID {
		t.Errorf("redelivery of a broken record: %v", err)
	}
}

// kafkaFixture is an events topic of 3 partitions and a dead-letter topic
// on the test broker, a producer, and a store on miniredis for the
// webhooks group's positions.
type kafkaFixture struct {
	ctx     context.Context
	brokers []string
	topics  bus.Topics
	prod    *bus.Producer
	st      *store.Store
}

func newKafkaFixture(t *testing.T) *kafkaFixture {
	t.Helper()
	brokers, sfx := kafkatest.Brokers(t)
	f := &kafkaFixture{brokers: brokers, topics: bus.Topics{Events: "events" + sfx, Dead: "webhooks.dlq" + sfx}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	f.ctx = ctx
	if err := bus.EnsureTopics(ctx, brokers, 3, f.topics.Events, f.topics.Dead); err != nil {
		t.Fatal(err)
	}
	f.prod = bus.NewProducer(brokers, f.topics, bus.NewProducerMetrics(prometheus.NewRegistry()))
	t.Cleanup(func() { f.prod.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
	t.Cleanup(func() { rdb.Close() })
	f.st = store.New(rdb, "bekasi", nil)
	return f
}

// run runs the webhooks consumer (webhook.NewConsumer, as tanggap triage
// does) delivering to rc until stop is called.
func (f *kafkaFixture) run(t *testing.T, rc *receiver) (m *bus.ConsumerMetrics, stop func()) {
	t.Helper()
	reg := prometheus.NewRegistry()
	log := slog.New(slog.DiscardHandler)
	d, err := New(Config{AllowLoopback: true, Endpoints: []Endpoint{{Name: "lapor", URL: rc.srv.URL, SecretEnv: "S"}}},
		Options{Getenv: func(string) string { return secret }, Dead: f.prod, Registry: reg, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	m = bus.NewConsumerMetricsFor(reg, "webhook")
	c := NewConsumer(f.brokers, f.topics, d, f.st, f.prod, log, m)
	cctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(cctx) }()
	return m, func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// publish writes the status changes of items at versions [from, to).
func (f *kafkaFixture) publish(t *testing.T, items []string, from, to int64) {
	t.Helper()
	var evs []tanggap.Event
	for v := from; v < to; v++ {
		for _, it := range items {
			ev := statusEvent(it, v, tanggap.StatusAssigned, tanggap.StatusInProgress, "lingkungan_hidup")
			ev.At = time.Now().UTC().Truncate(time.Millisecond)
			evs = append(evs, ev)
		}
	}
	if err := f.prod.PublishEvents(f.ctx, evs); err != nil {
		t.Fatal(err)
	}
}

// recorded waits until the webhooks group's start is recorded on every
// partition (it is, and committed, before the group is joined).
func (f *kafkaFixture) recorded(t *testing.T) {
	t.Helper()
	for {
		p, err := f.st.Positions(f.ctx, Group, f.topics.Events)
		if err == nil && len(p) == 3 {
			return
		}
		select {
		case <-f.ctx.Done():
			t.Fatalf("the start was never recorded: %v %v", p, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ids are the event ids of deliveries.
func ids(ds []delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.header.Get(HeaderDelivery)
	}
	return out
}

// waitDelivered waits until rc got every id of want.
func waitDelivered(t *testing.T, ctx context.Context, rc *receiver, want []string) {
	t.Helper()
	for {
		got := map[string]bool{}
		for _, id := range ids(rc.deliveries()) {
			got[id] = true
		}
		missing := slices.DeleteFunc(slices.Clone(want), func(id string) bool { return got[id] })
		if len(missing) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("never delivered: %v", missing)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func eventIDs(items []string, from, to int64) []string {
	var out []string
	for v := from; v < to; v++ {
		for _, it := range items {
			out = append(out, it+"#"+itoa(v))
		}
	}
	return out
}

// The webhooks group starts at the end of the events topic the first time:
// turning webhooks on does not post the city's history to the receivers.
func TestConsumerSkipsHistory(t *testing.T) {
	f := newKafkaFixture(t)
	f.publish(t, []string{"x:old"}, 2, 4)
	rc := newReceiver(t, time.Now)
	_, stop := f.run(t, rc)
	f.recorded(t)
	f.publish(t, []string{"x:new"}, 2, 3)
	waitDelivered(t, f.ctx, rc, []string{"x:new#2"})
	time.Sleep(300 * time.Millisecond) // anything else it would deliver
	stop()
	for _, id := range ids(rc.deliveries()) {
		if id != "x:new#2" {
			t.Errorf("delivered %s, from before the webhooks group started", id)
		}
	}
}

// Webhooks stopped for longer than Kafka keeps the group's offsets (their
// expiry simulated by deleting them) resume where they stopped, exactly as
// after a plain restart: every event of the meanwhile reaches the receiver,
// each item's in order, and nothing of the history before webhooks were
// first turned on.
func TestConsumerResumesAfterExpiry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		expire bool
	}{{"restart", false}, {"offsets expired", true}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newKafkaFixture(t)
			items := []string{"x:1", "x:2", "x:3", "x:4", "x:5", "x:6"}
			f.publish(t, []string{"x:old"}, 2, 4)
			rc := newReceiver(t, time.Now)
			_, stop := f.run(t, rc)
			f.recorded(t)
			f.publish(t, items, 2, 3)
			waitDelivered(t, f.ctx, rc, eventIDs(items, 2, 3))
			stop()
			before := len(rc.deliveries())

			if tc.expire {
				deleteGroupOffsets(t, f)
			}
			f.publish(t, items, 3, 6) // while webhooks are stopped
			m, stop := f.run(t, rc)
			defer stop()
			f.publish(t, items, 6, 7)
			waitDelivered(t, f.ctx, rc, eventIDs(items, 3, 7))
			after := map[string][]string{}
			for _, id := range ids(rc.deliveries()[before:]) {
				it, _, _ := strings.Cut(id, "#")
				// At least once: an event delivered again right after
				// itself counts once.
				if n := len(after[it]); n == 0 || after[it][n-1] != id {
					after[it] = append(after[it], id)
				}
			}
			for _, it := range items {
				if diff := cmp.Diff(eventIDs([]string{it}, 3, 7), slices.DeleteFunc(after[it], func(id string) bool { return id == it+"#2" })); diff != "" {
					t.Errorf("%s after the restart (-want +got):\n%s", it, diff)
				}
			}
			if len(after["x:old"]) > 0 {
				t.Errorf("delivered the history: %v", after["x:old"])
			}
			if v := testutil.ToFloat64(m.ResumeGaps.WithLabelValues(bus.GapExpired)) + testutil.ToFloat64(m.ResumeGaps.WithLabelValues(bus.GapAhead)); v != 0 {
				t.Errorf("resume gaps counted: %v", v)
			}
		})
	}
}

// deleteGroupOffsets deletes the webhooks group's committed offsets on the
// events topic, as Kafka does a week after its last member left, once the
// group is empty.
func deleteGroupOffsets(t *testing.T, f *kafkaFixture) {
	t.Helper()
	cl := &kafka.Client{Addr: kafka.TCP(f.brokers...), Timeout: 10 * time.Second}
	parts := map[string][]int{f.topics.Events: {0, 1, 2}}
	for {
		res, err := cl.OffsetDelete(f.ctx, &kafka.OffsetDeleteRequest{GroupID: Group, Topics: parts})
		if err == nil && res.Error == nil && !slices.ContainsFunc(res.Topics[f.topics.Events], func(p kafka.OffsetDeletePartition) bool { return p.Error != nil }) {
			break
		}
		select {
		case <-f.ctx.Done():
			t.Fatalf("offsets not deleted: %+v %v", res, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	res, err := cl.OffsetFetch(f.ctx, &kafka.OffsetFetchRequest{GroupID: Group, Topics: parts})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Topics[f.topics.Events] {
		if p.CommittedOffset >= 0 {
			t.Fatalf("partition %d still has offset %d", p.Partition, p.CommittedOffset)
		}
	}
}
