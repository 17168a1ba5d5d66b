package store

import (
	"context"
	_ "embed"
	"encoding/json"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
)

//go:embed lua/restore.lua
var luaRestore string

// pendingWait is how long an official reply waits for a parent that was
// not collected (the ingest script's PEXPIRE).
const pendingWait = 90 * 24 * time.Hour

// RestoreResult counts what a rebuild did.
type RestoreResult struct {
	Applied, Skipped, Gaps int
	Pruned                 int // items restored and removed again: they ended before the prune cutoff
}

// Restore rebuilds items from their audit events (the Kafka events topic):
// each item's events are applied in version order, idempotently, so a
// replay over an existing state changes nothing and a replay over an empty
// Redis recreates items, queues, clocks and history. Official replies whose
// parent was never collected are kept waiting again. With a prune cutoff
// (the latest prune mark on the topic), each item is judged by the prune's
// rule as soon as its events are in and removed again when it ended before
// the cutoff, so Redis never holds what the city pruned (it may not have
// the memory for it): reports that joined a cluster are restored before
// its first report, which stays while one of them does.
func (s *Store) Restore(ctx context.Context, evs []tanggap.Event, prunedBefore time.Time) (RestoreResult, error) {
	roots := map[string]bool{}
	for _, ev := range evs {
		if r := ev.Set["cluster_id"]; r != "" && r != ev.ItemID {
			roots[r] = true
		}
	}
	sort.SliceStable(evs, func(i, j int) bool {
		a, b := evs[i], evs[j]
		if roots[a.ItemID] != roots[b.ItemID] {
			return !roots[a.ItemID]
		}
		if a.ItemID != b.ItemID {
			return a.ItemID < b.ItemID
		}
		return a.Version < b.Version
	})
	script := redis.NewScript(luaCommon + "\n" + luaRestore)
	cutoff := ms(prunedBefore)
	var res RestoreResult
	prune := func(id string) error {
		if cutoff == "" || id == "" {
			return nil
		}
		out, err := pruneScript.Run(ctx, s.rdb, s.pruneKeys(id), s.k.prefix(), s.nowArg(), cutoff, "0").Text()
		if err != nil {
			return unavailable(err, "restore: prune")
		}
		if out == "pruned" {
			res.Pruned++
		}
		return nil
	}
	last := ""
	for _, ev := range evs {
		if ev.ItemID == "" || ev.Version <= 0 {
			continue
		}
		if ev.ItemID != last {
			if err := prune(last); err != nil {
				return res, err
			}
			last = ev.ItemID
		}
		raw, err := json.Marshal(ev)
		if err != nil {
			return res, tanggap.WrapCode(tanggap.EINTERNAL, err, "encode event")
		}
		args := []any{s.k.prefix(), ms(ev.At), ev.Version, ev.Action, string(raw), len(ev.Set)}
		for k, v := range ev.Set {
			args = append(args, k, v)
		}
		out, err := script.Run(ctx, s.rdb, []string{s.k.item(ev.ItemID), s.k.history(ev.ItemID), s.k.edits(ev.ItemID)}, args...).Text()
		if err != nil {
			return res, unavailable(err, "restore")
		}
		switch out {
		case "skip":
			res.Skipped++
		case "gap":
			res.Gaps++
			res.Applied++
		default:
			res.Applied++
		}
	}
	if err := prune(last); err != nil {
		return res, err
	}
	if res.Pruned > 0 {
		if err := s.markPruned(ctx, cutoff); err != nil {
			return res, err
		}
	}
	// Official replies waiting for a parent that was never collected.
	for _, ev := range evs {
		if ev.Action != "ingest" || ev.Set["reply_by"] == "" || ev.Set["parent_id"] == "" {
			continue
		}
		parent := tanggap.ItemID(tanggap.Platform(ev.Set["platform"]), ev.Set["parent_id"])
		n, err := s.rdb.Exists(ctx, s.k.item(parent)).Result()
		if err != nil {
			return res, unavailable(err, "restore pending")
		}
		if n == 0 {
			// Waiting as long as the ingest script lets a reply wait, from
			// when it stored the reply (its ingest event's instant): one that
			// would have expired is not kept.
			created, err := strconv.ParseInt(ev.Set["created_ms"], 10, 64)
			ttl := ev.At.Add(pendingWait).Sub(s.now())
			if err != nil || ttl <= 0 {
				continue
			}
			pk := s.k.pending(parent)
			w, err := s.rdb.HMGet(ctx, pk, "at", "oat").Result()
			if err != nil {
				return res, unavailable(err, "restore pending")
			}
			// The earliest reply, and the earliest of an OPD: the same tests
			// as the ingest script's.
			earlier := func(v any) bool {
				at, _ := v.(string)
				old, err := strconv.ParseInt(at, 10, 64)
				return err != nil || old > created
			}
			by := ev.Set["reply_by"]
			var set []any
			if earlier(w[0]) {
				set = append(set, "at", ev.Set["created_ms"], "opd", by, "url", ev.Set["url"], "reply", ev.ItemID)
			}
			if by != "city" && by != "mayor" && earlier(w[1]) {
				set = append(set, "oat", ev.Set["created_ms"], "oopd", by, "ourl", ev.Set["url"], "oreply", ev.ItemID)
			}
			if set != nil {
				pipe := s.rdb.TxPipeline()
				pipe.HSet(ctx, pk, set...)
				pipe.PExpire(ctx, pk, ttl)
				if _, err := pipe.Exec(ctx); err != nil {
					return res, unavailable(err, "restore pending")
				}
			}
		}
	}
	return res, nil
}
