package bus

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/tanggap/tanggap"
)

// Producer writes Tanggap records. Every write waits for the acks of all
// in-sync replicas (RequiredAcks = RequireAll), keys go through the Murmur2
// balancer (the Java client's partitioner, so other clients agree on
// partitions), and the batch timeout is a few milliseconds instead of
// kafka-go's 1 s default, which would make every synchronous write take a
// second.
type Producer struct {
	w        messageWriter
	produced *prometheus.CounterVec
	errs     *prometheus.CounterVec
	topics   Topics
}

// ProducerMetrics are the producer's Prometheus metrics.
type ProducerMetrics struct {
	Produced *prometheus.CounterVec
	Errors   *prometheus.CounterVec
}

// NewProducerMetrics registers the producer metrics on reg.
func NewProducerMetrics(reg prometheus.Registerer) *ProducerMetrics {
	m := &ProducerMetrics{
		Produced: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tanggap_bus_produced_total", Help: "Records acknowledged by Kafka, by topic."}, []string{"topic"}),
		Errors:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tanggap_bus_produce_errors_total", Help: "Records Kafka did not acknowledge, by topic."}, []string{"topic"}),
	}
	reg.MustRegister(m.Produced, m.Errors)
	return m
}

// NewProducer returns a producer for the given brokers. The topic is set per
// message, so one producer serves the posts, events and dead-letter topics.
func NewProducer(brokers []string, topics Topics, m *ProducerMetrics) *Producer {
	return &Producer{
		w: &kafka.Writer{
			Addr:         kafka.TCP(brokers...),
			Balancer:     &kafka.Murmur2Balancer{},
			RequiredAcks: kafka.RequireAll,
			BatchTimeout: 2 * time.Millisecond,
			BatchSize:    500,
			WriteTimeout: 10 * time.Second,
			MaxAttempts:  5,
			Compression:  kafka.Snappy,
		},
		produced: m.Produced,
		errs:     m.Errors,
		topics:   topics,
	}
}

// Publish sends posts to the posts topic and returns after Kafka
// acknowledged all of them (it implements collectors.Publisher).
func (p *Producer) Publish(ctx context.Context, posts []tanggap.Post) error {
	if len(posts) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(posts))
	for i := range posts {
		b, err := json.Marshal(Envelope{V: EnvelopeVersion, Type: "post", Post: &posts[i]})
		if err != nil {
			return tanggap.WrapCode(tanggap.EINVALID, err, "encode post %s", posts[i].ID)
		}
		msgs[i] = kafka.Message{Topic: p.topics.Posts, Key: PostKey(&posts[i]), Value: b, Time: posts[i].CapturedAt}
	}
	return p.write(ctx, p.topics.Posts, msgs)
}

// PublishEvents sends audit events to the events topic, keyed by item.
func (p *Producer) PublishEvents(ctx context.Context, evs []tanggap.Event) error {
	raw := make([]RawEvent, len(evs))
	for i := range evs {
		b, err := json.Marshal(&evs[i])
		if err != nil {
			return tanggap.WrapCode(tanggap.EINVALID, err, "encode event %s", evs[i].ID)
		}
		raw[i] = RawEvent{ItemID: evs[i].ItemID, At: evs[i].At, JSON: b}
	}
	return p.PublishRawEvents(ctx, raw)
}

// RawEvent is an audit event already encoded as tanggap.Event JSON (the
// Redis outbox holds them so).
type RawEvent struct {
	ItemID string
	At     time.Time
	JSON   []byte
}

// PublishRawEvents sends encoded audit events to the events topic, keyed
// by item, in the same envelope as PublishEvents, without decoding them.
func (p *Producer) PublishRawEvents(ctx context.Context, evs []RawEvent) error {
	if len(evs) == 0 {
		return nil
	}
	head := `{"v":` + strconv.Itoa(EnvelopeVersion) + `,"type":"event","event":`
	msgs := make([]kafka.Message, len(evs))
	for i, ev := range evs {
		b := make([]byte, 0, len(head)+len(ev.JSON)+1)
		b = append(append(append(b, head...), ev.JSON...), '}')
		msgs[i] = kafka.Message{Topic: p.topics.Events, Key: []byte(ev.ItemID), Value: b, Time: ev.At}
	}
	return p.write(ctx, p.topics.Events, msgs)
}

