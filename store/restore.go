package store

import (
	"context"
	_ "embed"
	"encoding/json"
	"sort"

	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
)

//go:embed lua/restore.lua
var luaRestore string

// RestoreResult counts what a rebuild did.
type RestoreResult struct {
	Applied, Skipped, Gaps int
}

// Restore rebuilds items from their audit events (the Kafka events topic):
// each item's events are applied in version order, idempotently, so a
// replay over an existing state changes nothing and a replay over an empty
// Redis recreates items, queues, clocks and history. Official replies whose
// parent was never collected are kept waiting again.
func (s *Store) Restore(ctx context.Context, evs []tanggap.Event) (RestoreResult, error) {
	sort.SliceStable(evs, func(i, j int) bool {
		if evs[i].ItemID != evs[j].ItemID {
			return evs[i].ItemID < evs[j].ItemID
		}
		return evs[i].Version < evs[j].Version
	})
	script := redis.NewScript(luaCommon + "\n" + luaRestore)
	var res RestoreResult
	for _, ev := range evs {
		if ev.ItemID == "" || ev.Version <= 0 {
			continue
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
			pk := s.k.pending(parent)
			at, _ := s.rdb.HGet(ctx, pk, "at").Result()
			if at == "" || at > ev.Set["created_ms"] {
				s.rdb.HSet(ctx, pk, "at", ev.Set["created_ms"], "opd", ev.Set["reply_by"], "url", ev.Set["url"], "reply", ev.Set["post_id"])
			}
		}
	}
	return res, nil
}
