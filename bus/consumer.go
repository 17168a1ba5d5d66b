package bus

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
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

// BatchHandler processes records fetched together (from any partitions,
// each partition's records in offset order) and returns one error per
// record, with the meaning of Handler's: nil is done, EINVALID goes to the
// dead-letter topic, anything else is retried. The consumer walks the
// results in order: everything before the first retryable error is
// dead-lettered or done and is committed; that record and every later one
// are handed over again after a backoff (so a later record may be handled
// twice: handlers are idempotent).
type BatchHandler func(ctx context.Context, msgs []kafka.Message) []error

// errNotTried marks the records a sequential handler did not reach.
var errNotTried = errors.New("bus: not tried: an earlier record of the batch failed")

// sequential adapts a Handler: records one after the other, stopping at the
// first retryable error.
func sequential(h Handler) BatchHandler {
	return func(ctx context.Context, msgs []kafka.Message) []error {
		errs := make([]error, len(msgs))
		for i, m := range msgs {
			errs[i] = h(ctx, m)
			if errs[i] != nil && tanggap.ErrorCode(errs[i]) != tanggap.EINVALID {
				for j := i + 1; j < len(msgs); j++ {
					errs[j] = errNotTried
				}
				break
			}
		}
		return errs
	}
}

// ConsumerMetrics are the consumer's Prometheus metrics, shared by the
// group members of one process.
type ConsumerMetrics struct {
	Lag         prometheus.Gauge // the sum of the members' lags
	DeadLetters *prometheus.CounterVec
	Retries     prometheus.Counter
	Replayed    prometheus.Counter
	ResumeGaps  *prometheus.CounterVec // partitions a consumer with Positions could not resume where it had stopped, by reason

	lagMu sync.Mutex
	lags  map[*Consumer]int64
}

// setLag records member c's lag (lag < 0: c stopped) and sets Lag to the
// sum over the running members.
func (m *ConsumerMetrics) setLag(c *Consumer, lag int64) {
	m.lagMu.Lock()
	defer m.lagMu.Unlock()
	if m.lags == nil {
		m.lags = make(map[*Consumer]int64)
	}
	if lag < 0 {
		delete(m.lags, c)
	} else {
		m.lags[c] = lag
	}
	var sum int64
	for _, l := range m.lags {
		sum += l
	}
	m.Lag.Set(float64(sum))
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
		Replayed:    prometheus.NewCounter(prometheus.CounterOpts{Name: p + "replayed_total", Help: "Records handled again because the store restarted (its epoch changed) and may have lost its last writes."}),
		ResumeGaps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: p + "resume_gaps_total",
			Help: "Partitions where the group, its committed offsets gone, could not start where it had recorded it stopped, by reason (expired: the topic no longer holds the records after that position; ahead: the position is past the topic's end)."}, []string{"reason"}),
	}
	for _, r := range []string{GapExpired, GapAhead} {
		m.ResumeGaps.WithLabelValues(r)
	}
	reg.MustRegister(m.Lag, m.DeadLetters, m.Retries, m.Replayed, m.ResumeGaps)
	return m
}

// Consumer reads a topic as a member of a consumer group.
type Consumer struct {
	rcfg      kafka.ReaderConfig
	r         *kafka.Reader // from Run on
	positions Positions
	fromNow   bool
	dead      *Producer
	log       *slog.Logger
	m         *ConsumerMetrics
	handler   BatchHandler
	maxBatch  int

	epoch     func(context.Context) (string, error)
	lastEpoch string
	recent    []handled // records handled in the last ReplayWindow of activity
}

type handled struct {
	at time.Time
	m  kafka.Message
}

// ReplayWindow is how much of its latest work a consumer hands over again
// when the store's epoch changes (ConsumerConfig.Epoch). A redis-server
// with AOF everysec that is killed loses at most about 2 s of writes it
// had acknowledged (its write to the file may be postponed that long while
// an fsync is slow); the window leaves a margin.
const ReplayWindow = 5 * time.Second

// replayCap bounds the records kept for a replay (5 s at 10,000/s).
const replayCap = 50000

