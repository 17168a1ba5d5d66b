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
// Redis recreates items, queues, clocks and history, and what the events
// say about the classifier: its routings (ingest events) and people's
// corrections and overrules of it (their assign events). Official replies
// whose parent was never collected are kept waiting again. With a prune
// cutoff (the latest prune mark on the topic), each item is judged by the
// prune's rule as soon as its events are in and removed again when it
// ended before the cutoff, so Redis never holds what the city pruned (it
// may not have the memory for it): the items that link to another
// (reports that joined a cluster, duplicates) are restored before it,
// which stays while one of them does. People's corrections of pruned items
// stay, as they do after the prune itself.
func (s *Store) Restore(ctx context.Context, evs []tanggap.Event, prunedBefore time.Time) (RestoreResult, error) {
	depth, cyclic := linkDepths(evs)
	sort.SliceStable(evs, func(i, j int) bool {
		a, b := evs[i], evs[j]
		if da, db := depth[a.ItemID], depth[b.ItemID]; da != db {
			return da < db
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
	// Items that link to each other in a circle (each marked a duplicate
	// of the other) are judged once all are in, as a prune finds them.
	var deferred []string
	done := func(id string) error {
		if cyclic[id] {
			deferred = append(deferred, id)
			return nil
		}
		return prune(id)
	}
	var routing routingReplay
	last := ""
	for _, ev := range evs {
		if ev.ItemID == "" || ev.Version <= 0 {
			continue
		}
		if ev.ItemID != last {
			if err := done(last); err != nil {
				return res, err
			}
			last = ev.ItemID
		}
		corrected := ev.Action == "assign" && !systemActors[ev.Actor]
		overrule := corrected && routing.overrule(ev)
		routing.see(ev)
		raw, err := json.Marshal(ev)
		if err != nil {
			return res, tanggap.WrapCode(tanggap.EINTERNAL, err, "encode event")
		}
		args := []any{s.k.prefix(), ms(ev.At), ev.Version, ev.Action, string(raw), len(ev.Set)}
		for k, v := range ev.Set {
			args = append(args, k, v)
		}
		ks := s.k.itemKeys(ev.ItemID)
		root := ks[0]
		if r := ev.Set["cluster_id"]; ev.Action == "ingest" && r != "" && r != ev.ItemID {
			root = s.k.item(r)
		}
		out, err := script.Run(ctx, s.rdb, []string{ks[0], ks[1], ks[3], root}, args...).Text()
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
		if out != "skip" && corrected {
			if err := routing.add(ctx, s, ev, overrule); err != nil {
				return res, err
			}
		}
	}
	if err := done(last); err != nil {
		return res, err
	}
	if err := routing.keep(ctx, s); err != nil {
		return res, err
	}
	for _, id := range deferred {
		if err := prune(id); err != nil {
			return res, err
		}
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

// linkDepths orders the items of evs for a rebuild that prunes as it goes:
// an item that others link to (the first report of their cluster, the
// item they were marked duplicates of) comes after all of them, at one
// more than the deepest. Items on a circle of links are cyclic: no order
// puts each after the others.
func linkDepths(evs []tanggap.Event) (depth map[string]int, cyclic map[string]bool) {
	linkers := map[string][]string{}
	for _, ev := range evs {
		for _, f := range []string{"cluster_id", "duplicate_of"} {
			if to := ev.Set[f]; to != "" && to != ev.ItemID {
				linkers[to] = append(linkers[to], ev.ItemID)
			}
		}
	}
	depth, cyclic = map[string]int{}, map[string]bool{}
	const walking = -1
	var path []string
	var walk func(id string) int
	walk = func(id string) int {
		if d, ok := depth[id]; ok {
			if d == walking {
				for i := len(path) - 1; i >= 0; i-- {
					cyclic[path[i]] = true
					if path[i] == id {
						break
					}
				}
				return 0
			}
			return d
		}
		depth[id] = walking
		path = append(path, id)
		d := 0
		for _, l := range linkers[id] {
			d = max(d, walk(l)+1)
		}
		path = path[:len(path)-1]
		depth[id] = d
		return d
	}
	for id := range linkers {
		walk(id)
	}
	return depth, cyclic
}
