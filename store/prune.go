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
	Joined    int64 `json:"joined"`    // kept: first reports of clusters whose joined reports stay
	Originals int64 `json:"originals"` // kept: items marked the originals of duplicates that stay
}

// prunePage is how many items a prune reads and judges per round trip.
const prunePage = 500

// Prune removes the items that ended before cutoff (closed, archived, out
// of scope or duplicates: resolved ones wait for their auto-close), each
// with its history, edits, packed row and index entries, in one script per
// item that checks the item again, so a change racing the prune wins. The
// first report of a near-duplicate cluster stays while a report that
// joined it is stored (their pages and queue rows link to it), and so
// does an item marked the original of a duplicate that is stored (its
// page links to it): a citizen who repeats today a complaint closed long
// ago still finds, through the new report, the answer given then.
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
	// Cluster roots and originals kept for the reports that link to
	// them, and what this run pruned (or found prunable): the roots are
	// judged again at the end, when the reports pruned after them have
	// gone (or, on a dry run, are counted as gone).
	var roots []string
	gone := map[string]bool{}
	count := func(id, out string) {
		switch out {
		case "pruned", "prunable":
			res.Pruned++
			gone[id] = true
		case "open":
			res.Open++
		case "recent":
			res.Recent++
		case "unrelayed":
			res.Unrelayed++
		case "joined":
			res.Joined++
		case "original":
			res.Originals++
		}
	}
	linked := func(out string) bool { return out == "joined" || out == "original" }
	// judge runs the script for each id, in one round trip, and returns
	// its verdicts.
	judge := func(ids []string, extra func(id string) []any) ([]string, error) {
		outs := make([]string, len(ids))
		todo := make([]int, len(ids))
		for i := range todo {
			todo[i] = i
		}
		for len(todo) > 0 {
			pipe := s.rdb.Pipeline()
			cmds := make([]*redis.Cmd, len(todo))
			for j, i := range todo {
				args := append([]any{s.k.prefix(), s.nowArg(), c, dryArg}, extra(ids[i])...)
				cmds[j] = pruneScript.EvalSha(ctx, pipe, s.pruneKeys(ids[i]), args...)
			}
			_, _ = pipe.Exec(ctx) // errors are per command
			var again []int
			for j, i := range todo {
				out, err := cmds[j].Text()
				switch {
				case err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") && !loaded:
					again = append(again, i)
				case err != nil:
					return nil, unavailable(err, "prune")
				}
				outs[i] = out
			}
			if len(again) > 0 {
				// Redis lost its script cache (a restart, SCRIPT FLUSH,
				// a failover).
				if err := pruneScript.Load(ctx, s.rdb).Err(); err != nil {
					return nil, unavailable(err, "load prune script")
				}
				loaded = true
			}
			todo = again
		}
		return outs, nil
	}
	none := func(string) []any { return nil }
	for {
		ids, err := s.rdb.ZRangeByScore(ctx, s.k.items(), &redis.ZRangeBy{Min: "-inf", Max: "(" + c,
			Offset: kept, Count: prunePage}).Result()
		if err != nil {
			return res, unavailable(err, "prune: items")
		}
		if len(ids) == 0 {
			break
		}
		outs, err := judge(ids, none)
		if err != nil {
			return res, err
		}
		for i, out := range outs {
			if linked(out) {
				roots = append(roots, ids[i])
			} else {
				count(ids[i], out)
			}
			if out != "missing" && (dry || out != "pruned") {
				kept++ // still in the range (one gone meanwhile is not)
			}
		}
	}
	// A root may itself be linked to another root (an original marked a
	// duplicate of an older item, say): the roots are judged again while
	// a round prunes any, and those still linked to stay.
	for len(roots) > 0 {
		before := len(gone)
		var still []string
		verdicts := map[string]string{}
		for start := 0; start < len(roots); start += prunePage {
			page := roots[start:min(len(roots), start+prunePage)]
			members := make(map[string][]any, len(page))
			for _, id := range page {
				if !dry {
					continue // what this run pruned is gone already
				}
				ms, err := s.linkedTo(ctx, id)
				if err != nil {
					return res, err
				}
				for _, m := range ms {
					if gone[m] {
						members[id] = append(members[id], m)
					}
				}
			}
			outs, err := judge(page, func(id string) []any { return members[id] })
			if err != nil {
				return res, err
			}
			for i, out := range outs {
				if linked(out) {
					still, verdicts[page[i]] = append(still, page[i]), out
				} else {
					count(page[i], out)
				}
			}
		}
		if len(gone) == before {
			for _, id := range still {
				count(id, verdicts[id])
			}
			break
		}
		roots = still
	}
	if dry || res.Pruned == 0 {
		return res, nil
	}
	return res, s.markPruned(ctx, c)
}

// linkedTo lists the items whose pages link to id as the first report of
// their cluster or as the item they duplicate: those that keep it from a
// prune while they are stored.
func (s *Store) linkedTo(ctx context.Context, id string) ([]string, error) {
	members, err := s.ClusterMembers(ctx, id, -1)
	if err != nil {
		return nil, err
	}
	dups, err := s.listed(ctx, s.k.duplicates(), id, -1)
	if err != nil {
		return nil, unavailable(err, "duplicates")
	}
	return append(members, dups...), nil
}

// pruneKeys are the keys the prune script takes for an item (see
// lua/prune.lua): item, history, edits, row.
func (s *Store) pruneKeys(id string) []string {
	k := s.k.itemKeys(id)
	return []string{k[0], k[1], k[3], s.k.rowOf(k[0])}
}

// markPruned keeps c (ms) as the latest cutoff items were pruned before,
// unless a later one is kept already.
func (s *Store) markPruned(ctx context.Context, c string) error {
	if err := s.rdb.Eval(ctx, `local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > v then redis.call('SET', KEYS[1], ARGV[1]) end`, []string{s.k.prunedBefore()}, c).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return unavailable(err, "prune: mark")
	}
	return nil
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
