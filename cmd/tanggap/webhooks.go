package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/webhook"
)

// webhookTopic is where deliveries that failed for good are dead-lettered
// (kept apart from the posts' dead letters, which `tanggap dlq` replays).
const webhookTopic = "tanggap.webhooks.dlq"

// newWebhooks returns the webhook consumer when TANGGAP_WEBHOOKS names a
// config file, or nil.
func newWebhooks(ctx context.Context, e env, brokers []string, reg prometheus.Registerer, pm *bus.ProducerMetrics, log *slog.Logger) (*bus.Consumer, func(), error) {
	path := e.getenv("TANGGAP_WEBHOOKS")
	if path == "" {
		return nil, func() {}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := webhook.ParseConfig(path, b)
	if err != nil {
		return nil, nil, err
	}
	if err := bus.EnsureTopics(ctx, brokers, 1, webhookTopic); err != nil {
		return nil, nil, err
	}
	dead := bus.NewProducer(brokers, bus.Topics{Dead: webhookTopic}, pm)
	d, err := webhook.New(cfg, webhook.Options{Getenv: e.getenv, Dead: dead, Registry: reg, Log: log})
	if err != nil {
		dead.Close()
		return nil, nil, err
	}
	c := webhook.NewConsumer(brokers, bus.DefaultTopics, d, dead, log, bus.NewConsumerMetricsFor(reg, "webhook"))
	return c, func() { dead.Close() }, nil
}
