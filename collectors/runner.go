package collectors

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
)

// Gap reasons: why an account is not being watched right now. They are
// metric label values and the web banner's wording keys.
const (
	GapAPIError      = "api_error"      // the platform failed (5xx, timeout, malformed answer)
	GapRateLimited   = "rate_limited"   // the rate budget is spent until the window reopens
	GapTokenExpired  = "token_expired"  // the access token is expired or revoked
	GapPublishFailed = "publish_failed" // Kafka or the cursor store refused the batch
)

// Poll results: the values of the result label of
// tanggap_collector_polls_total.
const (
	ResultOK          = "ok"
	ResultEmpty       = "empty"
	ResultRateLimited = "rate_limited"
	ResultError       = "error"
	ResultAuthExpired = "auth_expired"
	ResultMalformed   = "malformed"
)

// Metrics are the collector metrics. One Metrics serves every Runner of a
// process (one Runner per platform).
type Metrics struct {
	polls       *prometheus.CounterVec
	published   *prometheus.CounterVec
	remaining   *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
	gaps        *prometheus.CounterVec
	duration    *prometheus.HistogramVec
}

// NewMetrics creates the collector metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tanggap_collector_polls_total",
			Help: "Polls of one watched account, by result (ok, empty, rate_limited, error, auth_expired, malformed).",
		}, []string{"platform", "account", "result"}),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tanggap_collector_posts_published_total",
			Help: "Posts published to Kafka and acknowledged.",
		}, []string{"platform", "account"}),
		remaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tanggap_collector_rate_limit_remaining",
			Help: "Calls left in the rate window the platform last reported for the account.",
		}, []string{"platform", "account"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tanggap_collector_last_success_timestamp_seconds",
			Help: "Unix time of the account's last poll whose posts were published and cursor saved.",
		}, []string{"platform", "account"}),
		gaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tanggap_collector_gaps_total",
			Help: "Coverage gaps opened (or changing reason), by reason (api_error, rate_limited, token_expired, publish_failed).",
		}, []string{"platform", "account", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tanggap_collector_poll_duration_seconds",
			Help:    "Time of one poll of one account, publish and cursor save included.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30},
		}, []string{"platform"}),
	}
	for _, c := range []prometheus.Collector{m.polls, m.published, m.remaining, m.lastSuccess, m.gaps, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, tanggap.WrapCode(tanggap.EINTERNAL, err, "collectors: register metrics")
		}
	}
	return m, nil
}

// RunnerOptions tune a Runner. Zero values take the defaults.
type RunnerOptions struct {
	// Interval is the poll interval of an account that recently returned
	// posts (default 30s; dev and tests use ~100ms). Quiet accounts slow
	// down up to MaxInterval (default 8 x Interval).
	Interval    time.Duration
	MaxInterval time.Duration
	// PollTimeout bounds one Poll call (default 20s).
	PollTimeout time.Duration
	// PublishTimeout bounds publishing one batch and saving its cursor
	// (default 30s). It also bounds the drain on shutdown: an in-flight
	// publish is finished, not cancelled, when Run's context ends.
	PublishTimeout time.Duration
	// MaxBackoff caps the jittered exponential backoff after errors
	// (default 5m).
	MaxBackoff time.Duration
	// AuthRetry is how often an account whose token failed is tried again
	// (default 10m), so a renewed token is picked up without a restart.
	AuthRetry time.Duration
	// Concurrency is how many accounts are polled at once (default 4).
	Concurrency int
	// Seed seeds the jitter; 0 picks a random seed.
	Seed uint64
}

