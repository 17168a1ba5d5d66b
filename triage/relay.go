package triage

import (
	"context"
	"log/slog"
	"time"

	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/store"
)

// Outbox is the store side of the event relay.
type Outbox interface {
	ReadOutbox(ctx context.Context, consumer string, count int64, block time.Duration) ([]store.OutboxEntry, error)
	AckOutbox(ctx context.Context, ids ...string) error
}

// EventPublisher sends encoded audit events to Kafka, returning after the
// ack (bus.Producer).
type EventPublisher interface {
	PublishRawEvents(ctx context.Context, evs []bus.RawEvent) error
}

// Relay moves audit events from the Redis outbox to the Kafka events
// topic. Several relays may run (one per triage process); Redis consumer
// groups share the work and a dead relay's events are claimed by another.
type Relay struct {
	Outbox   Outbox
	Pub      EventPublisher
	Log      *slog.Logger
	Consumer string // unique per process, e.g. the hostname and pid
}

// Run relays until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		entries, err := r.Outbox.ReadOutbox(ctx, r.Consumer, 500, time.Second)
		if err == nil && len(entries) > 0 {
			evs := make([]bus.RawEvent, len(entries))
			ids := make([]string, len(entries))
			for i, e := range entries {
				evs[i], ids[i] = bus.RawEvent{ItemID: e.ItemID, At: e.At, JSON: e.Event}, e.StreamID
			}
			if err = r.Pub.PublishRawEvents(ctx, evs); err == nil {
				err = r.Outbox.AckOutbox(ctx, ids...)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.Log.Warn("event_relay_failed", "err", err, "backoff", backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 10*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
	}
	return nil
}
