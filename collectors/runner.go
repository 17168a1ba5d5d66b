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
	// GapPostsUnreachable: posts came after the cursor that the platform
	// no longer serves (see UnreachableError): they were never collected.
	GapPostsUnreachable = "posts_unreachable"
	GapBacklog          = "backlog" // polls succeed but leave posts they know of for later ones (Batch.Behind)
	GapPartial          = "partial" // polls succeed but cannot cover all of the account (Batch.Partial)
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
	leases      *prometheus.GaugeVec
	quotaUsed   *prometheus.GaugeVec
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
			Help: "Calls (or quota units, or percent for Meta) left in the tightest rate window of the account, as last reported or counted.",
		}, []string{"platform", "account"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tanggap_collector_last_success_timestamp_seconds",
			Help: "Unix time of the account's last poll whose posts were published and cursor saved.",
		}, []string{"platform", "account"}),
		gaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tanggap_collector_gaps_total",
			Help: "Coverage gaps opened (or changing reason), by reason (api_error, rate_limited, token_expired, publish_failed, posts_unreachable, backlog, partial).",
		}, []string{"platform", "account", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tanggap_collector_poll_duration_seconds",
			Help:    "Time of one poll of one account, publish and cursor save included.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30},
		}, []string{"platform"}),
		leases: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tanggap_collector_leases_held",
			Help: "Watched accounts whose lease this collector worker holds.",
		}, []string{"platform"}),
		quotaUsed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tanggap_collector_quota_used_units",
			Help: "Units this worker spent in the current period of a quota it counts itself (YouTube's daily units).",
		}, []string{"platform", "scope"}),
	}
	for _, c := range []prometheus.Collector{m.polls, m.published, m.remaining, m.lastSuccess, m.gaps, m.duration, m.leases, m.quotaUsed} {
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
	// down up to MaxInterval (default 8 x Interval) while no rate budget is
	// known. A known budget (see Quota and Budget) decides instead: each
	// window's calls are spread until it reopens, and a window shared by
	// the accounts goes first to those with recent posts.
	Interval    time.Duration
	MaxInterval time.Duration
	// PollTimeout bounds one Poll call (default 20s).
	PollTimeout time.Duration
	// PublishTimeout bounds publishing one batch and saving its cursor
	// (default 30s). It also bounds the drain on shutdown: an in-flight
	// publish is finished, not cancelled, when Run's context ends.
	PublishTimeout time.Duration
	// StoreTimeout bounds one cursor read and one lease call (default 5s).
	StoreTimeout time.Duration
	// MaxBackoff caps the jittered exponential backoff after errors
	// (default 5m).
	MaxBackoff time.Duration
	// AuthRetry is how often an account whose token failed is tried again
	// (default 10m), so a renewed token is picked up without a restart.
	AuthRetry time.Duration
	// BudgetGap: when the rate budget spaces an account's next poll further
	// than this (or the window is spent), the account is reported as a
	// rate_limited gap until its next successful poll (default 10m).
	BudgetGap time.Duration
	// Concurrency is how many accounts are polled at once (default 4).
	Concurrency int
	// Seed seeds the jitter; 0 picks a random seed.
	Seed uint64

	// Quotas are budgets the Runner counts itself (see Quota).
	Quotas []Quota

	// Leases, when set, shares the accounts with the other workers: this
	// Runner polls only the accounts whose lease it holds, as Owner. Nil:
	// this Runner polls every account it is given.
	Leases Leases
	Owner  string
	// LeaseName names an account's lease (default DefaultLeaseName; pass
	// store.LeaseName).
	LeaseName func(p tanggap.Platform, handle string) string
	// LeaseTTL is the lease's time to live (default 30s): a dead worker's
	// accounts are taken over after at most LeaseTTL plus a few
	// LeaseAcquire rounds. LeaseRenew is how often held leases are renewed
	// (default LeaseTTL/3); LeaseAcquire how often free accounts are tried
	// (default 3s).
	LeaseTTL     time.Duration
	LeaseRenew   time.Duration
	LeaseAcquire time.Duration
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
	if o.StoreTimeout <= 0 {
		o.StoreTimeout = 5 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.AuthRetry <= 0 {
		o.AuthRetry = 10 * time.Minute
	}
	if o.BudgetGap <= 0 {
		o.BudgetGap = 10 * time.Minute
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Seed == 0 {
		o.Seed = rand.Uint64()
	}
	if o.LeaseName == nil {
		o.LeaseName = DefaultLeaseName
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 30 * time.Second
	}
	if o.LeaseRenew <= 0 || o.LeaseRenew >= o.LeaseTTL/2 {
		o.LeaseRenew = o.LeaseTTL / 3
	}
	if o.LeaseAcquire <= 0 {
		o.LeaseAcquire = 3 * time.Second
	}
}

// AccountCoverage says whether one account is being watched: the web UI
// shows a banner for every account with a GapReason.
type AccountCoverage struct {
	Platform    tanggap.Platform
	Account     string
	Owner       string
	LastSuccess time.Time // zero: no successful poll since this worker took the account
	GapReason   string    // "" when covered; else one of the Gap* constants
	GapSince    time.Time // last success, or when this worker took the account (its start without leases)
}

// Runner polls the watched accounts of one platform with a Poller and
// publishes what it sees. Per account it reads the cursor, polls with a
// timeout, publishes the batch and saves the new cursor only after the
// Publisher returned (Kafka acknowledged); a batch cut short by an error
// is published and its cursor saved before the error is handled. Errors
// are handled by code: ERATELIMIT waits for the window (for every account
// when the window is shared), EAUTH is reported once and retried slowly,
// anything else backs off exponentially with jitter. The cursor never
// moves on failure.
//
// Scheduling: an account that returned posts is polled again after
// Interval, a quiet one ever later up to MaxInterval, and never sooner
// than its rate windows allow: each window's remaining calls are spread
// until it reopens; a window shared by every account (one app's
// credentials) is split by water-filling, weighted by each account's
// recent posts. With Leases, several workers share the accounts.
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

	mu    sync.Mutex // guards everything below and the state of every account
	accts []*accountState
	pools map[string]*pool // shared rate windows by Scope
	busy  int              // polls in flight
	rnd   *rand.Rand
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

	own      pool    // the account's own rate window
	act      float64 // recent posts, decayed (see activity)
	actAt    time.Time
	cost     float64 // calls (units) per poll, smoothed; 0 until known
	costSeen bool    // the first poll (the backlog) was seen
	busy     bool    // a poll is in flight

	held       bool // this worker holds the lease (always without Leases)
	leaseUntil time.Time
	heldSince  time.Time
}

// NewRunner returns a Runner for the accounts (all of the Poller's
// platform). now is the clock (time.Now in production).
func NewRunner(p Poller, accounts []config.Account, cursors Cursors, pub Publisher, log *slog.Logger, m *Metrics, now func() time.Time, opts RunnerOptions) (*Runner, error) {
	switch {
	case p == nil || cursors == nil || pub == nil || m == nil:
		return nil, tanggap.Errorf(tanggap.EINVALID, "collectors: NewRunner needs a Poller, Cursors, a Publisher and Metrics")
	case log == nil:
		return nil, tanggap.Errorf(tanggap.EINVALID, "collectors: NewRunner needs a logger")
	case opts.Leases != nil && opts.Owner == "":
		return nil, tanggap.Errorf(tanggap.EINVALID, "collectors: NewRunner with Leases needs an Owner")
	}
	if now == nil {
		now = time.Now
	}
	opts.defaults()
	r := &Runner{
		poller: p, platform: p.Platform(), cursors: cursors, pub: pub, log: log, m: m, now: now, opts: opts,
		pools: map[string]*pool{},
		rnd:   rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
	}
	r.started = now()
	var own *Quota
	for i := range opts.Quotas {
		q := &opts.Quotas[i]
		switch {
		case q.Limit <= 0 || (q.Period <= 0 && q.Reset == nil):
			return nil, tanggap.Errorf(tanggap.EINVALID, "collectors: quota %q needs a Limit and a Period or Reset", q.Scope)
		case q.Scope == "" && own != nil, q.Scope != "" && r.pools[q.Scope] != nil:
			return nil, tanggap.Errorf(tanggap.EINVALID, "collectors: quota %q given twice", q.Scope)
		case q.Scope == "":
			own = q
		default:
			r.pools[q.Scope] = &pool{quota: q}
			m.quotaUsed.WithLabelValues(string(r.platform), q.Scope)
		}
	}
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
		st := &accountState{cfg: a, next: r.started, interval: opts.Interval, own: pool{quota: own}}
		if opts.Leases == nil {
			st.held, st.heldSince = true, r.started
		}
		r.accts = append(r.accts, st)
		// Create the series so that dashboards see every account from the start.
		m.published.WithLabelValues(string(r.platform), a.Handle)
		m.polls.WithLabelValues(string(r.platform), a.Handle, ResultOK)
		m.polls.WithLabelValues(string(r.platform), a.Handle, ResultError)
	}
	sort.Slice(r.accts, func(i, j int) bool { return r.accts[i].cfg.Handle < r.accts[j].cfg.Handle })
	return r, nil
}

