package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
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
	if err := c.register(fs, e); err != nil {
		return err
	}
	metricsAddr := fs.String("metrics-addr", envOr(e, "TANGGAP_METRICS_ADDR", ":9102"), "address of /metrics, /healthz, /readyz")
	partitions := fs.Int("partitions", 6, "partitions of the topics when this process creates them")
	consumers := fs.Int("consumers", 6, "consumer group members in this process (those beyond the posts topic's partitions stay idle)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *consumers < 1 {
		return fmt.Errorf("triage: --consumers must be at least 1, got %d", *consumers)
	}
	// Kafka refuses a topic without partitions for good; checked here, it
	// is not retried for seconds as if the broker were away.
	if *partitions < 1 {
		return fmt.Errorf("triage: --partitions must be at least 1, got %d", *partitions)
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
	pipe := newPipeline(cfg, st, clocks, cls, brokers, bus.DefaultTopics, pipelineOptions{group: "triage", consumers: *consumers}, reg, log)
	if err := ensureBusTopics(ctx, brokers, *partitions); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *metricsAddr)
	if err != nil {
		return fmt.Errorf("triage metrics: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveHTTP(gctx, ln, metricsHandler(reg, st.Ping), log) })
	g.Go(func() error { return pipe.run(gctx) })
	housekeeping(gctx, g, cfg, st, clocks, pipe.producer, reg, log)
	dg, err := newDigest(e, cfg, st, clocks, reg, log)
	if err != nil {
		return err
	}
	if dg != nil {
		g.Go(func() error { return dg.Run(gctx) })
	}
	hooks, closeHooks, err := newWebhooks(ctx, e, brokers, st, reg, pipe.producerMetrics, log)
	if err != nil {
		return err
	}
	defer closeHooks()
	kept := []string{bus.DefaultTopics.Events, bus.DefaultTopics.Dead}
	if hooks != nil {
		g.Go(func() error { return hooks.Run(gctx) })
		kept = append(kept, webhookTopic)
	}
	watchKeptTopics(gctx, g, brokers, kept, reg, log)
	log.Info("triage_started", "brokers", brokers, "group", "triage")
	return g.Wait()
}

// pipeline is the triage side: the consumer group's members in this
// process and the event relay.
type pipeline struct {
	metrics         *triage.Metrics
	producerMetrics *bus.ProducerMetrics
	producer        *bus.Producer
	consumers       []*bus.Consumer
	relay           *triage.Relay
}

// pipelineOptions shape a pipeline. One process runs several members of
// the group because a member handles its batches one at a time (decide,
// then Redis, then the commit) and leaves the CPUs idle while it waits: in
// `tanggap bench` runs made together on the 2-core test machine, one
// member stored 3,900-4,700 posts/s, two 5,300-5,900 and six 5,900-6,000.
type pipelineOptions struct {
	group     string
	consumers int    // group members in this process, at least one
	maxBatch  int    // records handled at once; 0: triageBatch
	relay     string // the relay's name in the outbox group; "": host-pid
	noCluster bool   // no near-duplicate clustering (bench --no-cluster)
}

// triageBatch is the most records a triage member handles at once. A
// batch is only what was fetched while the member was busy (one record at
// a time when the topic is quiet), so this bounds the batches of a
// backlog, and a backlog is where it pays: a batch reads each
// near-duplicate slot it touches once, whatever its size. In
// 600,000-post `tanggap bench` runs on the 2-core test machine, batches
// of 500 made 144,000 slot reads and stored 5,100-5,200 posts/s; of
// 2,000, 45,000 reads and 5,900-6,400/s; of 4,000, 6,100/s.
const triageBatch = 2000

func newPipeline(cfg *config.Config, st *store.Store, clocks *workflow.Clocks, cls triage.Classifier, brokers []string, topics bus.Topics, o pipelineOptions, reg prometheus.Registerer, log *slog.Logger) *pipeline {
	pm := bus.NewProducerMetrics(reg)
	prod := bus.NewProducer(brokers, topics, pm)
	m := triage.NewMetrics(reg)
	t := triage.New(cfg, clocks, cls, st, m, log, nil)
	if !o.noCluster {
		clustering(t, cls)
	}
	t.ResumeHeld(workflow.New(st, cfg, clocks, nil))
	if o.relay == "" {
		o.relay = processName()
	}
	p := &pipeline{
		producerMetrics: pm,
		metrics:         m,
		producer:        prod,
		relay:           &triage.Relay{Outbox: st, Pub: prod, Log: log, Consumer: o.relay},
	}
	cm := bus.NewConsumerMetrics(reg)
	if o.maxBatch <= 0 {
		o.maxBatch = triageBatch
	}
	for range max(o.consumers, 1) {
		p.consumers = append(p.consumers, bus.NewBatchConsumer(bus.ConsumerConfig{Brokers: brokers, Group: o.group, Topic: topics.Posts, MaxBatch: o.maxBatch, Epoch: st.Epoch},
			t.HandleBatch, prod, log, cm))
	}
	return p
}

// run consumes and relays until ctx ends, then closes the producer.
func (p *pipeline) run(ctx context.Context) error {
	defer p.producer.Close()
	g, gctx := errgroup.WithContext(ctx)
	for _, c := range p.consumers {
		g.Go(func() error { return c.Run(gctx) })
	}
	g.Go(func() error { return p.relay.Run(gctx) })
	return g.Wait()
}

// housekeeping starts what triage runs besides the pipeline: the
// automatic closing rounds and, when the config sets one, the nightly
// retention (its cutoffs go to the events topic through prod).
func housekeeping(ctx context.Context, g *errgroup.Group, cfg *config.Config, st *store.Store, clocks *workflow.Clocks, prod *bus.Producer, reg prometheus.Registerer, log *slog.Logger) {
	acm := newAutoCloseMetrics(reg)
	g.Go(func() error { return runAutoClose(ctx, workflow.New(st, cfg, clocks, nil), st, time.Minute, acm, log) })
	rm := newRetentionMetrics(reg)
	if days := cfg.Retention.EndedDays; days > 0 {
		r := &retention{st: st, mark: prod.PublishPrune, days: days, loc: cfg.Location(), owner: processName(), now: time.Now, m: rm, log: log}
		g.Go(func() error { return r.run(ctx, 15*time.Minute) })
	}
}

// autoCloseMetrics count what the automatic closing rounds do, by reason:
// citizen_window (resolved items whose citizen window passed) and
// hold_expired (holds past the city's hold_expire_hk).
type autoCloseMetrics struct {
	closed, errors *prometheus.CounterVec
}

func newAutoCloseMetrics(reg prometheus.Registerer) *autoCloseMetrics {
	m := &autoCloseMetrics{
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tanggap_workflow_autoclosed_total",
			Help: "Items the system closed by itself, by reason (citizen_window, hold_expired)."}, []string{"reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tanggap_workflow_autoclose_errors_total",
			Help: "Automatic closing rounds that failed, by reason; the next round (a minute later) tries again."}, []string{"reason"}),
	}
	for _, r := range []string{"citizen_window", "hold_expired"} {
		m.closed.WithLabelValues(r)
		m.errors.WithLabelValues(r)
	}
	reg.MustRegister(m.closed, m.errors)
	return m
}

// runAutoClose closes, every interval, resolved items whose citizen window
// has passed and holds past the city's hold_expire_hk. Several processes
// may run it: each close is compare-and-set.
func runAutoClose(ctx context.Context, svc *workflow.Service, st *store.Store, every time.Duration, m *autoCloseMetrics, log *slog.Logger) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for _, round := range []struct {
			reason string
			run    func(context.Context) (int, error)
		}{
			{"citizen_window", func(ctx context.Context) (int, error) { return svc.AutoClose(ctx, st) }},
			{"hold_expired", func(ctx context.Context) (int, error) { return svc.ExpireHeld(ctx, st) }},
		} {
			n, err := round.run(ctx)
			m.closed.WithLabelValues(round.reason).Add(float64(n))
			if err != nil && ctx.Err() == nil {
				m.errors.WithLabelValues(round.reason).Inc()
				log.Warn("autoclose_failed", "reason", round.reason, "err", err)
			}
			if n > 0 {
				log.Info("autoclosed", "reason", round.reason, "items", n)
			}
		}
	}
}
