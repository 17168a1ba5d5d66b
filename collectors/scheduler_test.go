package collectors

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
)

// run drives the Runner on the fake clock until end: poll what is due,
// jump to the next due time.
func (h *harness) run(end time.Time) {
	for h.clock.Now().Before(end) {
		next := h.r.tick(context.Background())
		if !next.After(h.clock.Now()) {
			next = h.clock.Now().Add(time.Millisecond)
		}
		if !next.Before(end) {
			h.clock.Add(end.Sub(h.clock.Now()))
			return
		}
		h.clock.Add(next.Sub(h.clock.Now()))
	}
}

func rateLimited(until time.Time, reason, scope string) error {
	return &tanggap.Error{Code: tanggap.ERATELIMIT, Message: "429", Err: &RateLimitError{Until: until, Reason: reason, Scope: scope}}
}

func TestRunnerPublishesPartialBatch(t *testing.T) {
	until := t0.Add(15 * time.Minute)
	for _, tc := range []struct {
		name       string
		err        error
		pubErr     error
		wantCursor string
		wantPosts  int
		wantGap    string
		wantNext   time.Time // lower bound of the next poll
	}{
		{name: "5xx after a page", err: tanggap.Errorf(tanggap.EUNAVAILABLE, "x 503"),
			wantCursor: "102", wantPosts: 2, wantGap: GapAPIError, wantNext: t0.Add(testOpts.Interval / 2)},
		{name: "rate limited after a page", err: rateLimited(until, "rate_limit", ""),
			wantCursor: "102", wantPosts: 2, wantGap: GapRateLimited, wantNext: until},
		{name: "publish fails", err: rateLimited(until, "rate_limit", ""), pubErr: errors.New("kafka down"),
			wantCursor: "100", wantPosts: 0, wantGap: GapPublishFailed, wantNext: until},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(a config.Account, cursor string) (Batch, error) {
				return Batch{Posts: posts("101", "102"), Cursor: "102", Calls: 2}, tc.err
			})
			h.cursors.m["x/humasbekasikota"] = "100"
			h.pub.err = tc.pubErr
			h.tick()
			if got := h.cursors.Get("humasbekasikota"); got != tc.wantCursor {
				t.Errorf("cursor = %q, want %q", got, tc.wantCursor)
			}
			if got := len(h.pub.IDs()); got != tc.wantPosts {
				t.Errorf("published %d posts, want %d", got, tc.wantPosts)
			}
			c := h.r.Coverage()[0]
			if c.GapReason != tc.wantGap || !c.LastSuccess.IsZero() {
				t.Errorf("coverage = %+v, want gap %s and no success", c, tc.wantGap)
			}
			if got := h.state("humasbekasikota").next; got.Before(tc.wantNext) {
				t.Errorf("next poll at %v, want not before %v", got, tc.wantNext)
			}
			if tc.wantPosts > 0 {
				if got := h.metric(t, "published", "x", "humasbekasikota"); got != float64(tc.wantPosts) {
					t.Errorf("published metric = %v", got)
				}
			}
		})
	}
}

func TestRunnerHardStopPausesEveryAccount(t *testing.T) {
	for _, tc := range []struct {
		name, reason, scope string
		until               time.Time
	}{
		{"X usage cap", "spend_cap", "x:project", t0.Add(3 * time.Hour)},
		{"YouTube quota", "quota_exceeded", "youtube:quota", time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)}, // midnight Pacific
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			stopped := false
			h := newHarness(t, func(a config.Account, cursor string) (Batch, error) {
				mu.Lock()
				defer mu.Unlock()
				if stopped {
					return Batch{}, rateLimited(tc.until, tc.reason, tc.scope)
				}
				return Batch{Cursor: "1", Calls: 1}, nil
			}, "a", "b", "c")
			h.tick() // no account has seen the scope yet
			mu.Lock()
			stopped = true
			mu.Unlock()
			h.clock.Add(testOpts.Interval * 2)
			before := len(h.poller.Calls())
			h.run(tc.until.Add(-time.Second))
			if got := len(h.poller.Calls()) - before; got != 1 {
				t.Errorf("%d calls after the hard stop, want 1 (the one that met it)", got)
			}
			for _, c := range h.r.Coverage() {
				if c.GapReason != GapRateLimited || !c.GapSince.Equal(t0) {
					t.Errorf("%s: coverage %+v, want a rate_limited gap since the last success", c.Account, c)
				}
			}
			if got := h.logs.count(slog.LevelWarn, "collector shared rate window closed"); got != 1 {
				t.Errorf("%d logs of the closed window, want 1", got)
			}
			mu.Lock()
			stopped = false
			mu.Unlock()
			h.run(tc.until.Add(testOpts.Interval))
			for _, c := range h.r.Coverage() {
				if c.GapReason != "" || c.LastSuccess.Before(tc.until) {
					t.Errorf("%s after the window reopened: %+v", c.Account, c)
				}
			}
		})
	}
}

