package collectors

import (
	"context"
	"time"

	"github.com/tanggap/tanggap"
)

// Leases share the watched accounts between collector workers: an account
// is polled only by the worker holding its lease. *store.Store implements
// it in Redis (with store.LeaseName as RunnerOptions.LeaseName).
type Leases interface {
	// AcquireLease takes the lease when it is free or already owner's.
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// RenewLease extends a lease owner holds; false means it was lost.
	RenewLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// ReleaseLease gives the lease up if owner holds it.
	ReleaseLease(ctx context.Context, name, owner string) error
}

// DefaultLeaseName is the lease of one account when RunnerOptions.LeaseName
// is not set; it matches store.LeaseName.
func DefaultLeaseName(p tanggap.Platform, handle string) string {
	return "collect:" + string(p) + ":" + handle
}

// keepLeases acquires free accounts and renews the held ones until ctx
// ends. notify wakes the scheduler when the set of held accounts changed.
func (r *Runner) keepLeases(ctx context.Context, notify func()) {
	now := r.now()
	nextAcquire, nextRenew := now, now.Add(r.opts.LeaseRenew)
	first := true
	for {
		now = r.now()
		if !now.Before(nextRenew) {
			r.renewLeases(ctx)
			notify() // renewed leases may make accounts pollable again
			nextRenew = now.Add(r.opts.LeaseRenew)
		}
		if !now.Before(nextAcquire) {
			if r.acquireLeases(ctx, first) {
				notify()
			}
			// After the first round, soon another: long enough for workers
			// started together to have made theirs, short for a lone one.
			every := r.opts.LeaseAcquire
			if first {
				every /= 10
			}
			first = false
			r.mu.Lock()
			nextAcquire = now.Add(every + r.jitter(every/5))
			r.mu.Unlock()
		}
		wakeAt := nextRenew
		if nextAcquire.Before(wakeAt) {
			wakeAt = nextAcquire
		}
		t := time.NewTimer(max(wakeAt.Sub(r.now()), time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// acquireLeases tries the free accounts in random order. In its first
// round, and once another worker is seen (a lease refused), it takes at
// most a third of the accounts, so that workers starting together share
// them; otherwise (a lone worker, or one taking over from a dead one) it
// takes all at once. It reports whether it took any.
func (r *Runner) acquireLeases(ctx context.Context, first bool) bool {
	r.mu.Lock()
	var free []*accountState
	for _, a := range r.accts {
		if !a.held {
			free = append(free, a)
		}
	}
	r.rnd.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
	share := max(4, (len(r.accts)+2)/3)
	r.mu.Unlock()

	took, refused, failed := 0, 0, 0
	var lastErr error
	for _, a := range free {
		if ctx.Err() != nil || ((first || refused > 0) && took >= share) {
			break
		}
		sent := r.now()
		lctx, cancel := context.WithTimeout(ctx, r.opts.StoreTimeout)
		ok, err := r.opts.Leases.AcquireLease(lctx, r.leaseName(a), r.opts.Owner, r.opts.LeaseTTL)
		cancel()
		if err != nil {
			failed, lastErr = failed+1, err
			continue
		}
		if !ok {
			refused++
			continue
		}
		took++
		r.mu.Lock()
		a.held, a.leaseUntil, a.heldSince = true, sent.Add(r.opts.LeaseTTL), sent
		// A new holder starts with a clean slate: the previous holder
		// reported the account until now.
		a.gapReason, a.gapSince, a.failures, a.authReported = "", time.Time{}, 0, false
		if a.next.Before(sent) {
			a.next = sent
		}
		r.mu.Unlock()
		r.log.Debug("collector lease acquired", "platform", r.platform, "account", a.cfg.Handle, "owner", r.opts.Owner)
	}
	if failed > 0 && ctx.Err() == nil {
		r.log.Warn("collector lease acquire failed", "platform", r.platform, "owner", r.opts.Owner, "accounts", failed, "err", lastErr)
	}
	if took > 0 {
		r.log.Info("collector leases acquired", "platform", r.platform, "owner", r.opts.Owner, "accounts", took, "held", r.heldCount())
	}
	r.setLeaseGauge()
	return took > 0
}

// renewLeases extends every held lease. A lease another worker now holds
// is dropped at once; one that cannot be renewed (Redis unreachable) is
// polled only until its last known expiry. It reports whether any was lost.
func (r *Runner) renewLeases(ctx context.Context) bool {
	r.mu.Lock()
	var held []*accountState
	for _, a := range r.accts {
		if a.held {
			held = append(held, a)
		}
	}
	r.mu.Unlock()

	lost, failed := 0, 0
	var lastErr error
	for _, a := range held {
		if ctx.Err() != nil {
			return lost > 0
		}
		sent := r.now()
		lctx, cancel := context.WithTimeout(ctx, r.opts.StoreTimeout)
		ok, err := r.opts.Leases.RenewLease(lctx, r.leaseName(a), r.opts.Owner, r.opts.LeaseTTL)
		cancel()
		r.mu.Lock()
		switch {
		case err == nil && ok:
			a.leaseUntil = sent.Add(r.opts.LeaseTTL)
		case err == nil:
			a.held = false
			lost++
			r.log.Warn("collector lease lost", "platform", r.platform, "account", a.cfg.Handle, "owner", r.opts.Owner)
		default:
			failed, lastErr = failed+1, err
			if !r.now().Before(a.leaseUntil) {
				a.held = false
				lost++
				r.log.Warn("collector lease expired", "platform", r.platform, "account", a.cfg.Handle, "owner", r.opts.Owner)
			}
		}
		r.mu.Unlock()
	}
	if failed > 0 && ctx.Err() == nil {
		r.log.Warn("collector lease renew failed", "platform", r.platform, "owner", r.opts.Owner, "accounts", failed, "err", lastErr)
	}
	r.setLeaseGauge()
	return lost > 0
}

// releaseLeases gives up every held lease (clean shutdown), so that
// another worker takes the accounts over at once instead of after the TTL.
func (r *Runner) releaseLeases(ctx context.Context) {
	r.mu.Lock()
	var held []*accountState
	for _, a := range r.accts {
		if a.held {
			held = append(held, a)
			a.held = false
		}
	}
	r.mu.Unlock()
	failed := 0
	var lastErr error
	for _, a := range held {
		lctx, cancel := context.WithTimeout(ctx, r.opts.StoreTimeout)
		if err := r.opts.Leases.ReleaseLease(lctx, r.leaseName(a), r.opts.Owner); err != nil {
			failed, lastErr = failed+1, err
		}
		cancel()
	}
	if failed > 0 {
		r.log.Warn("collector lease release failed", "platform", r.platform, "owner", r.opts.Owner, "accounts", failed, "err", lastErr)
	}
	r.log.Info("collector leases released", "platform", r.platform, "owner", r.opts.Owner, "accounts", len(held)-failed)
	r.setLeaseGauge()
}

func (r *Runner) leaseName(a *accountState) string { return r.opts.LeaseName(r.platform, a.cfg.Handle) }

func (r *Runner) heldCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, a := range r.accts {
		if a.held {
			n++
		}
	}
	return n
}

func (r *Runner) setLeaseGauge() {
	if r.opts.Leases != nil {
		r.m.leases.WithLabelValues(string(r.platform)).Set(float64(r.heldCount()))
	}
}

// pollWindow is how long a poll of a starting now may run: PollTimeout,
// cut so that it ends before the account's lease may expire. ok is false
// when this Runner does not hold the account (any longer).
func (r *Runner) pollWindow(a *accountState, now time.Time) (time.Duration, bool) {
	if r.opts.Leases == nil {
		return r.opts.PollTimeout, true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.pollableLocked(a, now) {
		return 0, false
	}
	return min(r.opts.PollTimeout, a.leaseUntil.Sub(now)-r.leaseMargin()), true
}

// leaseMargin is kept between the end of a poll and the expiry of the
// lease, so that a worker that can no longer renew has stopped polling
// before another one can take the account.
func (r *Runner) leaseMargin() time.Duration { return r.opts.LeaseTTL / 10 }
