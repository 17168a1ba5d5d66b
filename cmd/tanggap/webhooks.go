package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/webhook"
)

// webhookTopic is where deliveries that failed for good are dead-lettered,
// apart from the posts' dead letters (`tanggap dlq -webhooks` lists them
// and delivers them again).
const webhookTopic = "tanggap.webhooks.dlq"

// newWebhooks returns the webhook consumer when TANGGAP_WEBHOOKS names a
// config file, or nil. pos keeps the group's positions (the city's store).
func newWebhooks(ctx context.Context, e env, brokers []string, pos bus.Positions, reg prometheus.Registerer, pm *bus.ProducerMetrics, log *slog.Logger) (*bus.Consumer, func(), error) {
	cfg, err := webhookConfig(e)
	if err != nil || cfg == nil {
		return nil, func() {}, err
	}
	if err := bus.EnsureKeptTopics(ctx, brokers, 1, webhookTopic); err != nil {
		return nil, nil, err
	}
	dead := bus.NewProducer(brokers, bus.Topics{Dead: webhookTopic}, pm)
	d, err := webhook.New(*cfg, webhook.Options{Getenv: e.getenv, Dead: dead, Registry: reg, Log: log})
	if err != nil {
		dead.Close()
		return nil, nil, err
	}
	c := webhook.NewConsumer(brokers, bus.DefaultTopics, d, pos, dead, log, bus.NewConsumerMetricsFor(reg, "webhook"))
	return c, func() { dead.Close() }, nil
}

// webhookConfig reads the file TANGGAP_WEBHOOKS names; nil when it names none.
func webhookConfig(e env) (*webhook.Config, error) {
	path := e.getenv("TANGGAP_WEBHOOKS")
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := webhook.ParseConfig(path, b)
	if err != nil {
		return nil, err
	}
	return &cfg, nil
}