func (o *RunnerOptions) defaults() {
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	if o.MaxInterval <= 0 {
		o.MaxInterval = 8 * o.Interval
	}
	if o.MaxInterval < o.Interval {
		o.MaxInterval = o.Interval
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 20 * time.Second
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = 30 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.AuthRetry <= 0 {
		o.AuthRetry = 10 * time.Minute
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Seed == 0 {
		o.Seed = rand.Uint64()
	}
}

// AccountCoverage says whether one account is being watched: the web UI
// shows a banner for every account with a GapReason.
type AccountCoverage struct {
	Platform    tanggap.Platform
	Account     string
	Owner       string
	LastSuccess time.Time // zero: no successful poll since the process started
	GapReason   string    // "" when covered; else one of the Gap* constants
	GapSince    time.Time // last success, or the Runner's start when there was none
}

// Runner polls the watched accounts of one platform with a Poller and
// publishes what it sees. Per account it reads the cursor, polls with a
// timeout, publishes the batch and saves the new cursor only after the
// Publisher returned (Kafka acknowledged). Errors are handled by code:
// ERATELIMIT waits for the window (for every account sharing it), EAUTH is
// reported once and retried slowly, anything else backs off exponentially
// with jitter. The cursor never moves on failure.
//
// The scheduler is deliberately simple: one process polls all the accounts
// it is given. Leases across workers and per-app budgets come later.
type Runner struct {
	poller   Poller
	platform tanggap.Platform
	cursors  Cursors
	pub      Publisher
	log      *slog.Logger
	m        *Metrics
	now      func() time.Time
	opts     RunnerOptions
	started  time.Time

	mu     sync.Mutex // guards everything below and the state of every account
	accts  []*accountState
	scopes map[string]time.Time // shared rate window -> blocked until
	rnd    *rand.Rand
}

type accountState struct {
	cfg      config.Account
	next     time.Time     // when the account is due
	interval time.Duration // adaptive interval
	failures int           // consecutive errors, for backoff

	lastSuccess  time.Time
	gapReason    string
	gapSince     time.Time
	authReported bool

	budget Budget // as last reported
	busy   bool   // a poll is in flight
}

// NewRunner returns a Runner for the accounts (all of the Poller's
// platform). now is the clock (time.Now in production).
func NewRunner(p Poller, accounts []config.Account, cursors Cursors, pub Publisher, log *slog.Logger, m *Metrics, now func() time.Time, opts RunnerOptions) (*Runner, error) {
	switch {
	case p == nil || cursors == nil || pub == nil || m == nil:
		return nil, tanggap.Errorf(tanggap.EINVALID, "collectors: NewRunner needs a Poller, Cursors, a Publisher and Metrics")
	case log == nil:
		return nil, tanggap.Errorf(tanggap.EINVALID, "collectors: NewRunner needs a logger")
	}
	if now == nil {
		now = time.Now
	}
	opts.defaults()
	r := &Runner{
		poller: p, platform: p.Platform(), cursors: cursors, pub: pub, log: log, m: m, now: now, opts: opts,
		scopes: map[string]time.Time{},
		rnd:    rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
	}
	r.started = now()
	seen := map[string]bool{}
	for _, a := range accounts {
		if a.Platform != r.platform {
			return nil, tanggap.Errorf(tanggap.EINVALID, "collectors: account %s/%s given to the %s runner", a.Platform, a.Handle, r.platform)
		}
		k := strings.ToLower(a.Handle)
		if seen[k] {
			return nil, tanggap.Errorf(tanggap.EINVALID, "collectors: account %s/%s listed twice", a.Platform, a.Handle)
		}
		seen[k] = true
		r.accts = append(r.accts, &accountState{cfg: a, next: r.started, interval: opts.Interval})
		// Create the series so that dashboards see every account from the start.
		m.published.WithLabelValues(string(r.platform), a.Handle)
		m.polls.WithLabelValues(string(r.platform), a.Handle, ResultOK)
		m.polls.WithLabelValues(string(r.platform), a.Handle, ResultError)
	}
	sort.Slice(r.accts, func(i, j int) bool { return r.accts[i].cfg.Handle < r.accts[j].cfg.Handle })
	return r, nil
}

// Run polls until ctx ends. On cancellation it stops starting polls,
// finishes the publishes in flight (and saves their cursors) and returns nil.
func (r *Runner) Run(ctx context.Context) error {
	r.log.Info("collector started", "platform", r.platform, "accounts", len(r.accts), "interval", r.opts.Interval)
	for ctx.Err() == nil {
		next := r.tick(ctx)
		if ctx.Err() != nil {
			break
		}
		t := time.NewTimer(max(next.Sub(r.now()), time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	r.log.Info("collector stopped", "platform", r.platform)
	return nil
}

// Coverage reports, per account, the last successful poll and the current
// gap, sorted by account.
func (r *Runner) Coverage() []AccountCoverage {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]AccountCoverage, 0, len(r.accts))
	for _, a := range r.accts {
		out = append(out, AccountCoverage{
			Platform: r.platform, Account: a.cfg.Handle, Owner: a.cfg.Owner,
			LastSuccess: a.lastSuccess, GapReason: a.gapReason, GapSince: a.gapSince,
		})
	}
	return out
}

// tick polls every due account (at most Concurrency at once), waits for
// them and returns when the next account is due.
func (r *Runner) tick(ctx context.Context) time.Time {
	due := r.due(r.now())
	sem := make(chan struct{}, r.opts.Concurrency)
	var wg sync.WaitGroup
loop:
	for _, a := range due {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		if ctx.Err() != nil {
			<-sem
			break
		}
		if r.blocked(a, r.now()) { // a poll of this tick met a shared 429
			<-sem
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.pollOnce(ctx, a)
		}()
	}
	wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range due {
		a.busy = false
	}
	return r.nextDue()
}

// due returns the accounts to poll now. An account whose shared rate window
// is exhausted is moved to the window's reopening instead.
func (r *Runner) due(now time.Time) []*accountState {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*accountState
	for _, a := range r.accts {
		if a.busy || a.next.After(now) || r.blockedLocked(a, now) {
			continue
		}
		a.busy = true
		out = append(out, a)
	}
	return out
}

// blocked reports whether the account's shared rate window is closed, and
// if so moves the account to the window's reopening.
func (r *Runner) blocked(a *accountState, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.blockedLocked(a, now)
}

func (r *Runner) blockedLocked(a *accountState, now time.Time) bool {
	s := a.budget.Scope
	if s == "" {
		return false
	}
	until, ok := r.scopes[s]
	if !ok {
		return false
	}
	if !until.After(now) {
		delete(r.scopes, s)
		return false
	}
	a.next = until.Add(r.jitter(r.opts.Interval / 2))
	return true
}

func (r *Runner) nextDue() time.Time {
	var next time.Time
	for _, a := range r.accts {
		if next.IsZero() || a.next.Before(next) {
			next = a.next
		}
	}
	if next.IsZero() {
		next = r.now().Add(r.opts.Interval)
	}
	return next
}

// pollOnce runs one cycle for one account: cursor, poll, publish, cursor.
func (r *Runner) pollOnce(ctx context.Context, a *accountState) {
	start := r.now()
	handle := a.cfg.Handle
	defer func() {
		r.m.duration.WithLabelValues(string(r.platform)).Observe(r.now().Sub(start).Seconds())
	}()

	cursor, err := r.cursors.Cursor(ctx, r.platform, handle)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		r.failed(a, ResultError, GapPublishFailed, err)
		return
	}

	pctx, cancel := context.WithTimeout(ctx, r.opts.PollTimeout)
	batch, err := r.poller.Poll(pctx, a.cfg, cursor)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return // shutting down: not a gap
		}
		r.pollFailed(a, err)
		return
	}

	// From here the batch is finished even if ctx ends: the publish in
	// flight completes and the cursor is saved (bounded by PublishTimeout).
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.PublishTimeout)
	defer cancel()
	if len(batch.Posts) > 0 {
		if err := r.pub.Publish(dctx, batch.Posts); err != nil {
			r.failed(a, ResultError, GapPublishFailed, err)
			return
		}
		r.m.published.WithLabelValues(string(r.platform), handle).Add(float64(len(batch.Posts)))
	}
	if batch.Cursor != "" && batch.Cursor != cursor {
		if err := r.cursors.SetCursor(dctx, r.platform, handle, batch.Cursor); err != nil {
			// The posts are in Kafka; the next poll sees them again and the
			// store ignores the duplicates.
			r.failed(a, ResultError, GapPublishFailed, err)
			return
		}
	}
	r.succeeded(a, batch)
}

