package collectors

import (
	"math"
	"sort"
	"time"
)

// Quota is a rate budget the Runner counts itself, in the units of
// Batch.Calls, for platforms that report no usage (YouTube's 10,000 units a
// day per project) or report it only in percent (Instagram's 200 calls an
// hour per account, behind X-Business-Use-Case-Usage). When the platform
// also reports a Budget for the same window, the Runner paces by the lower
// of the two fractions left.
type Quota struct {
	// Scope is the shared window the quota limits, as in Budget.Scope (for
	// example "youtube:quota"): every account of the Runner spends from it.
	// Empty: each account has a Limit of its own.
	Scope string
	Limit int
	// Period is a window opened by the first call after the previous one
	// closed (Instagram: one hour). Reset, when set, instead returns the end
	// of the calendar period that contains now (YouTube: the next midnight,
	// Pacific time).
	Period time.Duration
	Reset  func(now time.Time) time.Time
}

func (q *Quota) end(now time.Time) time.Time {
	if q.Reset != nil {
		if t := q.Reset(now); t.After(now) {
			return t
		}
	}
	if q.Period > 0 {
		return now.Add(q.Period)
	}
	return now.Add(24 * time.Hour)
}

// activityTau is the memory of an account's activity: a post seen now
// weighs 1, one an hour old about 0.37.
const activityTau = time.Hour

// pool is one rate window that polls spend from: an account's own, or a
// window shared by every account of the Runner (a named Scope: one app's
// or one project's credentials).
type pool struct {
	quota *Quota    // counted by the Runner, if configured
	used  int       // units counted in the current period
	end   time.Time // end of the counted period; zero when none is open

	reported Budget // the platform's last report for this window

	until  time.Time // hard stop: closed until then
	reason string
}

// roll forgets what belongs to a window that has reopened.
func (p *pool) roll(now time.Time) {
	if p.quota != nil && !p.end.IsZero() && !now.Before(p.end) {
		p.used, p.end = 0, time.Time{}
	}
	if p.reported.Known && !p.reported.Reset.After(now) {
		p.reported = Budget{}
	}
}

func (p *pool) spend(units int, now time.Time) {
	if p.quota == nil || units <= 0 {
		return
	}
	p.roll(now)
	if p.end.IsZero() {
		p.end = p.quota.end(now)
	}
	p.used += units
}

// closed reports whether a hard stop holds the window shut at now.
func (p *pool) closed(now time.Time) bool { return p.until.After(now) }

// left returns the units left in the window and when it reopens; ok is
// false when nothing is known. scale extrapolates the units this Runner
// counted to every account sharing the window (other workers poll the
// accounts whose leases they hold).
func (p *pool) left(now time.Time, scale float64) (left float64, reset time.Time, ok bool) {
	p.roll(now)
	var (
		qLeft, qFrac float64
		qReset       time.Time
	)
	if p.quota != nil {
		lim := float64(p.quota.Limit)
		qLeft = max(lim-float64(p.used)*scale, 0)
		qFrac = qLeft / lim
		qReset = p.end
		if qReset.IsZero() {
			qReset = p.quota.end(now)
		}
	}
	haveR := p.reported.Known
	rFrac := 0.0
	if haveR {
		switch {
		case p.reported.Limit > 0:
			rFrac = float64(max(p.reported.Remaining, 0)) / float64(p.reported.Limit)
		case p.reported.Remaining > 0:
			rFrac = 1
		}
	}
	switch {
	case p.quota != nil && haveR:
		if rFrac < qFrac {
			return rFrac * float64(p.quota.Limit), p.reported.Reset, true
		}
		return qLeft, qReset, true
	case p.quota != nil:
		return qLeft, qReset, true
	case haveR:
		return float64(max(p.reported.Remaining, 0)), p.reported.Reset, true
	}
	return 0, time.Time{}, false
}

// activity is the account's recent posts, each weighted by how recent it
// is (see activityTau): about the posts per hour of a steady account.
func (a *accountState) activity(now time.Time) float64 {
	if a.act == 0 || !now.After(a.actAt) {
		return a.act
	}
	return a.act * math.Exp(-float64(now.Sub(a.actAt))/float64(activityTau))
}

