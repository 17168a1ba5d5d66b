package main

import (
	"context"
	"encoding/json"
	"flag"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/triage"
	"github.com/tanggap/tanggap/workflow"
)

// runRebuild reconstructs the Redis state from Kafka: the events topic
// restores every item as it was changed (statuses, clocks, history), then
// the posts topic re-ingests any post whose events never reached Kafka.
// Both steps are idempotent: running it on a live state changes nothing.
// What tanggap prune removed stays out: the latest prune mark on the events
// topic is the cutoff the restore judges each item by.
func runRebuild(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("rebuild", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c common
	if err := c.register(fs, e); err != nil {
		return err
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log := c.logger(e.stderr)
	ct, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer ct.rdb.Close()
	cfg, brokers, st := ct.cfg, ct.brokers, ct.st
	clocks, err := workflow.NewClocks(cfg, e.getenv("TANGGAP_HOLIDAYS"))
	if err != nil {
		return err
	}
	cls, err := newClassifier(cfg, log)
	if err != nil {
		return err
	}
	tr := triage.New(cfg, clocks, cls, st, triage.NewMetrics(prometheus.NewRegistry()), log, nil)
	sum, err := rebuild(ctx, brokers, bus.DefaultTopics, st, tr)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	return enc.Encode(sum)
}

// rebuildSummary is what a rebuild did.
type rebuildSummary struct {
	Events        int        `json:"events"`
	Applied       int        `json:"events_applied"`
	Skipped       int        `json:"events_skipped"`
	Gaps          int        `json:"version_gaps"`
	PrunedBefore  *time.Time `json:"pruned_before,omitempty"` // the latest prune's cutoff on the events topic
	ItemsPruned   int        `json:"items_pruned"`            // restored and removed again: they ended before it
	Posts         int        `json:"posts"`
	PostsIngested int        `json:"posts_ingested"`
	PostsPruned   int        `json:"posts_pruned"` // posts from before the cutoff whose item was pruned: not ingested again
	Unreadable    int        `json:"unreadable_records"`
	// What the events topic still held: its first event, and whether Kafka
	// keeps every record of it (when not, why: what it deleted is not
	// rebuilt; unknown when its config could not be read).
	FirstEventAt *time.Time `json:"first_event_at,omitempty"`
	EventsKept   string     `json:"events_topic_kept"` // yes, no or unknown
	NotKeptWhy   string     `json:"events_topic_not_kept_why,omitempty"`
}

func rebuild(ctx context.Context, brokers []string, topics bus.Topics, st *store.Store, tr *triage.Triage) (rebuildSummary, error) {
	var sum rebuildSummary
	var evs []tanggap.Event
	var cutoff time.Time
	err := bus.ReadAll(ctx, brokers, topics.Events, func(m kafka.Message) error {
		env, err := bus.Decode(m.Value)
		switch {
		case err == nil && env.Prune != nil:
			if env.Prune.Before.After(cutoff) {
				cutoff = env.Prune.Before
			}
		case err == nil && env.Event != nil:
			evs = append(evs, *env.Event)
		default:
			sum.Unreadable++
		}
		return nil
	})
	if err != nil {
		return sum, err
	}
	sum.Events = len(evs)
	if !cutoff.IsZero() {
		sum.PrunedBefore = &cutoff
	}
	for _, ev := range evs {
		if sum.FirstEventAt == nil || ev.At.Before(*sum.FirstEventAt) {
			sum.FirstEventAt = &ev.At
		}
	}
	switch kept, why, err := bus.TopicKept(ctx, brokers, topics.Events); {
	case err != nil:
		sum.EventsKept, sum.NotKeptWhy = "unknown", err.Error()
	case kept:
		sum.EventsKept = "yes"
	default:
		sum.EventsKept, sum.NotKeptWhy = "no", why
	}
	res, err := st.Restore(ctx, evs, cutoff)
	if err != nil {
		return sum, err
	}
	sum.Applied, sum.Skipped, sum.Gaps, sum.ItemsPruned = res.Applied, res.Skipped, res.Gaps, res.Pruned
	err = bus.ReadAll(ctx, brokers, topics.Posts, func(m kafka.Message) error {
		env, err := bus.Decode(m.Value)
		if err != nil || env.Post == nil {
			sum.Unreadable++
			return nil
		}
		sum.Posts++
		p := *env.Post
		p.Sanitize()
		if p.CreatedAt.Before(cutoff) {
			// The posts topic is read for posts whose events never reached
			// Kafka (the relay's last seconds); one from before the cutoff
			// without its item is one the prune removed.
			switch _, err := st.Item(ctx, tanggap.ItemID(p.Platform, p.ID)); {
			case tanggap.ErrorCode(err) == tanggap.ENOTFOUND:
				sum.PostsPruned++
				return nil
			case err != nil:
				return err
			}
		}
		r, err := st.Ingest(ctx, tr.Decide(p))
		if err != nil {
			return err
		}
		if r != store.Duplicate {
			sum.PostsIngested++
		}
		return nil
	})
	return sum, err
}
