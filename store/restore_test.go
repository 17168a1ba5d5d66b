package store

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
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
		cs, _ := s.rdb.SMembers(ctx, s.k.citizens(id)).Result()
		slices.Sort(cs)
		out["citizens "+id] = cs
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
	re, _ := s.rdb.ZRangeWithScores(ctx, s.k.reopened(), 0, -1).Result()
	out["reopened"] = re
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
			reply("9", "8", t0.Add(time.Hour), "bina_marga_sda"),       // parent never collected
			reply("10", "8", t0.Add(30*time.Minute), "bina_marga_sda"), // an earlier reply to it, collected later
			reply("11", "8", t0.Add(10*time.Minute), "city"),           // Humas' earlier still: the first response
		}
		// A cluster of seven reports by five citizens: the root changes with
		// the first two other citizens only, the count with each citizen
		// once (25 and 26 are by the citizens of 21 and of the root).
		for i, id := range []string{"20", "21", "22", "23", "24", "25", "26"} {
			in := citizen(id, "pohon tumbang di jl kemakmuran", t0.Add(time.Duration(i)*time.Minute))
			in.Kelurahan, in.Fingerprint = "Margajaya", "abcd"
			in.Post.Author = map[string]string{"25": "warga21", "26": "warga20"}[id]
			if in.Post.Author == "" {
				in.Post.Author = "warga" + id
			}
			if id != "20" {
				in.ClusterID = "x:20"
			}
			steps = append(steps, in)
		}
		// A Facebook citizen's held item: the rebuild names its thread by the
		// author's id, as the hold did.
		fb := citizen("30", "sampah belum diangkut", t0)
		fb.Post.Platform, fb.Post.Author, fb.Post.AuthorID = tanggap.PlatformFacebook, "Budi Santoso", "3001"
		steps = append(steps, fb)
		stored := c.Now()
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
		if _, err := s.Apply(ctx, Change{ID: "facebook:30", Version: -1, Actor: "dlh", Action: "hold", Reason: "alamat?",
			Set: map[string]string{"status": "ON_HOLD", "held_ms": ms(c.Now())}}); err != nil {
			t.Fatal(err)
		}
		reopen(t, s, c, "x:1")
		evs := relayAll(t, s)
		waiting := s.rdb.HGetAll(ctx, s.k.pending("x:8")).Val()
		ids := []string{"x:1", "x:2", "x:3", "x:9", "x:10", "x:11", "x:20", "x:21", "x:22", "x:23", "x:24", "x:25", "x:26", "facebook:30"}
		opds := []string{"", "bina_marga_sda", "lingkungan_hidup"}
		before := snapshot(t, s, ids, opds)
		if root, err := s.Item(ctx, "x:20"); err != nil || root.Reporters != 5 || root.Version != 3 {
			t.Fatalf("cluster root: %+v %v, want 5 reporters, version 3", root, err)
		}
		if d := cmp.Diff(map[string]string{"x 2 warga1": "x:2", "facebook:id 30 3001": "facebook:30"}, before["held_threads"]); d != "" {
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
		res, err := s.Restore(ctx, evs, time.Time{})
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
		if m, err := s.ClusterMembers(ctx, "x:20", 10); err != nil || !slices.Equal(m, []string{"x:21", "x:22", "x:23", "x:24", "x:25", "x:26"}) {
			t.Errorf("rebuilt cluster members: %v %v", m, err)
		}
		// Replaying again changes nothing.
		res, _ = s.Restore(ctx, evs, time.Time{})
		if res.Applied != 0 || res.Skipped != len(evs) {
			t.Fatalf("second restore: %+v", res)
		}
		// A replay in two parts, the cluster's first report before the
		// reports that joined it, counts the same citizens.
		dropCity(s.rdb, strings.TrimSuffix(strings.TrimPrefix(s.k.prefix(), "tanggap:{"), "}:"))
		var first, rest []tanggap.Event
		for _, ev := range evs {
			if ev.ItemID == "x:20" {
				first = append(first, ev)
			} else {
				rest = append(rest, ev)
			}
		}
		for _, part := range [][]tanggap.Event{first, rest} {
			if _, err := s.Restore(ctx, part, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		if d := cmp.Diff(before, snapshot(t, s, ids, opds)); d != "" {
			t.Fatalf("state rebuilt in two parts differs (-before +after):\n%s", d)
		}
		// The earliest waiting official reply still waits as long as the
		// ingest lets it (90 days from when the ingest stored it, not from
		// the reply's own time before that), and answers its parent when it
		// arrives.
		want := pendingWait - c.Now().Sub(stored)
		if ttl := s.rdb.PTTL(ctx, s.k.pending("x:8")).Val(); ttl < want-time.Minute || ttl > want {
			t.Errorf("the rebuilt waiting reply expires in %v, want about %v", ttl, want)
		}
		if d := cmp.Diff(waiting, s.rdb.HGetAll(ctx, s.k.pending("x:8")).Val()); d != "" {
			t.Errorf("the replies waiting for x:8 after the rebuild (-before +after):\n%s", d)
		}
		if got, _ := s.Ingest(ctx, citizen("8", "lampu mati", t0)); got != StoredAnswered {
			t.Fatalf("late parent after rebuild: %s", got)
		}
		// Humas' reply is its first response, its OPD's the follow-up.
		if it, _ := s.Item(ctx, "x:8"); it.FirstResponseOPD != "city" || it.Status != tanggap.StatusInProgress ||
			s.rdb.HGet(ctx, s.k.item("x:8"), "fr_reply").Val() != "x:11" {
			t.Errorf("the late parent: answered by %q, %s, want Humas' earlier reply x:11 and IN_PROGRESS (x:10)", it.FirstResponseOPD, it.Status)
		}
	})
}

