package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/tanggap/tanggap"
)

// TestOutboxWireForm: every event the scripts write (ingest, edit, delete,
// cluster join, official reply before and after its parent, a person's
// change) leaves the outbox as tanggap.Event JSON that decodes strictly
// (data and set hold only strings) and equals the item's history.
func TestOutboxWireForm(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-time.Hour)
		must := func(_ IngestResult, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		root := citizen("1", "pohon tumbang di jl kemakmuran", t0)
		root.Kelurahan, root.Fingerprint = "Margajaya", "ab"
		must(s.Ingest(ctx, root))
		member := citizen("2", "pohon tumbang jl kemakmuran", t0.Add(time.Minute))
		member.Kelurahan, member.Fingerprint, member.ClusterID = "Margajaya", "ab", "x:1"
		member.Post.Author = "warga2" // another citizen: the root changes
		must(s.Ingest(ctx, member))
		must(s.Ingest(ctx, reply("3", "1", t0.Add(time.Hour), "bina_marga_sda")))
		must(s.Ingest(ctx, reply("4", "5", t0.Add(time.Hour), "bina_marga_sda"))) // before its parent
		must(s.Ingest(ctx, citizen("5", "lampu mati", t0.Add(2*time.Minute))))
		at := c.Now()
		ed := citizen("5", "lampu pju mati", t0.Add(2*time.Minute))
		ed.Post.EditedAt = &at
		must(s.Ingest(ctx, ed))
		del := citizen("2", "", t0.Add(time.Minute))
		del.Post.Deleted = true
		must(s.Ingest(ctx, del))
		if _, err := s.Apply(ctx, Change{ID: "x:5", Version: -1, Actor: "humas", Action: "assign", Reason: "pju",
			Set: map[string]string{"opd": "perhubungan"}, Data: map[string]string{"note": "<b>\"lampu\"</b>"}}); err != nil {
			t.Fatal(err)
		}

		got := map[string][]tanggap.Event{}
		actions := map[string]bool{}
		for {
			es, err := s.ReadOutbox(ctx, "t", 100, time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if len(es) == 0 {
				break
			}
			for _, e := range es {
				ev, err := e.Decode()
				if err != nil {
					t.Fatalf("%s: %v\n%s", e.StreamID, err, e.Event)
				}
				if e.ItemID != ev.ItemID || !e.At.Equal(ev.At) || ev.At.IsZero() {
					t.Errorf("entry says %s at %v, event %s at %v", e.ItemID, e.At, ev.ItemID, ev.At)
				}
				if ev.ID != eventID(ev.ItemID, ev.Version) {
					t.Errorf("event id %q, want %q", ev.ID, eventID(ev.ItemID, ev.Version))
				}
				got[ev.ItemID] = append(got[ev.ItemID], ev)
				actions[ev.Action] = true
				if err := s.AckOutbox(ctx, e.StreamID); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, a := range []string{"ingest", "cluster", "answer", "edit", "delete", "assign"} {
			if !actions[a] {
				t.Errorf("no %s event in the outbox", a)
			}
		}
		for id, evs := range got {
			h, err := s.History(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(h, evs); d != "" {
				t.Errorf("%s: outbox and history differ (-history +outbox):\n%s", id, d)
			}
		}
	})
}

// Events written before the scripts wrote tanggap.Event JSON (at_ms and no
// id, empty fields kept; outbox entries without item and instant) still
// read as the same events.
func TestLegacyEvents(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		old := `{"item_id":"x:7","at_ms":1764288000123,"actor":"triage","action":"ingest","from_status":"",` +
			`"to_status":"NEW","from_opd":"","to_opd":"","data":{"kind":"PENGADUAN"},"set":{},"version":1}`
		if err := s.rdb.RPush(ctx, s.k.history("x:7"), old).Err(); err != nil {
			t.Fatal(err)
		}
		if err := s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: s.k.outbox(), Values: []any{"event", old}}).Err(); err != nil {
			t.Fatal(err)
		}
		want := tanggap.Event{ID: "x:7#1", ItemID: "x:7", At: time.UnixMilli(1764288000123).UTC(), Actor: "triage",
			Action: "ingest", ToStatus: tanggap.StatusNew, Data: map[string]string{"kind": "PENGADUAN"}, Version: 1}
		h, err := s.History(ctx, "x:7")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]tanggap.Event{want}, h); d != "" {
			t.Errorf("legacy history (-want +got):\n%s", d)
		}
		es, err := s.ReadOutbox(ctx, "t", 10, time.Millisecond)
		if err != nil || len(es) != 1 {
			t.Fatalf("legacy outbox: %+v %v", es, err)
		}
		ev, err := es[0].Decode()
		if err != nil || es[0].ItemID != "x:7" || !es[0].At.Equal(want.At) {
			t.Fatalf("legacy outbox entry: %+v %v", es[0], err)
		}
		if d := cmp.Diff(want, ev); d != "" {
			t.Errorf("legacy outbox event (-want +got):\n%s", d)
		}
	})
}

// An outbox entry whose event cannot be found or whose fields are broken
// is an error that names it (the relay retries; nothing is acknowledged).
func TestOutboxBrokenEntries(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		for _, tc := range []struct {
			values []any
			want   string
		}{
			{[]any{"item", "x:404", "at", "1764288000123", "index", "0"}, "missing from its history"},
			{[]any{"item", "x:404", "at", "1764288000123", "index", "zero"}, "history index"},
			{[]any{"item", "x:404", "at", "soon", "index", "0"}, "instant"},
			{[]any{"event", "{not json"}, "decode outbox event"},
		} {
			if err := s.rdb.Del(ctx, s.k.outbox()).Err(); err != nil {
				t.Fatal(err)
			}
			if err := s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: s.k.outbox(), Values: tc.values}).Err(); err != nil {
				t.Fatal(err)
			}
			es, err := s.ReadOutbox(ctx, "t", 10, time.Millisecond)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: %d entries, error %v, want one saying %q", tc.values, len(es), err, tc.want)
			}
		}
	})
}
