package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fakeClock is the injected clock of the scheduling tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakePoller answers from a script per account and records the cursors it
// was given.
type fakePoller struct {
	mu     sync.Mutex
	answer func(acct config.Account, cursor string) (Batch, error)
	calls  []string // "handle@cursor"
}

func (p *fakePoller) Platform() tanggap.Platform { return tanggap.PlatformX }

func (p *fakePoller) Poll(ctx context.Context, acct config.Account, cursor string) (Batch, error) {
	p.mu.Lock()
	p.calls = append(p.calls, acct.Handle+"@"+cursor)
	f := p.answer
	p.mu.Unlock()
	return f(acct, cursor)
}

func (p *fakePoller) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

type fakePublisher struct {
	mu      sync.Mutex
	err     error
	posts   []tanggap.Post
	started chan struct{} // closed on the first Publish when set
	release chan struct{} // Publish waits for it when set
	ctxErr  error         // the ctx error seen when a Publish finished
}

func (p *fakePublisher) Publish(ctx context.Context, posts []tanggap.Post) error {
	p.mu.Lock()
	started, release := p.started, p.release
	p.started = nil
	p.mu.Unlock()
	if started != nil {
		close(started)
	}
	if release != nil {
		<-release
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ctxErr = ctx.Err()
	if p.err != nil {
		return p.err
	}
	p.posts = append(p.posts, posts...)
	return nil
}

func (p *fakePublisher) IDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []string
	for _, x := range p.posts {
		ids = append(ids, x.ID)
	}
	return ids
}

type fakeCursors struct {
	mu     sync.Mutex
	m      map[string]string
	getErr error
	setErr error
}

func (c *fakeCursors) Cursor(ctx context.Context, p tanggap.Platform, account string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.getErr != nil {
		return "", c.getErr
	}
	return c.m[string(p)+"/"+account], nil
}

func (c *fakeCursors) SetCursor(ctx context.Context, p tanggap.Platform, account, cursor string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.setErr != nil {
		return c.setErr
	}
	c.m[string(p)+"/"+account] = cursor
	return nil
}

func (c *fakeCursors) Get(account string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m["x/"+account]
}

// logRecorder is a slog.Handler keeping every record.
type logRecorder struct {
	mu   *sync.Mutex
	recs *[]slog.Record
}

func newLogRecorder() logRecorder { return logRecorder{mu: new(sync.Mutex), recs: new([]slog.Record)} }

func (h logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.recs = append(*h.recs, r)
	return nil
}
func (h logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logRecorder) WithGroup(string) slog.Handler      { return h }

// count returns how many records at level have a message starting with prefix.
func (h logRecorder) count(level slog.Level, prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range *h.recs {
		if r.Level == level && strings.HasPrefix(r.Message, prefix) {
			n++
		}
	}
	return n
}

type harness struct {
	r       *Runner
	clock   *fakeClock
	poller  *fakePoller
	pub     *fakePublisher
	cursors *fakeCursors
	logs    logRecorder
	reg     *prometheus.Registry
}

var testOpts = RunnerOptions{
	Interval: 10 * time.Second, MaxInterval: 80 * time.Second, MaxBackoff: 5 * time.Minute,
	AuthRetry: 10 * time.Minute, Concurrency: 1, Seed: 7,
}

func newHarness(t *testing.T, answer func(config.Account, string) (Batch, error), handles ...string) *harness {
	t.Helper()
	if len(handles) == 0 {
		handles = []string{"humasbekasikota"}
	}
	var accts []config.Account
	for _, h := range handles {
		accts = append(accts, config.Account{Platform: tanggap.PlatformX, Handle: h, Owner: "city"})
	}
	h := &harness{
		clock:   &fakeClock{t: t0},
		poller:  &fakePoller{answer: answer},
		pub:     &fakePublisher{},
		cursors: &fakeCursors{m: map[string]string{}},
		logs:    newLogRecorder(),
		reg:     prometheus.NewRegistry(),
	}
	m, err := NewMetrics(h.reg)
	if err != nil {
		t.Fatal(err)
	}
	h.r, err = NewRunner(h.poller, accts, h.cursors, h.pub, slog.New(h.logs), m, h.clock.Now, testOpts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) tick() { h.r.tick(context.Background()) }

func (h *harness) state(handle string) *accountState {
	for _, a := range h.r.accts {
		if a.cfg.Handle == handle {
			return a
		}
	}
	panic("no account " + handle)
}

func (h *harness) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	var c prometheus.Collector
	switch name {
	case "polls":
		c = h.r.m.polls.WithLabelValues(labels...)
	case "published":
		c = h.r.m.published.WithLabelValues(labels...)
	case "gaps":
		c = h.r.m.gaps.WithLabelValues(labels...)
	case "remaining":
		c = h.r.m.remaining.WithLabelValues(labels...)
	case "last_success":
		c = h.r.m.lastSuccess.WithLabelValues(labels...)
	default:
		t.Fatalf("unknown metric %s", name)
	}
	return testutil.ToFloat64(c)
}