// reopen resolves an item and reopens it a minute later, as workflow does.
func reopen(t *testing.T, s *Store, c *fakeClock, id string) {
	t.Helper()
	for _, set := range []map[string]string{
		{"status": "RESOLVED", "resolved_ms": ms(c.Now()), "evidence": "https://e.example/1"},
		{"status": "REOPENED", "resolved_ms": "", "closed_ms": ""},
	} {
		c.Add(time.Minute)
		if _, err := s.Apply(context.Background(), Change{ID: id, Version: -1, Actor: "t", Action: "set", Set: set}); err != nil {
			t.Fatal(err)
		}
	}
}

// A rebuild from events written before the store recorded reopenings
// (without reopens_ms among their fields) gives each item the record the
// update script would have written, and lists it as reopened.
func TestRestoreDerivesReopens(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-2 * time.Hour)
		noise := citizen("2", "mantap pak", t0)
		noise.Kind, noise.Status, noise.Queued, noise.Deadlines = tanggap.KindPraise, tanggap.StatusNotComplaint, false, tanggap.Deadlines{}
		for _, in := range []Ingest{citizen("1", "jalan rusak", t0), noise} {
			if _, err := s.Ingest(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		reopen(t, s, c, "x:1")
		reopen(t, s, c, "x:1")
		c.Add(time.Minute)
		if _, err := s.Apply(ctx, Change{ID: "x:2", Version: -1, Actor: "humas", Action: "assign",
			Set: map[string]string{"status": "ASSIGNED", "opd": "lingkungan_hidup", "queued": "1"}}); err != nil {
			t.Fatal(err)
		}
		evs := relayAll(t, s)
		state := func() map[string]any {
			out := map[string]any{}
			for _, id := range []string{"x:1", "x:2"} {
				out[id] = s.rdb.HGetAll(ctx, s.k.item(id)).Val()
			}
			out["reopened"] = s.rdb.ZRangeWithScores(ctx, s.k.reopened(), 0, -1).Val()
			return out
		}
		want := state()
		if it, _ := s.Item(ctx, "x:1"); len(it.Reopens) != 2 {
			t.Fatalf("x:1 reopens %v, want 2", it.Reopens)
		}
		stripped := 0
		for _, ev := range evs {
			if _, ok := ev.Set["reopens_ms"]; ok {
				delete(ev.Set, "reopens_ms")
				stripped++
			}
		}
		if stripped != 3 {
			t.Fatalf("%d events carried reopens_ms, want 3", stripped)
		}
		dropCity(s.rdb, strings.TrimSuffix(strings.TrimPrefix(s.k.prefix(), "tanggap:{"), "}:"))
		if _, err := s.Restore(ctx, evs, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, state()); d != "" {
			t.Errorf("rebuilt from events without reopens_ms (-recorded +rebuilt):\n%s", d)
		}
	})
}

