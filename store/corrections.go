package store

import (
	"context"
	"encoding/json"
	"errors"
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
	At            time.Time    `json:"at"`
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
	opd := ev.Set["opd"]
	return ev.Action == "ingest" && ev.Set["status"] == string(tanggap.StatusAssigned) && opd != "" && opd == ev.Set["classifier_opd"], nil
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