// ConsumerConfig configures a consumer.
type ConsumerConfig struct {
	Brokers []string
	Group   string
	Topic   string
	// MaxBatch is the most records handed to the handler at once (default
	// 500). A batch is what is already fetched when the handler is free:
	// one record when the topic is quiet, more under load, never a wait.
	MaxBatch int
	// Epoch, when set, names the store's current incarnation (store.Epoch:
	// the redis-server's run id). It is read before each batch; when it
	// changed, the store may have lost writes it had acknowledged while
	// their offsets were committed, so the records handled in the last
	// ReplayWindow of activity are handed to the handler again (handlers
	// are idempotent) with the batch.
	Epoch func(context.Context) (string, error)
	// FromNow makes a group that has no committed offsets yet start at the
	// end of the topic instead of its start: for a consumer of the events
	// topic that must not act on the history from before it was turned on
	// (the webhooks). Kafka also forgets a group's offsets once it has had
	// no member for a while (offsets.retention.minutes, 7 days by
	// default): without Positions such a group starts at the end again
	// and silently skips what came meanwhile.
	FromNow bool
	// Positions, when set, records outside Kafka where the group stands in
	// each partition, after every finished batch. Before joining, the
	// consumer commits, for each partition the group has no committed
	// offset on, where it must start: the recorded position (after the
	// offsets expired), the partition's start when it was created since
	// (the other partitions are recorded), and only on the very first
	// start (nothing committed, nothing recorded) the start FromNow says.
	// A recorded position the topic no longer holds is counted in
	// ResumeGaps and logged (see resume).
	Positions Positions
}

// NewConsumer returns a member of a consumer group (it joins in Run) with a
// handler of one record at a time.
func NewConsumer(cfg ConsumerConfig, h Handler, dead *Producer, log *slog.Logger, m *ConsumerMetrics) *Consumer {
	return NewBatchConsumer(cfg, sequential(h), dead, log, m)
}

// NewBatchConsumer returns a member of a consumer group (it joins in Run)
// with a handler of batches.
// Offsets are committed every 200 ms, but only ever for records the handler
// finished (or dead-lettered), so delivery is at least once; a crash
// redelivers at most the last interval and the batch in flight.
func NewBatchConsumer(cfg ConsumerConfig, h BatchHandler, dead *Producer, log *slog.Logger, m *ConsumerMetrics) *Consumer {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 500
	}
	// A partition the group has no committed offset on when the reader is
	// assigned it starts here. With Positions (resume committed a start on
	// every other) that is one resume could not commit on because the
	// group had a member, whose records are all history when that member
	// was never handed one there, or one created while the group runs,
	// whose records before the reader is assigned it are then not handed
	// over: FromNow keeps the end, as the lesser harm.
	start := kafka.FirstOffset
	if cfg.FromNow {
		start = kafka.LastOffset
	}
	return &Consumer{
		// The reader joins the group as soon as it exists: Run makes it,
		// after resume.
		rcfg: kafka.ReaderConfig{
			Brokers:           cfg.Brokers,
			GroupID:           cfg.Group,
			Topic:             cfg.Topic,
			MinBytes:          1,
			MaxBytes:          4 << 20,
			MaxWait:           100 * time.Millisecond,
			ReadBatchTimeout:  time.Second,
			CommitInterval:    200 * time.Millisecond,
			StartOffset:       start,
			QueueCapacity:     1000,
			HeartbeatInterval: time.Second,
			SessionTimeout:    10 * time.Second,
			RebalanceTimeout:  10 * time.Second,
			JoinGroupBackoff:  500 * time.Millisecond,
		},
		positions: cfg.Positions,
		fromNow:   cfg.FromNow,
		dead:      dead,
		log:       log,
		m:         m,
		handler:   h,
		maxBatch:  cfg.MaxBatch,
		epoch:     cfg.Epoch,
	}
}

// Run joins the group and consumes until ctx ends, then closes the reader
// (which commits the offsets of every finished record). With Positions, it
// first resumes (see resume), trying again until that succeeds: the group
// is not joined before, as joining without a committed offset would start
// where ConsumerConfig says. When ctx ends, the batch in flight is
// finished (handled, dead-lettered, committed) if that takes less than
// drainTimeout and needs no retry; records fetched but not finished are not
// committed, and the group delivers them again.
func (c *Consumer) Run(ctx context.Context) error {
	if c.positions != nil {
		for backoff := time.Second; ; backoff = min(2*backoff, 30*time.Second) {
			err := c.resume(ctx)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			c.log.Warn("consumer_resume_failed", "err", err, "group", c.rcfg.GroupID, "topic", c.rcfg.Topic, "backoff", backoff)
			if !sleep(ctx, backoff) {
				return nil
			}
		}
	}
	c.r = kafka.NewReader(c.rcfg)
	defer c.r.Close()
	go c.watchLag(ctx)
	fetched := make(chan kafka.Message, c.maxBatch)
	fctx, stopFetch := context.WithCancel(ctx)
	fetchDone := make(chan struct{})
	go func() {
		defer close(fetchDone)
		c.fetch(fctx, fetched)
	}()
	defer func() {
		stopFetch()
		<-fetchDone
	}()
	batch := make([]kafka.Message, 0, c.maxBatch)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return nil
		case m := <-fetched:
			batch = append(batch, m)
		}
	more:
		for len(batch) < c.maxBatch {
			select {
			case m := <-fetched:
				batch = append(batch, m)
			default:
				break more
			}
		}
		dctx, cancel := drainContext(ctx, drainTimeout)
		ok, replayed := c.process(ctx, dctx, batch)
		if ok {
			if err := c.r.CommitMessages(dctx, batch...); err != nil && dctx.Err() == nil {
				c.log.Warn("kafka_commit_failed", "err", err, "records", len(batch))
			}
			c.record(dctx, batch)
			c.remember(append(replayed, batch...))
		}
		cancel()
		if !ok || ctx.Err() != nil {
			return nil
		}
	}
}