// Run polls until ctx ends. On cancellation it stops starting polls,
// finishes the publishes in flight (and saves their cursors), releases
// its leases and returns nil.
func (r *Runner) Run(ctx context.Context) error {
	r.log.Info("collector started", "platform", r.platform, "accounts", len(r.accts), "interval", r.opts.Interval,
		"owner", r.opts.Owner, "leases", r.opts.Leases != nil)
	wake := make(chan struct{}, 1)
	notify := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	var wg sync.WaitGroup
	if r.opts.Leases != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.keepLeases(ctx, notify)
		}()
	}
	for ctx.Err() == nil {
		for _, a := range r.take(r.now(), r.opts.Concurrency) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.pollOnce(ctx, a)
				r.done(a)
				notify()
			}()
		}
		// Sleep until the next account is due, or, with every slot taken,
		// until a poll ends (it wakes the loop, as lease changes do).
		var (
			t   *time.Timer
			due <-chan time.Time
		)
		if !r.full() {
			t = time.NewTimer(max(r.nextDue().Sub(r.now()), time.Millisecond))
			due = t.C
		}
		select {
		case <-ctx.Done():
		case <-due:
		case <-wake:
		}
		if t != nil {
			t.Stop()
		}
	}
	wg.Wait()
	if r.opts.Leases != nil {
		r.releaseLeases(context.WithoutCancel(ctx))
	}
	r.log.Info("collector stopped", "platform", r.platform)
	return nil
}

