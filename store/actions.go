package store

import (
	"context"
	"encoding/json"
	"errors"
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
	// Correction, on a person's routing, is the labelled example it makes
	// (AddCorrection), kept at the instant of the change: its assign
	// event's, from which a rebuild makes it again (Restore).
	Correction *Correction
}

// Apply runs a change and returns the item as it is afterwards. A
// correction that cannot be kept once the item changed is reported with
// the changed item: the change is not undone.
func (s *Store) Apply(ctx context.Context, c Change) (*tanggap.Item, error) {
	ev := map[string]any{"actor": c.Actor, "action": c.Action, "reason": c.Reason}
	if len(c.Data) > 0 {
		ev["data"] = c.Data
	}
	evj, err := json.Marshal(ev)
	if err != nil {
		return nil, tanggap.WrapCode(tanggap.EINTERNAL, err, "encode event")
	}
	at := s.instant()
	args := []any{s.k.prefix(), instantArg(at), c.Version, string(evj), len(c.Set)}
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
	var cerr error
	if c.Correction != nil {
		corr := *c.Correction
		corr.At = at
		cerr = s.AddCorrection(ctx, corr)
	}
	it, err := s.Item(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	return it, cerr
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

// HeldThreadKey is how the held_threads index names a citizen's thread
// (lua/common.lua held_fields writes it), or "" for a post with no thread
// or no author: the post's platform and thread, and its author by a name
// nobody else can hold. That is the handle where the platform shows one
// (Post.AuthorIsHandle), else the author's platform id, in a form of its
// own ("<platform>:id ..."): on Facebook, and on YouTube without a handle,
// Author is a display name anyone can copy, and a namesake writing in the
// thread must not resume someone else's item. Only an author with neither
// is named by the display name, which is all there is.
func HeldThreadKey(p *tanggap.Post) string {
	if k := idHeldThreadKey(p); k != "" {
		return k
	}
	return nameHeldThreadKey(p)
}

// idHeldThreadKey names a citizen's thread by the author's platform id, or
// is "" where HeldThreadKey does not.
func idHeldThreadKey(p *tanggap.Post) string {
	if p.ThreadID == "" || p.AuthorID == "" || p.AuthorIsHandle() {
		return ""
	}
	return string(p.Platform) + ":id " + p.ThreadID + " " + p.AuthorID
}

// nameHeldThreadKey names a citizen's thread by the post's Author, as
// every entry was named before authors with a platform id were named by
// it.
func nameHeldThreadKey(p *tanggap.Post) string {
	if p.ThreadID == "" || p.Author == "" {
		return ""
	}
	return string(p.Platform) + " " + p.ThreadID + " " + p.Author
}

// HeldThreads returns, for each post, the id of the item on hold in its
// thread by its author (HeldThreadKey), or "". Where the author is not
// named by a handle, an entry by display name counts only when the item
// stores the post's author id (or both have none): an entry written before
// authors with a platform id were named by it still resumes the item held
// before an upgrade when its citizen writes, never when a namesake does.
func (s *Store) HeldThreads(ctx context.Context, posts []*tanggap.Post) ([]string, error) {
	out := make([]string, len(posts))
	var fields []string
	at := make([][2]int, len(posts)) // each post's fields: by id, by name (-1: none)
	for i, p := range posts {
		at[i] = [2]int{-1, -1}
		if k := idHeldThreadKey(p); k != "" {
			at[i][0] = len(fields)
			fields = append(fields, k)
		}
		if k := nameHeldThreadKey(p); k != "" {
			at[i][1] = len(fields)
			fields = append(fields, k)
		}
	}
	if len(fields) == 0 {
		return out, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.k.heldThreads(), fields...).Result()
	if err != nil {
		return nil, unavailable(err, "held threads")
	}
	var check []int // posts found by a display name: whose item's author id to compare
	for i, f := range at {
		for j, k := range f {
			if k < 0 {
				continue
			}
			if id, ok := vals[k].(string); ok {
				out[i] = id
				if j == 1 && !posts[i].AuthorIsHandle() {
					check = append(check, i)
				}
				break
			}
		}
	}
	if len(check) == 0 {
		return out, nil
	}
	pipe := s.rdb.Pipeline()
	ids := make([]*redis.StringCmd, len(check))
	for j, i := range check {
		ids[j] = pipe.HGet(ctx, s.k.item(out[i]), "author_id")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, unavailable(err, "held threads")
	}
	for j, i := range check {
		if ids[j].Val() != posts[i].AuthorID {
			out[i] = ""
		}
	}
	return out, nil
}
