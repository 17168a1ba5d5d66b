package store

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
)

// Change is one action on an item by a person or the system, applied under
// compare-and-set: when Version is >= 0 and the item moved on since the
// caller read it, the change fails with ECONFLICT instead of overwriting.
type Change struct {
	ID      string
	Version int64 // expected version; -1 applies whatever the version
	Actor   string
	Action  string
	Reason  string
	Data    map[string]string
	Set     map[string]string // stored fields to set (see decodeItem for names)
}

// Apply runs a change and returns the item as it is afterwards.
func (s *Store) Apply(ctx context.Context, c Change) (*tanggap.Item, error) {
	ev := map[string]any{"actor": c.Actor, "action": c.Action, "reason": c.Reason}
	if len(c.Data) > 0 {
		ev["data"] = c.Data
	}
	evj, err := json.Marshal(ev)
	if err != nil {
		return nil, tanggap.WrapCode(tanggap.EINTERNAL, err, "encode event")
	}
	args := []any{s.k.prefix(), s.nowArg(), c.Version, string(evj), len(c.Set)}
	for k, v := range c.Set {
		args = append(args, k, v)
	}
	res, err := s.update.Run(ctx, s.rdb, []string{s.k.item(c.ID), s.k.history(c.ID)}, args...).Slice()
	if err != nil {
		return nil, unavailable(err, "update")
	}
	switch res[0] {
	case "not_found":
		return nil, tanggap.Errorf(tanggap.ENOTFOUND, "item %s not found", c.ID)
	case "conflict":
		return nil, tanggap.Errorf(tanggap.ECONFLICT, "item %s was changed by someone else (now version %d): reload and try again", c.ID, res[1])
	}
	return s.Item(ctx, c.ID)
}

// DueAutoclose lists resolved items whose auto-close time has passed.
func (s *Store) DueAutoclose(ctx context.Context, now time.Time, limit int64) ([]string, error) {
	ids, err := s.rdb.ZRangeByScore(ctx, s.k.resolved(), &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10), Count: limit}).Result()
	return ids, unavailable(err, "due autoclose")
}

// OpenCounts counts open items with a running clock per OPD slot by
// deadline state at now (for the tanggap_store_open_items gauge and the
// city board).
func (s *Store) OpenCounts(ctx context.Context, opds []string, now time.Time) (map[string]map[tanggap.DeadlineState]int64, error) {
	slots := append([]string{""}, opds...)
	pipe := s.rdb.Pipeline()
	n := strconv.FormatInt(now.UnixMilli(), 10)
	type trio struct{ over, soon, all interface{ Val() int64 } }
	cmds := make([]trio, len(slots))
	for i, o := range slots {
		cmds[i] = trio{
			pipe.ZCount(ctx, s.k.set("open:", o), "-inf", n),
			pipe.ZCount(ctx, s.k.set("soon:", o), "-inf", n),
			pipe.ZCard(ctx, s.k.set("open:", o)),
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, unavailable(err, "open counts")
	}
	out := make(map[string]map[tanggap.DeadlineState]int64, len(slots))
	for i, o := range slots {
		over, soon, all := cmds[i].over.Val(), cmds[i].soon.Val(), cmds[i].all.Val()
		out[slot(o)] = map[tanggap.DeadlineState]int64{
			tanggap.Overdue: over, tanggap.DueSoon: max(soon-over, 0), tanggap.OnTrack: max(all-soon, 0),
		}
	}
	return out, nil
}

// Aging counts an OPD slot's open items (held ones too) by platform time
// between the given instants, newest bucket first: bounds must be in
// descending order (e.g. now-3h, now-24h, now-1HK...). The result has
// len(bounds)+1 counts; NeverAnswered is the open items with no response.
func (s *Store) Aging(ctx context.Context, opd string, bounds []time.Time) (counts []int64, neverAnswered int64, err error) {
	pipe := s.rdb.Pipeline()
	key := s.k.set("age:", opd)
	cmds := make([]*redis.IntCmd, 0, len(bounds)+1)
	hi := "+inf"
	for _, b := range bounds {
		lo := "(" + strconv.FormatInt(b.UnixMilli(), 10)
		cmds = append(cmds, pipe.ZCount(ctx, key, lo, hi))
		hi = strconv.FormatInt(b.UnixMilli(), 10)
	}
	cmds = append(cmds, pipe.ZCount(ctx, key, "-inf", hi))
	un := pipe.ZCard(ctx, s.k.set("unans:", opd))
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, 0, unavailable(err, "aging")
	}
	counts = make([]int64, len(cmds))
	for i, c := range cmds {
		counts[i] = c.Val()
	}
	return counts, un.Val(), nil
}

// HeldThreadKey is how the held_threads index names a thread of a citizen
// (lua/common.lua held_thread writes it): the post's platform, thread and
// author as stored.
func HeldThreadKey(p tanggap.Platform, threadID, author string) string {
	return string(p) + " " + threadID + " " + author
}

// HeldThreads returns, for each HeldThreadKey, the id of the item on hold
// in that thread by that citizen, or "".
func (s *Store) HeldThreads(ctx context.Context, keys []string) ([]string, error) {
	out := make([]string, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.k.heldThreads(), keys...).Result()
	if err != nil {
		return nil, unavailable(err, "held threads")
	}
	for i, v := range vals {
		if id, ok := v.(string); ok {
			out[i] = id
		}
	}
	return out, nil
}
