package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap/bus"
)

// ensureBusTopics creates the topics triage reads and writes: the posts
// topic with the broker's defaults (a rebuild needs only its recent posts),
// the events and dead-letter topics kept for ever (bus.EnsureKeptTopics).
func ensureBusTopics(ctx context.Context, brokers []string, partitions int) error {
	t := bus.DefaultTopics
	if err := bus.EnsureTopics(ctx, brokers, partitions, t.Posts); err != nil {
		return err
	}
	return bus.EnsureKeptTopics(ctx, brokers, partitions, t.Events, t.Dead)
}

// keptTopicsEvery is how often triage reads the kept topics' configs again
// (an operator may change them on a running cluster).
const keptTopicsEvery = 10 * time.Minute

// watchKeptTopics exports tanggap_bus_topic_kept{topic}: 1 while Kafka
// keeps every record of the topic, 0 when a setting deletes or compacts
// them (a topic created before Tanggap did, or altered since), which the
// log then names. A rebuild from Kafka restores only what the events topic
// still holds.
func watchKeptTopics(ctx context.Context, g *errgroup.Group, brokers []string, topics []string, reg prometheus.Registerer, log *slog.Logger) {
	kept := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tanggap_bus_topic_kept",
		Help: "1 while Kafka keeps every record of the topic (events, dead letters), 0 when its retention or cleanup policy deletes them; absent until read."}, []string{"topic"})
	reg.MustRegister(kept)
	g.Go(func() error {
		was := map[string]bool{}
		for {
			for _, topic := range topics {
				ok, why, err := bus.TopicKept(ctx, brokers, topic)
				if ctx.Err() != nil {
					return nil
				}
				if err != nil {
					log.Warn("topic_config_unread", "topic", topic, "err", err)
					continue
				}
				if prev, seen := was[topic]; !ok && (prev || !seen) { // once per change
					log.Warn("topic_not_kept", "topic", topic, "why", why,
						"fix", "kafka-configs.sh --bootstrap-server "+brokers[0]+" --alter --entity-type topics --entity-name "+topic+
							" --add-config cleanup.policy=delete,retention.ms=-1,retention.bytes=-1")
				}
				was[topic] = ok
				v := 0.0
				if ok {
					v = 1
				}
				kept.WithLabelValues(topic).Set(v)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(keptTopicsEvery):
			}
		}
	})
}