func posts(ids ...string) []tanggap.Post {
	var out []tanggap.Post
	for _, id := range ids {
		out = append(out, tanggap.Post{Platform: tanggap.PlatformX, ID: id, ThreadID: id, CreatedAt: t0})
	}
	return out
}

func TestRunnerPublishesThenMovesCursor(t *testing.T) {
	h := newHarness(t, func(a config.Account, cursor string) (Batch, error) {
		if cursor == "" {
			return Batch{Posts: posts("101", "102"), Cursor: "102", Calls: 1}, nil
		}
		return Batch{Cursor: cursor, Calls: 1}, nil
	})
	h.tick()
	if got := h.cursors.Get("humasbekasikota"); got != "102" {
		t.Fatalf("cursor = %q, want 102", got)
	}
	if diff := cmp.Diff([]string{"101", "102"}, h.pub.IDs()); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
	h.clock.Add(testOpts.Interval)
	h.tick()
	if diff := cmp.Diff([]string{"humasbekasikota@", "humasbekasikota@102"}, h.poller.Calls()); diff != "" {
		t.Errorf("polls (-want +got):\n%s", diff)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"polls", []string{"x", "humasbekasikota", "ok"}, 1},
		{"polls", []string{"x", "humasbekasikota", "empty"}, 1},
		{"published", []string{"x", "humasbekasikota"}, 2},
		{"last_success", []string{"x", "humasbekasikota"}, float64(t0.Add(testOpts.Interval).Unix())},
	} {
		if got := h.metric(t, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	want := []AccountCoverage{{Platform: "x", Account: "humasbekasikota", Owner: "city", LastSuccess: t0.Add(testOpts.Interval)}}
	if diff := cmp.Diff(want, h.r.Coverage()); diff != "" {
		t.Errorf("coverage (-want +got):\n%s", diff)
	}
}

func TestRunnerFailuresKeepCursor(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name       string
		pollErr    error
		getErr     error
		pubErr     error
		setErr     error
		wantResult string
		wantGap    string
		wantPosts  int
	}{
		{name: "5xx", pollErr: tanggap.WrapCode(tanggap.EUNAVAILABLE, boom, "x 503"), wantResult: ResultError, wantGap: GapAPIError},
		{name: "malformed", pollErr: tanggap.WrapCode(tanggap.EINVALID, boom, "x json"), wantResult: ResultMalformed, wantGap: GapAPIError},
		{name: "uncoded", pollErr: boom, wantResult: ResultError, wantGap: GapAPIError},
		{name: "publish fails", pubErr: boom, wantResult: ResultError, wantGap: GapPublishFailed},
		{name: "cursor read fails", getErr: boom, wantResult: ResultError, wantGap: GapPublishFailed},
		{name: "cursor save fails", setErr: boom, wantResult: ResultError, wantGap: GapPublishFailed, wantPosts: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(a config.Account, cursor string) (Batch, error) {
				if tc.pollErr != nil {
					return Batch{}, tc.pollErr
				}
				return Batch{Posts: posts("200"), Cursor: "200"}, nil
			})
			h.cursors.m["x/humasbekasikota"] = "100"
			h.cursors.getErr, h.cursors.setErr, h.pub.err = tc.getErr, tc.setErr, tc.pubErr
			h.clock.Add(time.Minute) // the gap runs from the runner's start
			h.tick()

			h.cursors.getErr = nil
			if got := h.cursors.Get("humasbekasikota"); got != "100" {
				t.Errorf("cursor moved to %q", got)
			}
			if got := len(h.pub.IDs()); got != tc.wantPosts {
				t.Errorf("published %d posts, want %d", got, tc.wantPosts)
			}
			if got := h.metric(t, "polls", "x", "humasbekasikota", tc.wantResult); got != 1 {
				t.Errorf("polls{result=%s} = %v, want 1", tc.wantResult, got)
			}
			if got := h.metric(t, "gaps", "x", "humasbekasikota", tc.wantGap); got != 1 {
				t.Errorf("gaps{reason=%s} = %v, want 1", tc.wantGap, got)
			}
			want := []AccountCoverage{{Platform: "x", Account: "humasbekasikota", Owner: "city", GapReason: tc.wantGap, GapSince: t0}}
			if diff := cmp.Diff(want, h.r.Coverage()); diff != "" {
				t.Errorf("coverage (-want +got):\n%s", diff)
			}
			if got := h.logs.count(slog.LevelWarn, "collector gap opened"); got != 1 {
				t.Errorf("%d gap logs, want 1", got)
			}

			// Fixed: the next poll (after the backoff) moves the cursor and closes the gap.
			h.pub.err, h.cursors.setErr, tc.pollErr = nil, nil, nil
			h.clock.Add(testOpts.Interval)
			h.tick()
			if got := h.cursors.Get("humasbekasikota"); got != "200" {
				t.Errorf("after recovery cursor = %q, want 200", got)
			}
			if got := h.r.Coverage()[0].GapReason; got != "" {
				t.Errorf("gap still open: %s", got)
			}
			if got := h.logs.count(slog.LevelInfo, "collector gap closed"); got != 1 {
				t.Errorf("%d gap-closed logs, want 1", got)
			}
		})
	}
}

