// Package storetest holds what other packages' tests need of a store.
// (The store's own tests cannot import it: it imports the store.)
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/store"
)

// RelayAll does the event relay's part without Kafka: it reads and
// acknowledges every outbox entry, so the outbox is trimmed, and returns
// the events, as the events topic would hold them.
func RelayAll(tb testing.TB, s *store.Store) []tanggap.Event {
	tb.Helper()
	ctx := context.Background()
	var evs []tanggap.Event
	for {
		es, err := s.ReadOutbox(ctx, "t", 1000, time.Millisecond)
		if err != nil {
			tb.Fatal(err)
		}
		if len(es) == 0 {
			return evs
		}
		ids := make([]string, len(es))
		for i, e := range es {
			ids[i] = e.StreamID
			ev, err := e.Decode()
			if err != nil {
				tb.Fatal(err)
			}
			evs = append(evs, ev)
		}
		if err := s.AckOutbox(ctx, ids...); err != nil {
			tb.Fatal(err)
		}
	}
}
