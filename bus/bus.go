// Package bus is Tanggap's Kafka layer (github.com/segmentio/kafka-go): the
// versioned JSON envelope, a producer with explicit acks, a key-respecting
// balancer and a small batch timeout, and a consumer-group loop that commits
// only after the handler succeeded and sends records that can never be
// processed to a dead-letter topic with the reason.
package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/tanggap/tanggap"
)

// Topics names the three topics of one deployment.
type Topics struct {
	Posts  string // every post collectors saw, keyed by thread root
	Events string // every state change (audit log; rebuild source)
	Dead   string // records that can never be processed, with the reason
}

// DefaultTopics are the topic names used when none are configured.
var DefaultTopics = Topics{Posts: "tanggap.posts", Events: "tanggap.events", Dead: "tanggap.posts.dlq"}

// EnvelopeVersion is the version of the JSON envelope this code writes.
// Readers accept versions up to it and dead-letter newer ones.
const EnvelopeVersion = 1

// Envelope is the value of every record Tanggap writes.
type Envelope struct {
	V     int            `json:"v"`
	Type  string         `json:"type"` // "post", "event" or "prune"
	Post  *tanggap.Post  `json:"post,omitempty"`
	Event *tanggap.Event `json:"event,omitempty"`
	Prune *PruneMark     `json:"prune,omitempty"`
}

// PruneMark is written to the events topic before a prune removes from
// Redis the items that ended before Before (tanggap prune), so a rebuild
// from the topic, which still holds their events, leaves them out again.
type PruneMark struct {
	Before time.Time `json:"before"`
	At     time.Time `json:"at"`
}

// MaxRecordBytes bounds a record we accept; larger ones are dead-lettered.
const MaxRecordBytes = 1 << 20

// Decode parses and checks a record value. Every error is EINVALID: the
// record can never be processed and belongs on the dead-letter topic.
func Decode(b []byte) (*Envelope, error) {
	if len(b) > MaxRecordBytes {
		return nil, invalid("too_large", nil, "record of %d bytes exceeds %d", len(b), MaxRecordBytes)
	}
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, invalid("not_json", err, "not a tanggap envelope")
	}
	switch {
	case e.V < 1 || e.V > EnvelopeVersion:
		return nil, invalid("bad_envelope", nil, "envelope version %d not supported (max %d)", e.V, EnvelopeVersion)
	case e.Type == "post" && e.Post == nil, e.Type == "event" && e.Event == nil,
		e.Type == "prune" && (e.Prune == nil || e.Prune.Before.IsZero()):
		return nil, invalid("bad_envelope", nil, "envelope of type %q has no body", e.Type)
	case e.Type != "post" && e.Type != "event" && e.Type != "prune":
		return nil, invalid("bad_envelope", nil, "unknown envelope type %q", e.Type)
	}
	if e.Post != nil {
		if err := e.Post.Validate(); err != nil {
			return nil, invalid("bad_post", err, "post rejected")
		}
	}
	return &e, nil
}

// PostKey is the Kafka key of a post: its platform and thread root, so a
// complaint and every reply to it stay in order on one partition.
func PostKey(p *tanggap.Post) []byte {
	t := p.ThreadID
	if t == "" {
		t = p.ID
	}
	return []byte(string(p.Platform) + ":" + t)
}

// EnsureTopics creates the topics when they do not exist (idempotent).
func EnsureTopics(ctx context.Context, brokers []string, partitions int, topics ...string) error {
	if len(brokers) == 0 {
		return errors.New("bus: no brokers")
	}
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: -1})
	}
	var lastErr error
	for attempt := 0; attempt < 20; attempt++ {
		res, err := c.CreateTopics(ctx, req)
		if err == nil {
			for t, terr := range res.Errors {
				if terr != nil && !errors.Is(terr, kafka.TopicAlreadyExists) {
					err = fmt.Errorf("create topic %s: %w", t, terr)
					break
				}
			}
		}
		if err == nil {
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		}
	}
	return tanggap.WrapCode(tanggap.EUNAVAILABLE, lastErr, "bus: ensure topics")
}

func headerValue(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// DeadReason is the bounded cause attached to an EINVALID error, used as the
// dead-letter metric label.
type DeadReason string

func (r DeadReason) Error() string { return string(r) }

// invalid builds an EINVALID error carrying a dead-letter reason.
func invalid(reason string, cause error, format string, args ...any) error {
	var inner error = DeadReason(reason)
	if cause != nil {
		inner = fmt.Errorf("%w: %w", DeadReason(reason), cause)
	}
	return tanggap.WrapCode(tanggap.EINVALID, inner, format, args...)
}