// A poll that reports posts the platform no longer serves publishes what
// it read, saves its cursor (past the missed posts: they cannot come back)
// and opens a posts_unreachable gap from when they begin, counted and
// logged; the next successful poll closes it.
func TestRunnerUnreachablePosts(t *testing.T) {
	missedFrom := t0.Add(-5 * time.Hour)
	h := newHarness(t, func(a config.Account, cursor string) (Batch, error) {
		if cursor == "100" {
			return Batch{Posts: posts("900", "901"), Cursor: "901", Calls: 6},
				tanggap.WrapCode(tanggap.EUNAVAILABLE, &UnreachableError{Since: missedFrom}, "x @%s: statuses/mentions_timeline after id 100, before id 900", a.Handle)
		}
		return Batch{Cursor: cursor, Calls: 1}, nil
	})
	h.cursors.m["x/humasbekasikota"] = "100"
	h.tick()
	if got := h.cursors.Get("humasbekasikota"); got != "901" {
		t.Errorf("cursor = %q, want 901", got)
	}
	if diff := cmp.Diff([]string{"900", "901"}, h.pub.IDs()); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"polls", []string{"x", "humasbekasikota", "ok"}, 1},
		{"gaps", []string{"x", "humasbekasikota", GapPostsUnreachable}, 1},
		{"gaps", []string{"x", "humasbekasikota", GapAPIError}, 0},
		{"last_success", []string{"x", "humasbekasikota"}, float64(t0.Unix())},
	} {
		if got := h.metric(t, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	want := []AccountCoverage{{Platform: "x", Account: "humasbekasikota", Owner: "city", LastSuccess: t0,
		GapReason: GapPostsUnreachable, GapSince: missedFrom}}
	if diff := cmp.Diff(want, h.r.Coverage()); diff != "" {
		t.Errorf("coverage (-want +got):\n%s", diff)
	}
	if got := h.logs.count(slog.LevelWarn, "collector gap opened"); got != 1 {
		t.Errorf("%d gap logs, want 1", got)
	}
	if a := h.state("humasbekasikota"); !a.next.Equal(t0.Add(testOpts.Interval)) {
		t.Errorf("next poll at %v, want the interval after a success", a.next)
	}

	h.clock.Add(testOpts.Interval)
	h.tick()
	if got := h.r.Coverage()[0].GapReason; got != "" {
		t.Errorf("gap still open: %s", got)
	}
}

// Unreachable posts reported with the rate limit that a later call of the
// same poll met (X v2: the usage cap on the own timeline after the
// mentions walk ran out of reach): the gap is posts_unreachable, and the
// shared window stays shut until it reopens, for every account.
func TestRunnerUnreachablePostsWithRateLimit(t *testing.T) {
	const scope = "x:project"
	until := t0.Add(3 * time.Hour)
	missedFrom := t0.Add(-5 * time.Hour)
	h := newHarness(t, func(a config.Account, cursor string) (Batch, error) {
		if a.Handle == "a" && cursor == "100" {
			rl := &tanggap.Error{Code: tanggap.ERATELIMIT, Message: "x 429 usage cap",
				Err: &RateLimitError{Until: until, Reason: "spend_cap", Scope: scope}}
			ue := tanggap.WrapCode(tanggap.EUNAVAILABLE, &UnreachableError{Since: missedFrom}, "x @a: GET mentions after id 100, before id 900")
			return Batch{Posts: posts("900"), Cursor: "900", Calls: 3}, errors.Join(rl, ue)
		}
		return Batch{Cursor: cursor, Calls: 1}, nil
	}, "a", "b")
	h.cursors.m["x/a"] = "100"
	h.r.opts.Concurrency = 1 // a first: b is paused before its turn
	h.tick()
	if got := h.cursors.Get("a"); got != "900" {
		t.Errorf("cursor = %q, want 900", got)
	}
	if got := h.metric(t, "gaps", "x", "a", GapPostsUnreachable); got != 1 {
		t.Errorf("posts_unreachable gaps = %v, want 1", got)
	}
	for _, handle := range []string{"a", "b"} {
		if next := h.state(handle).next; next.Before(until) {
			t.Errorf("%s: next poll at %v, before the window reopens at %v", handle, next, until)
		}
	}
}

func TestRunnerBackoff(t *testing.T) {
	h := newHarness(t, func(config.Account, string) (Batch, error) {
		return Batch{}, tanggap.Errorf(tanggap.EUNAVAILABLE, "x 503")
	})
	a := h.state("humasbekasikota")
	step := testOpts.Interval
	for i := 1; i <= 10; i++ {
		h.tick()
		if got := len(h.poller.Calls()); got != i {
			t.Fatalf("after %d ticks: %d polls", i, got)
		}
		wait := a.next.Sub(h.clock.Now())
		if wait < step/2 || wait > step {
			t.Errorf("failure %d: waits %v, want between %v and %v", i, wait, step/2, step)
		}
		// Not polled again before the backoff ends.
		h.clock.Add(wait - time.Millisecond)
		h.tick()
		if got := len(h.poller.Calls()); got != i {
			t.Fatalf("failure %d: polled again before the backoff ended", i)
		}
		h.clock.Add(time.Millisecond)
		step = min(2*step, testOpts.MaxBackoff)
	}
	if got := h.metric(t, "gaps", "x", "humasbekasikota", GapAPIError); got != 1 {
		t.Errorf("one gap counted %v times", got)
	}
	if got := h.logs.count(slog.LevelWarn, "collector gap opened"); got != 1 {
		t.Errorf("%d warnings for one gap, want 1", got)
	}
}

// TestRunnerPartialGap: a poll that succeeds but says it cannot cover all
// of the account (a quota too small for every tracked thread) is a
// partial gap, counted and warned once while it lasts, closed when a poll
// covers everything again; the posts and the cursor still go through.
func TestRunnerPartialGap(t *testing.T) {
	var mu sync.Mutex
	partial := "replies to threads started before yesterday are not collected"
	n := 0
	h := newHarness(t, func(config.Account, string) (Batch, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		return Batch{Posts: posts(string(rune('a' + n))), Cursor: string(rune('a' + n)), Partial: partial}, nil
	})
	for i := 0; i < 3; i++ {
		h.tick()
		h.clock.Add(time.Minute)
	}
	c := h.r.Coverage()[0]
	if c.GapReason != GapPartial || !c.GapSince.Equal(t0) || !c.LastSuccess.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("coverage %+v, want a partial gap since the first poll", c)
	}
	if got := h.metric(t, "gaps", "x", "humasbekasikota", GapPartial); got != 1 {
		t.Errorf("one partial gap counted %v times", got)
	}
	if got := h.logs.count(slog.LevelWarn, "collector gap opened"); got != 1 {
		t.Errorf("%d warnings for one gap, want 1", got)
	}
	if got := len(h.pub.IDs()); got != 3 || h.cursors.Get("humasbekasikota") != "d" {
		t.Errorf("published %d, cursor %q: a partial poll still publishes", got, h.cursors.Get("humasbekasikota"))
	}
	mu.Lock()
	partial = ""
	mu.Unlock()
	h.tick()
	if c := h.r.Coverage()[0]; c.GapReason != "" {
		t.Errorf("coverage %+v after a complete poll, want no gap", c)
	}
}