func (a *accountState) observe(b Batch, now time.Time) {
	a.act, a.actAt = a.activity(now), now
	for _, p := range b.Posts {
		age := max(now.Sub(p.CreatedAt), 0)
		a.act += math.Exp(-float64(age) / float64(activityTau))
	}
	// The first poll of an account reads its backlog (every recent post,
	// every thread): not what the next ones will cost.
	switch {
	case b.Calls <= 0:
	case !a.costSeen:
		a.costSeen = true
	case a.cost == 0:
		a.cost = float64(b.Calls)
	default:
		a.cost = 0.7*a.cost + 0.3*float64(b.Calls)
	}
}

// weight is the account's claim on a shared window: the square root of
// its recent posts per hour (plus one, so that a quiet account is not
// starved). Polling each account at a rate proportional to the square
// root of its arrival rate minimises the mean delay of a post under a
// fixed number of calls.
func (a *accountState) weight(now time.Time) float64 { return math.Sqrt(1 + a.activity(now)) }

func (a *accountState) costOrOne() float64 { return max(a.cost, 1) }

// pace is what the budgets allow account a at now: the least delay before
// its next poll, or, when a window it spends from is spent or closed,
// the time it reopens. Called with r.mu held.
func (r *Runner) pace(a *accountState, now time.Time) (delay time.Duration, spent bool) {
	cost := a.costOrOne()
	consider := func(p *pool, shared bool) {
		if p.closed(now) {
			delay, spent = max(delay, p.until.Sub(now)), true
			return
		}
		scale := 1.0
		if shared {
			scale = r.shareScale()
		}
		left, reset, ok := p.left(now, scale)
		if !ok || !reset.After(now) {
			return
		}
		window := reset.Sub(now)
		if left <= 0 {
			delay, spent = max(delay, window), true
			return
		}
		rate := left / window.Seconds() // units per second the window affords
		if shared {
			rate = r.shareOf(a, rate, now)
		}
		d := min(time.Duration(cost/rate*float64(time.Second)), window)
		delay = max(delay, d)
	}
	consider(&a.own, false)
	for _, p := range r.pools {
		consider(p, true)
	}
	return delay, spent
}

// shareScale is how many times this Runner's counted use the whole
// shared window has spent: 1 alone, more when other workers hold leases.
func (r *Runner) shareScale() float64 {
	held := 0
	for _, o := range r.accts {
		if o.held {
			held++
		}
	}
	if held == 0 {
		return 1
	}
	return float64(len(r.accts)) / float64(held)
}

// shareOf splits the rate a shared window affords between the accounts
// of the Runner by water-filling: each gets a share in proportion to its
// weight (recent posts), but never more than it can use (one poll per
// adaptive interval); what a quiet account leaves goes to the busy ones.
// Accounts held by another worker count at the base interval, accounts
// whose token failed do not count. Called with r.mu held.
func (r *Runner) shareOf(a *accountState, rate float64, now time.Time) float64 {
	type member struct{ w, d float64 }
	ms := make([]member, 0, len(r.accts))
	me := -1
	for _, o := range r.accts {
		if o != a && o.gapReason == GapTokenExpired {
			continue
		}
		floor := r.opts.Interval
		if o.held {
			floor = max(o.interval, r.opts.Interval)
		}
		if o == a {
			me = len(ms)
		}
		ms = append(ms, member{w: o.weight(now), d: o.costOrOne() / floor.Seconds()})
	}
	if me < 0 {
		return rate
	}
	order := make([]int, len(ms))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return ms[order[i]].d/ms[order[i]].w < ms[order[j]].d/ms[order[j]].w })
	var wsum float64
	for _, m := range ms {
		wsum += m.w
	}
	left := rate
	for _, i := range order {
		share := left * ms[i].w / wsum
		if ms[i].d > share {
			break // every member from here gets its weighted share
		}
		if i == me {
			return ms[i].d
		}
		left -= ms[i].d
		wsum -= ms[i].w
	}
	if wsum <= 0 {
		return rate
	}
	return left * ms[me].w / wsum
}