// Coverage reports, per account this worker polls, the last successful
// poll and the current gap, sorted by account. Accounts whose lease
// another worker holds are left out: that worker reports them.
func (r *Runner) Coverage() []AccountCoverage {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]AccountCoverage, 0, len(r.accts))
	for _, a := range r.accts {
		if !a.held {
			continue
		}
		out = append(out, AccountCoverage{
			Platform: r.platform, Account: a.cfg.Handle, Owner: a.cfg.Owner,
			LastSuccess: a.lastSuccess, GapReason: a.gapReason, GapSince: a.gapSince,
		})
	}
	return out
}

// take marks busy and returns the accounts to poll now, most overdue
// first (busier first among equals), so that at most limit polls are in
// flight. An account whose window is closed is moved to its reopening
// instead.
func (r *Runner) take(now time.Time, limit int) []*accountState {
	r.mu.Lock()
	defer r.mu.Unlock()
	var due []*accountState
	for _, a := range r.accts {
		if !a.busy && r.pollableLocked(a, now) && !a.next.After(now) && !r.blockedLocked(a, now) {
			due = append(due, a)
		}
	}
	sort.SliceStable(due, func(i, j int) bool {
		if !due[i].next.Equal(due[j].next) {
			return due[i].next.Before(due[j].next)
		}
		return due[i].weight(now) > due[j].weight(now)
	})
	due = due[:max(min(len(due), limit-r.busy), 0)]
	for _, a := range due {
		a.busy = true
		r.busy++
	}
	return due
}