func TestRunnerRateLimitWaits(t *testing.T) {
	until := t0.Add(10 * time.Minute)
	limited := map[string]bool{"humasbekasikota": true}
	var mu sync.Mutex
	h := newHarness(t, func(a config.Account, cursor string) (Batch, error) {
		mu.Lock()
		defer mu.Unlock()
		if limited[a.Handle] {
			return Batch{}, &tanggap.Error{Code: tanggap.ERATELIMIT, Message: "x 429",
				Err: &RateLimitError{Until: until, Reason: "rate_limit"}}
		}
		return Batch{Posts: posts("5"), Cursor: "5", Budget: Budget{Known: true, Limit: 900, Remaining: 800, Reset: until}}, nil
	}, "humasbekasikota", "TirtaPatriot")

	h.tick()
	if got := h.metric(t, "polls", "x", "humasbekasikota", ResultRateLimited); got != 1 {
		t.Fatalf("rate_limited polls = %v", got)
	}
	if got := h.r.Coverage()[1].GapReason; got != GapRateLimited { // sorted: TirtaPatriot, humasbekasikota
		t.Fatalf("gap = %q, want rate_limited", got)
	}
	// The limited account waits for the window; the other one keeps going.
	for h.clock.Now().Before(until) {
		h.clock.Add(testOpts.Interval)
		h.tick()
	}
	n := 0
	for _, c := range h.poller.Calls() {
		if strings.HasPrefix(c, "humasbekasikota@") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("rate-limited account polled %d times before the window reopened, want 1", n)
	}
	if got := h.metric(t, "polls", "x", "TirtaPatriot", ResultOK) + h.metric(t, "polls", "x", "TirtaPatriot", ResultEmpty); got < 5 {
		t.Errorf("the other account was polled only %v times", got)
	}
	mu.Lock()
	limited["humasbekasikota"] = false
	mu.Unlock()
	h.clock.Add(testOpts.Interval) // jitter is below Interval/2
	h.tick()
	if got := h.r.Coverage()[1]; got.GapReason != "" || !got.LastSuccess.After(until) {
		t.Errorf("after the window: %+v", got)
	}
}

