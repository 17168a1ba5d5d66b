package store

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tanggap/tanggap"
)

// Near-duplicates: citizens report the same fallen tree or flooded street
// on several platforms and accounts. Items with a fingerprint, an OPD and a
// place are indexed by (OPD, place) and time; triage compares a new post
// with the recent candidates there and, when similar, joins it to the
// cluster of the first report. The cluster's root counts its reporters,
// the distinct citizens who reported it (citizenOf), not its reports: a
// citizen who repeats a complaint under several of the city's posts is
// one reporter. Three or more make it urgent. Each member stays its own
// item: every report still gets an answer.

// NearWindow is how far apart in time two reports of one issue may be.
const NearWindow = 72 * time.Hour

// UrgentReporters is the reporter count from which a cluster is urgent.
// The root item itself changes (count, urgency, audit event) at each of
// its first UrgentReporters reporters only; later ones are counted in the
// cluster's citizens set, which withReporters reads.
const UrgentReporters = 3

// RootChanges is how many times a cluster root itself changed (version,
// audit event) once reports by others citizens besides its own joined it:
// once for each up to UrgentReporters reporters (a citizen's repeated
// report changes nothing).
func RootChanges(others int64) int64 { return min(others, UrgentReporters-1) }

// citizenOf is how a cluster tells its reporters apart: the platform and the
// author's platform id, else their handle or name (see
// tanggap.Post.AuthorIsHandle: on Facebook two people may share one),
// else the report itself (id), since nothing tells its author apart. It
// is hashed (SHA-1, which Redis' Lua has, cut to 64 bits): the set keeps
// no name once the reports are pruned, and its members have one size.
// The Lua citizen (lua/common.lua) computes the same from an item's
// fields.
func citizenOf(platform, authorID, author, id string) string {
	var s string
	switch {
	case authorID != "":
		s = platform + " i " + authorID
	case author != "":
		s = platform + " a " + author
	default:
		s = "p " + id
	}
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:8])
}

// NearKey is the (OPD, place) slot of an ingest, "" when it cannot
// cluster: two ingests are candidates for each other only within one slot.
// Posts no OPD was confidently chosen for share the unrouted slot of their
// place: a flood reported ten times before anyone routes it is one
// cluster in the PPID Utama's queue, not ten strangers. OPD codes and
// place names come from the config and the gazetteer.
func (in *Ingest) NearKey() string {
	place := in.Kelurahan
	if place == "" {
		place = in.Kecamatan
	}
	if in.Fingerprint == "" || place == "" || !in.Queued {
		return ""
	}
	return slot(in.OPD) + "|" + place
}

// NearCandidate is a recent item of the same OPD and place.
type NearCandidate struct {
	ID          string
	ClusterID   string // the cluster a post joins through this item: its own or the item itself
	Fingerprint string
	Created     time.Time
}

// nearLimit bounds the candidates read per (OPD, place): the most recent.
const nearLimit = 200

