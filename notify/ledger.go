package notify

import (
	"context"
	"sync"
	"time"
)

// Ledger records which digests went out, shared by every process that
// sends them, so that each OPD's digest goes out at most once a day across
// restarts and replicas. Keys are built by this package from OPD codes and
// dates only; the implementation adds its own prefix.
//
// Backed by Redis:
//
//	Once: SET <prefix><key> 1 NX PX <ttl>   (true when the reply is OK)
//	Keep: SET <prefix><key> 1 PX <ttl>
type Ledger interface {
	// Once records key for ttl unless it is already recorded, and reports
	// whether it did. The digest calls it with a short lease before sending.
	Once(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Keep records key for ttl whether or not it is recorded: the digest
	// calls it after sending, to turn the lease into "sent".
	Keep(ctx context.Context, key string, ttl time.Duration) error
}

// MemoryLedger is a Ledger in one process's memory, for tests and for a
// single-process development setup. The zero value is not usable: call
// NewMemoryLedger.
type MemoryLedger struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]time.Time // key -> expiry
}

// NewMemoryLedger returns an empty ledger; now nil means time.Now.
func NewMemoryLedger(now func() time.Time) *MemoryLedger {
	if now == nil {
		now = time.Now
	}
	return &MemoryLedger{now: now, m: map[string]time.Time{}}
}

// Once implements Ledger.
func (l *MemoryLedger) Once(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if exp, ok := l.m[key]; ok && now.Before(exp) {
		return false, nil
	}
	l.m[key] = now.Add(ttl)
	return true, nil
}

// Keep implements Ledger.
func (l *MemoryLedger) Keep(ctx context.Context, key string, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[key] = l.now().Add(ttl)
	return nil
}

// Len returns how many keys are recorded and not yet expired.
func (l *MemoryLedger) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	now, n := l.now(), 0
	for _, exp := range l.m {
		if now.Before(exp) {
			n++
		}
	}
	return n
}