func TestRunnerSharedRateWindowPausesEveryAccount(t *testing.T) {
	const scope = "x:app:user_timeline"
	until := t0.Add(15 * time.Minute)
	var mu sync.Mutex
	exhausted := false
	h := newHarness(t, func(a config.Account, cursor string) (Batch, error) {
		mu.Lock()
		defer mu.Unlock()
		if exhausted {
			return Batch{}, &tanggap.Error{Code: tanggap.ERATELIMIT, Message: "x 429",
				Err: &RateLimitError{Until: until, Reason: "rate_limit", Scope: scope}}
		}
		return Batch{Posts: posts("9"), Cursor: "9", Calls: 1,
			Budget: Budget{Known: true, Limit: 1500, Remaining: 1400, Reset: until, Scope: scope}}, nil
	}, "a", "b", "c")
	h.tick() // all three report the shared scope
	mu.Lock()
	exhausted = true
	mu.Unlock()
	h.clock.Add(testOpts.Interval)
	h.r.opts.Concurrency = 1
	// Only the first account polled in this tick meets the 429; the others
	// are paused without spending a call.
	before := len(h.poller.Calls())
	h.tick()
	if got := len(h.poller.Calls()) - before; got != 1 {
		t.Errorf("%d calls after the shared window closed, want 1", got)
	}
	for h.clock.Now().Before(until) {
		h.clock.Add(testOpts.Interval)
		h.tick()
	}
	if got := len(h.poller.Calls()) - before; got != 1 {
		t.Errorf("%d calls while the shared window was closed, want 1", got)
	}
	mu.Lock()
	exhausted = false
	mu.Unlock()
	h.clock.Add(testOpts.Interval)
	h.tick()
	if got := len(h.poller.Calls()) - before; got != 4 {
		t.Errorf("%d calls after the window reopened, want 4", got)
	}
}

