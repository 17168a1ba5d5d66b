package store

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
)

// Learning from corrections: every routing by a person is kept as a
// labelled example (text, the OPD the person chose), exportable as the
// training CSV of `tanggap train`, and the store counts per OPD how often
// the classifier routed on its own and how often people overruled it.

// Correction is one routing decision by a person.
type Correction struct {
	At            time.Time    `json:"at"` // the instant of the change (its assign event's), UTC
	ItemID        string       `json:"item_id"`
	Text          string       `json:"text"`
	Kind          tanggap.Kind `json:"kind"`
	ClassifierOPD string       `json:"classifier_opd"` // what triage suggested ("" when nothing fit)
	FromOPD       string       `json:"from_opd"`
	OPD           string       `json:"opd"` // what the person chose
	Actor         string       `json:"actor"`
	// Overrule is set when the routing moves an item the classifier routed
	// on its own (RoutedByClassifier) away from that OPD for the first time:
	// the one routing of each such item that counts as an overrule.
	Overrule bool `json:"overrule,omitempty"`
}

// MaxCorrections bounds the kept examples (the oldest are dropped).
const MaxCorrections = 100_000

// AddCorrection records a person's routing; when it overrules the
// classifier (Overrule, which the workflow sets at most once per item), it
// counts as an overrule of the classifier's OPD, so that the overrules of
// an OPD are a part of its classifier routings (RoutingStats).
func (s *Store) AddCorrection(ctx context.Context, c Correction) error {
	b, err := json.Marshal(c)
	if err != nil {
		return tanggap.WrapCode(tanggap.EINTERNAL, err, "encode correction")
	}
	pipe := s.rdb.TxPipeline()
	pipe.LPush(ctx, s.k.corrections(), b)
	pipe.LTrim(ctx, s.k.corrections(), 0, MaxCorrections-1)
	if c.Overrule && c.ClassifierOPD != "" {
		pipe.HIncrBy(ctx, s.k.routing(), c.ClassifierOPD+":overruled", 1)
	}
	_, err = pipe.Exec(ctx)
	return unavailable(err, "add correction")
}

// RoutedByClassifier reports whether triage routed an item to its
// classifier's OPD on its own, as the item's ingest event (the first of
// its history, which is never trimmed) says: an item RoutingStats.Auto
// counts. An item a person routed to the classifier's suggestion later is
// not one.
func (s *Store) RoutedByClassifier(ctx context.Context, id string) (bool, error) {
	raw, err := s.rdb.LIndex(ctx, s.k.history(id), 0).Result()
	if errors.Is(err, redis.Nil) {
		return false, tanggap.Errorf(tanggap.ENOTFOUND, "item %s not found", id)
	}
	if err != nil {
		return false, unavailable(err, "routed by classifier")
	}
	ev, err := decodeEvent(raw)
	if err != nil {
		return false, err
	}
	return routedOnItsOwn(ev), nil
}

// MayOverrule reports whether a person's move of an item away from fromOPD
// can overrule the classifier: it is the item's first move (hops, those
// before it, is 0) and the item is still at its classifier's OPD. It does
// when the classifier also routed the item there on its own
// (RoutedByClassifier), which the workflow reads only for such a move.
func MayOverrule(classifierOPD, fromOPD string, hops int) bool {
	return classifierOPD != "" && fromOPD == classifierOPD && hops == 0
}

// routedOnItsOwn reports whether ev is the ingest event of an item triage
// routed to its classifier's OPD: one the ingest counts among that OPD's
// classifier routings (<opd>:auto).
func routedOnItsOwn(ev tanggap.Event) bool {
	opd := ev.Set["opd"]
	return ev.Action == "ingest" && ev.Set["status"] == string(tanggap.StatusAssigned) && opd != "" && opd == ev.Set["classifier_opd"]
}

// routingReplay makes again, during a rebuild (Restore), the corrections
// the workflow kept: one per assign event by a person. It follows the
// events of one item at a time, in version order, to judge an overrule as
// the workflow did when an event does not say.
type routingReplay struct {
	item string // whose events see has had
	auto bool   // the item's ingest event: the classifier routed it on its own
	hops string // the item's hops before the next event
	out  []Correction
}

// overrule is the workflow's verdict on a person's assign event ev, to be
// called before see(ev): what the event says (its data's "overrule"), or
// for an event written before it said, the workflow's rule (Service.Do):
// the item's first move while still where the classifier put it on its
// own.
func (r *routingReplay) overrule(ev tanggap.Event) bool {
	if v, ok := ev.Data["overrule"]; ok {
		return v == "1"
	}
	hops := 0 // before any hop
	if r.hops != "" {
		var err error
		if hops, err = strconv.Atoi(r.hops); err != nil {
			return false
		}
	}
	return r.item == ev.ItemID && r.auto && MayOverrule(ev.Data["classifier_opd"], ev.Data["from_opd"], hops)
}