// replay returns the recently handled records when the store's epoch
// changed since it was last read (see ConsumerConfig.Epoch), and nothing
// otherwise. It is read before every attempt at a batch, retries included,
// so a restart during an outage is seen before the batch in flight is
// handled again. An unreadable epoch (the store is down) changes nothing.
func (c *Consumer) replay(ctx context.Context) []kafka.Message {
	if c.epoch == nil {
		return nil
	}
	e, err := c.epoch(ctx)
	if err != nil || e == "" {
		return nil
	}
	prev := c.lastEpoch
	c.lastEpoch = e
	if prev == "" || prev == e || len(c.recent) == 0 {
		return nil
	}
	out := make([]kafka.Message, len(c.recent))
	for i, h := range c.recent {
		out[i] = h.m
	}
	c.log.Warn("store_restarted_replay", "records", len(out), "window", ReplayWindow, "epoch_was", prev, "epoch", e)
	c.m.Replayed.Add(float64(len(out)))
	c.recent = c.recent[:0]
	return out
}

// remember keeps the records of a handled batch for a replay, dropping
// those handled more than ReplayWindow before it.
func (c *Consumer) remember(batch []kafka.Message) {
	if c.epoch == nil {
		return
	}
	now := time.Now()
	for _, m := range batch {
		c.recent = append(c.recent, handled{now, m})
	}
	drop := 0
	for drop < len(c.recent) && (now.Sub(c.recent[drop].at) > ReplayWindow || len(c.recent)-drop > replayCap) {
		drop++
	}
	c.recent = append(c.recent[:0], c.recent[drop:]...)
}

// drainTimeout bounds the work on the batch in flight after shutdown began.
const drainTimeout = 10 * time.Second

// drainContext is a context that ends grace after ctx does: the I/O of a
// batch in flight is not cut off by a shutdown.
func drainContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	d, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-d.Done():
		}
	})
	return d, func() {
		stop()
		cancel()
	}
}

// fetch feeds the records the reader fetched to out until ctx ends.
func (c *Consumer) fetch(ctx context.Context, out chan<- kafka.Message) {
	for {
		m, err := c.r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.log.Warn("kafka_fetch_failed", "err", err)
			if !sleep(ctx, time.Second) {
				return
			}
			continue
		}
		select {
		case out <- m:
		case <-ctx.Done():
			return
		}
	}
}

// process handles a batch until every record succeeded or was
// dead-lettered; it returns false when ctx ended before (the batch stays
// uncommitted). The handler and the dead-letter writes run under dctx, so
// that a shutdown lets them finish; retries stop at shutdown. Before each
// attempt, records to replay (see replay) are put in front; process
// returns those it replayed.
func (c *Consumer) process(ctx, dctx context.Context, batch []kafka.Message) (bool, []kafka.Message) {
	backoff := 50 * time.Millisecond
	pending := batch
	var replayed []kafka.Message
	for len(pending) > 0 {
		if r := c.replay(dctx); len(r) > 0 {
			replayed = append(replayed, r...)
			pending = append(r, pending...)
		}
		errs := c.handler(dctx, pending)
		if dctx.Err() != nil {
			return false, replayed
		}
		for len(errs) < len(pending) {
			errs = append(errs, errNotTried)
		}
		retry := -1
		for i, m := range pending {
			err := errs[i]
			if err == nil {
				continue
			}
			if tanggap.ErrorCode(err) != tanggap.EINVALID {
				retry = i
				c.m.Retries.Inc()
				c.log.Warn("record_retry", "err", err, "partition", m.Partition, "offset", m.Offset, "records", len(pending)-i, "backoff", backoff)
				break
			}
			if !c.deadLetter(ctx, dctx, m, err) {
				return false, replayed
			}
		}
		if retry < 0 {
			return true, replayed
		}
		if !sleep(ctx, backoff+time.Duration(rand.Int64N(int64(backoff)/2+1))) {
			return false, replayed
		}
		backoff = min(backoff*2, 10*time.Second)
		pending = pending[retry:]
	}
	return true, replayed
}

// deadLetter sends a record that can never be processed to the dead-letter
// topic, retrying until Kafka took it; false when ctx ended first.
func (c *Consumer) deadLetter(ctx, dctx context.Context, m kafka.Message, err error) bool {
	reason := reasonOf(err)
	for {
		derr := c.dead.DeadLetter(dctx, m, err.Error())
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
	defer c.m.setLag(c, -1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.m.setLag(c, c.r.Stats().Lag)
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