func TestRunnerAuthReportedOnce(t *testing.T) {
	var mu sync.Mutex
	expired := true
	h := newHarness(t, func(config.Account, string) (Batch, error) {
		mu.Lock()
		defer mu.Unlock()
		if expired {
			return Batch{}, tanggap.Errorf(tanggap.EAUTH, "x 401: token expired")
		}
		return Batch{Cursor: "1"}, nil
	})
	for i := 0; i < 3; i++ {
		h.tick()
		// Not retried in a loop: nothing happens for most of AuthRetry.
		for j := 0; j < 9; j++ {
			h.clock.Add(time.Minute)
			h.tick()
		}
		h.clock.Add(2 * time.Minute)
	}
	if got := len(h.poller.Calls()); got != 3 {
		t.Errorf("%d polls in 36 minutes with an expired token, want 3", got)
	}
	if got := h.logs.count(slog.LevelError, "collector token expired or revoked"); got != 1 {
		t.Errorf("token expiry logged %d times, want once", got)
	}
	if got := h.metric(t, "polls", "x", "humasbekasikota", ResultAuthExpired); got != 3 {
		t.Errorf("auth_expired polls = %v, want 3", got)
	}
	if got := h.metric(t, "gaps", "x", "humasbekasikota", GapTokenExpired); got != 1 {
		t.Errorf("token_expired gaps = %v, want 1", got)
	}
	if got := h.r.Coverage()[0]; got.GapReason != GapTokenExpired || !got.GapSince.Equal(t0) {
		t.Errorf("coverage = %+v", got)
	}
	// A renewed token is picked up by the slow retry.
	mu.Lock()
	expired = false
	mu.Unlock()
	h.tick()
	if got := h.r.Coverage()[0].GapReason; got != "" {
		t.Errorf("gap still %q after the token was renewed", got)
	}
	if got := h.logs.count(slog.LevelInfo, "collector token works again"); got != 1 {
		t.Errorf("recovery logged %d times", got)
	}
}

// TestRunnerBehindIsABacklogGap: polls that succeed but leave posts for
// the next ones (Batch.Behind) publish and move the cursor, and show the
// account as a backlog gap from its last success until a poll catches up.
func TestRunnerBehindIsABacklogGap(t *testing.T) {
	var mu sync.Mutex
	behind, n := true, 0
	h := newHarness(t, func(config.Account, string) (Batch, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		id := fmt.Sprint(300 + n)
		return Batch{Posts: posts(id), Cursor: id, Calls: 11, Behind: behind}, nil
	})
	h.clock.Add(time.Minute)
	h.tick()
	first := h.clock.Now()
	want := []AccountCoverage{{Platform: "x", Account: "humasbekasikota", Owner: "city", LastSuccess: first, GapReason: GapBacklog, GapSince: t0}}
	if diff := cmp.Diff(want, h.r.Coverage()); diff != "" {
		t.Errorf("coverage after a poll behind (-want +got):\n%s", diff)
	}
	if got := h.cursors.Get("humasbekasikota"); got != "301" {
		t.Errorf("cursor = %q, want 301", got)
	}
	// Still behind: the same gap, counted and logged once; polled at the
	// base interval, as an account with posts.
	h.clock.Add(testOpts.Interval)
	h.tick()
	if got := h.r.Coverage()[0]; got.GapReason != GapBacklog || !got.GapSince.Equal(t0) || !got.LastSuccess.Equal(h.clock.Now()) {
		t.Errorf("coverage after a second poll behind = %+v", got)
	}
	if got := h.metric(t, "gaps", "x", "humasbekasikota", GapBacklog); got != 1 {
		t.Errorf("backlog gaps = %v, want 1", got)
	}
	if got := h.logs.count(slog.LevelWarn, "collector gap opened"); got != 1 {
		t.Errorf("%d gap logs, want 1", got)
	}
	// Caught up: the gap closes.
	mu.Lock()
	behind = false
	mu.Unlock()
	h.clock.Add(testOpts.Interval)
	h.tick()
	if got := h.r.Coverage()[0]; got.GapReason != "" || !got.LastSuccess.Equal(h.clock.Now()) {
		t.Errorf("coverage after catching up = %+v", got)
	}
	if got := h.logs.count(slog.LevelInfo, "collector gap closed"); got != 1 {
		t.Errorf("%d gap-closed logs, want 1", got)
	}
	if diff := cmp.Diff([]string{"301", "302", "303"}, h.pub.IDs()); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
}

