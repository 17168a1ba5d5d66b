package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
)

// memLeases is an in-memory Leases on the test clock.
type memLeases struct {
	mu     sync.Mutex
	now    func() time.Time
	owners map[string]string
	until  map[string]time.Time
}

func (l *memLeases) AcquireLease(_ context.Context, name, owner string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if o := l.owners[name]; o != "" && o != owner && l.until[name].After(l.now()) {
		return false, nil
	}
	l.owners[name], l.until[name] = owner, l.now().Add(ttl)
	return true, nil
}

func (l *memLeases) RenewLease(_ context.Context, name, owner string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.owners[name] != owner || !l.until[name].After(l.now()) {
		return false, nil
	}
	l.until[name] = l.now().Add(ttl)
	return true, nil
}

func (l *memLeases) ReleaseLease(_ context.Context, name, owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.owners[name] == owner {
		delete(l.owners, name)
	}
	return nil
}

func TestRunnerLeaseUnits(t *testing.T) {
	h := newHarness(t, func(config.Account, string) (Batch, error) { return Batch{Cursor: "1"}, nil }, "a", "b", "c")
	leases := &memLeases{now: h.clock.Now, owners: map[string]string{}, until: map[string]time.Time{}}
	h.r.opts.Leases, h.r.opts.Owner = leases, "w1"
	for _, a := range h.r.accts {
		a.held = false
	}
	leases.owners["collect:x:b"], leases.until["collect:x:b"] = "w2", t0.Add(time.Hour)

	// Only held accounts are polled and reported.
	h.tick()
	if got := len(h.poller.Calls()); got != 0 {
		t.Fatalf("%d polls before any lease", got)
	}
	if !h.r.acquireLeases(context.Background(), false) {
		t.Fatal("no lease acquired")
	}
	h.tick()
	if diff := cmpStrings([]string{"a@", "c@"}, h.poller.Calls()); diff != "" {
		t.Errorf("polls (-want +got):\n%s", diff)
	}
	var cov []string
	for _, c := range h.r.Coverage() {
		cov = append(cov, c.Account)
	}
	if diff := cmpStrings([]string{"a", "c"}, cov); diff != "" {
		t.Errorf("coverage of held accounts (-want +got):\n%s", diff)
	}

	// Another worker took c: dropped at the next renewal.
	leases.owners["collect:x:c"] = "w2"
	if !h.r.renewLeases(context.Background()) {
		t.Error("lost lease not reported")
	}
	if h.state("c").held || !h.state("a").held {
		t.Errorf("after renewal: a held %v, c held %v", h.state("a").held, h.state("c").held)
	}

	// Redis unreachable: a is polled only while its lease surely holds,
	// and each poll ends before the lease may expire.
	h.r.opts.Leases = failingLeases{}
	a := h.state("a")
	if d, ok := h.r.pollWindow(a, h.clock.Now()); !ok || d > h.r.opts.PollTimeout {
		t.Errorf("poll window with a fresh lease: %v %v", d, ok)
	}
	h.clock.Add(h.r.opts.LeaseTTL - h.r.leaseMargin() - time.Second)
	if d, ok := h.r.pollWindow(a, h.clock.Now()); ok {
		t.Errorf("poll allowed for %v with %v of lease left", d, a.leaseUntil.Sub(h.clock.Now()))
	}
	h.clock.Add(h.r.leaseMargin() + time.Second)
	h.r.renewLeases(context.Background())
	if a.held {
		t.Error("an expired lease is still held after a failed renewal")
	}
	if got := h.logs.count(slog.LevelWarn, "collector lease expired"); got != 1 {
		t.Errorf("%d expiry logs", got)
	}
}

func cmpStrings(want, got []string) string {
	if fmt.Sprint(want) == fmt.Sprint(got) {
		return ""
	}
	return fmt.Sprintf("-%v\n+%v", want, got)
}

type failingLeases struct{}

var errRedisDown = errors.New("redis: connection refused")

