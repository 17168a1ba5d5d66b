package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/triage"
	"github.com/tanggap/tanggap/workflow"
)

func runTriage(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("triage", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c common
	c.register(fs, e)
	metricsAddr := fs.String("metrics-addr", envOr(e, "TANGGAP_METRICS_ADDR", ":9102"), "address of /metrics, /healthz, /readyz")
	partitions := fs.Int("partitions", 6, "partitions of the topics when this process creates them")
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
	reg := newRegistry()
	clocks, err := workflow.NewClocks(cfg, e.getenv("TANGGAP_HOLIDAYS"))
	if err != nil {
		return err
	}
	cls, err := newClassifier(cfg, log)
	if err != nil {
		return err
	}
	pipe := newPipeline(cfg, st, clocks, cls, brokers, bus.DefaultTopics, "triage", reg, log)
	if err := bus.EnsureTopics(ctx, brokers, *partitions, bus.DefaultTopics.Posts, bus.DefaultTopics.Events, bus.DefaultTopics.Dead); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *metricsAddr)
	if err != nil {
		return fmt.Errorf("triage metrics: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveHTTP(gctx, ln, metricsHandler(reg, st.Ping), log) })
	g.Go(func() error { return pipe.run(gctx) })
	g.Go(func() error { return runAutoClose(gctx, workflow.New(st, cfg, clocks, nil), st, time.Minute, log) })
	dg, err := newDigest(e, cfg, st, clocks, reg, log)
	if err != nil {
		return err
	}
	if dg != nil {
		g.Go(func() error { return dg.Run(gctx) })
	}
	hooks, closeHooks, err := newWebhooks(ctx, e, brokers, reg, pipe.producerMetrics, log)
	if err != nil {
		return err
	}
	defer closeHooks()
	if hooks != nil {
		g.Go(func() error { return hooks.Run(gctx) })
	}
	log.Info("triage_started", "brokers", brokers, "group", "triage")
	return g.Wait()
}

// pipeline is the triage side: the consumer group and the event relay.
type pipeline struct {
	metrics         *triage.Metrics
	producerMetrics *bus.ProducerMetrics
	producer        *bus.Producer
	consumer        *bus.Consumer
	relay           *triage.Relay
}

func newPipeline(cfg *config.Config, st *store.Store, clocks *workflow.Clocks, cls triage.Classifier, brokers []string, topics bus.Topics, group string, reg prometheus.Registerer, log *slog.Logger) *pipeline {
	pm := bus.NewProducerMetrics(reg)
	prod := bus.NewProducer(brokers, topics, pm)
	m := triage.NewMetrics(reg)
	t := newTriage(cfg, clocks, cls, st, m, log)
	host, _ := os.Hostname()
	return &pipeline{
		producerMetrics: pm,
		metrics:         m,
		producer:        prod,
		consumer: bus.NewBatchConsumer(bus.ConsumerConfig{Brokers: brokers, Group: group, Topic: topics.Posts, Epoch: st.Epoch},
			t.HandleBatch, prod, log, bus.NewConsumerMetrics(reg)),
		relay: &triage.Relay{Outbox: st, Pub: prod, Log: log, Consumer: fmt.Sprintf("%s-%d", host, os.Getpid())},
	}
}

// newTriage builds the triage step the way every pipeline runs it (tanggap
// triage, dev, bench).
func newTriage(cfg *config.Config, clocks *workflow.Clocks, cls triage.Classifier, st *store.Store, m *triage.Metrics, log *slog.Logger) *triage.Triage {
	t := triage.New(cfg, clocks, cls, st, m, log, nil)
	clustering(t, cls)
	return t
}

// run consumes and relays until ctx ends, then closes the producer.
func (p *pipeline) run(ctx context.Context) error {
	defer p.producer.Close()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return p.consumer.Run(gctx) })
	g.Go(func() error { return p.relay.Run(gctx) })
	return g.Wait()
}

// runAutoClose closes resolved items whose citizen window has passed, every
// interval. Several processes may run it: each close is compare-and-set.
func runAutoClose(ctx context.Context, svc *workflow.Service, st *store.Store, every time.Duration, log *slog.Logger) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		n, err := svc.AutoClose(ctx, st)
		if err != nil && ctx.Err() == nil {
			log.Warn("autoclose_failed", "err", err)
		}
		if n > 0 {
			log.Info("autoclosed", "items", n)
		}
	}
}
