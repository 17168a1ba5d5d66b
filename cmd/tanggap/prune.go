package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/store"
)

// pruneMinAge is how long ago the cutoff of a prune must be at least: the
// last quarter's reports and every citizen window stay whole, and a typo
// in the year cannot empty the queues' recent past.
const pruneMinAge = 90 * 24 * time.Hour

// pruneSummary is what `tanggap prune` prints.
type pruneSummary struct {
	EndedBefore time.Time `json:"ended_before"`
	DryRun      bool      `json:"dry_run"`
	store.PruneResult
	ItemsLeft           int64  `json:"items_left"`
	RedisUsedMemoryFrom *int64 `json:"redis_used_memory_before,omitempty"`
	RedisUsedMemoryTo   *int64 `json:"redis_used_memory_after,omitempty"`
}

// runPrune removes from Redis the items that ended before a day (see
// store.Prune), when the city's records policy lets it, after the reports
// it needs are exported (or the triage's nightly retention does, when the
// config sets retention.ended_days). The cutoff is written to the events
// topic first, for tanggap rebuild.
func runPrune(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("prune", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c common
	if err := c.register(fs, e); err != nil {
		return err
	}
	before := fs.String("ended-before", "", "remove the items that ended before the start of this day, YYYY-MM-DD in the city's time zone (at least 90 days ago)")
	dry := fs.Bool("dry-run", false, "count what would be removed and remove nothing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *before == "" {
		return fmt.Errorf("prune: --ended-before is required (YYYY-MM-DD)")
	}
	ct, err := c.open(ctx, e, !*dry) // a prune records its cutoff in Kafka
	if err != nil {
		return err
	}
	defer ct.rdb.Close()
	day, err := time.ParseInLocation(time.DateOnly, *before, ct.cfg.Location())
	if err != nil {
		return fmt.Errorf("prune: --ended-before %q: want a day as YYYY-MM-DD", *before)
	}
	if time.Since(day) < pruneMinAge {
		return fmt.Errorf("prune: --ended-before %s is less than %d days ago: the recent past stays", *before, int(pruneMinAge.Hours()/24))
	}
	sum := pruneSummary{EndedBefore: day, DryRun: *dry}
	if used, _, err := ct.st.Memory(ctx); err == nil {
		sum.RedisUsedMemoryFrom = &used
	}
	if *dry {
		sum.PruneResult, err = ct.st.Prune(ctx, day, true)
	} else {
		p := bus.NewProducer(ct.brokers, bus.DefaultTopics, bus.NewProducerMetrics(prometheus.NewRegistry()))
		sum.PruneResult, err = markAndPrune(ctx, ct.st, p.PublishPrune, day, time.Now())
		p.Close()
	}
	if err != nil {
		return err
	}
	if sum.ItemsLeft, err = ct.st.ItemCount(ctx); err != nil {
		return err
	}
	if used, _, err := ct.st.Memory(ctx); err == nil && sum.RedisUsedMemoryFrom != nil {
		sum.RedisUsedMemoryTo = &used
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(sum)
}

// markAndPrune writes the cutoff to the events topic (mark:
// bus.Producer.PublishPrune) and then prunes. The topic keeps what Redis is
// about to lose, so the mark goes first and a rebuild from it leaves the
// same items out (a mark whose prune then failed only leaves out items that
// had ended before it anyway). tanggap prune and the nightly retention
// both prune so.
func markAndPrune(ctx context.Context, st *store.Store, mark func(ctx context.Context, before, at time.Time) error, cutoff, now time.Time) (store.PruneResult, error) {
	if err := mark(ctx, cutoff, now); err != nil {
		return store.PruneResult{}, fmt.Errorf("prune: record the cutoff on the events topic: %w", err)
	}
	return st.Prune(ctx, cutoff, false)
}