func (failingLeases) AcquireLease(context.Context, string, string, time.Duration) (bool, error) {
	return false, errRedisDown
}
func (failingLeases) RenewLease(context.Context, string, string, time.Duration) (bool, error) {
	return false, errRedisDown
}
func (failingLeases) ReleaseLease(context.Context, string, string) error { return errRedisDown }

// pollTracker is one fake API polled by every worker: it counts the polls
// in flight per account and remembers any overlap.
type pollTracker struct {
	mu       sync.Mutex
	inflight map[string]int
	overlaps []string
	polls    map[string]map[string]int // owner -> account -> polls
	last     map[string]time.Time      // account -> last poll start
	lastBy   map[string]string         // account -> owner of the last poll
}

// trackedPoller is one worker's view of the tracker. A poll takes 3 s and
// finds a post, so every account stays busy (polled every Interval).
type trackedPoller struct {
	t     *pollTracker
	owner string
}

func (p trackedPoller) Platform() tanggap.Platform { return tanggap.PlatformInstagram }

func (p trackedPoller) Poll(ctx context.Context, acct config.Account, cursor string) (Batch, error) {
	t := p.t
	t.mu.Lock()
	t.inflight[acct.Handle]++
	if t.inflight[acct.Handle] > 1 {
		t.overlaps = append(t.overlaps, fmt.Sprintf("%s polled by %s while %s's poll was in flight at %v", acct.Handle, p.owner, t.lastBy[acct.Handle], time.Now()))
	}
	if t.polls[p.owner] == nil {
		t.polls[p.owner] = map[string]int{}
	}
	t.polls[p.owner][acct.Handle]++
	t.last[acct.Handle], t.lastBy[acct.Handle] = time.Now(), p.owner
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.inflight[acct.Handle]--
		t.mu.Unlock()
	}()
	select {
	case <-time.After(3 * time.Second):
	case <-ctx.Done():
		return Batch{}, tanggap.WrapCode(tanggap.EUNAVAILABLE, ctx.Err(), "poll")
	}
	now := time.Now()
	return Batch{Cursor: "c", Calls: 1, Posts: []tanggap.Post{{Platform: tanggap.PlatformInstagram, ID: now.String(), CreatedAt: now}}}, nil
}

// crashable is a worker's connection to Redis: after crash every call
// fails, as for a process that died (its leases stay until they expire).
type crashable struct {
	Leases
	mu      sync.Mutex
	crashed bool
}

func (c *crashable) crash() { c.mu.Lock(); c.crashed = true; c.mu.Unlock() }
func (c *crashable) down() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.crashed
}
func (c *crashable) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if c.down() {
		return false, errRedisDown
	}
	return c.Leases.AcquireLease(ctx, name, owner, ttl)
}
func (c *crashable) RenewLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if c.down() {
		return false, errRedisDown
	}
	return c.Leases.RenewLease(ctx, name, owner, ttl)
}
func (c *crashable) ReleaseLease(ctx context.Context, name, owner string) error {
	if c.down() {
		return errRedisDown
	}
	return c.Leases.ReleaseLease(ctx, name, owner)
}