// A rebuild from the events topic after a prune leaves out again what the
// prune removed, judging each item by the prune's rule once its events are
// in (Redis never holds them all): the state is the one the prune left.
func TestRestoreAfterPrune(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		old := c.Now().Add(-400 * 24 * time.Hour)
		cutoff := c.Now().Add(-365 * 24 * time.Hour)
		c.t = old
		ingest := func(in Ingest) {
			t.Helper()
			if _, err := s.Ingest(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		end := func(id, status string) {
			t.Helper()
			if _, err := s.Apply(ctx, Change{ID: id, Version: -1, Actor: "t", Action: "set",
				Set: map[string]string{"status": status, "closed_ms": ms(old.Add(time.Hour))}}); err != nil {
				t.Fatal(err)
			}
		}
		at := func(m int) time.Time { return old.Add(time.Duration(m) * time.Minute) }
		ingest(citizen("1", "jalan rusak, ditutup", at(0)))
		end("x:1", "CLOSED")
		ingest(citizen("2", "lampu mati, masih terbuka", at(1)))
		ingest(reply("31", "30", at(2), "bina_marga_sda")) // its parent never came
		// Two clusters whose first reports ended: the reports that joined
		// the first (after it by id: the rebuild must not go by id) are
		// open, those of the second ended too. A third stays open while
		// two of its reports are pruned: their citizens stay counted
		// (one of them reported again in a report kept).
		for _, cl := range []struct {
			root    string
			members []string
			authors []string
			fp      string
		}{
			{"10", []string{"12", "11"}, []string{"a", "b", "a"}, "0123abcd"},
			{"20", []string{"21"}, []string{"a", "c"}, "4567cdef"},
			{"50", []string{"51", "52", "53"}, []string{"d", "e", "e", "f"}, "89abcdef"},
		} {
			for i, id := range append([]string{cl.root}, cl.members...) {
				in := citizen(id, "pohon tumbang di jl kemakmuran", at(10+i))
				in.Kelurahan, in.Fingerprint = "Margajaya", strings.Repeat(cl.fp, 16)
				in.Post.Author = "warga_" + cl.authors[i]
				if i > 0 {
					in.ClusterID = "x:" + cl.root
				}
				ingest(in)
			}
		}
		end("x:10", "CLOSED")
		end("x:20", "DUPLICATE")
		end("x:21", "DUPLICATE")
		end("x:51", "DUPLICATE")
		end("x:53", "DUPLICATE")
		// Originals of duplicates, ended, before them by id (the rebuild
		// must not go by id): x:40 of x:41, which is open again; x:60 of
		// x:61, itself the original of x:62, open; x:70 and x:71, ended,
		// each marked a duplicate of the other.
		for i, id := range []string{"40", "41", "60", "61", "62", "70", "71"} {
			ingest(citizen(id, "pju mati di jl juanda", at(20+i)))
		}
		mark := func(id, of string, ended bool) {
			t.Helper()
			set := map[string]string{"duplicate_of": of}
			if ended {
				set["status"], set["closed_ms"] = "DUPLICATE", ms(old.Add(time.Hour))
			}
			if _, err := s.Apply(ctx, Change{ID: id, Version: -1, Actor: "t", Action: "duplicate", Set: set}); err != nil {
				t.Fatal(err)
			}
		}
		end("x:40", "CLOSED")
		mark("x:41", "x:40", false)
		end("x:60", "CLOSED")
		mark("x:61", "x:60", true)
		mark("x:62", "x:61", false)
		mark("x:70", "x:71", true)
		mark("x:71", "x:70", true)
		c.t = cutoff.Add(400 * 24 * time.Hour)
		evs := relayAll(t, s)
		reporters := func(when string, want map[string]int) {
			t.Helper()
			for id, n := range want {
				if it, err := s.Item(ctx, id); err != nil || it.Reporters != n {
					t.Errorf("%s: %s has %+v reporters (%v), want %d", when, id, it, err, n)
				}
			}
		}
		counts := map[string]int{"x:10": 2, "x:50": 3}
		reporters("before the prune", counts)
		if res, err := s.Prune(ctx, cutoff, false); err != nil || res.Pruned != 6 || res.Joined != 1 || res.Originals != 5 {
			t.Fatalf("prune: %+v %v, want 6 pruned (x:1, x:31, x:20, x:21, x:51, x:53), 1 joined, 5 originals", res, err)
		}
		reporters("after the prune", counts)
		city := strings.TrimSuffix(strings.TrimPrefix(s.k.prefix(), "tanggap:{"), "}:")
		// The state to compare: histories as events (a rebuild writes the
		// same events with their fields in another order), without the
		// relay's outbox and the reply waiting for x:30 (it waits 90 days
		// of Redis' own clock from its ingest; the rebuild, which goes by
		// the reply's time, does not keep it: checked below).
		state := func() map[string]any {
			out := dumpCity(t, s.rdb, city)
			delete(out, "outbox")
			delete(out, strings.TrimPrefix(s.k.pending("x:30"), s.k.prefix()))
			for k, v := range out {
				if !strings.HasPrefix(k, "history:") {
					continue
				}
				var evs []tanggap.Event
				for _, raw := range v.([]string) {
					var ev tanggap.Event
					if err := json.Unmarshal([]byte(raw), &ev); err != nil {
						t.Fatal(err)
					}
					evs = append(evs, ev)
				}
				out[k] = evs
			}
			return out
		}
		want := state()
		dropCity(s.rdb, city)

		res, err := s.Restore(ctx, evs, cutoff)
		if err != nil || res.Pruned != 6 || res.Applied != len(evs) {
			t.Fatalf("restore: %+v %v, want 6 pruned of %d events", res, err, len(evs))
		}
		if d := cmp.Diff(want, state()); d != "" {
			t.Errorf("the rebuilt state differs from the pruned one (-pruned +rebuilt):\n%s", d)
		}
		reporters("after the rebuild", counts)
		if n := s.rdb.Exists(ctx, s.k.pending("x:30")).Val(); n != 0 {
			t.Error("the rebuild kept a reply waiting 400 days for its parent")
		}
		// Replaying again restores and removes the same, and changes nothing.
		if res, err := s.Restore(ctx, evs, cutoff); err != nil || res.Pruned != 6 {
			t.Fatalf("second restore: %+v %v", res, err)
		}
		if d := cmp.Diff(want, state()); d != "" {
			t.Errorf("a second replay changed the state (-pruned +rebuilt):\n%s", d)
		}
	})
}