// quotaDay is a calendar quota like YouTube's: the day ends at 08:00 UTC.
func quotaDay(now time.Time) time.Time {
	d := time.Date(now.Year(), now.Month(), now.Day(), 8, 0, 0, 0, time.UTC)
	if !d.After(now) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

func TestRunnerCountsDailyQuota(t *testing.T) {
	const limit = 3000
	h := newHarness(t, func(a config.Account, cursor string) (Batch, error) {
		// No usage headers: only the Runner's own count paces the polls.
		return Batch{Posts: posts(cursor + "1"), Cursor: cursor + "1", Calls: 2}, nil
	}, "a", "b", "c")
	h.r.pools["youtube:quota"] = &pool{quota: &Quota{Scope: "youtube:quota", Limit: limit, Reset: quotaDay}}

	spentBy := func(end time.Time) int {
		h.run(end)
		n := 0
		for range h.poller.Calls() {
			n += 2
		}
		return n
	}
	day1 := quotaDay(t0)
	units := spentBy(day1)
	if units > limit {
		t.Errorf("%d units spent on day 1, the quota is %d", units, limit)
	}
	if units < limit*8/10 {
		t.Errorf("only %d of %d units spent on day 1: the budget is left unused", units, limit)
	}
	for _, c := range h.r.Coverage() {
		if c.GapReason != "" {
			t.Errorf("%s: gap %s while the quota was paced", c.Account, c.GapReason)
		}
	}
	// The counter restarts with the day.
	if got := spentBy(day1.Add(12*time.Hour)) - units; got == 0 || got > limit {
		t.Errorf("%d units on day 2", got)
	}
}

func TestRunnerQuotaSpentIsAGap(t *testing.T) {
	h := newHarness(t, func(a config.Account, cursor string) (Batch, error) {
		return Batch{Cursor: "1", Calls: 120}, nil
	})
	h.r.pools["youtube:quota"] = &pool{quota: &Quota{Scope: "youtube:quota", Limit: 100, Reset: quotaDay}}
	h.tick() // 120 of 100 units
	a := h.state("humasbekasikota")
	if reset := quotaDay(t0); a.next.Before(reset) {
		t.Errorf("next poll at %v, before the quota resets at %v", a.next, reset)
	}
	if got := h.r.Coverage()[0]; got.GapReason != GapRateLimited {
		t.Errorf("coverage %+v, want a rate_limited gap", got)
	}
	if got := h.logs.count(slog.LevelWarn, "collector gap opened"); got != 1 {
		t.Errorf("%d gap logs, want 1", got)
	}
	if got := h.metric(t, "remaining", "x", "humasbekasikota"); got != 0 {
		t.Errorf("remaining = %v, want 0", got)
	}
}

// budgetAPI is a platform with one rate window shared by every account
// (like X's app-only mentions window) that reports its budget.
type budgetAPI struct {
	mu         sync.Mutex
	now        func() time.Time
	limit      int
	window     time.Duration
	start      time.Time
	calls      int
	refused    int
	busy       map[string]bool
	polls      map[string]int
	perAccount bool // Instagram-like: each account its own window, in percent
	own        map[string]*[2]int
}

func (f *budgetAPI) answer(a config.Account, cursor string) (Batch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if f.start.IsZero() || !now.Before(f.start.Add(f.window)) {
		f.start, f.calls = now, 0
		for _, o := range f.own {
			o[0] = 0
		}
	}
	reset := f.start.Add(f.window)
	if f.perAccount {
		o := f.own[a.Handle]
		if o == nil {
			o = new([2]int)
			f.own[a.Handle] = o
		}
		if o[0]+2 > f.limit {
			f.refused++
			return Batch{}, rateLimited(reset, "rate_limit", "")
		}
		o[0] += 2
		o[1] += 2
		f.polls[a.Handle]++
		var ps []tanggap.Post
		if f.busy[a.Handle] {
			ps = []tanggap.Post{{Platform: tanggap.PlatformX, ID: now.Format(time.RFC3339Nano), CreatedAt: now}}
		}
		pct := (o[0]*100 + f.limit - 1) / f.limit
		return Batch{Posts: ps, Cursor: "c", Calls: 2,
			Budget: Budget{Known: true, Limit: 100, Remaining: 100 - pct, Reset: now.Add(time.Hour)}}, nil
	}
	if f.calls >= f.limit {
		f.refused++
		return Batch{}, rateLimited(reset, "rate_limit", "x:app:mentions")
	}
	f.calls++
	f.polls[a.Handle]++
	var ps []tanggap.Post
	if f.busy[a.Handle] {
		ps = []tanggap.Post{{Platform: tanggap.PlatformX, ID: now.Format(time.RFC3339Nano), CreatedAt: now}}
	}
	return Batch{Posts: ps, Cursor: "c", Calls: 1,
		Budget: Budget{Known: true, Limit: f.limit, Remaining: f.limit - f.calls, Reset: reset, Scope: "x:app:mentions"}}, nil
}

func TestRunnerSpendsSharedWindowWhereThePostsAre(t *testing.T) {
	api := &budgetAPI{limit: 40, window: 15 * time.Minute, busy: map[string]bool{"busy": true}, polls: map[string]int{}}
	h := newHarness(t, api.answer, "busy", "quiet1", "quiet2", "quiet3")
	api.now = h.clock.Now
	h.run(t0.Add(2 * time.Hour))
	if api.refused > 0 {
		t.Errorf("%d calls refused: the Runner overspent the shared window", api.refused)
	}
	total := 0
	for _, n := range api.polls {
		total += n
	}
	if windows := 8; total < api.limit*windows*7/10 {
		t.Errorf("%d calls in %d windows of %d: the window is left unused", total, windows, api.limit)
	}
	for _, q := range []string{"quiet1", "quiet2", "quiet3"} {
		if api.polls["busy"] < 2*api.polls[q] {
			t.Errorf("busy account polled %d times, %s %d: want the busy one at least twice as often", api.polls["busy"], q, api.polls[q])
		}
		if api.polls[q] < 8 {
			t.Errorf("%s polled %d times in 2 hours: starved", q, api.polls[q])
		}
	}
	t.Logf("polls per account in 2h: %v", api.polls)
}

func TestRunnerPacesPerAccountQuotaWithPercentReports(t *testing.T) {
	// Instagram: 200 calls per hour per account, reported in percent.
	api := &budgetAPI{limit: 200, window: time.Hour, perAccount: true, busy: map[string]bool{"a": true, "b": true},
		polls: map[string]int{}, own: map[string]*[2]int{}}
	h := newHarness(t, api.answer, "a", "b")
	h.r.accts[0].own.quota = &Quota{Limit: 200, Period: time.Hour}
	h.r.accts[1].own.quota = &Quota{Limit: 200, Period: time.Hour}
	api.now = h.clock.Now
	h.run(t0.Add(3 * time.Hour))
	if api.refused > 0 {
		t.Errorf("%d calls refused", api.refused)
	}
	for _, a := range []string{"a", "b"} {
		perHour := float64(api.own[a][1]) / 3
		if perHour > 200 || perHour < 150 {
			t.Errorf("%s spent %.0f calls per hour, want close to (and at most) 200", a, perHour)
		}
	}
}

func TestWaterfill(t *testing.T) {
	h := newHarness(t, func(config.Account, string) (Batch, error) { return Batch{}, nil }, "a", "b", "c")
	now := t0
	for i, s := range []struct {
		act      float64
		interval time.Duration
	}{{99, 10 * time.Second}, {0, 80 * time.Second}, {0, 10 * time.Second}} {
		h.r.accts[i].act, h.r.accts[i].actAt, h.r.accts[i].interval, h.r.accts[i].cost = s.act, now, s.interval, 1
	}
	// 0.2 calls per second for the three: a (busy, weight 10) can use
	// 0.1 and gets it; b (quiet, polled every 80 s) uses 1/80; c, as
	// eager as a but with no recent posts, gets what is left.
	got := []float64{h.r.shareOf(h.r.accts[0], 0.2, now), h.r.shareOf(h.r.accts[1], 0.2, now), h.r.shareOf(h.r.accts[2], 0.2, now)}
	want := []float64{0.1, 1.0 / 80, 0.2 - 0.1 - 1.0/80}
	// Scarce: weighted shares, 10:1:1.
	got = append(got, h.r.shareOf(h.r.accts[0], 0.06, now), h.r.shareOf(h.r.accts[2], 0.06, now))
	want = append(want, 0.05, 0.005)
	if diff := cmp.Diff(want, got, cmp.Comparer(func(x, y float64) bool { return x-y < 1e-9 && y-x < 1e-9 })); diff != "" {
		t.Errorf("shares (-want +got):\n%s", diff)
	}
	// Plenty for everyone: each gets what it can use.
	if got := h.r.shareOf(h.r.accts[1], 100, now); got != 1.0/80 {
		t.Errorf("quiet share with plenty = %v", got)
	}
}

func TestNewRunnerRejectsBadQuotas(t *testing.T) {
	m, _ := NewMetrics(prometheus.NewRegistry())
	log := slog.New(slog.DiscardHandler)
	for _, q := range [][]Quota{
		{{Scope: "youtube:quota"}},
		{{Scope: "youtube:quota", Limit: 10}},
		{{Limit: 1, Period: time.Hour}, {Limit: 2, Period: time.Hour}},
	} {
		_, err := NewRunner(&fakePoller{}, nil, &fakeCursors{}, &fakePublisher{}, log, m, nil, RunnerOptions{Quotas: q})
		if err == nil || !strings.Contains(err.Error(), "quota") {
			t.Errorf("%+v: err = %v", q, err)
		}
	}
	if _, err := NewRunner(&fakePoller{}, nil, &fakeCursors{}, &fakePublisher{}, log, m, nil, RunnerOptions{Leases: &memLeases{}}); err == nil {
		t.Error("Leases without an Owner accepted")
	}
}