// NearCandidates lists, for each ingest, the stored items of the same OPD
// and place within NearWindow of its platform time, most recent first (at
// most 200). Ingests of one (OPD, place) share one read: a batch costs a
// single round trip whatever its size, and they may share one slice (the
// caller must not change it). Items that are the ingest itself (a
// redelivery) are left out; so are earlier posts of the same batch, which
// the caller compares in memory.
func (s *Store) NearCandidates(ctx context.Context, ins []Ingest) ([][]NearCandidate, error) {
	type span struct{ lo, hi int64 }
	spans := map[string]*span{}
	for i := range ins {
		nk := ins[i].NearKey()
		if nk == "" {
			continue
		}
		t := ins[i].Post.CreatedAt.UnixMilli()
		if sp := spans[nk]; sp != nil {
			sp.lo, sp.hi = min(sp.lo, t), max(sp.hi, t)
		} else {
			spans[nk] = &span{t, t}
		}
	}
	out := make([][]NearCandidate, len(ins))
	if len(spans) == 0 {
		return out, nil
	}
	w := NearWindow.Milliseconds()
	ranges := make(map[string]*redis.ZRangeBy, len(spans))
	for nk, sp := range spans {
		ranges[nk] = &redis.ZRangeBy{Min: strconv.FormatInt(sp.lo-w, 10), Max: strconv.FormatInt(sp.hi+w, 10), Count: nearLimit}
	}
	parsed, err := s.nearSlots(ctx, ranges)
	if err != nil {
		return nil, err
	}
	for i := range ins {
		nk := ins[i].NearKey()
		if nk == "" {
			continue
		}
		t0, self := ins[i].Post.CreatedAt, ins[i].Post.ItemID()
		keep := func(c *NearCandidate) bool { return c.ID != self && c.Created.Sub(t0).Abs() <= NearWindow }
		cs := parsed[nk]
		// Usually every candidate of the slot applies: then the ingests
		// share the slot's slice instead of a copy each.
		if !slices.ContainsFunc(cs, func(c NearCandidate) bool { return !keep(&c) }) {
			out[i] = cs
			continue
		}
		for j := range cs {
			if keep(&cs[j]) {
				out[i] = append(out[i], cs[j])
			}
		}
	}
	return out, nil
}

