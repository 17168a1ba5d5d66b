package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tanggap/tanggap"
)

// snapshot reads every item hash, history and queue of a city.
func snapshot(t *testing.T, s *Store, ids []string, opds []string) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	for _, id := range ids {
		m, err := s.rdb.HGetAll(ctx, s.k.item(id)).Result()
		if err != nil {
			t.Fatal(err)
		}
		out["item "+id] = m
		h, err := s.History(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out["history "+id] = h
		e, _ := s.rdb.LRange(ctx, s.k.edits(id), 0, -1).Result()
		out["edits "+id] = e
	}
	for _, o := range opds {
		for _, set := range []string{"open:", "soon:", "age:", "unans:", "held:"} {
			z, err := s.rdb.ZRangeWithScores(ctx, s.k.set(set, o), 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			out[set+o] = z
		}
	}
	all, _ := s.rdb.ZRangeWithScores(ctx, s.k.items(), 0, -1).Result()
	out["items"] = all
	rep, _ := s.rdb.HGetAll(ctx, s.k.reporters()).Result()
	out["reporters"] = rep
	held, _ := s.rdb.HGetAll(ctx, s.k.heldThreads()).Result()
	out["held_threads"] = held
	return out
}

func TestRestoreFromEvents(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-2 * time.Hour)
		steps := []Ingest{
			citizen("1", "jalan rusak", t0),
			citizen("2", "got mampet", t0.Add(time.Minute)),
			reply("3", "1", t0.Add(time.Hour), "bina_marga_sda"),
			reply("9", "8", t0.Add(time.Hour), "bina_marga_sda"), // parent never collected
		}
		// A cluster of five reports: the root changes with the first two
		// joins only, the counter with all four.
		for i, id := range []string{"20", "21", "22", "23", "24"} {
			in := citizen(id, "pohon tumbang di jl kemakmuran", t0.Add(time.Duration(i)*time.Minute))
			in.Kelurahan, in.Fingerprint = "Margajaya", "abcd"
			if id != "20" {
				in.ClusterID = "x:20"
			}
			steps = append(steps, in)
		}
		for _, in := range steps {
			if _, err := s.Ingest(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		at := c.Now()
		ed := citizen("2", "got mampet parah", t0.Add(time.Minute))
		ed.Post.EditedAt = &at
		s.Ingest(ctx, ed)
		c.Add(time.Minute)
		if _, err := s.Apply(ctx, Change{ID: "x:2", Version: -1, Actor: "humas", Action: "assign", Reason: "saluran",
			Set: map[string]string{"opd": "lingkungan_hidup", "status": "ASSIGNED", "hops": "1"}}); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Minute)
		if _, err := s.Apply(ctx, Change{ID: "x:2", Version: -1, Actor: "dlh", Action: "hold", Reason: "foto?",
			Set: map[string]string{"status": "ON_HOLD", "held_ms": ms(c.Now())}}); err != nil {
			t.Fatal(err)
		}
		var evs []tanggap.Event
		for {
			got, err := s.ReadOutbox(ctx, "t", 100, time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				break
			}
			for _, e := range got {
				ev, err := e.Decode()
				if err != nil {
					t.Fatal(err)
				}
				evs = append(evs, ev)
				s.AckOutbox(ctx, e.StreamID)
			}
		}
		ids := []string{"x:1", "x:2", "x:3", "x:9", "x:20", "x:21", "x:22", "x:23", "x:24"}
		opds := []string{"", "bina_marga_sda", "lingkungan_hidup"}
		before := snapshot(t, s, ids, opds)
		if d := cmp.Diff(map[string]string{"x 2 warga1": "x:2"}, before["held_threads"]); d != "" {
			t.Fatalf("held threads before the rebuild (-want +got):\n%s", d)
		}

		// Lose everything, then rebuild from the events alone (shuffled: the
		// rebuild orders them by item version itself).
		iter := s.rdb.Scan(ctx, 0, "tanggap:{"+s.k.p[len("tanggap:{"):len(s.k.p)-2]+"}:*", 1000).Iterator()
		var keysToDelete []string
		for iter.Next(ctx) {
			keysToDelete = append(keysToDelete, iter.Val())
		}
		if len(keysToDelete) > 0 {
			s.rdb.Del(ctx, keysToDelete...)
		}
		for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
			evs[i], evs[j] = evs[j], evs[i]
		}
		res, err := s.Restore(ctx, evs)
		if err != nil {
			t.Fatal(err)
		}
		if res.Applied != len(evs) || res.Gaps != 0 {
			t.Fatalf("restore: %+v of %d events", res, len(evs))
		}
		after := snapshot(t, s, ids, opds)
		if d := cmp.Diff(before, after); d != "" {
			t.Fatalf("rebuilt state differs (-before +after):\n%s", d)
		}
		if root, err := s.Item(ctx, "x:20"); err != nil || root.Reporters != 5 || root.Version != 3 {
			t.Fatalf("rebuilt cluster root: %+v %v, want 5 reporters, version 3", root, err)
		}
		if m, err := s.ClusterMembers(ctx, "x:20", 10); err != nil || !slices.Equal(m, []string{"x:21", "x:22", "x:23", "x:24"}) {
			t.Errorf("rebuilt cluster members: %v %v", m, err)
		}
		// Replaying again changes nothing.
		res, _ = s.Restore(ctx, evs)
		if res.Applied != 0 || res.Skipped != len(evs) {
			t.Fatalf("second restore: %+v", res)
		}
		// The waiting official reply still answers its parent when it arrives.
		if got, _ := s.Ingest(ctx, citizen("8", "lampu mati", t0)); got != StoredAnswered {
			t.Fatalf("late parent after rebuild: %s", got)
		}
	})
}
