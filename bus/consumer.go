package bus

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/tanggap/tanggap"
)

// Handler processes one record. Returning nil lets the offset be committed.
// An error with code EINVALID means the record can never be processed: it
// goes to the dead-letter topic and is committed. Any other error is
// retried with backoff, and the offset does not move.
type Handler func(ctx context.Context, m kafka.Message) error

// ConsumerMetrics are the consumer's Prometheus metrics.
type ConsumerMetrics struct {
	Lag         prometheus.Gauge
	DeadLetters *prometheus.CounterVec
	Retries     prometheus.Counter
}

// NewConsumerMetrics registers the triage consumer's metrics on reg.
func NewConsumerMetrics(reg prometheus.Registerer) *ConsumerMetrics {
	return NewConsumerMetricsFor(reg, "triage")
}

// NewConsumerMetricsFor registers the metrics of one consuming component
// (triage, webhook): tanggap_<component>_consumer_lag and so on.
func NewConsumerMetricsFor(reg prometheus.Registerer, component string) *ConsumerMetrics {
	p := "tanggap_" + component + "_"
	m := &ConsumerMetrics{
		Lag:         prometheus.NewGauge(prometheus.GaugeOpts{Name: p + "consumer_lag", Help: "Messages behind the end of the consumed topic (kafka-go reader stats)."}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Name: p + "dead_letters_total", Help: "Records sent to the dead-letter topic, by reason."}, []string{"reason"}),
		Retries:     prometheus.NewCounter(prometheus.CounterOpts{Name: p + "retries_total", Help: "Handler failures that will be retried."}),
	}
	reg.MustRegister(m.Lag, m.DeadLetters, m.Retries)
	return m
}

// Consumer reads a topic as a member of a consumer group.
type Consumer struct {
	r       *kafka.Reader
	dead    *Producer
	log     *slog.Logger
	m       *ConsumerMetrics
	handler Handler
}

// ConsumerConfig configures a consumer.
type ConsumerConfig struct {
	Brokers []string
	Group   string
	Topic   string
}

// NewConsumer joins a consumer group. Offsets are committed every 200 ms,
// but only ever for records the handler finished (or dead-lettered), so
// delivery is at least once; a crash redelivers at most the last interval.
func NewConsumer(cfg ConsumerConfig, h Handler, dead *Producer, log *slog.Logger, m *ConsumerMetrics) *Consumer {
	return &Consumer{
		r: kafka.NewReader(kafka.ReaderConfig{
			Brokers:           cfg.Brokers,
			GroupID:           cfg.Group,
			Topic:             cfg.Topic,
			MinBytes:          1,
			MaxBytes:          4 << 20,
			MaxWait:           100 * time.Millisecond,
			ReadBatchTimeout:  time.Second,
			CommitInterval:    200 * time.Millisecond,
			StartOffset:       kafka.FirstOffset,
			QueueCapacity:     1000,
			HeartbeatInterval: time.Second,
			SessionTimeout:    10 * time.Second,
			RebalanceTimeout:  10 * time.Second,
			JoinGroupBackoff:  500 * time.Millisecond,
		}),
		dead:    dead,
		log:     log,
		m:       m,
		handler: h,
	}
}

// Run consumes until ctx ends, then closes the reader (which commits the
// offsets of every finished record).
func (c *Consumer) Run(ctx context.Context) error {
	defer c.r.Close()
	go c.watchLag(ctx)
	for {
		m, err := c.r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			c.log.Warn("kafka_fetch_failed", "err", err)
			if !sleep(ctx, time.Second) {
				return nil
			}
			continue
		}
		if !c.process(ctx, m) {
			return nil
		}
		if err := c.r.CommitMessages(ctx, m); err != nil && ctx.Err() == nil {
			c.log.Warn("kafka_commit_failed", "err", err, "partition", m.Partition, "offset", m.Offset)
		}
	}
}

// process handles one record until it succeeded or was dead-lettered; it
// returns false when ctx ended first (the record stays uncommitted).
func (c *Consumer) process(ctx context.Context, m kafka.Message) bool {
	backoff := 50 * time.Millisecond
	for {
		err := c.handler(ctx, m)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if tanggap.ErrorCode(err) == tanggap.EINVALID {
			reason := reasonOf(err)
			for {
				derr := c.dead.DeadLetter(ctx, m, err.Error())
				if derr == nil {
					break
				}
				c.log.Error("dead_letter_failed", "err", derr, "partition", m.Partition, "offset", m.Offset)
				if !sleep(ctx, time.Second) {
					return false
				}
			}
			c.m.DeadLetters.WithLabelValues(reason).Inc()
			c.log.Warn("record_dead_lettered", "reason", reason, "err", err, "partition", m.Partition, "offset", m.Offset)
			return true
		}
		c.m.Retries.Inc()
		c.log.Warn("record_retry", "err", err, "partition", m.Partition, "offset", m.Offset, "backoff", backoff)
		if !sleep(ctx, backoff+time.Duration(rand.Int64N(int64(backoff)/2+1))) {
			return false
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// reasonOf gives a bounded metric label for a dead-letter cause.
func reasonOf(err error) string {
	var r DeadReason
	if errors.As(err, &r) {
		return string(r)
	}
	return "invalid"
}

// watchLag is the one place that reads the reader's stats (kafka-go resets
// its counters on every Stats call).
func (c *Consumer) watchLag(ctx context.Context) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.m.Lag.Set(float64(c.r.Stats().Lag))
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
