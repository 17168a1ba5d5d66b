package store

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Near-duplicates: citizens report the same fallen tree or flooded street
// on several platforms and accounts. Items with a fingerprint, an OPD and a
// place are indexed by (OPD, place) and time; triage compares a new post
// with the recent candidates there and, when similar, joins it to the
// cluster of the first report. The cluster's root counts its reporters;
// three or more make it urgent. Each member stays its own item: every
// citizen still gets an answer.

// NearWindow is how far apart in time two reports of one issue may be.
const NearWindow = 72 * time.Hour

// UrgentReporters is the reporter count from which a cluster is urgent.
const UrgentReporters = 3

// nearKey is the (OPD, place) slot of an ingest, "" when it cannot cluster.
// OPD codes and place names come from the config and the gazetteer.
func (in *Ingest) nearKey() string {
	place := in.Kelurahan
	if place == "" {
		place = in.Kecamatan
	}
	if in.Fingerprint == "" || in.OPD == "" || place == "" || !in.Queued {
		return ""
	}
	return in.OPD + "|" + place
}

// NearCandidate is a recent item of the same OPD and place.
type NearCandidate struct {
	ID          string
	ClusterID   string // "" when it is not in a cluster yet
	Fingerprint string
}

// NearCandidates lists the items of the same OPD and place within
// NearWindow of t0 (at most 200, the most recent).
func (s *Store) NearCandidates(ctx context.Context, in Ingest) ([]NearCandidate, error) {
	nk := in.nearKey()
	if nk == "" {
		return nil, nil
	}
	t0 := in.Post.CreatedAt
	ids, err := s.rdb.ZRevRangeByScore(ctx, s.k.near(nk), &redis.ZRangeBy{
		Min: strconv.FormatInt(t0.Add(-NearWindow).UnixMilli(), 10), Max: strconv.FormatInt(t0.Add(NearWindow).UnixMilli(), 10), Count: 200,
	}).Result()
	if err != nil {
		return nil, unavailable(err, "near candidates")
	}
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, s.k.item(id), "cluster_id", "fp")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, unavailable(err, "near candidates")
	}
	out := make([]NearCandidate, 0, len(ids))
	for i, id := range ids {
		v := cmds[i].Val()
		c := NearCandidate{ID: id}
		c.ClusterID, _ = v[0].(string)
		c.Fingerprint, _ = v[1].(string)
		if c.Fingerprint != "" && id != in.Post.ItemID() {
			out = append(out, c)
		}
	}
	return out, nil
}