// Nearby lists the items indexed in the near-duplicate slots of opds (""
// or Unrouted: the unrouted slot) at place within NearWindow of at, each
// once, newest first in each slot (at most 200 a slot): the item page
// offers the similar ones as possible duplicates of an item clustering did
// not join (below the threshold, or in another slot when it came).
func (s *Store) Nearby(ctx context.Context, opds []string, place string, at time.Time) ([]NearCandidate, error) {
	t, w := at.UnixMilli(), NearWindow.Milliseconds()
	var order []string
	ranges := make(map[string]*redis.ZRangeBy, len(opds))
	for _, o := range opds {
		nk := slot(o) + "|" + place
		if ranges[nk] == nil {
			order = append(order, nk)
			ranges[nk] = &redis.ZRangeBy{Min: strconv.FormatInt(t-w, 10), Max: strconv.FormatInt(t+w, 10), Count: nearLimit}
		}
	}
	parsed, err := s.nearSlots(ctx, ranges)
	if err != nil {
		return nil, err
	}
	var out []NearCandidate
	seen := map[string]bool{}
	for _, nk := range order {
		for _, c := range parsed[nk] {
			if !seen[c.ID] {
				seen[c.ID] = true
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// nearSlots reads near sets in one round trip, or two when a slot holds
// members written before they carried their time: those slots are read
// again with scores.
func (s *Store) nearSlots(ctx context.Context, ranges map[string]*redis.ZRangeBy) (map[string][]NearCandidate, error) {
	parsed, old, err := s.nearRead(ctx, ranges, false)
	if err != nil || len(old) == 0 {
		return parsed, err
	}
	again := make(map[string]*redis.ZRangeBy, len(old))
	for _, nk := range old {
		again[nk] = ranges[nk]
	}
	rescored, _, err := s.nearRead(ctx, again, true)
	if err != nil {
		return nil, err
	}
	maps.Copy(parsed, rescored)
	return parsed, nil
}

// nearRead reads near sets in one round trip and parses their members.
// Without scores, it also returns the slots holding a member without its
// time (written before members carried it), whose candidates it leaves out.
func (s *Store) nearRead(ctx context.Context, ranges map[string]*redis.ZRangeBy, withScores bool) (map[string][]NearCandidate, []string, error) {
	pipe := s.rdb.Pipeline()
	plain := make(map[string]*redis.StringSliceCmd, len(ranges))
	scored := make(map[string]*redis.ZSliceCmd, len(ranges))
	for nk, r := range ranges {
		if withScores {
			scored[nk] = pipe.ZRevRangeByScoreWithScores(ctx, s.k.near(nk), r)
		} else {
			plain[nk] = pipe.ZRevRangeByScore(ctx, s.k.near(nk), r)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, unavailable(err, "near candidates")
	}
	out := make(map[string][]NearCandidate, len(ranges))
	var old []string
	for nk, c := range plain {
		ms := c.Val()
		cs := make([]NearCandidate, 0, len(ms))
		for _, m := range ms {
			if c, ok := parseNear(m, -1); ok {
				cs = append(cs, c)
			} else if strings.Count(m, " ") == 2 {
				old = append(old, nk)
				break
			}
		}
		out[nk] = cs
	}
	for nk, c := range scored {
		zs := c.Val()
		cs := make([]NearCandidate, 0, len(zs))
		for _, z := range zs {
			m, _ := z.Member.(string)
			if c, ok := parseNear(m, int64(z.Score)); ok {
				cs = append(cs, c)
			}
		}
		out[nk] = cs
	}
	return out, old, nil
}

// parseNear decodes a member of a near set ("<id> <cluster or -> <fp>
// <platform time ms>", written by the Lua near(); ids never contain
// spaces, Post.Validate). Members written before end at the fingerprint:
// their time is the score, passed as created (-1 when not read).
func parseNear(m string, created int64) (NearCandidate, bool) {
	id, rest, ok1 := strings.Cut(m, " ")
	cl, rest, ok2 := strings.Cut(rest, " ")
	fp, at, timed := strings.Cut(rest, " ")
	if timed {
		n, err := strconv.ParseInt(at, 10, 64)
		if err != nil {
			return NearCandidate{}, false
		}
		created = n
	}
	if !ok1 || !ok2 || id == "" || fp == "" || created < 0 {
		return NearCandidate{}, false
	}
	if cl == "-" {
		cl = id
	}
	return NearCandidate{ID: id, ClusterID: cl, Fingerprint: fp, Created: time.UnixMilli(created).UTC()}, true
}

// withReporters sets each cluster root's reporter count: the reporters
// counted outside its citizens set (the reporters hash) plus the set's
// size, in one round trip, none when no item is a root. A root counted
// before the hash existed keeps its own field's count. A cluster of one
// citizen has none (as the live root, which changes from the second only;
// a rebuild from events written before the store counted citizens may
// find one).
func (s *Store) withReporters(ctx context.Context, its []tanggap.Item) error {
	var at []int
	for i := range its {
		if its[i].ClusterID != "" && its[i].ClusterID == its[i].ID {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return nil
	}
	ids := make([]string, len(at))
	pipe := s.rdb.Pipeline()
	cards := make([]*redis.IntCmd, len(at))
	for j, i := range at {
		ids[j] = its[i].ID
		cards[j] = pipe.SCard(ctx, s.k.citizens(its[i].ID))
	}
	outside := pipe.HMGet(ctx, s.k.reporters(), ids...)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return unavailable(err, "reporters")
	}
	for j, v := range outside.Val() {
		str, _ := v.(string)
		if n, err := strconv.Atoi(str); err == nil {
			if n += int(cards[j].Val()); n < 2 {
				n = 0
			}
			its[at[j]].Reporters = n
		}
	}
	return nil
}

// ClusterMembers lists the ids of the reports that joined the cluster
// whose first report is root, at most limit of them (in the order of
// their ids; the caller reads and sorts the items). Reports that joined
// before the store kept this list are missing from it until the state is
// rebuilt from the events topic; the reporters count counts their
// citizens.
func (s *Store) ClusterMembers(ctx context.Context, root string, limit int64) ([]string, error) {
	vals, err := s.listed(ctx, s.k.clusterMembers(), root, limit)
	if err != nil {
		return nil, unavailable(err, "cluster members")
	}
	return vals, nil
}

// listed reads the ids a sorted set of "<id> <item id>" members (at score
// 0, read by lex range) lists for id, at most limit of them.
func (s *Store) listed(ctx context.Context, key, id string, limit int64) ([]string, error) {
	vals, err := s.rdb.ZRangeByLex(ctx, key, &redis.ZRangeBy{Min: "[" + id + " ", Max: "(" + id + "!", Count: limit}).Result()
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		vals[i] = v[len(id)+1:]
	}
	return vals, nil
}