// full reports whether Concurrency polls are in flight.
func (r *Runner) full() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.busy >= r.opts.Concurrency
}

func (r *Runner) done(a *accountState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a.busy = false
	r.busy--
}

// tick polls every due account (at most Concurrency at once) and waits
// for them: the scheduling tests drive the Runner with it on a fake clock.
func (r *Runner) tick(ctx context.Context) time.Time {
	due := r.take(r.now(), len(r.accts))
	sem := make(chan struct{}, r.opts.Concurrency)
	var wg sync.WaitGroup
	for _, a := range due {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil || r.blocked(a, r.now()) { // a poll of this tick met a shared 429
			if ctx.Err() == nil {
				<-sem
			}
			r.done(a)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.pollOnce(ctx, a)
			r.done(a)
		}()
	}
	wg.Wait()
	return r.nextDue()
}

// blocked reports whether a window the account spends from is closed, and
// if so moves the account to the window's reopening.
func (r *Runner) blocked(a *accountState, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.blockedLocked(a, now)
}

func (r *Runner) blockedLocked(a *accountState, now time.Time) bool {
	until := time.Time{}
	if a.own.closed(now) {
		until = a.own.until
	}
	for _, p := range r.pools {
		if p.closed(now) && p.until.After(until) {
			until = p.until
		}
	}
	if until.IsZero() {
		return false
	}
	if a.next.Before(until) {
		a.next = until.Add(r.jitter(r.opts.Interval / 2))
	}
	return true
}

// nextDue is when the next held account that is not being polled is due.
func (r *Runner) nextDue() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	var next time.Time
	now := r.now()
	for _, a := range r.accts {
		if a.busy || !r.pollableLocked(a, now) {
			continue
		}
		if next.IsZero() || a.next.Before(next) {
			next = a.next
		}
	}
	if next.IsZero() {
		next = now.Add(r.opts.Interval)
	}
	return next
}

// pollableLocked reports whether this worker may start polling a: it
// holds the lease, long enough for a poll to fit (see pollWindow).
// Called with r.mu held.
func (r *Runner) pollableLocked(a *accountState, now time.Time) bool {
	return a.held && (r.opts.Leases == nil || a.leaseUntil.Sub(now) >= 2*r.leaseMargin())
}

// pollOnce runs one cycle for one account: cursor, poll, publish, cursor.
func (r *Runner) pollOnce(ctx context.Context, a *accountState) {
	start := r.now()
	handle := a.cfg.Handle
	timeout, ok := r.pollWindow(a, start)
	if !ok {
		return // the lease is gone or about to expire
	}
	defer func() {
		r.m.duration.WithLabelValues(string(r.platform)).Observe(r.now().Sub(start).Seconds())
	}()

	cctx, cancel := context.WithTimeout(ctx, r.opts.StoreTimeout)
	cursor, err := r.cursors.Cursor(cctx, r.platform, handle)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		r.failed(a, ResultError, GapPublishFailed, err)
		return
	}

	pctx, cancel := context.WithTimeout(ctx, timeout)
	batch, pollErr := r.poller.Poll(pctx, a.cfg, cursor)
	cancel()
	r.spent(a, batch)
	if pollErr != nil && batch.Cursor == "" {
		if ctx.Err() != nil {
			return // shutting down: not a gap
		}
		r.pollFailed(a, pollErr)
		return
	}

	// From here the batch (whole, or the part before an error) is finished
	// even if ctx ends: the publish in flight completes and the cursor is
	// saved (bounded by PublishTimeout).
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.PublishTimeout)
	defer cancel()
	if len(batch.Posts) > 0 {
		if err := r.pub.Publish(dctx, batch.Posts); err != nil {
			r.failed(a, ResultError, GapPublishFailed, err)
			r.respectRateLimit(a, pollErr)
			return
		}
		r.m.published.WithLabelValues(string(r.platform), handle).Add(float64(len(batch.Posts)))
	}
	if batch.Cursor != "" && batch.Cursor != cursor {
		if err := r.cursors.SetCursor(dctx, r.platform, handle, batch.Cursor); err != nil {
			// The posts are in Kafka; the next poll sees them again and the
			// store ignores the duplicates.
			r.failed(a, ResultError, GapPublishFailed, err)
			r.respectRateLimit(a, pollErr)
			return
		}
	}
	if pollErr != nil {
		var ue *UnreachableError
		if errors.As(pollErr, &ue) {
			r.unreachable(a, batch, ue, pollErr)
			return
		}
		if ctx.Err() != nil {
			return
		}
		r.pollFailed(a, pollErr)
		return
	}
	r.succeeded(a, batch)
}

