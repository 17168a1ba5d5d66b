package store

import (
	"context"
	_ "embed"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
)

//go:embed lua/prune.lua
var luaPrune string

var pruneScript = redis.NewScript(luaCommon + "\n" + luaPrune)

// PruneResult counts what a prune found among the items received before
// its cutoff.
type PruneResult struct {
	Pruned    int64 `json:"pruned"`    // removed (or, on a dry run, removable)
	Open      int64 `json:"open"`      // still open, or resolved with the citizen's window running
	Recent    int64 `json:"recent"`    // ended at or after the cutoff
	Unrelayed int64 `json:"unrelayed"` // kept: the outbox may still hold their events for Kafka
}

// prunePage is how many items a prune reads and judges per round trip.
const prunePage = 500

// Prune removes the items that ended before cutoff (closed, archived, out
// of scope or duplicates: resolved ones wait for their auto-close), each
// with its history, edits, packed row and index entries, in one script per
// item that checks the item again, so a change racing the prune wins.
// Nothing else removes an item, so this is what keeps a city's Redis from
// growing for ever; what it removes is gone from the pages, the search and
// the reports (the Kafka events topic keeps it as long as the topic's
// retention does). On a dry run it only counts. The latest cutoff pruned
// is kept (PrunedBefore) for the reports to say they cannot be complete
// before it.
func (s *Store) Prune(ctx context.Context, cutoff time.Time, dry bool) (PruneResult, error) {
	var res PruneResult
	c := ms(cutoff)
	dryArg := map[bool]string{false: "0", true: "1"}[dry]
	// Every item that ended before the cutoff was received before it. The
	// pages are read by offset: those pruned leave the range, those kept
	// stay ahead of the next page.
	var kept int64
	loaded := false
	for {
		ids, err := s.rdb.ZRangeByScore(ctx, s.k.items(), &redis.ZRangeBy{Min: "-inf", Max: "(" + c,
			Offset: kept, Count: prunePage}).Result()
		if err != nil {
			return res, unavailable(err, "prune: items")
		}
		if len(ids) == 0 {
			break
		}
		pipe := s.rdb.Pipeline()
		cmds := make([]*redis.Cmd, len(ids))
		for i, id := range ids {
			k := s.k.itemKeys(id)
			cmds[i] = pruneScript.EvalSha(ctx, pipe, []string{k[0], k[1], k[3], s.k.rowOf(k[0])}, s.k.prefix(), s.nowArg(), c, dryArg)
		}
		_, _ = pipe.Exec(ctx) // errors are per command
		noScript := false
		for _, cmd := range cmds {
			out, err := cmd.Text()
			switch {
			case err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") && !loaded:
				noScript = true // judged again on the next page: it stays in the range, not counted as kept
				continue
			case err != nil:
				return res, unavailable(err, "prune")
			case out == "pruned" || out == "prunable":
				res.Pruned++
			case out == "open":
				res.Open++
			case out == "recent":
				res.Recent++
			case out == "unrelayed":
				res.Unrelayed++
			}
			if out != "missing" && (dry || out != "pruned") {
				kept++ // still in the range (one gone meanwhile is not)
			}
		}
		if noScript {
			// Redis lost its script cache (a restart, SCRIPT FLUSH, a failover).
			if err := pruneScript.Load(ctx, s.rdb).Err(); err != nil {
				return res, unavailable(err, "load prune script")
			}
			loaded = true
		}
	}
	if dry || res.Pruned == 0 {
		return res, nil
	}
	if err := s.rdb.Eval(ctx, `local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > v then redis.call('SET', KEYS[1], ARGV[1]) end`, []string{s.k.prunedBefore()}, c).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return res, unavailable(err, "prune: mark")
	}
	return res, nil
}

// PrunedBefore is the latest cutoff a prune removed items before (zero
// when none did): reports of periods before it miss what ended then.
func (s *Store) PrunedBefore(ctx context.Context) (time.Time, error) {
	v, err := s.rdb.Get(ctx, s.k.prunedBefore()).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, unavailable(err, "pruned before")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, tanggap.WrapCode(tanggap.EINTERNAL, err, "pruned before %q", v)
	}
	return time.UnixMilli(n).UTC(), nil
}