// see follows the item's state through ev.
func (r *routingReplay) see(ev tanggap.Event) {
	if ev.ItemID != r.item {
		r.item, r.auto, r.hops = ev.ItemID, false, ""
	}
	if ev.Action == "ingest" {
		r.auto = routedOnItsOwn(ev)
	}
	if h, ok := ev.Set["hops"]; ok {
		r.hops = h
	}
}

// add keeps the correction a person's assign event ev made, now that the
// rebuild applied it: the item's hash gives what the workflow read from it
// (its text and kind, which no event after the ingest changes).
func (r *routingReplay) add(ctx context.Context, s *Store, ev tanggap.Event, overrule bool) error {
	v, err := s.rdb.HMGet(ctx, s.k.item(ev.ItemID), "text", "kind", "classifier_opd").Result()
	if err != nil {
		return unavailable(err, "restore correction")
	}
	str := func(x any) string { t, _ := x.(string); return t }
	c := Correction{At: time.UnixMilli(ev.At.UnixMilli()).UTC(), ItemID: ev.ItemID, Text: str(v[0]), Kind: tanggap.Kind(str(v[1])),
		ClassifierOPD: str(v[2]), FromOPD: ev.FromOPD, OPD: ev.Set["opd"], Actor: ev.Actor, Overrule: overrule}
	if cls, ok := ev.Data["classifier_opd"]; ok {
		c.ClassifierOPD = cls
	}
	if from, ok := ev.Data["from_opd"]; ok {
		c.FromOPD = from
	}
	r.out = append(r.out, c)
	return nil
}

// keep writes the corrections made, newest first as AddCorrection leaves
// them (corrections made in the same millisecond in the rebuild's order of
// items), and counts their overrules.
func (r *routingReplay) keep(ctx context.Context, s *Store) error {
	if len(r.out) == 0 {
		return nil
	}
	cs := r.out
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].At.Before(cs[j].At) })
	overruled := map[string]int64{}
	for _, c := range cs {
		if c.Overrule && c.ClassifierOPD != "" {
			overruled[c.ClassifierOPD]++
		}
	}
	cs = cs[max(0, len(cs)-MaxCorrections):]
	pipe := s.rdb.Pipeline()
	for len(cs) > 0 {
		n := min(len(cs), 1000)
		vals := make([]any, n)
		for i, c := range cs[:n] {
			b, err := json.Marshal(c)
			if err != nil {
				return tanggap.WrapCode(tanggap.EINTERNAL, err, "encode correction")
			}
			vals[i] = b
		}
		pipe.LPush(ctx, s.k.corrections(), vals...) // the oldest first: it ends last
		cs = cs[n:]
	}
	pipe.LTrim(ctx, s.k.corrections(), 0, MaxCorrections-1)
	for opd, n := range overruled {
		pipe.HIncrBy(ctx, s.k.routing(), opd+":overruled", n)
	}
	_, err := pipe.Exec(ctx)
	return unavailable(err, "restore corrections")
}

// Corrections returns the kept examples, newest first.
func (s *Store) Corrections(ctx context.Context, limit int64) ([]Correction, error) {
	if limit <= 0 {
		limit = MaxCorrections
	}
	raw, err := s.rdb.LRange(ctx, s.k.corrections(), 0, limit-1).Result()
	if err != nil {
		return nil, unavailable(err, "corrections")
	}
	out := make([]Correction, 0, len(raw))
	for _, r := range raw {
		var c Correction
		if json.Unmarshal([]byte(r), &c) == nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// RoutingStats is how the classifier fared for one OPD.
type RoutingStats struct {
	Auto      int64 // items the classifier routed to the OPD on its own
	Overruled int64 // of those, moved away by a person
}

// Rate is the share of the classifier's routings people overruled.
func (r RoutingStats) Rate() float64 {
	if r.Auto == 0 {
		return 0
	}
	return float64(r.Overruled) / float64(r.Auto)
}

// Routing returns the per-OPD classifier statistics.
func (s *Store) Routing(ctx context.Context) (map[string]RoutingStats, error) {
	m, err := s.rdb.HGetAll(ctx, s.k.routing()).Result()
	if err != nil {
		return nil, unavailable(err, "routing stats")
	}
	out := map[string]RoutingStats{}
	for k, v := range m {
		opd, what, ok := strings.Cut(k, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		st := out[opd]
		switch what {
		case "auto":
			st.Auto = n
		case "overruled":
			st.Overruled = n
		}
		out[opd] = st
	}
	return out, nil
}