// unreachable handles a poll whose batch was published but that reported
// posts the platform no longer serves. The poll itself worked, so the
// account is scheduled as after a success; the posts_unreachable gap is
// counted and logged with the poller's account of what was missed, and
// shown from when the missed posts begin. Like every gap it closes at the
// next successful poll: the missed posts will not come back. A rate limit
// that a later call of the same poll met (joined to err) still holds its
// window shut.
func (r *Runner) unreachable(a *accountState, b Batch, ue *UnreachableError, err error) {
	r.succeeded(a, b)
	r.respectRateLimit(a, err)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.openGap(a, GapPostsUnreachable, r.now(), err)
	if !ue.Since.IsZero() && ue.Since.Before(a.gapSince) {
		a.gapSince = ue.Since
	}
}

// spent records what a poll cost and reported, whatever its outcome: the
// calls count against the budgets, the platform's budget report is kept.
func (r *Runner) spent(a *accountState, b Batch) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	a.observe(b, now)
	a.own.spend(b.Calls, now)
	for scope, p := range r.pools {
		p.spend(b.Calls, now)
		if p.quota != nil {
			p.roll(now)
			r.m.quotaUsed.WithLabelValues(string(r.platform), scope).Set(float64(p.used))
		}
	}
	if !b.Budget.Known {
		return
	}
	if b.Budget.Scope == "" {
		a.own.reported = b.Budget
		return
	}
	p := r.pools[b.Budget.Scope]
	if p == nil {
		p = &pool{}
		r.pools[b.Budget.Scope] = p
	}
	p.reported = b.Budget
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

	r.mu.Lock()
	defer r.mu.Unlock()
	// A backlog or partial gap that goes on stays open: it is counted once.
	goesOn := a.gapReason == GapBacklog && b.Behind || a.gapReason == GapPartial && b.Partial != "" && !b.Behind
	if a.gapReason != "" && !goesOn {
		r.log.Info("collector gap closed", "platform", p, "account", h, "reason", a.gapReason,
			"gap_seconds", int(now.Sub(a.gapSince).Seconds()))
		if a.gapReason == GapTokenExpired {
			r.log.Info("collector token works again", "platform", p, "account", h)
		}
		a.gapReason, a.gapSince = "", time.Time{}
	}
	if b.Behind {
		// Posts wait for the next polls: the account stays a gap, from
		// its last success before this poll, until a poll catches up.
		r.openGap(a, GapBacklog, now, errBacklog)
	}
	a.lastSuccess = now
	a.failures, a.authReported = 0, false
	if b.Partial != "" && !b.Behind { // a backlog says more: it will be read
		r.openGap(a, GapPartial, now, errors.New(b.Partial))
	}

	// Adaptive interval. With a known rate budget every account asks for
	// the base interval and the budget decides (see pace: a window shared
	// by the accounts goes first to those with recent posts), so that no
	// call the budget affords is left unspent. Without one (nothing
	// reported, no Quota), busy accounts are polled at the base interval
	// and quiet ones slow down by half each time up to the maximum.
	if len(b.Posts) > 0 || b.Behind || r.budgetKnownLocked(a, now) {
		a.interval = r.opts.Interval
	} else {
		a.interval = min(a.interval+a.interval/2, r.opts.MaxInterval)
	}
	r.schedule(a, now)
}

