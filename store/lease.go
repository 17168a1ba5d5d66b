package store

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
)

// Leases let several collector workers share the watched accounts: an
// account is polled by the worker holding its lease; a dead worker's lease
// expires and another takes it over.

var (
	renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`)
	releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)
)

// AcquireLease takes the named lease for owner when it is free (or already
// owner's, in which case it is renewed). It reports whether owner holds it.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.k.lease(name), owner, ttl).Result()
	if err != nil {
		return false, unavailable(err, "acquire lease")
	}
	if ok {
		return true, nil
	}
	return s.RenewLease(ctx, name, owner, ttl)
}

// RenewLease extends a lease owner still holds; false means it was lost.
func (s *Store) RenewLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	n, err := renewScript.Run(ctx, s.rdb, []string{s.k.lease(name)}, owner, ttl.Milliseconds()).Int()
	if err != nil {
		return false, unavailable(err, "renew lease")
	}
	return n == 1, nil
}

// ReleaseLease gives a lease up if owner holds it.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	return unavailable(releaseScript.Run(ctx, s.rdb, []string{s.k.lease(name)}, owner).Err(), "release lease")
}

// LeaseHolder returns who holds a lease ("" when free).
func (s *Store) LeaseHolder(ctx context.Context, name string) (string, error) {
	v, err := s.rdb.Get(ctx, s.k.lease(name)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", unavailable(err, "lease holder")
	}
	return v, nil
}

// LeaseName is the lease of one watched account (handles come from the
// validated city config).
func LeaseName(p tanggap.Platform, account string) string {
	return "collect:" + string(p) + ":" + account
}
