package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
)

// The outbox: every Lua script that changes an item appends its audit event
// to a Redis stream in the same atomic step. A relay publishes the stream to
// the Kafka events topic and acknowledges only after Kafka did, so no event
// is lost between Redis and Kafka, whoever crashes.

const outboxGroup = "relay"

// OutboxEntry is one event waiting for Kafka.
type OutboxEntry struct {
	StreamID string
	Event    tanggap.Event
}

// ReadOutbox returns events for a relay consumer: first those it read and
// never acknowledged (after a crash), then events idle for over a minute in
// a dead relay's hands, then new ones, waiting up to block.
func (s *Store) ReadOutbox(ctx context.Context, consumer string, count int64, block time.Duration) ([]OutboxEntry, error) {
	err := s.rdb.XGroupCreateMkStream(ctx, s.k.outbox(), outboxGroup, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return nil, unavailable(err, "outbox group")
	}
	for _, start := range []string{"0", ">"} {
		if start == ">" {
			msgs, _, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: s.k.outbox(), Group: outboxGroup,
				Consumer: consumer, MinIdle: time.Minute, Start: "0-0", Count: count}).Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				return nil, unavailable(err, "outbox claim")
			}
			if len(msgs) > 0 {
				return decodeOutbox(msgs)
			}
		}
		b := time.Duration(-1)
		if start == ">" {
			b = block
		}
		res, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: outboxGroup, Consumer: consumer,
			Streams: []string{s.k.outbox(), start}, Count: count, Block: b}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, unavailable(err, "outbox read")
		}
		if len(res) > 0 && len(res[0].Messages) > 0 {
			return decodeOutbox(res[0].Messages)
		}
	}
	return nil, nil
}

func decodeOutbox(msgs []redis.XMessage) ([]OutboxEntry, error) {
	out := make([]OutboxEntry, 0, len(msgs))
	for _, m := range msgs {
		raw, _ := m.Values["event"].(string)
		ev, err := decodeEvent(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, OutboxEntry{StreamID: m.ID, Event: ev})
	}
	return out, nil
}

// AckOutbox removes events Kafka acknowledged.
func (s *Store) AckOutbox(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	pipe := s.rdb.TxPipeline()
	pipe.XAck(ctx, s.k.outbox(), outboxGroup, ids...)
	pipe.XDel(ctx, s.k.outbox(), ids...)
	_, err := pipe.Exec(ctx)
	return unavailable(err, "outbox ack")
}

// OutboxLen is how many events wait for Kafka.
func (s *Store) OutboxLen(ctx context.Context) (int64, error) {
	n, err := s.rdb.XLen(ctx, s.k.outbox()).Result()
	return n, unavailable(err, "outbox len")
}