func TestRunnerAdaptiveInterval(t *testing.T) {
	h := newHarness(t, func(a config.Account, cursor string) (Batch, error) {
		if a.Handle == "busy" {
			return Batch{Posts: posts("1"), Cursor: "1"}, nil
		}
		return Batch{}, nil
	}, "busy", "quiet")
	var waits []time.Duration
	for i := 0; i < 8; i++ {
		h.tick()
		waits = append(waits, h.state("quiet").next.Sub(h.clock.Now()))
		if got := h.state("busy").next.Sub(h.clock.Now()); got != testOpts.Interval {
			t.Fatalf("busy account waits %v, want %v", got, testOpts.Interval)
		}
		h.clock.Add(h.state("quiet").next.Sub(h.clock.Now()))
	}
	want := []time.Duration{15 * time.Second, 22500 * time.Millisecond, 33750 * time.Millisecond, 50625 * time.Millisecond,
		75937500 * time.Microsecond, 80 * time.Second, 80 * time.Second, 80 * time.Second}
	if diff := cmp.Diff(want, waits); diff != "" {
		t.Errorf("quiet account waits (-want +got):\n%s", diff)
	}
}

func TestRunnerSpreadsLowBudget(t *testing.T) {
	reset := t0.Add(10 * time.Minute)
	for _, tc := range []struct {
		name      string
		remaining int
		calls     int
		accounts  []string
		scope     string
		quiet     bool // no posts: every account weighs the same
		// want returns the bounds of the wait after the second poll of
		// account a, given the time left in the window then.
		want func(window time.Duration) (lo, hi time.Duration)
	}{
		{name: "plenty", remaining: 900, calls: 2, accounts: []string{"a"},
			want: func(time.Duration) (time.Duration, time.Duration) { return testOpts.Interval, testOpts.Interval }},
		{name: "low", remaining: 4, calls: 2, accounts: []string{"a"},
			want: func(w time.Duration) (time.Duration, time.Duration) { return w / 2, w / 2 }},
		{name: "shared by three", remaining: 30, calls: 1, accounts: []string{"a", "b", "c"}, scope: "x:app:user_timeline", quiet: true,
			want: func(w time.Duration) (time.Duration, time.Duration) { return w / 10, w / 10 }},
		{name: "spent", remaining: 0, calls: 1, accounts: []string{"a"},
			want: func(w time.Duration) (time.Duration, time.Duration) { return w, w + testOpts.Interval/2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(a config.Account, cursor string) (Batch, error) {
				var ps []tanggap.Post
				if !tc.quiet {
					ps = posts("1")
				}
				return Batch{Posts: ps, Cursor: "1", Calls: tc.calls,
					Budget: Budget{Known: true, Limit: 900, Remaining: tc.remaining, Reset: reset, Scope: tc.scope}}, nil
			}, tc.accounts...)
			if tc.remaining > 0 {
				h.tick() // every account of the scope reports its budget
				h.clock.Add(h.state("a").next.Sub(h.clock.Now()))
			}
			h.tick()
			now := h.clock.Now()
			got := h.state("a").next.Sub(now)
			lo, hi := tc.want(reset.Sub(now))
			if got < lo || got > hi {
				t.Errorf("next poll in %v, want between %v and %v", got, lo, hi)
			}
			if got := h.metric(t, "remaining", "x", "a"); got != float64(tc.remaining) {
				t.Errorf("rate_limit_remaining = %v", got)
			}
		})
	}
}

