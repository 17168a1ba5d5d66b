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
	"strings"
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

// EnsureTopics creates the topics when they do not exist (idempotent),
// with the broker's defaults.
func EnsureTopics(ctx context.Context, brokers []string, partitions int, topics ...string) error {
	return ensureTopics(ctx, brokers, partitions, nil, topics)
}

// keptConfig makes Kafka keep every record of a topic: deleted by neither
// age nor size, never compacted (compaction keeps only the last record of
// a key, and events are keyed by item).
var keptConfig = []kafka.ConfigEntry{
	{ConfigName: "cleanup.policy", ConfigValue: "delete"},
	{ConfigName: "retention.ms", ConfigValue: "-1"},
	{ConfigName: "retention.bytes", ConfigValue: "-1"},
}

// EnsureKeptTopics creates the topics that do not exist yet so that Kafka
// keeps every record of them, whatever the broker's defaults (a Kafka
// cluster's usual default deletes records after 7 days): the events topic,
// from which a rebuild restores every item since the start, and the
// dead-letter topics, whose records wait for a person. A topic that exists
// keeps its config: TopicKept says whether it is kept.
func EnsureKeptTopics(ctx context.Context, brokers []string, partitions int, topics ...string) error {
	return ensureTopics(ctx, brokers, partitions, keptConfig, topics)
}

// TopicKept reports whether Kafka keeps every record of topic and, when it
// does not, which setting deletes or compacts them.
func TopicKept(ctx context.Context, brokers []string, topic string) (kept bool, why string, err error) {
	if len(brokers) == 0 {
		return false, "", errors.New("bus: no brokers")
	}
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	names := make([]string, len(keptConfig))
	for i, e := range keptConfig {
		names[i] = e.ConfigName
	}
	res, err := c.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{
		{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic, ConfigNames: names}}})
	if err == nil && len(res.Resources) != 1 {
		err = fmt.Errorf("%d resources in the answer", len(res.Resources))
	}
	if err == nil {
		err = res.Resources[0].Error
	}
	if err != nil {
		return false, "", tanggap.WrapCode(tanggap.EUNAVAILABLE, err, "bus: describe the configs of topic %s", topic)
	}
	have := map[string]string{}
	for _, e := range res.Resources[0].ConfigEntries {
		have[e.ConfigName] = e.ConfigValue
	}
	var off []string
	for _, e := range keptConfig {
		if v, ok := have[e.ConfigName]; !ok || v != e.ConfigValue {
			off = append(off, fmt.Sprintf("%s=%s (kept: %s)", e.ConfigName, v, e.ConfigValue))
		}
	}
	return len(off) == 0, strings.Join(off, ", "), nil
}

func ensureTopics(ctx context.Context, brokers []string, partitions int, configs []kafka.ConfigEntry, topics []string) error {
	if len(brokers) == 0 {
		return errors.New("bus: no brokers")
	}
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: -1, ConfigEntries: configs})
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

// HeaderValue is the value of a record's header key ("" when absent).
func HeaderValue(m kafka.Message, key string) string {
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