// PublishPrune writes a prune's mark to the events topic (see PruneMark)
// and returns after Kafka acknowledged it.
func (p *Producer) PublishPrune(ctx context.Context, before, at time.Time) error {
	b, err := json.Marshal(Envelope{V: EnvelopeVersion, Type: "prune", Prune: &PruneMark{Before: before.UTC(), At: at.UTC()}})
	if err != nil {
		return tanggap.WrapCode(tanggap.EINTERNAL, err, "encode prune mark")
	}
	return p.write(ctx, p.topics.Events, []kafka.Message{{Topic: p.topics.Events, Key: []byte("prune"), Value: b, Time: at}})
}

// DeadLetter sends a record that can never be processed to the dead-letter
// topic, unchanged, with the reason and its origin in headers.
func (p *Producer) DeadLetter(ctx context.Context, m kafka.Message, reason string) error {
	d := kafka.Message{
		Topic: p.topics.Dead, Key: m.Key, Value: m.Value,
		Headers: append(append([]kafka.Header(nil), m.Headers...),
			kafka.Header{Key: "tanggap.dlq.reason", Value: []byte(reason)},
			kafka.Header{Key: "tanggap.dlq.topic", Value: []byte(m.Topic)},
			kafka.Header{Key: "tanggap.dlq.partition", Value: []byte(itoa(int64(m.Partition)))},
			kafka.Header{Key: "tanggap.dlq.offset", Value: []byte(itoa(m.Offset))},
			kafka.Header{Key: "tanggap.dlq.at", Value: []byte(time.Now().UTC().Format(time.RFC3339Nano))},
		),
	}
	return p.write(ctx, p.topics.Dead, []kafka.Message{d})
}

// WriteRaw writes pre-built messages (used by the dlq replay and tests).
func (p *Producer) WriteRaw(ctx context.Context, topic string, msgs ...kafka.Message) error {
	for i := range msgs {
		msgs[i].Topic = topic
	}
	return p.write(ctx, topic, msgs)
}

// messageWriter is the part of *kafka.Writer the producer uses.
type messageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
	Close() error
}

// writeAttempts bounds the producer's own retries of a write, on top of the
// attempts kafka-go's Writer makes.
const writeAttempts = 4

// write sends msgs and waits for the acks. kafka-go's Writer retries the
// errors it deems transient, but not io.EOF (kafka-go issue #1352: the
// first request on a pooled connection to a restarted broker can fail so),
// and it gives up after its attempts while a broker restarts. So the
// messages that failed with a transient error are sent again, a few times
// with backoff, before the error is returned; only those, so a retry
// duplicates nothing that was acknowledged.
func (p *Producer) write(ctx context.Context, topic string, msgs []kafka.Message) error {
	pending := msgs
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := p.w.WriteMessages(ctx, pending...)
		if err == nil {
			p.produced.WithLabelValues(topic).Add(float64(len(pending)))
			return nil
		}
		failed := failedMessages(err, pending)
		p.produced.WithLabelValues(topic).Add(float64(len(pending) - len(failed)))
		if attempt == writeAttempts || !transient(err) || !sleep(ctx, backoff) {
			p.errs.WithLabelValues(topic).Add(float64(len(failed)))
			return tanggap.WrapCode(tanggap.EUNAVAILABLE, err, "kafka write to %s", topic)
		}
		pending, backoff = failed, backoff*2
	}
}

// failedMessages returns the messages a WriteMessages error covers: those
// with an error in kafka.WriteErrors, else all of them.
func failedMessages(err error, msgs []kafka.Message) []kafka.Message {
	var werrs kafka.WriteErrors
	if !errors.As(err, &werrs) || len(werrs) != len(msgs) {
		return msgs
	}
	var out []kafka.Message
	for i, e := range werrs {
		if e != nil {
			out = append(out, msgs[i])
		}
	}
	return out
}

// transient reports whether a write error may pass by itself: a dropped or
// refused connection, a timeout, or a Kafka error marked retriable (no
// leader yet, coordinator loading, ...). Every message error must be.
func transient(err error) bool {
	var werrs kafka.WriteErrors
	if errors.As(err, &werrs) {
		seen := false
		for _, e := range werrs {
			if e != nil {
				if !transient(e) {
					return false
				}
				seen = true
			}
		}
		return seen
	}
	var kerr kafka.Error
	if errors.As(err, &kerr) {
		return kerr.Temporary()
	}
	var nerr net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.As(err, &nerr)
}

// Close flushes and closes the writer.
func (p *Producer) Close() error { return p.w.Close() }
