package main

import (
	"context"
	"encoding/json"
	"flag"

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
func runRebuild(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("rebuild", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c common
	c.register(fs, e)
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
	Events        int `json:"events"`
	Applied       int `json:"events_applied"`
	Skipped       int `json:"events_skipped"`
	Gaps          int `json:"version_gaps"`
	Posts         int `json:"posts"`
	PostsIngested int `json:"posts_ingested"`
	Unreadable    int `json:"unreadable_records"`
}

func rebuild(ctx context.Context, brokers []string, topics bus.Topics, st *store.Store, tr *triage.Triage) (rebuildSummary, error) {
	var sum rebuildSummary
	var evs []tanggap.Event
	err := bus.ReadAll(ctx, brokers, topics.Events, func(m kafka.Message) error {
		env, err := bus.Decode(m.Value)
		if err != nil || env.Event == nil {
			sum.Unreadable++
			return nil
		}
		evs = append(evs, *env.Event)
		return nil
	})
	if err != nil {
		return sum, err
	}
	sum.Events = len(evs)
	res, err := st.Restore(ctx, evs)
	if err != nil {
		return sum, err
	}
	sum.Applied, sum.Skipped, sum.Gaps = res.Applied, res.Skipped, res.Gaps
	err = bus.ReadAll(ctx, brokers, topics.Posts, func(m kafka.Message) error {
		env, err := bus.Decode(m.Value)
		if err != nil || env.Post == nil {
			sum.Unreadable++
			return nil
		}
		sum.Posts++
		p := *env.Post
		p.Sanitize()
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
