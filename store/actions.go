package store

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

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
	args := []any{s.k.prefix(), ms(s.now()), c.Version, string(evj), len(c.Set)}
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
		return nil, tanggap.Errorf(tanggap.ECONFLICT, "item %s was changed by someone else (now version %v): reload and try again", c.ID, res[1])
	}
	return s.Item(ctx, c.ID)
}

// Assign routes an item to an OPD (a recorded hop when it had one). Clocks
// keep running: the deadline is not touched.
func (s *Store) Assign(ctx context.Context, id, opd, actor, reason string, version int64) (*tanggap.Item, error) {
	it, err := s.Item(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(it, version); err != nil {
		return nil, err
	}
	if it.OPD == opd {
		return nil, tanggap.Errorf(tanggap.EINVALID, "item %s is already with %s", id, opd)
	}
	to := tanggap.StatusAssigned
	if it.FirstResponseAt != nil && it.Status == tanggap.StatusInProgress {
		to = tanggap.StatusInProgress // already answered publicly: the hop keeps that
	}
	if err := tanggap.Transition(it.Status, to); err != nil && it.Status != to {
		return nil, err
	}
	set := map[string]string{"opd": opd, "status": string(to), "queued": "1"}
	return s.Apply(ctx, Change{ID: id, Version: it.Version, Actor: actor, Action: "assign", Reason: reason,
		Data: map[string]string{"classifier_opd": it.OPD, "confidence": strconv.FormatFloat(it.Confidence, 'f', 2, 64)}, Set: set})
}

// MarkAnswered records the public reply an OPD gave (its link), stopping the
// first-response clock if it was still running.
func (s *Store) MarkAnswered(ctx context.Context, id, replyURL, actor string, at time.Time, version int64) (*tanggap.Item, error) {
	it, err := s.Item(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(it, version); err != nil {
		return nil, err
	}
	to := it.Status
	if it.Status == tanggap.StatusNew || it.Status == tanggap.StatusAssigned || it.Status == tanggap.StatusReopened {
		to = tanggap.StatusInProgress
		if err := tanggap.Transition(it.Status, to); err != nil {
			return nil, err
		}
	}
	set := map[string]string{"status": string(to), "fr_url": replyURL, "queued": "1"}
	if it.FirstResponseAt == nil {
		set["fr_ms"] = ms(at)
		set["fr_opd"] = it.OPD
	}
	return s.Apply(ctx, Change{ID: id, Version: it.Version, Actor: actor, Action: "answer",
		Data: map[string]string{"reply_url": replyURL}, Set: set})
}

func checkVersion(it *tanggap.Item, version int64) error {
	if version >= 0 && it.Version != version {
		return tanggap.Errorf(tanggap.ECONFLICT, "item %s was changed by someone else (now version %d): reload and try again", it.ID, it.Version)
	}
	return nil
}

// OpenCounts counts open, unanswered items per OPD slot by deadline state at
// now (for the tanggap_store_open_items gauge and the city board).
func (s *Store) OpenCounts(ctx context.Context, opds []string, now time.Time, dueSoon time.Duration) (map[string]map[tanggap.DeadlineState]int64, error) {
	slots := append([]string{""}, opds...)
	pipe := s.rdb.Pipeline()
	n := strconv.FormatInt(now.UnixMilli(), 10)
	soon := strconv.FormatInt(now.Add(dueSoon).UnixMilli(), 10)
	type trio struct{ over, due, ok interface{ Val() int64 } }
	cmds := make([]trio, len(slots))
	for i, o := range slots {
		k := s.k.open(o)
		cmds[i] = trio{
			pipe.ZCount(ctx, k, "-inf", n),
			pipe.ZCount(ctx, k, "("+n, soon),
			pipe.ZCount(ctx, k, "("+soon, "+inf"),
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, unavailable(err, "open counts")
	}
	out := make(map[string]map[tanggap.DeadlineState]int64, len(slots))
	for i, o := range slots {
		out[slot(o)] = map[tanggap.DeadlineState]int64{
			tanggap.Overdue: cmds[i].over.Val(), tanggap.DueSoon: cmds[i].due.Val(), tanggap.OnTrack: cmds[i].ok.Val(),
		}
	}
	return out, nil
}