// TestLeasesTwoWorkers runs two workers (two Runners with their own owner
// ids) on one Redis (miniredis, through *store.Store) and one fake API, in
// a synctest bubble: time is simulated, so the test is exact and fast.
// One worker dies (its context ends and its Redis calls fail, so it
// releases nothing), is cut off from Redis while still running, or stops
// cleanly. No account may ever be polled by both at once, and the
// survivor must hold and poll every account soon after.
func TestLeasesTwoWorkers(t *testing.T) {
	const ttl = 30 * time.Second
	for _, mode := range []string{"crash", "partition", "clean stop"} {
		t.Run(mode, func(t *testing.T) {
			mr := miniredis.RunT(t)
			synctest.Test(t, func(t *testing.T) {
				rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
				defer rdb.Close()
				st := store.New(rdb, "bekasi", nil)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				// miniredis expires keys only when told: follow the bubble's clock.
				var wg sync.WaitGroup
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-ctx.Done():
							return
						case <-time.After(100 * time.Millisecond):
							mr.FastForward(100 * time.Millisecond)
						}
					}
				}()

				var accts []config.Account
				for i := range 10 {
					accts = append(accts, config.Account{Platform: tanggap.PlatformInstagram, Handle: fmt.Sprintf("kelurahan_%02d", i)})
				}
				tr := &pollTracker{inflight: map[string]int{}, polls: map[string]map[string]int{}, last: map[string]time.Time{}, lastBy: map[string]string{}}
				type worker struct {
					r      *Runner
					leases *crashable
					cancel context.CancelFunc
					done   chan error
				}
				start := func(owner string, seed uint64) *worker {
					m, err := NewMetrics(prometheus.NewRegistry())
					if err != nil {
						t.Fatal(err)
					}
					w := &worker{leases: &crashable{Leases: st}, done: make(chan error, 1)}
					w.r, err = NewRunner(trackedPoller{t: tr, owner: owner}, accts, &fakeCursors{m: map[string]string{}}, &fakePublisher{},
						slog.New(slog.DiscardHandler), m, time.Now, RunnerOptions{
							Interval: 5 * time.Second, Concurrency: 3, Seed: seed,
							Leases: w.leases, Owner: owner, LeaseName: store.LeaseName, LeaseTTL: ttl,
						})
					if err != nil {
						t.Fatal(err)
					}
					wctx, wcancel := context.WithCancel(ctx)
					w.cancel = wcancel
					go func() { w.done <- w.r.Run(wctx) }()
					return w
				}
				a, b := start("worker-a", 1), start("worker-b", 2)

				time.Sleep(2 * time.Minute)
				heldA, heldB := a.r.heldCount(), b.r.heldCount()
				if heldA+heldB != len(accts) || heldA == 0 || heldB == 0 {
					t.Errorf("held %d + %d of %d accounts: want every account held once, by both workers", heldA, heldB, len(accts))
				}
				for _, acct := range accts {
					holder, err := st.LeaseHolder(ctx, store.LeaseName(acct.Platform, acct.Handle))
					if err != nil || holder == "" {
						t.Errorf("%s: lease holder %q %v", acct.Handle, holder, err)
					}
				}

				killed := time.Now()
				switch mode {
				case "crash":
					a.leases.crash()
					a.cancel()
				case "partition":
					a.leases.crash() // still running, but cannot renew
				case "clean stop":
					a.cancel()
				}
				var took time.Duration
				for took = 0; took < 3*time.Minute && b.r.heldCount() < len(accts); took += 100 * time.Millisecond {
					time.Sleep(100 * time.Millisecond)
				}
				// Free accounts are taken at the next round (every LeaseAcquire
				// plus up to a fifth of jitter), once the dead worker's leases
				// have expired.
				limit := b.r.opts.LeaseAcquire * 6 / 5
				if mode != "clean stop" {
					limit += ttl
				}
				if b.r.heldCount() != len(accts) || took > limit {
					t.Errorf("%s: the survivor holds %d of %d accounts %v after, want all within %v", mode, b.r.heldCount(), len(accts), took, limit)
				}
				t.Logf("%s: the survivor held every account %v after", mode, took)

				// The survivor polls every account.
				time.Sleep(30 * time.Second)
				tr.mu.Lock()
				for _, acct := range accts {
					if last := tr.last[acct.Handle]; last.Before(killed) || tr.lastBy[acct.Handle] != "worker-b" {
						t.Errorf("%s: last polled at %v by %s, want by worker-b after %v", acct.Handle, last, tr.lastBy[acct.Handle], killed)
					}
				}
				for _, o := range tr.overlaps {
					t.Error(o)
				}
				tr.mu.Unlock()
				if mode == "partition" {
					if got := a.r.heldCount(); got != 0 {
						t.Errorf("the cut-off worker still believes it holds %d accounts", got)
					}
					if cov := a.r.Coverage(); len(cov) != 0 {
						t.Errorf("the cut-off worker reports %d accounts", len(cov))
					}
				}
				a.cancel()
				b.cancel()
				for _, w := range []*worker{a, b} {
					if err := <-w.done; err != nil {
						t.Error(err)
					}
				}
				cancel()
				wg.Wait()
			})
		})
	}
}
