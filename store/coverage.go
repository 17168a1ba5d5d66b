package store

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/tanggap/tanggap"
)

// Coverage is whether one watched account is being seen, as the collector
// that polls it last reported (the web UI runs in another process).
type Coverage struct {
	Platform    tanggap.Platform `json:"platform"`
	Account     string           `json:"account"`
	LastSuccess time.Time        `json:"last_success"`
	GapReason   string           `json:"gap_reason,omitempty"`
	GapSince    time.Time        `json:"gap_since"`
	ReportedAt  time.Time        `json:"reported_at"`
}

// PutCoverage saves collectors' coverage reports (one field per account).
func (s *Store) PutCoverage(ctx context.Context, cs []Coverage) error {
	if len(cs) == 0 {
		return nil
	}
	vals := make([]any, 0, 2*len(cs))
	now := s.now()
	for _, c := range cs {
		c.ReportedAt = now
		b, err := json.Marshal(c)
		if err != nil {
			return tanggap.WrapCode(tanggap.EINTERNAL, err, "encode coverage")
		}
		vals = append(vals, string(c.Platform)+":"+c.Account, string(b))
	}
	return unavailable(s.rdb.HSet(ctx, s.k.coverage(), vals...).Err(), "put coverage")
}

// CoverageGaps lists accounts with a gap. A report older than stale means
// the collector itself went silent: that is a gap too ("collector_silent").
func (s *Store) CoverageGaps(ctx context.Context, stale time.Duration) ([]Coverage, error) {
	m, err := s.rdb.HGetAll(ctx, s.k.coverage()).Result()
	if err != nil {
		return nil, unavailable(err, "coverage")
	}
	now := s.now()
	var out []Coverage
	for _, v := range m {
		var c Coverage
		if json.Unmarshal([]byte(v), &c) != nil {
			continue
		}
		if c.GapReason == "" && now.Sub(c.ReportedAt) > stale {
			c.GapReason, c.GapSince = "collector_silent", c.ReportedAt
		}
		if c.GapReason != "" {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GapSince.Before(out[j].GapSince) })
	return out, nil
}