func TestRunnerRunDrainsOnCancel(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	pub := &fakePublisher{started: started, release: release}
	poller := &fakePoller{answer: func(a config.Account, cursor string) (Batch, error) {
		return Batch{Posts: posts("77"), Cursor: "77"}, nil
	}}
	cursors := &fakeCursors{m: map[string]string{}}
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	accts := []config.Account{{Platform: tanggap.PlatformX, Handle: "humasbekasikota", Owner: "city"}}
	r, err := NewRunner(poller, accts, cursors, pub, slog.New(slog.DiscardHandler), m, time.Now,
		RunnerOptions{Interval: 50 * time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("no publish started")
	}
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while a publish was in flight", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil on cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if pub.ctxErr != nil {
		t.Errorf("the in-flight publish saw a cancelled context: %v", pub.ctxErr)
	}
	if got := cursors.Get("humasbekasikota"); got != "77" {
		t.Errorf("cursor after drain = %q, want 77", got)
	}
}

func TestRunnerCancelAbortsPoll(t *testing.T) {
	started := make(chan struct{})
	var once sync.Once
	m, _ := NewMetrics(prometheus.NewRegistry())
	accts := []config.Account{{Platform: tanggap.PlatformX, Handle: "humasbekasikota"}}
	logs := newLogRecorder()
	r, err := NewRunner(blockingPoller{started: started, once: &once}, accts, &fakeCursors{m: map[string]string{}},
		&fakePublisher{}, slog.New(logs), m, time.Now, RunnerOptions{Interval: 50 * time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	<-started
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if got := r.Coverage()[0].GapReason; got != "" {
		t.Errorf("shutdown recorded as a gap: %s", got)
	}
}

// blockingPoller blocks until its context ends.
type blockingPoller struct {
	started chan struct{}
	once    *sync.Once
}

func (blockingPoller) Platform() tanggap.Platform { return tanggap.PlatformX }
func (p blockingPoller) Poll(ctx context.Context, _ config.Account, _ string) (Batch, error) {
	p.once.Do(func() { close(p.started) })
	<-ctx.Done()
	return Batch{}, tanggap.WrapCode(tanggap.EUNAVAILABLE, ctx.Err(), "x poll")
}

func TestNewRunnerRejects(t *testing.T) {
	m, _ := NewMetrics(prometheus.NewRegistry())
	p := &fakePoller{}
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name  string
		accts []config.Account
	}{
		{"other platform", []config.Account{{Platform: tanggap.PlatformInstagram, Handle: "pemkotbekasi"}}},
		{"twice", []config.Account{{Platform: tanggap.PlatformX, Handle: "kotabekasi"}, {Platform: tanggap.PlatformX, Handle: "KotaBekasi"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewRunner(p, tc.accts, &fakeCursors{}, &fakePublisher{}, log, m, nil, RunnerOptions{}); err == nil {
				t.Error("no error")
			}
		})
	}
	if _, err := NewRunner(p, nil, nil, &fakePublisher{}, log, m, nil, RunnerOptions{}); err == nil {
		t.Error("nil Cursors accepted")
	}
}

func TestMetricsNames(t *testing.T) {
	h := newHarness(t, func(config.Account, string) (Batch, error) {
		return Batch{Posts: posts("1"), Cursor: "1", Budget: Budget{Known: true, Limit: 75, Remaining: 74, Reset: t0.Add(time.Minute)}}, nil
	})
	reg := h.reg
	h.r.pools["youtube:quota"] = &pool{quota: &Quota{Scope: "youtube:quota", Limit: 100, Period: time.Hour}}
	h.tick()
	h.r.failed(h.state("humasbekasikota"), ResultError, GapAPIError, errors.New("x"))
	h.r.opts.Leases, h.r.opts.Owner = &memLeases{now: h.clock.Now, owners: map[string]string{}, until: map[string]time.Time{}}, "w1"
	h.r.setLeaseGauge()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	want := []string{
		"tanggap_collector_gaps_total",
		"tanggap_collector_last_success_timestamp_seconds",
		"tanggap_collector_leases_held",
		"tanggap_collector_poll_duration_seconds",
		"tanggap_collector_polls_total",
		"tanggap_collector_posts_published_total",
		"tanggap_collector_quota_used_units",
		"tanggap_collector_rate_limit_remaining",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("metric names (-want +got):\n%s", diff)
	}
	if _, err := NewMetrics(reg); err == nil {
		t.Error("registering twice succeeded")
	}
}