func (r *Runner) succeeded(a *accountState, b Batch) {
	now := r.now()
	p, h := string(r.platform), a.cfg.Handle
	result := ResultEmpty
	if len(b.Posts) > 0 {
		result = ResultOK
	}
	r.m.polls.WithLabelValues(p, h, result).Inc()
	r.m.lastSuccess.WithLabelValues(p, h).Set(float64(now.UnixNano()) / 1e9)
	if b.Budget.Known {
		r.m.remaining.WithLabelValues(p, h).Set(float64(b.Budget.Remaining))
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if a.gapReason != "" {
		r.log.Info("collector gap closed", "platform", p, "account", h, "reason", a.gapReason,
			"gap_seconds", int(now.Sub(a.gapSince).Seconds()))
		if a.gapReason == GapTokenExpired {
			r.log.Info("collector token works again", "platform", p, "account", h)
		}
	}
	a.lastSuccess, a.gapReason, a.gapSince = now, "", time.Time{}
	a.failures, a.authReported = 0, false

	// Adaptive interval: busy accounts are polled at the base interval,
	// quiet ones slow down by half each time up to the maximum.
	if len(b.Posts) > 0 {
		a.interval = r.opts.Interval
	} else {
		a.interval = min(a.interval+a.interval/2, r.opts.MaxInterval)
	}
	if b.Budget.Known {
		a.budget = b.Budget
	}
	a.next = now.Add(max(a.interval, r.spread(a, b.Calls, now)))
}

// spread returns the delay that makes the account's remaining budget last
// until the window reopens, sharing it with every account of the same
// scope. It is zero when the budget is unknown.
func (r *Runner) spread(a *accountState, calls int, now time.Time) time.Duration {
	b := a.budget
	if !b.Known || !b.Reset.After(now) {
		return 0
	}
	window := b.Reset.Sub(now)
	if b.Remaining <= 0 {
		return window + r.jitter(r.opts.Interval/2)
	}
	sharers := 1
	if b.Scope != "" {
		sharers = 0
		for _, o := range r.accts {
			if o.budget.Scope == b.Scope {
				sharers++
			}
		}
	}
	need := time.Duration(max(calls, 1) * sharers)
	return window * need / time.Duration(b.Remaining)
}

// pollFailed handles a Poll error by its code.
func (r *Runner) pollFailed(a *accountState, err error) {
	switch tanggap.ErrorCode(err) {
	case tanggap.ERATELIMIT:
		r.rateLimited(a, err)
	case tanggap.EAUTH:
		r.authFailed(a, err)
	case tanggap.EINVALID:
		r.failed(a, ResultMalformed, GapAPIError, err)
	default:
		r.failed(a, ResultError, GapAPIError, err)
	}
}

func (r *Runner) rateLimited(a *accountState, err error) {
	now := r.now()
	p, h := string(r.platform), a.cfg.Handle
	r.m.polls.WithLabelValues(p, h, ResultRateLimited).Inc()
	var rl *RateLimitError
	errors.As(err, &rl)

	r.mu.Lock()
	defer r.mu.Unlock()
	r.openGap(a, GapRateLimited, now, err)
	if rl == nil || !rl.Until.After(now) {
		// No usable reset time: back off like any other error.
		a.failures++
		a.next = now.Add(r.backoff(a.failures))
		return
	}
	a.next = rl.Until.Add(r.jitter(r.opts.Interval / 2))
	r.m.remaining.WithLabelValues(p, h).Set(0)
	r.log.Info("collector waiting for rate window", "platform", p, "account", h,
		"until", rl.Until, "reason", rl.Reason, "scope", rl.Scope)
	if rl.Scope == "" {
		return
	}
	// The window is shared: pause every account that spends from it.
	r.scopes[rl.Scope] = rl.Until
	a.budget.Scope = rl.Scope
	for _, o := range r.accts {
		if o != a && o.budget.Scope == rl.Scope && o.next.Before(rl.Until) {
			o.next = rl.Until.Add(r.jitter(r.opts.Interval / 2))
		}
	}
}

func (r *Runner) authFailed(a *accountState, err error) {
	now := r.now()
	p, h := string(r.platform), a.cfg.Handle
	r.m.polls.WithLabelValues(p, h, ResultAuthExpired).Inc()

	r.mu.Lock()
	defer r.mu.Unlock()
	if !a.authReported {
		a.authReported = true
		r.log.Error("collector token expired or revoked: renew the account's access token",
			"platform", p, "account", h, "owner", a.cfg.Owner, "retry_every", r.opts.AuthRetry, "err", err)
	}
	r.openGap(a, GapTokenExpired, now, nil) // logged above, once
	a.next = now.Add(r.opts.AuthRetry + r.jitter(r.opts.AuthRetry/20))
}

// failed handles errors retried with backoff: API errors, malformed
// answers, publish and cursor failures.
func (r *Runner) failed(a *accountState, result, reason string, err error) {
	now := r.now()
	r.m.polls.WithLabelValues(string(r.platform), a.cfg.Handle, result).Inc()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.openGap(a, reason, now, err)
	a.failures++
	a.next = now.Add(r.backoff(a.failures))
}

// openGap records that the account is not covered. A gap is counted and
// logged when it opens or changes reason; repeats are logged at debug.
// err nil means the caller logged it already. Called with r.mu held.
func (r *Runner) openGap(a *accountState, reason string, now time.Time, err error) {
	p, h := string(r.platform), a.cfg.Handle
	if a.gapReason == reason {
		if err != nil {
			r.log.Debug("collector poll failed again", "platform", p, "account", h, "reason", reason, "err", err)
		}
		return
	}
	if a.gapReason == "" {
		a.gapSince = a.lastSuccess
		if a.gapSince.IsZero() {
			a.gapSince = r.started
		}
	}
	a.gapReason = reason
	r.m.gaps.WithLabelValues(p, h, reason).Inc()
	if err != nil {
		r.log.Warn("collector gap opened", "platform", p, "account", h, "reason", reason, "since", a.gapSince, "err", err)
	}
}

// backoff is exponential from Interval, capped at MaxBackoff, with equal
// jitter: between half and all of the step. Called with r.mu held.
func (r *Runner) backoff(failures int) time.Duration {
	d := r.opts.Interval
	for i := 1; i < failures && d < r.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, r.opts.MaxBackoff)
	return d/2 + r.jitter(d/2)
}

// jitter returns a random duration in [0, d). Called with r.mu held.
func (r *Runner) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(r.rnd.Int64N(int64(d)))
}
