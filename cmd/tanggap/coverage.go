package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/web"
)

// coverageBanner reads collectors' gaps for the web banner.
func coverageBanner(st *store.Store) func(ctx context.Context) []web.Gap {
	return func(ctx context.Context) []web.Gap {
		cs, err := st.CoverageGaps(ctx, 3*time.Minute)
		if err != nil {
			return nil
		}
		out := make([]web.Gap, len(cs))
		for i, c := range cs {
			out[i] = web.Gap{Platform: c.Platform, Account: c.Account, Since: c.GapSince, Reason: c.GapReason}
		}
		return out
	}
}

// reportCoverage copies the runners' coverage into Redis every interval,
// so the web UI (another process) can show the gaps.
func reportCoverage(ctx context.Context, st *store.Store, runners []*collectors.Runner, every time.Duration, log *slog.Logger) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		var cs []store.Coverage
		for _, r := range runners {
			for _, c := range r.Coverage() {
				cs = append(cs, store.Coverage{Platform: c.Platform, Account: c.Account, LastSuccess: c.LastSuccess, GapReason: c.GapReason, GapSince: c.GapSince})
			}
		}
		if err := st.PutCoverage(ctx, cs); err != nil && ctx.Err() == nil {
			log.Warn("coverage_report_failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