// schedule sets the account's next poll after a success: its adaptive
// interval, or later when a rate window needs it. A window spent (or
// spacing the polls beyond BudgetGap) is a rate_limited gap: the account
// is not watched until it reopens. Called with r.mu held.
func (r *Runner) schedule(a *accountState, now time.Time) {
	delay, spent := r.pace(a, now)
	if spent {
		delay += r.jitter(r.opts.Interval / 2)
	}
	a.next = now.Add(max(a.interval, delay))
	r.setRemaining(a, now)
	switch {
	case spent && delay > a.interval: // a window that reopens before the next poll anyway is no gap
		r.openGap(a, GapRateLimited, now, errBudgetSpent)
	case delay > r.opts.BudgetGap:
		r.openGap(a, GapRateLimited, now, errBudgetThin)
	}
}

// budgetKnownLocked reports whether any rate window the account spends
// from is known (reported by the platform or counted by a Quota). Called
// with r.mu held.
func (r *Runner) budgetKnownLocked(a *accountState, now time.Time) bool {
	if _, _, ok := a.own.left(now, 1); ok {
		return true
	}
	for _, p := range r.pools {
		if _, _, ok := p.left(now, 1); ok {
			return true
		}
	}
	return false
}

// The logged causes of the gaps the Runner opens itself, when a rate
// budget makes an account wait.
var (
	errBudgetSpent = errors.New("rate budget spent: the next poll waits for the window to reopen")
	errBudgetThin  = errors.New("rate budget too thin for this many accounts: polls are spaced beyond BudgetGap")
	errBacklog     = errors.New("the poll left posts it knows of for the next polls")
)

// setRemaining publishes the units left in the account's tightest window.
// Called with r.mu held.
func (r *Runner) setRemaining(a *accountState, now time.Time) {
	best, known := 0.0, false
	check := func(p *pool, scale float64) {
		if left, _, ok := p.left(now, scale); ok && (!known || left < best) {
			best, known = left, true
		}
	}
	check(&a.own, 1)
	for _, p := range r.pools {
		check(p, r.shareScale())
	}
	if known {
		r.m.remaining.WithLabelValues(string(r.platform), a.cfg.Handle).Set(best)
	}
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
	r.m.remaining.WithLabelValues(p, h).Set(0)
	r.log.Info("collector waiting for rate window", "platform", p, "account", h,
		"until", rl.Until, "reason", rl.Reason, "scope", rl.Scope)
	r.closeWindow(a, rl, now)
}

// respectRateLimit applies a rate limit that came with a partial batch
// whose publish failed: the gap is publish_failed, but the window is
// still closed. Called without r.mu held.
func (r *Runner) respectRateLimit(a *accountState, err error) {
	var rl *RateLimitError
	if tanggap.ErrorCode(err) != tanggap.ERATELIMIT || !errors.As(err, &rl) {
		return
	}
	now := r.now()
	if !rl.Until.After(now) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeWindow(a, rl, now)
}

// closeWindow holds a window shut until rl.Until: the account's own, or,
// for a named Scope (an app's or project's window: X's usage cap,
// YouTube's daily quota, Meta's app limit), every account of the Runner,
// each shown as a rate_limited gap. Called with r.mu held.
func (r *Runner) closeWindow(a *accountState, rl *RateLimitError, now time.Time) {
	wake := rl.Until.Add(r.jitter(r.opts.Interval / 2))
	if a.next.Before(wake) {
		a.next = wake
	}
	if rl.Scope == "" {
		a.own.until, a.own.reason = rl.Until, rl.Reason
		return
	}
	pl := r.pools[rl.Scope]
	if pl == nil {
		pl = &pool{}
		r.pools[rl.Scope] = pl
	}
	pl.until, pl.reason = rl.Until, rl.Reason
	paused := 0
	for _, o := range r.accts {
		if o == a || !o.next.Before(rl.Until) {
			continue
		}
		o.next = rl.Until.Add(r.jitter(r.opts.Interval / 2))
		if o.held && o.gapReason != GapTokenExpired {
			r.openGap(o, GapRateLimited, now, nil)
			paused++
		}
	}
	if paused > 0 {
		r.log.Warn("collector shared rate window closed", "platform", r.platform, "scope", rl.Scope,
			"reason", rl.Reason, "until", rl.Until, "accounts_paused", paused)
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
			a.gapSince = a.heldSince
		}
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
