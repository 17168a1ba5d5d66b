package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/internal/testenv"
)

// backends runs a test against each of testBackends, with the plain path
// for new posts on and off ("script": every post through the ingest
// script).
func backends(t *testing.T, fn func(t *testing.T, s *Store, clock *fakeClock)) {
	for _, script := range []bool{false, true} {
		for _, backend := range testBackends {
			t.Run(backend+map[bool]string{false: "", true: "-script"}[script], func(t *testing.T) {
				rdb := testClients(t, backend, 1)[0]
				city := "t" + strings.ToLower(strings.NewReplacer("/", "", "_", "", "-", "").Replace(t.Name()))
				city = city[:min(len(city), 40)] + time.Now().Format("150405.000000")
				c := newClock()
				s := New(rdb, city, c.Now)
				s.noPlain = script
				t.Cleanup(func() { dropCity(rdb, city) })
				fn(t, s, c)
			})
		}
	}
}

// testBackends are the servers the store suites run on: a fresh miniredis
// and, in the integration run (-tags=integration), a real redis-server and a
// real three-node Redis Cluster, where every command of a city must reach
// the node of its hash slot. Under CI a missing real server is a failure,
// not a skip.
var testBackends = []string{"miniredis", "redis", "redis-cluster"}

// testClients connects n clients to one server of backend (closed when the
// test ends).
func testClients(t *testing.T, backend string, n int) []redis.UniversalClient {
	t.Helper()
	var dial func() redis.UniversalClient
	switch backend {
	case "miniredis":
		addr := miniredis.RunT(t).Addr()
		dial = func() redis.UniversalClient { return redis.NewClient(&redis.Options{Addr: addr}) }
	case "redis", "redis-cluster":
		if !testenv.Integration {
			t.Skip("the real Redis suites run in the integration run (scripts/integration.sh)")
		}
		if backend == "redis" {
			addr := testenv.RedisAddr(t)
			dial = func() redis.UniversalClient { return redis.NewClient(&redis.Options{Addr: addr}) }
		} else {
			addrs := testenv.RedisCluster(t)
			dial = func() redis.UniversalClient { return redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs}) }
		}
	default:
		t.Fatalf("no Redis backend %q", backend)
	}
	out := make([]redis.UniversalClient, n)
	for i := range out {
		out[i] = dial()
		t.Cleanup(func() { out[i].Close() })
	}
	return out
}

type fakeClock struct{ t time.Time }

func newClock() *fakeClock               { return &fakeClock{t: time.Date(2026, 3, 17, 9, 0, 0, 0, time.UTC)} }
func (c *fakeClock) Now() time.Time      { return c.t }
func (c *fakeClock) Add(d time.Duration) { c.t = c.t.Add(d) }

func citizen(id, text string, created time.Time) Ingest {
	return Ingest{
		Post: tanggap.Post{Platform: tanggap.PlatformX, ID: id, Text: text, Author: "warga1", Account: "humasbekasikota",
			CreatedAt: created, CapturedAt: created.Add(time.Minute), ThreadID: id, Interaction: tanggap.InteractionMention,
			URL: "https://x.com/warga1/status/" + id},
		Kind: tanggap.KindComplaint, OPD: "bina_marga_sda", Confidence: 0.9, Status: tanggap.StatusAssigned,
		Deadlines: deadlines(created), Queued: true, Features: []string{"kata: jalan rusak"},
	}
}

// deadlines is a simple clock set for store tests (the workflow package
// computes the real ones in working days).
func deadlines(t0 time.Time) tanggap.Deadlines {
	return tanggap.Deadlines{
		FirstResponse: t0.Add(24 * time.Hour), FirstResponseSoon: t0.Add(20 * time.Hour),
		Routing: t0.Add(72 * time.Hour), RoutingSoon: t0.Add(48 * time.Hour),
		Followup: t0.Add(120 * time.Hour), FollowupSoon: t0.Add(96 * time.Hour),
		Resolution: t0.Add(14 * 24 * time.Hour), ResolutionSoon: t0.Add(13 * 24 * time.Hour),
	}
}

func reply(id, parent string, created time.Time, by string) Ingest {
	return Ingest{
		Post: tanggap.Post{Platform: tanggap.PlatformX, ID: id, ParentID: parent, ThreadID: parent, Text: "Terima kasih, segera kami tindak lanjuti",
			Author: "dbmsda_bekasi", Account: "humasbekasikota", CreatedAt: created, CapturedAt: created, Interaction: tanggap.InteractionReply,
			URL: "https://x.com/dbmsda_bekasi/status/" + id},
		Kind: tanggap.KindOfficial, OPD: by, Status: tanggap.StatusNotComplaint, ReplyBy: by,
	}
}

func TestIngestIdempotent(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-time.Hour)
		in := citizen("1790000000000000001", "jalan rusak di jl ahmad yani", t0)
		for i, want := range []IngestResult{Stored, Duplicate, Duplicate} {
			got, err := s.Ingest(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("delivery %d: got %s, want %s", i, got, want)
			}
		}
		q, err := s.Queue(ctx, "bina_marga_sda", QueuePage{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if q.Open != 1 || len(q.Items) != 1 {
			t.Fatalf("queue: %+v", q)
		}
		it := q.Items[0]
		if it.ID != "x:1790000000000000001" || it.Version != 1 || !it.Deadline.Equal(t0.Add(24*time.Hour)) || it.Clock != tanggap.ClockFirstResponse {
			t.Errorf("item: %+v", it)
		}
		h, err := s.History(ctx, it.ID)
		if err != nil || len(h) != 1 || h[0].Action != "ingest" {
			t.Errorf("history: %+v %v", h, err)
		}
	})
}

// A queue page lists its share of the open items in deadline order; the
// counts (open, overdue, held) are the whole queue's on every page, and
// held items come with the first page only.
func TestQueuePages(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		now := c.Now()
		// Five items received 30, 28, 26, 2 and 1 hours ago: the first
		// three are past their 24 h first-response deadline.
		var want []string
		for i, ago := range []int{30, 28, 26, 2, 1} {
			id := fmt.Sprintf("17900000000000001%02d", i)
			if _, err := s.Ingest(ctx, citizen(id, "jalan berlubang", now.Add(-time.Duration(ago)*time.Hour))); err != nil {
				t.Fatal(err)
			}
			want = append(want, "x:"+id)
		}
		held := citizen("1790000000000000199", "lampu mati", now.Add(-time.Hour))
		held.Status = tanggap.StatusOnHold
		if _, err := s.Ingest(ctx, held); err != nil {
			t.Fatal(err)
		}
		var got []string
		for off := int64(0); off < 6; off += 2 {
			q, err := s.Queue(ctx, "bina_marga_sda", QueuePage{Offset: off, Limit: 2, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if q.Open != 5 || q.Overdue != 3 || q.NHeld != 1 {
				t.Errorf("offset %d: open %d, overdue %d, held %d; want 5, 3, 1", off, q.Open, q.Overdue, q.NHeld)
			}
			if wantHeld := map[bool]int{true: 1}[off == 0]; len(q.Held) != wantHeld {
				t.Errorf("offset %d: %d held items listed, want %d", off, len(q.Held), wantHeld)
			}
			for _, it := range q.Items {
				got = append(got, it.ID)
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("pages in deadline order (-want +got):\n%s", d)
		}
		// A later instant finds one more overdue.
		if q, _ := s.Queue(ctx, "bina_marga_sda", QueuePage{Limit: 1, Now: now.Add(22*time.Hour + time.Minute)}); q.Overdue != 4 {
			t.Errorf("overdue 22 h later: %d, want 4", q.Overdue)
		}
	})
}

func TestOfficialReplyStopsClock(t *testing.T) {
	for _, order := range []string{"parent_first", "reply_first"} {
		t.Run(order, func(t *testing.T) {
			backends(t, func(t *testing.T, s *Store, c *fakeClock) {
				ctx := context.Background()
				t0 := c.Now().Add(-3 * time.Hour)
				parent := citizen("100", "sampah numpuk", t0)
				rep := reply("200", "100", t0.Add(2*time.Hour), "bina_marga_sda")
				steps := []Ingest{parent, rep}
				want := []IngestResult{Stored, OfficialReply}
				if order == "reply_first" {
					steps = []Ingest{rep, parent}
					want = []IngestResult{OfficialReplyPending, StoredAnswered}
				}
				for i, in := range steps {
					got, err := s.Ingest(ctx, in)
					if err != nil {
						t.Fatal(err)
					}
					if got != want[i] {
						t.Fatalf("step %d: got %s want %s", i, got, want[i])
					}
				}
				// Redelivery of both changes nothing.
				for _, in := range steps {
					if got, _ := s.Ingest(ctx, in); got != Duplicate {
						t.Fatalf("redelivery: %s", got)
					}
				}
				it, err := s.Item(ctx, "x:100")
				if err != nil {
					t.Fatal(err)
				}
				if it.FirstResponseAt == nil || !it.FirstResponseAt.Equal(t0.Add(2*time.Hour)) {
					t.Fatalf("first response: %v", it.FirstResponseAt)
				}
				if it.FirstResponseOPD != "bina_marga_sda" || it.Status != tanggap.StatusInProgress {
					t.Errorf("item after reply: opd=%s status=%s", it.FirstResponseOPD, it.Status)
				}
				// Answered: the item now runs on the resolution clock.
				if it.Clock != tanggap.ClockResolution || !it.Deadline.Equal(t0.Add(14*24*time.Hour)) {
					t.Errorf("clock after answer: %s %v", it.Clock, it.Deadline)
				}
			})
		})
	}
}

// TestReplyOfAnotherAccount: any official account's reply is the first
// public response, but only the item's own OPD answering puts it
// IN_PROGRESS; until then its follow-up clock runs. An unrouted item an
// OPD answers becomes that OPD's, with the time it was routed.
func TestReplyOfAnotherAccount(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-3 * time.Hour)
		d := deadlines(t0)
		unrouted := citizen("101", "got mampet", t0)
		unrouted.OPD, unrouted.Status = "", tanggap.StatusNew
		for _, in := range []Ingest{citizen("100", "jalan berlubang", t0), unrouted,
			reply("200", "100", t0.Add(time.Hour), "city"), reply("201", "100", t0.Add(90*time.Minute), "lingkungan_hidup")} {
			if _, err := s.Ingest(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		it, err := s.Item(ctx, "x:100")
		if err != nil {
			t.Fatal(err)
		}
		if it.Status != tanggap.StatusAssigned || it.FirstResponseOPD != "city" || it.FirstResponseAt == nil ||
			!it.FirstResponseAt.Equal(t0.Add(time.Hour)) || it.Clock != tanggap.ClockFollowup || !it.Deadline.Equal(d.Followup) {
			t.Fatalf("after Humas' and another OPD's replies: %s answered by %q at %v, clock %s %v", it.Status,
				it.FirstResponseOPD, it.FirstResponseAt, it.Clock, it.Deadline)
		}
		// The OPD's own reply, later than the first response, moves it.
		for range 2 { // and its redelivery changes nothing
			if _, err := s.Ingest(ctx, reply("202", "100", t0.Add(2*time.Hour), "bina_marga_sda")); err != nil {
				t.Fatal(err)
			}
		}
		if it, _ = s.Item(ctx, "x:100"); it.Status != tanggap.StatusInProgress || it.FirstResponseOPD != "city" ||
			!it.FirstResponseAt.Equal(t0.Add(time.Hour)) || it.Clock != tanggap.ClockResolution {
			t.Errorf("after its OPD's reply: %s answered by %q at %v, clock %s", it.Status, it.FirstResponseOPD, it.FirstResponseAt, it.Clock)
		}
		if h, _ := s.History(ctx, "x:100"); len(h) != 3 {
			t.Errorf("history: %d events, want the ingest, Humas' answer and its OPD's (the other OPD's changed nothing)", len(h))
		}
		// Both replies before their parent: Humas' first, then the OPD's.
		for _, in := range []Ingest{reply("211", "110", t0.Add(time.Hour), "city"), reply("212", "110", t0.Add(2*time.Hour), "bina_marga_sda"),
			reply("213", "110", t0.Add(3*time.Hour), "lingkungan_hidup"), citizen("110", "jalan amblas", t0)} {
			if _, err := s.Ingest(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		if it, _ = s.Item(ctx, "x:110"); it.Status != tanggap.StatusInProgress || it.FirstResponseOPD != "city" || !it.FirstResponseAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("replies before their parent: %s answered by %q at %v", it.Status, it.FirstResponseOPD, it.FirstResponseAt)
		}
		if _, err := s.Ingest(ctx, reply("203", "101", t0.Add(time.Hour), "lingkungan_hidup")); err != nil {
			t.Fatal(err)
		}
		if it, _ = s.Item(ctx, "x:101"); it.OPD != "lingkungan_hidup" || it.Status != tanggap.StatusInProgress || it.AssignedAt == nil {
			t.Errorf("unrouted item answered by an OPD: opd %q status %s assigned %v", it.OPD, it.Status, it.AssignedAt)
		}
	})
}

func TestApplyConflictAndHistory(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		in := citizen("300", "lampu jalan mati", c.Now())
		in.OPD, in.Status = "", tanggap.StatusNew
		if _, err := s.Ingest(ctx, in); err != nil {
			t.Fatal(err)
		}
		q, _ := s.Queue(ctx, "", QueuePage{Limit: 10})
		if q.Open != 1 {
			t.Fatalf("unrouted queue: %d", q.Open)
		}
		it, err := s.Apply(ctx, Change{ID: "x:300", Version: 1, Actor: "humas1", Action: "assign", Reason: "PJU milik Dishub",
			Set: map[string]string{"opd": "perhubungan", "status": "ASSIGNED"}})
		if err != nil {
			t.Fatal(err)
		}
		if it.OPD != "perhubungan" || it.Status != tanggap.StatusAssigned || it.Version != 2 {
			t.Fatalf("after assign: %+v", it)
		}
		if q, _ := s.Queue(ctx, "", QueuePage{Limit: 10}); q.Open != 0 {
			t.Errorf("still in the unrouted queue")
		}
		if q, _ := s.Queue(ctx, "perhubungan", QueuePage{Limit: 10}); q.Open != 1 {
			t.Errorf("not in the new OPD's queue")
		}
		_, err = s.Apply(ctx, Change{ID: "x:300", Version: 1, Actor: "humas2", Action: "assign", Set: map[string]string{"opd": "bina_marga_sda"}})
		if tanggap.ErrorCode(err) != tanggap.ECONFLICT || !strings.Contains(err.Error(), "(now version 2)") {
			t.Fatalf("stale change: %v", err)
		}
		if _, err := s.Apply(ctx, Change{ID: "x:300", Version: 2, Actor: "admin", Action: "hold", Reason: "alamat kurang jelas",
			Set: map[string]string{"status": "ON_HOLD", "held_ms": "1"}}); err != nil {
			t.Fatal(err)
		}
		q, _ = s.Queue(ctx, "perhubungan", QueuePage{Limit: 10})
		if q.Open != 0 || q.NHeld != 1 {
			t.Errorf("held item: open=%d held=%d", q.Open, q.NHeld)
		}
		h, _ := s.History(ctx, "x:300")
		var actions []string
		for _, e := range h {
			actions = append(actions, e.Action+":"+string(e.ToStatus)+":"+e.ToOPD+":"+e.Reason)
		}
		want := []string{"ingest:NEW::", "assign:ASSIGNED:perhubungan:PJU milik Dishub", "hold:ON_HOLD:perhubungan:alamat kurang jelas"}
		if d := cmp.Diff(want, actions); d != "" {
			t.Errorf("history (-want +got):\n%s", d)
		}
		if _, err := s.Item(ctx, "x:999"); tanggap.ErrorCode(err) != tanggap.ENOTFOUND {
			t.Errorf("missing item: %v", err)
		}
		if _, err := s.Apply(ctx, Change{ID: "x:999", Version: -1}); tanggap.ErrorCode(err) != tanggap.ENOTFOUND {
			t.Errorf("apply to missing item: %v", err)
		}
	})
}

// Empty fields are not written to the item hash nor to the ingest event,
// and read back empty; a post without text is not taken for an edit of
// itself when redelivered.
func TestIngestLeavesOutEmptyFields(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		in := citizen("410", "", c.Now())
		at := c.Now()
		in.Post.EditedAt = &at // an edited post whose text is now empty (a photo only)
		for i, want := range []IngestResult{Stored, Duplicate} {
			if got, err := s.Ingest(ctx, in); err != nil || got != want {
				t.Fatalf("delivery %d: %s %v, want %s", i, got, err, want)
			}
		}
		h, err := s.rdb.HGetAll(ctx, s.k.item("x:410")).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"text", "topic", "out_target", "cluster_id", "parent_id", "reply_by",
			"urgent", "truncated", "deleted"} { // false flags too
			if v, ok := h[f]; ok {
				t.Errorf("hash holds empty field %s=%q", f, v)
			}
		}
		if h["id"] != "x:410" || h["status"] != string(tanggap.StatusAssigned) || h["version"] != "1" {
			t.Errorf("hash: %v", h)
		}
		it, err := s.Item(ctx, "x:410")
		if err != nil || it.Text != "" || it.Topic != "" || it.OPD != "bina_marga_sda" || !it.Queued || it.Urgent {
			t.Errorf("item: %+v %v", it, err)
		}
		ev, err := s.History(ctx, "x:410")
		if err != nil || len(ev) != 1 {
			t.Fatalf("history: %+v %v", ev, err)
		}
		_, topic := ev[0].Set["topic"]
		_, fp := ev[0].Set["fp"]
		if topic || fp || ev[0].Set["opd"] != "bina_marga_sda" {
			t.Errorf("ingest event set: %v", ev[0].Set)
		}
	})
}

// A new item's ingest event (built by triage, stored and relayed as is)
// holds what the Lua record() wrote: the stored fields as "set", the
// fingerprint and near key besides, kind and confidence as "data".
func TestIngestEvent(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		in := citizen("420", "air \"PDAM\" mati\n\tsejak pagi \x01 \xff <b>&</b> ✓", c.Now().Add(-time.Hour))
		in.Kelurahan, in.Fingerprint, in.Topic = "Margajaya", "0123abcd", "air_bersih"
		if got, err := s.Ingest(ctx, in); err != nil || got != Stored {
			t.Fatalf("ingest: %s %v", got, err)
		}
		h, err := s.rdb.HGetAll(ctx, s.k.item("x:420")).Result()
		if err != nil {
			t.Fatal(err)
		}
		hist, err := s.History(ctx, "x:420")
		if err != nil || len(hist) != 1 {
			t.Fatalf("history: %+v %v", hist, err)
		}
		set := map[string]string{"fp": "0123abcd", "near_key": "bina_marga_sda|Margajaya"}
		for k, v := range h {
			switch k {
			case "version", "updated_ms", "due_ms", "soon_ms", "clock":
			default:
				set[k] = strings.ToValidUTF8(v, "\uFFFD")
			}
		}
		want := tanggap.Event{ID: "x:420#1", ItemID: "x:420", At: c.Now().Truncate(time.Millisecond), Actor: "triage", Action: "ingest",
			ToStatus: tanggap.StatusAssigned, ToOPD: "bina_marga_sda", Version: 1,
			Data: map[string]string{"kind": string(tanggap.KindComplaint), "confidence": "0.9000"}, Set: set}
		if d := cmp.Diff(want, hist[0]); d != "" {
			t.Errorf("ingest event (-want +got):\n%s", d)
		}
		if h["text"] != in.Post.Text {
			t.Errorf("stored text %q, want %q", h["text"], in.Post.Text)
		}
	})
}

func TestEditAndDelete(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		in := citizen("400", "banjir di kranji", c.Now())
		if _, err := s.Ingest(ctx, in); err != nil {
			t.Fatal(err)
		}
		ed := in
		at := c.Now().Add(time.Minute)
		ed.Post.EditedAt, ed.Post.Text = &at, "banjir di kranji sudah 50 cm"
		if got, _ := s.Ingest(ctx, ed); got != Edited {
			t.Fatalf("edit: %s", got)
		}
		if got, _ := s.Ingest(ctx, ed); got != Duplicate {
			t.Fatalf("edit redelivered: %s", got)
		}
		del := in
		del.Post.Deleted = true
		if got, _ := s.Ingest(ctx, del); got != Deleted {
			t.Fatalf("delete: %s", got)
		}
		it, _ := s.Item(ctx, "x:400")
		if it.Text != "banjir di kranji" || !it.Deleted || it.EditedAt == nil {
			t.Errorf("captured text must stay, deletion must mark: %+v", it)
		}
	})
}

// A post's item hash is staged by plain commands and taken by the script.
// A stage left by a pipeline cut short (with fields the post no longer
// has) must be replaced, not merged into; a missing stage must fail the
// script before it writes anything; no stage outlives its ingest.
func TestIngestStage(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		s.noPlain = true // the stage is the script's
		in := citizen("430", "lampu PJU mati di jalan cut meutia", c.Now())
		stage := s.k.itemKeys("x:430")[4]

		call, err := s.newIngestCall(&in)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ingest.Run(ctx, s.rdb, call.keys, call.args...).Err(); err == nil {
			t.Fatal("the script ran without a staged hash")
		}
		if n, _ := s.rdb.Exists(ctx, s.k.item("x:430")).Result(); n != 0 {
			t.Fatal("a failed ingest left an item")
		}
		if _, err := s.rdb.ZScore(ctx, s.k.items(), "x:430").Result(); !errors.Is(err, redis.Nil) {
			t.Fatalf("a failed ingest indexed the item: %v", err)
		}

		s.rdb.HSet(ctx, stage, "topic", "stale", "cluster_id", "x:999", "text", "teks lama")
		if got, err := s.Ingest(ctx, in); err != nil || got != Stored {
			t.Fatalf("ingest: %s %v", got, err)
		}
		h, _ := s.rdb.HGetAll(ctx, s.k.item("x:430")).Result()
		if _, ok := h["topic"]; ok || h["cluster_id"] != "" || h["text"] != in.Post.Text {
			t.Errorf("a stale stage leaked into the item: %v", h)
		}
		for _, again := range []IngestResult{Duplicate, Duplicate} {
			if got, err := s.Ingest(ctx, in); err != nil || got != again {
				t.Fatalf("redelivery: %s %v", got, err)
			}
		}
		if keys, _ := s.rdb.Keys(ctx, s.k.prefix()+"stage:*").Result(); len(keys) != 0 {
			t.Errorf("stages left: %v", keys)
		}
	})
}

// The script reads the fields of ingestArgs at ARGV[6] onwards: its
// constructor must name them at those places.
func TestIngestArgsMatchScript(t *testing.T) {
	for _, m := range regexp.MustCompile(`(\w+) = arg\((\d+)\)`).FindAllStringSubmatch(luaIngest, -1) {
		i, _ := strconv.Atoi(m[2])
		switch {
		case i >= 6 && i-6 < len(ingestArgs):
			if ingestArgs[i-6] != m[1] {
				t.Errorf("ARGV[%d] is %s in lua/ingest.lua, %s in ingestArgs", i, m[1], ingestArgs[i-6])
			}
		case m[1] != "fp" && m[1] != "near_key":
			t.Errorf("lua/ingest.lua reads %s from ARGV[%d], past ingestArgs", m[1], i)
		}
	}
	for i, f := range ingestArgs {
		if !strings.Contains(luaIngest, fmt.Sprintf("%s = arg(%d)", f, i+6)) {
			t.Errorf("lua/ingest.lua does not read %s from ARGV[%d]", f, i+6)
		}
	}
}

// An OPD's item list holds the items in the OPD now, not those routed
// elsewhere since (the opd:<code> set keeps them for reports).
func TestItemsOfOPDAfterReassignment(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		for _, id := range []string{"440", "441"} {
			if _, err := s.Ingest(ctx, citizen(id, "got mampet", c.Now())); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Apply(ctx, Change{ID: "x:441", Version: -1, Actor: "humas", Action: "assign", Reason: "saluran",
			Set: map[string]string{"opd": "lingkungan_hidup", "status": "ASSIGNED", "hops": "1"}}); err != nil {
			t.Fatal(err)
		}
		ids := func(opd string) []string {
			its, err := s.Items(ctx, ItemQuery{OPD: opd})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, it := range its.Items {
				out = append(out, it.ID)
			}
			return out
		}
		if got := ids("bina_marga_sda"); !slices.Equal(got, []string{"x:440"}) {
			t.Errorf("bina_marga_sda lists %v", got)
		}
		if got := ids("lingkungan_hidup"); !slices.Equal(got, []string{"x:441"}) {
			t.Errorf("lingkungan_hidup lists %v", got)
		}
	})
}

// Items pages newest first, time then id descending, and a page continued
// from its cursor neither skips nor repeats an item, however many share
// the last item's second (X and Facebook give whole seconds), even when
// that item has been removed from the sets since.
func TestItemsPaging(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-10 * time.Hour).Truncate(time.Second)
		for _, p := range []struct {
			id  string
			age time.Duration
		}{{"520", 0}, {"521", time.Hour}, {"522", time.Hour}, {"523", time.Hour}, {"524", 2 * time.Hour}, {"525", 2 * time.Hour}, {"526", 3 * time.Hour}} {
			in := citizen(p.id, "lampu mati", t0.Add(-p.age))
			if p.id == "526" {
				in.Status = tanggap.StatusReopened
			}
			if _, err := s.Ingest(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		all := []string{"x:520", "x:523", "x:522", "x:521", "x:525", "x:524", "x:526"}
		list := func(q ItemQuery) ([]string, *ItemList) {
			t.Helper()
			r, err := s.Items(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, it := range r.Items {
				ids = append(ids, it.ID)
			}
			return ids, r
		}
		// Whatever the page size and the budget of rows a call reads, the
		// pages give every item once, in order; a status that only the
		// oldest item has is found by calls that each read within budget.
		for _, tc := range []struct {
			q     ItemQuery
			want  []string
			calls int
		}{
			{ItemQuery{Limit: 1}, all, 8},
			{ItemQuery{Limit: 2}, all, 4},
			{ItemQuery{Limit: 3}, all, 3},
			{ItemQuery{Limit: 7}, all, 2},
			{ItemQuery{Limit: 100}, all, 1},
			{ItemQuery{Limit: 100, Scan: 2}, all, 4},
			{ItemQuery{Limit: 2, Scan: 3}, all, 4},
			{ItemQuery{Status: tanggap.StatusReopened, Limit: 1}, all[6:], 2},
			{ItemQuery{Status: tanggap.StatusReopened, Scan: 2}, all[6:], 4},
			{ItemQuery{Status: tanggap.StatusClosed, Scan: 3}, nil, 3},
		} {
			q := tc.q
			var got []string
			var scanned int64
			calls := 0
			for ; ; calls++ {
				ids, r := list(q)
				if calls > len(all)+1 {
					t.Fatalf("%+v: no end after %d calls", tc.q, calls)
				}
				if tc.q.Scan > 0 && r.Scanned > tc.q.Scan {
					t.Errorf("%+v: one call read %d rows", tc.q, r.Scanned)
				}
				got, scanned = append(got, ids...), scanned+r.Scanned
				if r.Complete {
					break
				}
				c, err := ParseItemCursor(r.Next.String())
				if err != nil || c != r.Next {
					t.Fatalf("cursor %+v round trip: %+v %v", r.Next, c, err)
				}
				q.After = c
			}
			if d := cmp.Diff(tc.want, got); d != "" || calls+1 != tc.calls || scanned != int64(len(all)) {
				t.Errorf("%+v: %d calls read %d rows, want %d calls (-want +got):\n%s", tc.q, calls+1, scanned, tc.calls, d)
			}
		}
		// Before is exclusive: the three items of its instant are left out.
		if ids, _ := list(ItemQuery{Before: t0.Add(-time.Hour)}); !slices.Equal(ids, all[4:]) {
			t.Errorf("before the three-item second: %v, want %v", ids, all[4:])
		}
		// The cursor's item left the sets (pruned): the listing goes on
		// from its place, with the rest of its second.
		_, r := list(ItemQuery{Limit: 3})
		if r.Next.ID != "x:522" {
			t.Fatalf("cursor after three: %+v", r.Next)
		}
		if err := s.rdb.ZRem(ctx, s.k.items(), "x:522").Err(); err != nil {
			t.Fatal(err)
		}
		if ids, _ := list(ItemQuery{Limit: 2, After: r.Next}); !slices.Equal(ids, []string{"x:521", "x:525"}) {
			t.Errorf("after a removed item: %v, want x:521 x:525", ids)
		}
		for _, bad := range []string{"!", "MTIz", ItemCursor{At: 0, ID: "x:1"}.String(), ItemCursor{At: 5}.String(),
			ItemCursor{At: 5, ID: strings.Repeat("x", 201)}.String()} {
			if _, err := ParseItemCursor(bad); tanggap.ErrorCode(err) != tanggap.EINVALID {
				t.Errorf("cursor %q: %v, want invalid", bad, err)
			}
		}
	})
}

// An item walking through its statuses is in exactly the per-OPD sets its
// state puts it in, with the scores of its current clock, after each step.
func TestSetsFollowTheState(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now()
		in := citizen("450", "jalan berlubang", t0)
		if _, err := s.Ingest(ctx, in); err != nil {
			t.Fatal(err)
		}
		d := in.Deadlines
		at := func(x time.Time) float64 { return float64(x.UnixMilli()) }
		autoclose := t0.Add(20 * 24 * time.Hour)
		type want map[string]float64 // set (of the OPD, or "resolved") -> score; absent: not a member
		steps := []struct {
			name string
			set  map[string]string
			opd  string
			want want
		}{
			{"ingested", nil, "bina_marga_sda", want{"open": at(d.FirstResponse), "soon": at(d.FirstResponseSoon), "age": at(t0), "unans": at(t0)}},
			{"answered", map[string]string{"fr_ms": ms(t0.Add(time.Hour)), "status": "IN_PROGRESS"}, "bina_marga_sda",
				want{"open": at(d.Resolution), "soon": at(d.ResolutionSoon), "age": at(t0)}},
			{"held", map[string]string{"status": "ON_HOLD", "held_ms": ms(t0.Add(2 * time.Hour))}, "bina_marga_sda",
				want{"age": at(t0), "held": at(t0)}},
			{"resumed", map[string]string{"status": "IN_PROGRESS"}, "bina_marga_sda",
				want{"open": at(d.Resolution), "soon": at(d.ResolutionSoon), "age": at(t0)}},
			{"due-soon moved", map[string]string{"res_soon_ms": ms(d.ResolutionSoon.Add(time.Hour))}, "bina_marga_sda",
				want{"open": at(d.Resolution), "soon": at(d.ResolutionSoon.Add(time.Hour)), "age": at(t0)}},
			{"resolved", map[string]string{"status": "RESOLVED", "resolved_ms": ms(t0.Add(3 * time.Hour)), "autoclose_ms": ms(autoclose)},
				"bina_marga_sda", want{"resolved": at(autoclose)}},
			{"reopened", map[string]string{"status": "REOPENED", "resolved_ms": "", "autoclose_ms": ""}, "bina_marga_sda",
				want{"open": at(d.Resolution), "soon": at(d.ResolutionSoon.Add(time.Hour)), "age": at(t0)}},
			// Answered by someone else (the first OPD): the new one's follow-up runs.
			{"reassigned", map[string]string{"status": "ASSIGNED", "opd": "lingkungan_hidup"}, "lingkungan_hidup",
				want{"open": at(d.Followup), "soon": at(d.FollowupSoon), "age": at(t0)}},
		}
		for _, st := range steps {
			if st.set != nil {
				c.Add(time.Minute)
				if _, err := s.Apply(ctx, Change{ID: "x:450", Version: -1, Actor: "t", Action: st.name, Set: st.set}); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
			}
			for _, opd := range []string{"bina_marga_sda", "lingkungan_hidup"} {
				for _, set := range []string{"open", "soon", "age", "unans", "held"} {
					score, err := s.rdb.ZScore(ctx, s.k.set(set+":", opd), "x:450").Result()
					w, member := st.want[set]
					if opd != st.opd {
						member = false
					}
					switch {
					case member && (err != nil || score != w):
						t.Errorf("%s: %s:%s score %v (%v), want %v", st.name, set, opd, score, err, w)
					case !member && err == nil:
						t.Errorf("%s: in %s:%s (score %v)", st.name, set, opd, score)
					}
				}
			}
			score, err := s.rdb.ZScore(ctx, s.k.resolved(), "x:450").Result()
			if w, member := st.want["resolved"]; member != (err == nil) || (member && score != w) {
				t.Errorf("%s: resolved %v (%v), want %v (%v)", st.name, score, err, w, member)
			}
		}
	})
}

// An item that becomes open again after it had ended records the time it
// spent ended (reports count it open only outside that time) and is
// listed by ReopenedIDs; moves between open statuses record nothing.
func TestReopensRecorded(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now()
		apply := func(id string, set map[string]string) *tanggap.Item {
			t.Helper()
			c.Add(time.Hour)
			it, err := s.Apply(ctx, Change{ID: id, Version: -1, Actor: "t", Action: "set", Set: set})
			if err != nil {
				t.Fatal(err)
			}
			return it
		}
		type span struct{ ended, at time.Time }
		check := func(id string, want ...span) {
			t.Helper()
			var w []tanggap.Reopen
			for _, sp := range want {
				w = append(w, tanggap.Reopen{Ended: sp.ended.Truncate(time.Millisecond), At: sp.at.Truncate(time.Millisecond)})
			}
			it, err := s.Item(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := s.AppendRows(ctx, []string{id}, 10, nil, nil) // what reports read
			if err != nil || len(rows) != 1 {
				t.Fatalf("%s: rows %v %v", id, rows, err)
			}
			for _, got := range [][]tanggap.Reopen{it.Reopens, rows[0].Reopens} {
				if d := cmp.Diff(w, got, cmpopts.EquateEmpty()); d != "" {
					t.Errorf("%s: reopens (-want +got):\n%s", id, d)
				}
			}
		}
		if _, err := s.Ingest(ctx, citizen("460", "jalan berlubang", t0)); err != nil {
			t.Fatal(err)
		}
		resolved := c.Now().Add(30 * time.Minute)
		apply("x:460", map[string]string{"status": "RESOLVED", "resolved_ms": ms(resolved)})
		apply("x:460", map[string]string{"status": "REOPENED", "resolved_ms": "", "closed_ms": ""})
		first := span{resolved, c.Now()}
		check("x:460", first)
		apply("x:460", map[string]string{"status": "ON_HOLD", "held_ms": ms(c.Now())})
		apply("x:460", map[string]string{"status": "IN_PROGRESS", "held_ms": ""})
		check("x:460", first)
		// A status without its own instant ended at its last change.
		dup := apply("x:460", map[string]string{"status": "DUPLICATE", "duplicate_of": "x:1"}).UpdatedAt
		apply("x:460", map[string]string{"status": "ASSIGNED", "opd": "lingkungan_hidup"})
		second := span{dup, c.Now()}
		check("x:460", first, second)
		if ids, err := s.ReopenedIDs(ctx, first.at); err != nil || !slices.Equal(ids, []string{"x:460"}) {
			t.Errorf("reopened after the first reopening: %v %v", ids, err)
		}
		if ids, err := s.ReopenedIDs(ctx, second.at); err != nil || len(ids) != 0 {
			t.Errorf("reopened after the last reopening: %v %v", ids, err)
		}

		// Archived at triage, never queued, routed by a person: never open
		// before.
		noise := citizen("461", "mantap pak", t0)
		noise.Kind, noise.Status, noise.Queued, noise.Deadlines = tanggap.KindPraise, tanggap.StatusNotComplaint, false, tanggap.Deadlines{}
		if _, err := s.Ingest(ctx, noise); err != nil {
			t.Fatal(err)
		}
		apply("x:461", map[string]string{"status": "ASSIGNED", "opd": "lingkungan_hidup", "queued": "1"})
		check("x:461", span{t0, c.Now()})
	})
}

func TestCursorAndCounts(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		if v, err := s.Cursor(ctx, tanggap.PlatformX, "humasbekasikota"); err != nil || v != "" {
			t.Fatalf("empty cursor: %q %v", v, err)
		}
		if err := s.SetCursor(ctx, tanggap.PlatformX, "humasbekasikota", "1790000000000000001"); err != nil {
			t.Fatal(err)
		}
		if v, _ := s.Cursor(ctx, tanggap.PlatformX, "humasbekasikota"); v != "1790000000000000001" {
			t.Fatalf("cursor: %q", v)
		}
		now := c.Now()
		for i, age := range []time.Duration{30 * time.Hour, 22 * time.Hour, time.Hour} {
			if _, err := s.Ingest(ctx, citizen(string(rune('a'+i)), "x", now.Add(-age))); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.OpenCounts(ctx, []string{"bina_marga_sda"}, now)
		if err != nil {
			t.Fatal(err)
		}
		want := map[tanggap.DeadlineState]int64{tanggap.Overdue: 1, tanggap.DueSoon: 1, tanggap.OnTrack: 1}
		if d := cmp.Diff(want, got["bina_marga_sda"]); d != "" {
			t.Errorf("counts (-want +got):\n%s", d)
		}
	})
}

// A consumer group's positions are kept per group and topic, a save
// changes only the partitions it names, and an entry that is no position
// is an error, not a partition silently started elsewhere.
func TestPositions(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		if p, err := s.Positions(ctx, "webhooks", "tanggap.events"); err != nil || len(p) != 0 {
			t.Fatalf("none recorded: %v %v", p, err)
		}
		if err := s.SavePositions(ctx, "webhooks", "tanggap.events", map[int]int64{0: 17, 1: 0, 2: 9_007_199_254_740_993}); err != nil {
			t.Fatal(err)
		}
		if err := s.SavePositions(ctx, "webhooks", "tanggap.events", map[int]int64{1: 4}); err != nil {
			t.Fatal(err)
		}
		if err := s.SavePositions(ctx, "webhooks", "tanggap.events", nil); err != nil {
			t.Fatal(err)
		}
		if err := s.SavePositions(ctx, "other", "tanggap.events", map[int]int64{0: 1}); err != nil {
			t.Fatal(err)
		}
		p, err := s.Positions(ctx, "webhooks", "tanggap.events")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(map[int]int64{0: 17, 1: 4, 2: 9_007_199_254_740_993}, p); d != "" {
			t.Errorf("positions (-want +got):\n%s", d)
		}
		if p, err := s.Positions(ctx, "webhooks", "tanggap.posts"); err != nil || len(p) != 0 {
			t.Errorf("another topic: %v %v", p, err)
		}
		if err := s.rdb.HSet(ctx, s.k.positions("webhooks", "tanggap.events"), "3", "x").Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Positions(ctx, "webhooks", "tanggap.events"); tanggap.ErrorCode(err) != tanggap.EINTERNAL {
			t.Errorf("a broken entry: %v", err)
		}
	})
}

func TestIngestRejectsBadPost(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		in := citizen("bad id{x}", "x", c.Now())
		if _, err := s.Ingest(context.Background(), in); tanggap.ErrorCode(err) != tanggap.EINVALID {
			t.Fatalf("bad id: %v", err)
		}
	})
}

func TestOutbox(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		if _, err := s.Ingest(ctx, citizen("500", "x", c.Now())); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Apply(ctx, Change{ID: "x:500", Version: -1, Actor: "u", Action: "assign", Set: map[string]string{"opd": "perhubungan"}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.ReadOutbox(ctx, "r1", 10, 10*time.Millisecond)
		if err != nil || len(got) != 2 {
			t.Fatalf("read: %v %+v", err, got)
		}
		// Not acknowledged: the same consumer gets them again after a crash.
		again, err := s.ReadOutbox(ctx, "r1", 10, 10*time.Millisecond)
		if err != nil || len(again) != 2 {
			t.Fatalf("re-read: %v %+v", err, again)
		}
		e0, err0 := again[0].Decode()
		e1, err1 := again[1].Decode()
		if err0 != nil || err1 != nil || e0.Action != "ingest" || e1.ToOPD != "perhubungan" || again[1].ItemID != "x:500" || !again[1].At.Equal(e1.At) {
			t.Fatalf("re-read: %v %v %+v %+v", err0, err1, e0, e1)
		}
		if err := s.AckOutbox(ctx, again[0].StreamID, again[1].StreamID); err != nil {
			t.Fatal(err)
		}
		if n, _, _ := s.OutboxBacklog(ctx); n != 0 {
			t.Fatalf("outbox left %d", n)
		}
		none, err := s.ReadOutbox(ctx, "r1", 10, 10*time.Millisecond)
		if err != nil || len(none) != 0 {
			t.Fatalf("empty read: %v %+v", err, none)
		}
	})
}

// Acknowledging trims the outbox without losing what a relay still holds
// or what nobody has read yet.
func TestOutboxAckKeepsHeldAndUnread(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		ingest := func(ids ...string) {
			for _, id := range ids {
				if _, err := s.Ingest(ctx, citizen(id, "x", c.Now())); err != nil {
					t.Fatal(err)
				}
			}
		}
		read := func(relay string, n int64) []OutboxEntry {
			got, err := s.ReadOutbox(ctx, relay, n, 10*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		ack := func(es []OutboxEntry) {
			for _, e := range es {
				if err := s.AckOutbox(ctx, e.StreamID); err != nil {
					t.Fatal(err)
				}
			}
		}
		ingest("510", "511", "512", "513")
		a, b := read("a", 2), read("b", 2)
		if len(a) != 2 || len(b) != 2 {
			t.Fatalf("read %d and %d", len(a), len(b))
		}
		ack(b) // relay a still holds the older two
		if again := read("a", 10); len(again) != 2 || again[0].StreamID != a[0].StreamID || again[1].StreamID != a[1].StreamID {
			t.Fatalf("relay a's entries after b acknowledged: %+v", again)
		}
		ingest("514") // not read by anyone
		ack(a)
		if n, _, _ := s.OutboxBacklog(ctx); n != 1 {
			t.Fatalf("outbox holds %d, want the unread entry only", n)
		}
		if last := read("b", 10); len(last) != 1 || last[0].ItemID != "x:514" {
			t.Fatalf("unread entry: %+v", last)
		}
	})
}

func TestUsersAndSessions(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		u := User{Login: "dlh.admin", Name: "Admin DLH", Role: "opd_admin", OPD: "lingkungan_hidup"}
		if err := s.PutUser(ctx, u, "rahasia-sekali-1", true); err != nil {
			t.Fatal(err)
		}
		if err := s.PutUser(ctx, u, "rahasia-sekali-1", true); tanggap.ErrorCode(err) != tanggap.ECONFLICT {
			t.Fatalf("duplicate user: %v", err)
		}
		// The system's own actors are not logins: their changes would read
		// as the system's in the audit history.
		for _, login := range []string{"triage", "system"} {
			sys := User{Login: login, Name: "x", Role: "ppid_utama"}
			if err := s.PutUser(ctx, sys, "rahasia-sekali-1", true); tanggap.ErrorCode(err) != tanggap.EINVALID {
				t.Fatalf("user %q: %v", login, err)
			}
		}
		if _, err := s.CheckPassword(ctx, "dlh.admin", "salah", "10.0.0.1"); tanggap.ErrorCode(err) != tanggap.EUNAUTHORIZED {
			t.Fatalf("wrong password: %v", err)
		}
		got, err := s.CheckPassword(ctx, "dlh.admin", "rahasia-sekali-1", "10.0.0.1")
		if err != nil || got.OPD != "lingkungan_hidup" {
			t.Fatalf("right password: %v %+v", err, got)
		}
		tok, err := s.NewSession(ctx, "dlh.admin", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if su, err := s.SessionUser(ctx, tok); err != nil || su.Login != "dlh.admin" {
			t.Fatalf("session: %v", err)
		}
		if err := s.SetDisabled(ctx, "dlh.admin", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionUser(ctx, tok); err == nil {
			t.Fatal("disabled user keeps a session")
		}
		// Rate limit: after LoginLimit failures even the right password is refused.
		s.SetDisabled(ctx, "dlh.admin", false)
		for i := 0; i < LoginLimit; i++ {
			s.CheckPassword(ctx, "dlh.admin", "salah", "10.0.0.2")
		}
		if _, err := s.CheckPassword(ctx, "dlh.admin", "rahasia-sekali-1", "10.0.0.3"); tanggap.ErrorCode(err) != tanggap.ERATELIMIT {
			t.Fatalf("rate limit: %v", err)
		}
		// Guesses sent in parallel are counted as they come, not after
		// their password checks: LoginLimit of them are checked, no more.
		u.Login = "dbm.admin"
		if err := s.PutUser(ctx, u, "rahasia-sekali-1", true); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var checked atomic.Int32
		for i := range 3 * LoginLimit {
			wg.Go(func() {
				_, err := s.CheckPassword(ctx, "dbm.admin", "salah", "10.0.1."+strconv.Itoa(i))
				if tanggap.ErrorCode(err) == tanggap.EUNAUTHORIZED {
					checked.Add(1)
				}
			})
		}
		wg.Wait()
		if n := checked.Load(); n != LoginLimit {
			t.Errorf("%d parallel guesses checked, want %d", n, LoginLimit)
		}
		// Per address alike; a success gives its attempt back.
		for i := range LoginLimitClient - 1 {
			s.CheckPassword(ctx, "nobody"+strconv.Itoa(i), "salah", "10.0.2.1")
		}
		u.Login = "dinsos.admin"
		if err := s.PutUser(ctx, u, "rahasia-sekali-1", true); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := s.CheckPassword(ctx, "dinsos.admin", "rahasia-sekali-1", "10.0.2.1"); err != nil {
				t.Fatalf("right password from an address with %d failures: %v", LoginLimitClient-1, err)
			}
		}
		if _, err := s.CheckPassword(ctx, "nobody", "salah", "10.0.2.1"); tanggap.ErrorCode(err) != tanggap.EUNAUTHORIZED {
			t.Fatalf("the address's last attempt: %v", err)
		}
		if _, err := s.CheckPassword(ctx, "dinsos.admin", "rahasia-sekali-1", "10.0.2.1"); tanggap.ErrorCode(err) != tanggap.ERATELIMIT {
			t.Fatalf("over the address's limit: %v", err)
		}
	})
}

// A changed password ends the user's sessions: changed by the user (who
// must know the current one, counted against the sign-in limits) or reset
// by an administrator. A session from before generations existed (the
// login alone) lasts until the password changes.
func TestPasswordChangeEndsSessions(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		u := User{Login: "dlh.admin", Name: "Admin DLH", Role: "opd_admin", OPD: "lingkungan_hidup"}
		if err := s.PutUser(ctx, u, "rahasia-sekali-1", true); err != nil {
			t.Fatal(err)
		}
		valid := func(tok string) bool { _, err := s.SessionUser(ctx, tok); return err == nil }
		// A user and a session from before generations existed.
		if err := s.rdb.HDel(ctx, s.k.user("dlh.admin"), "gen").Err(); err != nil {
			t.Fatal(err)
		}
		old, _ := s.NewSession(ctx, "dlh.admin", time.Hour)
		legacy := "legacy-token"
		if err := s.rdb.Set(ctx, s.k.session(legacy), "dlh.admin", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		if !valid(old) || !valid(legacy) {
			t.Fatal("sessions invalid before any change")
		}
		for _, tc := range []struct{ current, next, code string }{
			{"salah-sekali-1", "baru-sekali-22", tanggap.EINVALID},
			{"rahasia-sekali-1", "rahasia-sekali-1", tanggap.EINVALID},
			{"rahasia-sekali-1", "pendek", tanggap.EINVALID},
		} {
			if err := s.ChangePassword(ctx, "dlh.admin", tc.current, tc.next, "10.0.0.9"); tanggap.ErrorCode(err) != tc.code {
				t.Errorf("change %q -> %q: %v, want %s", tc.current, tc.next, err, tc.code)
			}
		}
		if !valid(old) {
			t.Fatal("a refused change ended the session")
		}
		if err := s.ChangePassword(ctx, "dlh.admin", "rahasia-sekali-1", "baru-sekali-22", "10.0.0.9"); err != nil {
			t.Fatal(err)
		}
		if valid(old) || valid(legacy) {
			t.Error("a session outlived the password change")
		}
		if _, err := s.CheckPassword(ctx, "dlh.admin", "baru-sekali-22", "10.0.0.9"); err != nil {
			t.Errorf("new password: %v", err)
		}
		fresh, _ := s.NewSession(ctx, "dlh.admin", time.Hour)
		if !valid(fresh) {
			t.Fatal("a session begun after the change is refused")
		}
		if err := s.PutUser(ctx, User{Login: "dlh.admin"}, "direset-admin-3", false); err != nil {
			t.Fatal(err)
		}
		if valid(fresh) {
			t.Error("a session outlived the administrator's reset")
		}
		// A wrong current password counts as a failed sign-in.
		for range LoginLimit {
			s.ChangePassword(ctx, "dlh.admin", "salah-lagi-123", "apa-saja-12345", "10.0.0.9")
		}
		if err := s.ChangePassword(ctx, "dlh.admin", "direset-admin-3", "apa-saja-12345", "10.0.0.9"); tanggap.ErrorCode(err) != tanggap.ERATELIMIT {
			t.Errorf("after %d wrong current passwords: %v", LoginLimit, err)
		}
	})
}

// Account administration: details are set exactly (an e-mail address can
// be removed) without touching the password or the disabled flag; a
// password set by someone else is temporary until its owner changes it;
// the record of account changes keeps the newest 500, newest first.
func TestAccountAdministration(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		u := User{Login: "dlh.admin", Name: "Admin DLH", Role: "opd_admin", OPD: "lingkungan_hidup", Email: "dlh@example.go.id"}
		if err := s.PutUser(ctx, u, "rahasia-sekali-1", true); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDisabled(ctx, "dlh.admin", true); err != nil {
			t.Fatal(err)
		}
		edit := User{Login: "dlh.admin", Name: "PPID DLH", Role: "ppid_pelaksana", OPD: "lingkungan_hidup"}
		if err := s.EditUser(ctx, edit); err != nil {
			t.Fatal(err)
		}
		got, _ := s.User(ctx, "dlh.admin")
		if got.Name != "PPID DLH" || got.Role != "ppid_pelaksana" || got.Email != "" || !got.Disabled {
			t.Errorf("after the edit: %+v", got)
		}
		if err := s.EditUser(ctx, User{Login: "tidak.ada", Name: "x", Role: "operator"}); tanggap.ErrorCode(err) != tanggap.ENOTFOUND {
			t.Errorf("editing a missing user: %v", err)
		}
		if err := s.EditUser(ctx, User{Login: "dlh.admin", Name: "x", Role: "operator", Email: "bukan surel"}); tanggap.ErrorCode(err) != tanggap.EINVALID {
			t.Errorf("a bad e-mail address: %v", err)
		}
		// A reset keeps the account disabled and makes the password temporary.
		if err := s.PutUser(ctx, User{Login: "dlh.admin", TempPassword: true}, "sementara-1234", false); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.User(ctx, "dlh.admin"); !got.Disabled || !got.TempPassword || got.Name != "PPID DLH" {
			t.Errorf("after the reset: %+v", got)
		}
		s.SetDisabled(ctx, "dlh.admin", false)
		if err := s.ChangePassword(ctx, "dlh.admin", "sementara-1234", "milik-sendiri-5", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.User(ctx, "dlh.admin"); got.TempPassword {
			t.Error("the owner's own password is still temporary")
		}
		for i := range userLogKeep + 3 {
			if err := s.LogUserChange(ctx, UserChange{By: "humas", Action: "edit", Login: fmt.Sprint("u", i)}); err != nil {
				t.Fatal(err)
			}
		}
		changes, err := s.UserChanges(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != userLogKeep || changes[0].Login != fmt.Sprint("u", userLogKeep+2) || changes[0].At.IsZero() {
			t.Errorf("the record: %d changes, newest %+v", len(changes), changes[0])
		}
	})
}

// held_threads names the item on hold in each citizen's thread while it
// is on hold, whichever way it leaves that status; of two held items in
// one thread, the later hold holds the name.
func TestHeldThreads(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-time.Hour)
		a := citizen("401", "lampu mati", t0)
		b := citizen("402", "masih mati", t0.Add(time.Minute))
		b.Post.ThreadID = "401"
		for _, in := range []Ingest{a, b} {
			if _, err := s.Ingest(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		other := b.Post
		other.Author = "warga2"
		held := func() string {
			t.Helper()
			ids, err := s.HeldThreads(ctx, []*tanggap.Post{&b.Post, &other})
			if err != nil || len(ids) != 2 || ids[1] != "" {
				t.Fatalf("held threads: %q %v", ids, err)
			}
			return ids[0]
		}
		apply := func(id, action string, set map[string]string) {
			t.Helper()
			if _, err := s.Apply(ctx, Change{ID: id, Version: -1, Actor: "dlh", Action: action, Reason: "r", Set: set}); err != nil {
				t.Fatal(err)
			}
		}
		hold := map[string]string{"status": "ON_HOLD", "held_ms": ms(c.Now())}
		for _, step := range []struct {
			id, action string
			set        map[string]string
			want       string
		}{
			{"", "", nil, ""},
			{"x:401", "hold", hold, "x:401"},
			{"x:401", "resume", map[string]string{"status": "ASSIGNED", "held_ms": ""}, ""},
			{"x:401", "hold", hold, "x:401"},
			{"x:402", "hold", hold, "x:402"},
			{"x:401", "assign", map[string]string{"status": "ASSIGNED", "opd": "perhubungan", "held_ms": ""}, "x:402"},
			{"x:402", "close", map[string]string{"status": "CLOSED", "held_ms": ""}, ""},
		} {
			if step.id != "" {
				apply(step.id, step.action, step.set)
			}
			if got := held(); got != step.want {
				t.Fatalf("after %s %s: held thread names %q, want %q", step.action, step.id, got, step.want)
			}
		}
	})
}

// held_threads names a citizen by a name nobody else can hold: the handle
// where the platform shows one, else the platform id (a Facebook name, or a
// YouTube one without "@", is anyone's), else the display name; the
// scripts write the field HeldThreadKey names.
func TestHeldThreadsCitizenName(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-time.Hour)
		for i, tc := range []struct {
			platform    tanggap.Platform
			author, aid string
			want        string
		}{
			{tanggap.PlatformX, "warga1", "11", "x 501 warga1"},
			{tanggap.PlatformInstagram, "warga.ig", "", "instagram 502 warga.ig"},
			{tanggap.PlatformYouTube, "@warga", "UCwarga", "youtube 503 @warga"},
			{tanggap.PlatformYouTube, "Warga Bekasi", "UCbekasi", "youtube:id 504 UCbekasi"},
			{tanggap.PlatformFacebook, "Budi Santoso", "1001", "facebook:id 505 1001"},
			{tanggap.PlatformFacebook, "Budi Santoso", "", "facebook 506 Budi Santoso"},
		} {
			in := citizen(strconv.Itoa(501+i), "lampu mati", t0)
			in.Post.Platform, in.Post.Author, in.Post.AuthorID = tc.platform, tc.author, tc.aid
			if got := HeldThreadKey(&in.Post); got != tc.want {
				t.Errorf("HeldThreadKey(%s %q %q) = %q, want %q", tc.platform, tc.author, tc.aid, got, tc.want)
			}
			if _, err := s.Ingest(ctx, in); err != nil {
				t.Fatal(err)
			}
			id := in.Post.ItemID()
			for _, ch := range []Change{
				{ID: id, Version: -1, Actor: "dlh", Action: "hold", Reason: "r", Set: map[string]string{"status": "ON_HOLD", "held_ms": ms(c.Now())}},
				{ID: id, Version: -1, Actor: "system", Action: "resume", Reason: "r", Set: map[string]string{"status": "ASSIGNED", "held_ms": ""}},
			} {
				if _, err := s.Apply(ctx, ch); err != nil {
					t.Fatal(err)
				}
				want := map[string]string{}
				if ch.Action == "hold" {
					want[tc.want] = id
				}
				got, err := s.rdb.HGetAll(ctx, s.k.heldThreads()).Result()
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("%s after %s: held_threads (-want +got):\n%s", id, ch.Action, d)
				}
				if ids, err := s.HeldThreads(ctx, []*tanggap.Post{&in.Post}); err != nil || ids[0] != want[tc.want] {
					t.Errorf("%s after %s: HeldThreads = %q, %v; want %q", id, ch.Action, ids, err, want[tc.want])
				}
			}
		}
	})
}

// An entry written before citizens with a platform id were named by it
// (by the display name) still resumes the item for its own citizen after
// an upgrade, never for a namesake, and leaves with the hold.
func TestHeldThreadsByNameBeforeUpgrade(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		in := citizen("601", "jalan berlubang", c.Now().Add(-time.Hour))
		in.Post.Platform, in.Post.Author, in.Post.AuthorID = tanggap.PlatformFacebook, "Budi Santoso", "1001"
		if _, err := s.Ingest(ctx, in); err != nil {
			t.Fatal(err)
		}
		id := in.Post.ItemID()
		if _, err := s.Apply(ctx, Change{ID: id, Version: -1, Actor: "dlh", Action: "hold", Reason: "r",
			Set: map[string]string{"status": "ON_HOLD", "held_ms": ms(c.Now())}}); err != nil {
			t.Fatal(err)
		}
		// The entry as the scripts wrote it before.
		if err := s.rdb.Del(ctx, s.k.heldThreads()).Err(); err != nil {
			t.Fatal(err)
		}
		if err := s.rdb.HSet(ctx, s.k.heldThreads(), "facebook 601 Budi Santoso", id).Err(); err != nil {
			t.Fatal(err)
		}
		post := func(aid string) *tanggap.Post {
			return &tanggap.Post{Platform: tanggap.PlatformFacebook, ID: "602" + aid, ThreadID: "601", Author: "Budi Santoso", AuthorID: aid}
		}
		ids, err := s.HeldThreads(ctx, []*tanggap.Post{post("2002"), post("1001"), post("")})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{"", id, ""}, ids); d != "" {
			t.Errorf("held threads of a namesake, the citizen, an author without id (-want +got):\n%s", d)
		}
		if _, err := s.Apply(ctx, Change{ID: id, Version: -1, Actor: "system", Action: "resume", Reason: "r",
			Set: map[string]string{"status": "ASSIGNED", "held_ms": ""}}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.rdb.HLen(ctx, s.k.heldThreads()).Result(); err != nil || n != 0 {
			t.Errorf("after the resume held_threads has %d fields (%v), want none", n, err)
		}
	})
}

func TestLeases(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		name := LeaseName(tanggap.PlatformInstagram, "pemkot_bekasi")
		if ok, err := s.AcquireLease(ctx, name, "w1", time.Second); !ok || err != nil {
			t.Fatalf("w1 acquire: %v %v", ok, err)
		}
		if ok, _ := s.AcquireLease(ctx, name, "w2", time.Second); ok {
			t.Fatal("w2 took a held lease")
		}
		if ok, _ := s.RenewLease(ctx, name, "w1", time.Second); !ok {
			t.Fatal("w1 renew")
		}
		if h, _ := s.LeaseHolder(ctx, name); h != "w1" {
			t.Fatalf("holder %q", h)
		}
		s.ReleaseLease(ctx, name, "w2") // not theirs: no effect
		if h, _ := s.LeaseHolder(ctx, name); h != "w1" {
			t.Fatalf("w2 released w1's lease")
		}
		s.ReleaseLease(ctx, name, "w1")
		if ok, _ := s.AcquireLease(ctx, name, "w2", time.Second); !ok {
			t.Fatal("w2 after release")
		}
	})
}

func TestCorrectionsAndRoutingStats(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		in := citizen("700", "got mampet", c.Now())
		in.ClassifierOPD = "bina_marga_sda"
		if _, err := s.Ingest(ctx, in); err != nil {
			t.Fatal(err)
		}
		// The move away counts; the move back and away again is a
		// correction, no second overrule.
		for _, c := range []Correction{
			{ItemID: "x:700", Text: "got mampet", ClassifierOPD: "bina_marga_sda", FromOPD: "bina_marga_sda", OPD: "lingkungan_hidup", Actor: "humas", Overrule: true},
			{ItemID: "x:700", Text: "got mampet", ClassifierOPD: "bina_marga_sda", FromOPD: "bina_marga_sda", OPD: "perhubungan", Actor: "humas"},
		} {
			if err := s.AddCorrection(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		st, err := s.Routing(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := st["bina_marga_sda"]; got.Auto != 1 || got.Overruled != 1 || got.Rate() != 1 {
			t.Fatalf("routing stats: %+v", got)
		}
		cs, _ := s.Corrections(ctx, 10)
		if len(cs) != 2 || cs[1].OPD != "lingkungan_hidup" || cs[1].Text != "got mampet" || !cs[1].Overrule {
			t.Fatalf("corrections: %+v", cs)
		}
	})
}

// An item the classifier routed on its own is known by its ingest event,
// whatever happened to it since; one triage left unrouted, or routed
// elsewhere than the classifier's suggestion, is not.
func TestRoutedByClassifier(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		auto := citizen("710", "got mampet", c.Now())
		auto.ClassifierOPD = auto.OPD
		unrouted := citizen("711", "got mampet", c.Now())
		unrouted.ClassifierOPD, unrouted.OPD, unrouted.Status = "bina_marga_sda", "", tanggap.StatusNew
		other := citizen("712", "got mampet", c.Now())
		other.ClassifierOPD = "lingkungan_hidup"
		for _, in := range []Ingest{auto, unrouted, other} {
			if _, err := s.Ingest(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		// A person routes the unrouted one to the classifier's suggestion.
		if _, err := s.Apply(ctx, Change{ID: "x:711", Version: -1, Actor: "humas", Action: "assign", Reason: "r",
			Set: map[string]string{"status": "ASSIGNED", "opd": "bina_marga_sda"}}); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]bool{"x:710": true, "x:711": false, "x:712": false} {
			if got, err := s.RoutedByClassifier(ctx, id); err != nil || got != want {
				t.Errorf("RoutedByClassifier(%s) = %v, %v; want %v", id, got, err, want)
			}
		}
		if _, err := s.RoutedByClassifier(ctx, "x:404"); tanggap.ErrorCode(err) != tanggap.ENOTFOUND {
			t.Errorf("RoutedByClassifier of a missing item: %v, want ENOTFOUND", err)
		}
	})
}

func TestNearDuplicateCluster(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		mk := func(id string, at time.Time, cluster string) Ingest {
			in := citizen(id, "pohon tumbang di jl kemakmuran", at)
			in.Kelurahan, in.Fingerprint, in.ClusterID = "Margajaya", "abcd", cluster
			in.Post.Author = "warga" + id // each report another citizen's
			return in
		}
		t0 := c.Now().Add(-time.Hour)
		if _, err := s.Ingest(ctx, mk("800", t0, "")); err != nil {
			t.Fatal(err)
		}
		// One read serves a batch: a near report, a report days later, the
		// root itself (a redelivery) and a post that cannot cluster.
		far := mk("899", t0.Add(NearWindow+time.Hour), "")
		unplaced := mk("898", t0, "")
		unplaced.Kelurahan = ""
		cands, err := s.NearCandidates(ctx, []Ingest{mk("801", t0.Add(10*time.Minute), ""), far, mk("800", t0, ""), unplaced})
		if err != nil || len(cands) != 4 {
			t.Fatalf("candidates: %+v %v", cands, err)
		}
		if c := cands[0]; len(c) != 1 || c[0].ID != "x:800" || c[0].ClusterID != "x:800" || c[0].Fingerprint != "abcd" || !c[0].Created.Equal(t0.Truncate(time.Millisecond)) {
			t.Fatalf("candidates of a near report: %+v", c)
		}
		if len(cands[1]) != 0 || len(cands[2]) != 0 || len(cands[3]) != 0 {
			t.Fatalf("a report days later, the item itself and an unplaced post have no candidates: %+v", cands[1:])
		}
		for _, id := range []string{"801", "802"} {
			if _, err := s.Ingest(ctx, mk(id, t0.Add(10*time.Minute), "x:800")); err != nil {
				t.Fatal(err)
			}
		}
		root, _ := s.Item(ctx, "x:800")
		if root.Reporters != 3 || !root.Urgent || root.ClusterID != "x:800" {
			t.Fatalf("root after two more reports: reporters=%d urgent=%v cluster=%q", root.Reporters, root.Urgent, root.ClusterID)
		}
		// A member's candidate entry names the root's cluster.
		cands, _ = s.NearCandidates(ctx, []Ingest{mk("803", t0.Add(20*time.Minute), "")})
		if len(cands[0]) != 3 {
			t.Fatalf("candidates after three reports: %+v", cands[0])
		}
		for _, c := range cands[0] {
			if c.ClusterID != "x:800" {
				t.Errorf("candidate %s is in cluster %q, want x:800", c.ID, c.ClusterID)
			}
		}
		// The fingerprint is kept in the candidate index, not in the item.
		if fp, _ := s.rdb.HGet(ctx, s.k.item("x:801"), "fp").Result(); fp != "" {
			t.Errorf("item hash keeps the fingerprint %q", fp)
		}
		// Each member stays its own item in the queue.
		q, _ := s.Queue(ctx, "bina_marga_sda", QueuePage{Limit: 10})
		if q.Open != 3 {
			t.Fatalf("queue has %d items, want 3", q.Open)
		}
		// Past UrgentReporters, reports are counted (and named in their
		// own ingest events) but the root no longer changes; a redelivered
		// report counts once.
		for _, id := range []string{"803", "804", "804", "805"} {
			if _, err := s.Ingest(ctx, mk(id, t0.Add(30*time.Minute), "x:800")); err != nil {
				t.Fatal(err)
			}
		}
		root, _ = s.Item(ctx, "x:800")
		if root.Reporters != 6 || root.Version != 3 {
			t.Errorf("root after five reports joined: reporters=%d version=%d, want 6 and 3", root.Reporters, root.Version)
		}
		// The root lists the reports that joined it, each once; a root
		// whose id begins another's lists none of the other's.
		if m, err := s.ClusterMembers(ctx, "x:800", 100); err != nil || !slices.Equal(m, []string{"x:801", "x:802", "x:803", "x:804", "x:805"}) {
			t.Errorf("cluster members: %v %v", m, err)
		}
		if m, _ := s.ClusterMembers(ctx, "x:800", 2); len(m) != 2 {
			t.Errorf("cluster members, at most 2: %v", m)
		}
		if m, _ := s.ClusterMembers(ctx, "x:80", 100); len(m) != 0 {
			t.Errorf("members of x:80: %v", m)
		}
		h, _ := s.History(ctx, "x:800")
		if len(h) != 3 || h[1].Action != "cluster" || h[2].Action != "cluster" || h[2].Set["reporters"] != "3" {
			t.Errorf("root history: %+v", h)
		}
		q, _ = s.Queue(ctx, "bina_marga_sda", QueuePage{Limit: 10})
		list, _ := s.ItemsByID(ctx, []string{"x:801", "x:800"})
		for _, its := range [][]tanggap.Item{q.Items, list} {
			for _, it := range its {
				if want := map[bool]int{true: 6}[it.ID == "x:800"]; it.Reporters != want {
					t.Errorf("%s read with %d reporters, want %d", it.ID, it.Reporters, want)
				}
			}
		}
		// Posts no OPD was chosen for are candidates among themselves, in
		// their place: not among another OPD's, not in another place.
		unrouted := func(id, place string) Ingest {
			in := mk(id, t0, "")
			in.OPD, in.Status, in.Kelurahan = "", tanggap.StatusNew, place
			return in
		}
		if _, err := s.Ingest(ctx, unrouted("850", "Margajaya")); err != nil {
			t.Fatal(err)
		}
		cands, _ = s.NearCandidates(ctx, []Ingest{unrouted("851", "Margajaya"), unrouted("852", "Harapan Jaya")})
		if len(cands[0]) != 1 || cands[0][0].ID != "x:850" || len(cands[1]) != 0 {
			t.Errorf("candidates of unrouted reports: %+v", cands)
		}
	})
}

// Near-set members written before they carried their platform time are
// still candidates, timed by their score, next to current ones.
func TestNearCandidatesOldMembers(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		mk := func(id string, at time.Time) Ingest {
			in := citizen(id, "pohon tumbang di jl kemakmuran", at)
			in.Kelurahan, in.Fingerprint = "Margajaya", "abcd"
			return in
		}
		t0 := c.Now().Add(-time.Hour).Truncate(time.Millisecond)
		if err := s.rdb.ZAdd(ctx, s.k.near("bina_marga_sda|Margajaya"), redis.Z{Score: float64(t0.UnixMilli()), Member: "x:700 - ef"}).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ingest(ctx, mk("701", t0.Add(time.Minute))); err != nil {
			t.Fatal(err)
		}
		cands, err := s.NearCandidates(ctx, []Ingest{mk("702", t0.Add(10*time.Minute)), mk("703", t0.Add(NearWindow+30*time.Second))})
		if err != nil {
			t.Fatal(err)
		}
		if c := cands[0]; len(c) != 2 || c[0].ID != "x:701" || !c[0].Created.Equal(t0.Add(time.Minute)) ||
			c[1].ID != "x:700" || c[1].Fingerprint != "ef" || !c[1].Created.Equal(t0) {
			t.Fatalf("candidates: %+v", c)
		}
		if c := cands[1]; len(c) != 1 || c[0].ID != "x:701" {
			t.Fatalf("a report 72 h after the old member: %+v", c)
		}
	})
}

// Nearby reads the items of several slots of one place around an instant,
// each once: an item ingested unrouted and one of the OPD, not the other
// place's nor the one three days later.
func TestNearby(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-time.Hour).Truncate(time.Millisecond)
		mk := func(id, opd, place string, at time.Time) Ingest {
			in := citizen(id, "genangan air di jl kemakmuran", at)
			in.OPD, in.Kelurahan, in.Fingerprint = opd, place, strings.Repeat("0123abcd", 16)
			if opd == "" {
				in.Status = tanggap.StatusNew
			}
			return in
		}
		for _, in := range []Ingest{mk("720", "bina_marga_sda", "Margajaya", t0), mk("721", "", "Margajaya", t0.Add(time.Minute)),
			mk("722", "bina_marga_sda", "Kranji", t0), mk("723", "bina_marga_sda", "Margajaya", t0.Add(NearWindow+time.Minute)),
			mk("724", "lingkungan_hidup", "Margajaya", t0)} {
			if _, err := s.Ingest(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Nearby(ctx, []string{"bina_marga_sda", "", Unrouted, "bina_marga_sda"}, "Margajaya", t0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range got {
			ids = append(ids, c.ID)
			if c.Fingerprint != strings.Repeat("0123abcd", 16) {
				t.Errorf("%s: fingerprint %q", c.ID, c.Fingerprint)
			}
		}
		if !slices.Equal(ids, []string{"x:720", "x:721"}) {
			t.Errorf("nearby: %v, want x:720 (the OPD's slot) then x:721 (unrouted)", ids)
		}
	})
}

// A root counted before the reporters hash existed (its own field says 4)
// goes on from its count.
func TestReportersFromRootField(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-time.Hour)
		root := citizen("810", "banjir di jl kemakmuran", t0)
		if _, err := s.Ingest(ctx, root); err != nil {
			t.Fatal(err)
		}
		s.rdb.HSet(ctx, s.k.item("x:810"), "cluster_id", "x:810", "reporters", "4", "urgent", "1")
		join := citizen("811", "banjir di jl kemakmuran", t0.Add(time.Minute))
		join.ClusterID, join.Post.Author = "x:810", "warga2"
		if _, err := s.Ingest(ctx, join); err != nil {
			t.Fatal(err)
		}
		if it, _ := s.Item(ctx, "x:810"); it.Reporters != 5 || it.Version != 1 {
			t.Errorf("old root after one more report: reporters=%d version=%d, want 5 and 1", it.Reporters, it.Version)
		}
		// The root's own citizen went into the cluster's set as it formed:
		// their next report is not counted again.
		again := citizen("812", "banjir lagi di jl kemakmuran", t0.Add(2*time.Minute))
		again.ClusterID = "x:810"
		if _, err := s.Ingest(ctx, again); err != nil {
			t.Fatal(err)
		}
		if it, _ := s.Item(ctx, "x:810"); it.Reporters != 5 {
			t.Errorf("old root after its own citizen reported again: reporters=%d, want 5", it.Reporters)
		}
	})
}

// A cluster counted before the store kept its citizens (the reporters hash
// holds its count of reports, and it has no set) keeps that count, and
// from then on counts each citizen once more, once: the set does not know
// whom the old count counted. A rebuild from the events topic counts its
// citizens.
func TestReportersBeforeCitizens(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-time.Hour)
		n := 0
		ingest := func(author string) {
			t.Helper()
			in := citizen(strconv.Itoa(860+n), "banjir di jl kemakmuran", t0.Add(time.Duration(n)*time.Minute))
			in.Kelurahan, in.Fingerprint, in.Post.Author = "Margajaya", "abcd", author
			if n > 0 {
				in.ClusterID = "x:860"
			}
			n++
			if _, err := s.Ingest(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		reporters := func(when string, want int) {
			t.Helper()
			if it, err := s.Item(ctx, "x:860"); err != nil || it.Reporters != want {
				t.Errorf("%s: %+v %v, want %d reporters", when, it, err, want)
			}
		}
		// One citizen's three reports, as the store left them before: three
		// reporters, the root changed (and logged it) at the second and
		// the third.
		for range 3 {
			ingest("warga1")
		}
		s.rdb.Del(ctx, s.k.citizens("x:860"))
		s.rdb.HSet(ctx, s.k.reporters(), "x:860", "3")
		for _, set := range []map[string]string{{"cluster_id": "x:860", "reporters": "2"}, {"reporters": "3", "urgent": "1"}} {
			if _, err := s.Apply(ctx, Change{ID: "x:860", Version: -1, Actor: "triage", Action: "cluster", Set: set}); err != nil {
				t.Fatal(err)
			}
		}
		reporters("the old count", 3)
		ingest("warga2")
		reporters("a new citizen", 4)
		ingest("warga2")
		reporters("the new citizen again", 4)
		ingest("warga1")
		reporters("a citizen the old count counted", 5)
		ingest("warga1")
		reporters("that citizen again", 5)
		evs := relayAll(t, s)
		dropCity(s.rdb, strings.TrimSuffix(strings.TrimPrefix(s.k.prefix(), "tanggap:{"), "}:"))
		if _, err := s.Restore(ctx, evs, time.Time{}); err != nil {
			t.Fatal(err)
		}
		reporters("rebuilt", 2)
	})
}

// The script tells a cluster root's citizen by the Lua citizen and triage
// a joining report's by citizenOf: the two must agree, and tell apart what
// they must.
func TestCitizenMatchesLua(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	script := redis.NewScript(luaCommon + "\nreturn citizen(ARGV[3], ARGV[4], ARGV[5], ARGV[6])")
	seen := map[string]string{}
	for _, c := range [][4]string{
		{"x", "77", "warga1", "x:1"},
		{"x", "", "warga1", "x:2"},
		{"facebook", "", "warga1", "facebook:3"},
		{"facebook", "", "Budi Santoso · Bekasi", "facebook:4"},
		{"youtube", "UC77", "@warga1", "youtube:5"},
		{"x", "", "", "x:6"},
		{"x", "", "", "x:7"},
	} {
		lua, err := script.Run(context.Background(), rdb, []string{"k"}, "tanggap:{t}:", "0", c[0], c[1], c[2], c[3]).Text()
		if err != nil {
			t.Fatal(err)
		}
		if got := citizenOf(c[0], c[1], c[2], c[3]); got != lua || len(got) != 16 {
			t.Errorf("%q: citizenOf %q, Lua %q", c, got, lua)
		}
		if other, ok := seen[lua]; ok {
			t.Errorf("%q and %s are one citizen", c, other)
		}
		seen[lua] = fmt.Sprint(c)
	}
	// By platform id whatever the name; by name only without an id.
	if citizenOf("x", "77", "warga1", "x:1") != citizenOf("x", "77", "warga_baru", "x:8") ||
		citizenOf("x", "", "warga1", "x:2") != citizenOf("x", "", "warga1", "x:9") {
		t.Error("one citizen's reports are told apart")
	}
}

// A cluster counts its citizens, not its reports: a citizen who repeats a
// complaint under several of the city's posts is one reporter, whether
// the cluster is forming (the script) or formed (the plain path too).
// Citizens are told apart by their platform id, else by their handle or
// name, on one platform.
func TestReportersAreCitizens(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-time.Hour)
		n := 0
		report := func(p tanggap.Platform, authorID, author string) Ingest {
			n++
			id := strconv.Itoa(830 + n)
			in := citizen(id, "banjir di jl kemakmuran", t0.Add(time.Duration(n)*time.Minute))
			in.Post.Platform, in.Post.AuthorID, in.Post.Author = p, authorID, author
			in.Kelurahan, in.Fingerprint = "Margajaya", "abcd"
			if n > 1 {
				in.ClusterID = "x:831"
			}
			return in
		}
		root := func() *tanggap.Item {
			t.Helper()
			it, err := s.Item(ctx, "x:831")
			if err != nil {
				t.Fatal(err)
			}
			return it
		}
		steps := []struct {
			what     string
			ins      []Ingest
			want     int   // reporters read on the root
			version  int64 // the root's
			clusters bool  // the root is a cluster's
		}{
			{"the first report", []Ingest{report(tanggap.PlatformX, "", "warga1")}, 0, 1, false},
			{"the same citizen twice more", []Ingest{report(tanggap.PlatformX, "", "warga1"), report(tanggap.PlatformX, "", "warga1")}, 0, 1, false},
			{"a second citizen", []Ingest{report(tanggap.PlatformX, "", "warga2")}, 2, 2, true},
			{"the two again", []Ingest{report(tanggap.PlatformX, "", "warga2"), report(tanggap.PlatformX, "", "warga1")}, 2, 2, true},
			// By platform id: one citizen under two names; the same name on
			// another platform is another citizen.
			{"a third by id", []Ingest{report(tanggap.PlatformX, "77", "warga3")}, 3, 3, true},
			{"the third renamed", []Ingest{report(tanggap.PlatformX, "77", "warga3_baru")}, 3, 3, true},
			{"a name elsewhere", []Ingest{report(tanggap.PlatformFacebook, "", "warga1")}, 4, 3, true},
			{"that name again", []Ingest{report(tanggap.PlatformFacebook, "", "warga1")}, 4, 3, true},
			// Nothing tells two authorless reports' citizens apart: each counts.
			{"no author", []Ingest{report(tanggap.PlatformX, "", ""), report(tanggap.PlatformX, "", "")}, 6, 3, true},
		}
		for _, st := range steps {
			if _, errs := s.IngestBatch(ctx, st.ins); errs[0] != nil || errs[len(errs)-1] != nil {
				t.Fatalf("%s: %v", st.what, errs)
			}
			if it := root(); it.Reporters != st.want || it.Version != st.version || (it.ClusterID == "x:831") != st.clusters {
				t.Errorf("after %s: reporters=%d version=%d cluster=%q, want %d, %d and a cluster %v",
					st.what, it.Reporters, it.Version, it.ClusterID, st.want, st.version, st.clusters)
			}
		}
		if it := root(); !it.Urgent {
			t.Error("three citizens did not make the cluster urgent")
		}
		if h, _ := s.History(ctx, "x:831"); len(h) != 3 || h[1].Set["reporters"] != "2" || h[2].Set["reporters"] != "3" {
			t.Errorf("root history: %+v", h)
		}
		// Every report is listed among the cluster's, repeated or not.
		if m, _ := s.ClusterMembers(ctx, "x:831", 100); len(m) != n-1 {
			t.Errorf("cluster members: %v, want %d", m, n-1)
		}
	})
}

// The Go list of packed fields must match the Lua one, and a scan must
// give the same items as reading whole hashes.
func TestPackedRows(t *testing.T) {
	src := luaCommon[strings.Index(luaCommon, "local REP_FIELDS = {"):]
	src = src[:strings.Index(src, "}")]
	var lua []string
	for _, q := range strings.Split(src, "'")[1:] {
		if !strings.ContainsAny(q, ",{} \n") && q != "" {
			lua = append(lua, q)
		}
	}
	if d := cmp.Diff(lua, repFields[:]); d != "" {
		t.Fatalf("repFields differ from REP_FIELDS (-lua +go):\n%s", d)
	}
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-time.Hour)
		s.Ingest(ctx, citizen("900", "teks: dengan 12:34 titik dua\x1e dan kontrol", t0))
		s.Ingest(ctx, reply("901", "900", t0.Add(time.Minute), "bina_marga_sda"))
		// A new item's row is packed by triage around the script's clock.
		fresh := citizen("902", "lampu \"pju\" mati\n2:3", t0)
		fresh.Kelurahan, fresh.Kecamatan, fresh.Topic, fresh.ClusterID, fresh.Urgent = "Margajaya", "Bekasi Utara", "pju", "x:800", true
		s.Ingest(ctx, fresh)
		var got []tanggap.Item
		if err := s.ScanCreated(ctx, t0.Add(-time.Hour), t0.Add(time.Hour), 10, func(its []tanggap.Item) error {
			got = append(got, its...)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want, _ := s.ItemsByID(ctx, []string{"x:900", "x:902", "x:901"}) // by platform time
		strip := func(its []tanggap.Item) []tanggap.Item {
			for i := range its {
				its[i].Features, its[i].Deadlines, its[i].DueSoonAt, its[i].ClaimUntil, its[i].ClaimedBy = nil, tanggap.Deadlines{}, time.Time{}, time.Time{}, ""
			}
			return its
		}
		if d := cmp.Diff(strip(want), strip(got)); d != "" {
			t.Fatalf("packed scan differs from whole hashes (-hash +packed):\n%s", d)
		}
		// The scan falls back to the hash for a row it cannot read: each
		// row must read by itself.
		for _, id := range []string{"x:900", "x:901", "x:902"} {
			raw, err := s.rdb.Get(ctx, s.k.row(id)).Result()
			var it tanggap.Item
			if d := (itemDecoder{}); err != nil || !decodeRow(raw, &d, &it) || it.ID != id {
				t.Errorf("row of %s: %v %q", id, err, raw)
			}
		}
	})
}

func TestScanCreatedPagesByScore(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-time.Hour)
		want := map[string]bool{}
		for i := 0; i < 25; i++ {
			at := t0.Add(time.Duration(i) * time.Second)
			if i >= 5 && i < 15 {
				at = t0.Add(5 * time.Second) // ten posts in the same second
			}
			id := strconv.Itoa(1000 + i)
			s.Ingest(ctx, citizen(id, "x", at))
			want["x:"+id] = true
		}
		got := map[string]int{}
		err := s.ScanCreated(ctx, t0, t0.Add(time.Minute), 4, func(its []tanggap.Item) error {
			for _, it := range its {
				got[it.ID]++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for id := range want {
			if got[id] != 1 {
				t.Errorf("%s scanned %d times", id, got[id])
			}
		}
		if len(got) != len(want) {
			t.Errorf("scanned %d items, want %d", len(got), len(want))
		}
	})
}

// Near sets drop entries older than NEAR_KEEP_MS (14 days), trimmed by the
// posts whose id ends in a byte divisible by 8 (0 or 8 for numeric ids).
func TestNearSetTrim(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		mk := func(id string, at time.Time) Ingest {
			in := citizen(id, "sampah menumpuk di pasar", at)
			in.Kelurahan, in.Fingerprint = "Kranji", "ef"
			return in
		}
		t0 := c.Now().Add(-20 * 24 * time.Hour)
		later := t0.Add(15 * 24 * time.Hour)
		first := mk("900", t0)
		key := s.k.near(first.NearKey())
		for _, step := range []struct {
			in   Ingest
			want int64
		}{{first, 1}, {mk("901", later), 2}, {mk("908", later), 2}} {
			if _, err := s.Ingest(ctx, step.in); err != nil {
				t.Fatal(err)
			}
			if n, _ := s.rdb.ZCard(ctx, key).Result(); n != step.want {
				t.Errorf("after %s: %d entries in %s, want %d", step.in.Post.ID, n, key, step.want)
			}
		}
		if n, _ := s.rdb.ZCount(ctx, key, "-inf", ms(later.Add(-14*24*time.Hour))).Result(); n != 0 {
			t.Errorf("%d entries older than 14 days kept after a trimming post", n)
		}
	})
}

// Epoch is the server's run id: stable while it runs, new after a restart
// (the fault suite restarts a real one).
func TestEpoch(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		a, err := s.Epoch(ctx)
		if err != nil {
			t.Skipf("this server does not report a run id to scripts: %v", err)
		}
		b, err := s.Epoch(ctx)
		if err != nil || a != b || len(a) != 40 {
			t.Errorf("epochs %q, %q (%v): want one 40-digit run id", a, b, err)
		}
	})
}

// Memory reads the server's used_memory and maxmemory (the integration
// run's servers have limits: 4 GB, and 1 GB on each cluster node).
func TestMemory(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		used, limit, err := s.Memory(context.Background())
		if err != nil {
			t.Skipf("this server does not report memory to scripts: %v", err)
		}
		if used < 1<<20 || limit < 1<<30 || used > limit {
			t.Errorf("memory: used %d of %d bytes", used, limit)
		}
	})
}

// The scrape exports the city's item count and, where the server reports
// it, its memory and limit.
func TestCollectorHoldings(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		// An event a relay has not handed to Kafka for an hour (stream ids
		// are the Redis server's clock: the fake clock plays no part), then
		// the two ingests' own.
		now, err := s.rdb.Time(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: s.k.outbox(), ID: fmt.Sprintf("%d-0", now.Add(-time.Hour).UnixMilli()),
			Values: []string{"item", "x:960", "at", "0", "index", "0"}}).Err(); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"960", "961"} {
			if _, err := s.Ingest(ctx, citizen(id, "jalan rusak", c.Now().Add(-time.Hour))); err != nil {
				t.Fatal(err)
			}
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(NewOpenItemsCollector(s, []string{"bina_marga_sda"}))
		gather := func() map[string]float64 {
			got := map[string]float64{}
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, mf := range mfs {
				if len(mf.GetMetric()) == 1 {
					got[mf.GetName()] = mf.GetMetric()[0].GetGauge().GetValue()
				}
			}
			return got
		}
		got := gather()
		if got["tanggap_store_items"] != 2 || got["tanggap_store_up"] != 1 {
			t.Errorf("gauges %v: want 2 items, up", got)
		}
		_, limit, err := s.Memory(ctx)
		used, reported := got["tanggap_store_redis_used_memory_bytes"]
		if reported != (err == nil) || reported && (used < 1<<20 || got["tanggap_store_redis_maxmemory_bytes"] != float64(limit)) {
			t.Errorf("memory gauges %v (the server reports memory: %v)", got, err == nil)
		}
		if n, age := got["tanggap_store_outbox_events"], got["tanggap_store_outbox_oldest_age_seconds"]; n != 3 || age < 3600 || age > 3660 {
			t.Errorf("outbox gauges: %v events, the oldest %v s old; want 3, an hour", n, age)
		}
		relayAll(t, s)
		if got := gather(); got["tanggap_store_outbox_events"] != 0 || got["tanggap_store_outbox_oldest_age_seconds"] != 0 {
			t.Errorf("outbox gauges after the relay: %v", got)
		}
	})
}

// Search matches every term in an item's text, author or place, newest
// first, within the scope (an OPD, or every item), and says how many it
// read and whether that was all of them.
func TestSearch(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-10 * time.Hour)
		for i, p := range []struct{ text, opd, author, kel string }{
			{"Jalan berlubang di Jl. Ahmad Yani", "bina_marga_sda", "warga_a", "Marga Jaya"},
			{"banjir setinggi lutut", "bina_marga_sda", "Bu_Sri", "Jatiasih"},
			{"sampah belum diangkut", "lingkungan_hidup", "bu_sri", "Jatiasih"},
			{"JALAN rusak lagi", "bina_marga_sda", "warga_b", ""},
		} {
			in := citizen(fmt.Sprintf("17900000000000002%02d", i), p.text, t0.Add(time.Duration(i)*time.Hour))
			in.OPD, in.Post.Author, in.Kelurahan = p.opd, p.author, p.kel
			if _, err := s.Ingest(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		ids := func(r *SearchResult) (out []string) {
			for _, it := range r.Items {
				out = append(out, strings.TrimPrefix(it.ID, "x:17900000000000002"))
			}
			return out
		}
		for _, tc := range []struct {
			q        SearchQuery
			want     []string
			scanned  int64
			complete bool
		}{
			{SearchQuery{Terms: []string{"jalan"}}, []string{"03", "00"}, 4, true},
			{SearchQuery{Terms: []string{"bu_sri", "JATIASIH"}}, []string{"02", "01"}, 4, true},
			{SearchQuery{OPD: "bina_marga_sda", Terms: []string{"sri"}}, []string{"01"}, 3, true},
			{SearchQuery{Terms: []string{"jalan", "yani"}}, []string{"00"}, 4, true},
			{SearchQuery{Terms: []string{"x:1790000000000000201"}}, []string{"01"}, 4, true},
			{SearchQuery{Terms: []string{"  "}}, nil, 4, true},
			{SearchQuery{Terms: []string{"jalan"}, Scan: 2}, []string{"03"}, 2, false},
			{SearchQuery{Terms: []string{"jalan"}, Limit: 1}, []string{"03"}, 1, false},
		} {
			r, err := s.Search(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, ids(r)); d != "" || r.Scanned != tc.scanned || r.Complete != tc.complete {
				t.Errorf("%+v: scanned %d complete %v, want %d %v; items (-want +got):\n%s", tc.q, r.Scanned, r.Complete, tc.scanned, tc.complete, d)
			}
		}
		// Three more posts at one instant (the cursor must neither skip
		// nor repeat one of them), between the first two.
		for i := range 3 {
			in := citizen(fmt.Sprintf("17900000000000002%02d", 4+i), "jalan ambles", t0.Add(30*time.Minute))
			if _, err := s.Ingest(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		all := []string{"03", "02", "01", "06", "05", "04", "00"}
		// A search continued from its cursor reads every item once, in
		// order, whatever the budget of each call (and the cap on matches).
		for _, q := range []SearchQuery{{Scan: 1}, {Scan: 2}, {Scan: 3}, {Scan: 500}, {Limit: 1}, {Limit: 2, Scan: 3}} {
			q.Terms = []string{"x:17900000000000002"}
			var got []string
			var scanned int64
			for calls := 0; ; calls++ {
				r, err := s.Search(ctx, q)
				if err != nil || calls > len(all)+1 {
					t.Fatalf("%+v: %v after %d calls", q, err, calls)
				}
				got, scanned = append(got, ids(r)...), scanned+r.Scanned
				if r.Complete {
					break
				}
				if r.Next.IsZero() {
					t.Fatalf("%+v: incomplete without a cursor", q)
				}
				c, err := ParseSearchCursor(r.Next.String())
				if err != nil || c != r.Next {
					t.Fatalf("cursor %v round trip: %v %v", r.Next, c, err)
				}
				q.After = c
			}
			if d := cmp.Diff(all, got); d != "" || scanned != int64(len(all)) {
				t.Errorf("scan %d limit %d: read %d (-want +got):\n%s", q.Scan, q.Limit, scanned, d)
			}
		}
		// A period: platform time at or after From, before Until.
		for _, tc := range []struct {
			from, until time.Duration // after t0; -1 for none
			want        []string
		}{
			{30 * time.Minute, 2 * time.Hour, []string{"01", "06", "05", "04"}},
			{30*time.Minute + time.Millisecond, -1, []string{"03", "02", "01"}},
			{-1, 30 * time.Minute, []string{"00"}},
			{-1, 30*time.Minute + time.Millisecond, []string{"06", "05", "04", "00"}},
			{2 * time.Hour, 2 * time.Hour, nil},
		} {
			q := SearchQuery{Terms: []string{"x:"}}
			if tc.from >= 0 {
				q.From = t0.Add(tc.from)
			}
			if tc.until >= 0 {
				q.Until = t0.Add(tc.until)
			}
			r, err := s.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, ids(r)); d != "" || !r.Complete || r.Scanned != int64(len(tc.want)) {
				t.Errorf("from %v until %v: scanned %d complete %v (-want +got):\n%s", tc.from, tc.until, r.Scanned, r.Complete, d)
			}
		}
		// A cursor from after the period (a hand-made link) reads from the
		// period's end.
		q := SearchQuery{Terms: []string{"x:"}, Until: t0.Add(30 * time.Minute), After: SearchCursor{At: t0.Add(3 * time.Hour).UnixMilli(), Seen: 1}}
		if r, err := s.Search(ctx, q); err != nil || !slices.Equal(ids(r), []string{"00"}) {
			t.Errorf("a cursor past the period: %v %v, want 00 only", ids(r), err)
		}
		for _, bad := range []string{"", "1", "1.", ".1", "0.1", "1.0", "-5.2", "1.2.3", "x.1"} {
			if _, err := ParseSearchCursor(bad); tanggap.ErrorCode(err) != tanggap.EINVALID {
				t.Errorf("cursor %q: %v, want invalid", bad, err)
			}
		}
	})
}

// Prune removes the items that ended before the cutoff, with every key and
// index entry that names them, and keeps the open, the resolved, those
// that ended since and those whose events may not have reached Kafka; a
// dry run counts the same and removes nothing.
func TestPrune(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		old := c.Now().Add(-400 * 24 * time.Hour) // received then (the clock stands there too)
		cutoff := c.Now().Add(-365 * 24 * time.Hour)
		c.t = old
		set := func(id, status string, extra ...string) {
			t.Helper()
			m := map[string]string{"status": status}
			for i := 0; i < len(extra); i += 2 {
				m[extra[i]] = extra[i+1]
			}
			if _, err := s.Apply(ctx, Change{ID: id, Version: -1, Actor: "t", Action: "set", Set: m}); err != nil {
				t.Fatal(err)
			}
		}
		ingest := func(in Ingest) {
			t.Helper()
			if _, err := s.Ingest(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		at := func(m int) time.Time { return old.Add(time.Duration(m) * time.Minute) }
		closedMS := ms(old.Add(time.Hour))
		ingest(citizen("970", "jalan rusak, sudah ditutup", at(0)))
		set("x:970", "ASSIGNED", "opd", "lingkungan_hidup", "hops", "1") // it leaves both OPDs' indexes
		set("x:970", "CLOSED", "closed_ms", closedMS)
		set("x:970", "REOPENED", "closed_ms", "") // in the reopened set until pruned
		set("x:970", "CLOSED", "closed_ms", closedMS)
		noise := citizen("971", "selamat pagi bekasi", at(1))
		noise.Kind, noise.Status, noise.Queued, noise.Deadlines = tanggap.KindNoise, tanggap.StatusNotComplaint, false, tanggap.Deadlines{}
		ingest(noise)
		ingest(citizen("972", "lampu mati, masih terbuka", at(2)))
		ingest(citizen("973", "got mampet, selesai", at(3)))
		set("x:973", "RESOLVED", "resolved_ms", closedMS, "autoclose_ms", ms(c.Now().Add(24*time.Hour)))
		root := citizen("974", "pohon tumbang di jl kemakmuran", at(4))
		root.Kelurahan, root.Fingerprint = "Margajaya", strings.Repeat("0123abcd", 16)
		ingest(root)
		for i, id := range []string{"975", "976"} {
			in := citizen(id, "pohon tumbang di jl kemakmuran", at(5+i))
			in.Kelurahan, in.Fingerprint, in.ClusterID = "Margajaya", strings.Repeat("0123abcd", 16), "x:974"
			ingest(in)
		}
		for _, id := range []string{"x:974", "x:975", "x:976"} {
			set(id, "DUPLICATE", "closed_ms", closedMS)
		}
		// A cluster of two reports, received at minute m and the next.
		pair := func(root, member, text, fp string, m int) {
			t.Helper()
			for i, id := range []string{root, member} {
				in := citizen(id, text, at(m+i))
				in.Kelurahan, in.Fingerprint = "Margajaya", strings.Repeat(fp, 16)
				if i == 1 {
					in.ClusterID = "x:" + root
				}
				ingest(in)
			}
		}
		// A report pruned from a cluster whose first report stays open.
		pair("979", "980", "banjir di jl kemakmuran", "4567cdef", 10)
		set("x:980", "DUPLICATE", "closed_ms", closedMS)
		// A first report that ended long ago, joined by one still open: it
		// stays while that report links to it.
		pair("981", "982", "lampu jalan mati di jl kemakmuran", "89abcdef", 12)
		set("x:981", "CLOSED", "closed_ms", closedMS)
		// Complaints closed long ago, marked the originals of duplicates:
		// x:983 of one received after the cutoff (below), which keeps it;
		// x:985 of x:986, itself the original of x:987, all ended long
		// ago: the three go in one run; x:988 and x:989 each a duplicate
		// of the other: neither goes while the other is stored.
		for i, id := range []string{"983", "985", "986", "987", "988", "989"} {
			ingest(citizen(id, "pju mati di jl juanda", at(14+i)))
		}
		set("x:983", "CLOSED", "closed_ms", closedMS)
		set("x:985", "CLOSED", "closed_ms", closedMS)
		set("x:986", "DUPLICATE", "closed_ms", closedMS, "duplicate_of", "x:985")
		set("x:987", "DUPLICATE", "closed_ms", closedMS, "duplicate_of", "x:986")
		set("x:988", "DUPLICATE", "closed_ms", closedMS, "duplicate_of", "x:989")
		set("x:989", "DUPLICATE", "closed_ms", closedMS, "duplicate_of", "x:988")
		ingest(citizen("977", "sampah, ditutup tahun ini", at(8)))
		c.t = cutoff.Add(24 * time.Hour)
		set("x:977", "CLOSED", "closed_ms", ms(c.Now()))
		c.t = cutoff.Add(48 * time.Hour)
		ingest(citizen("978", "diterima setelah batas", c.Now()))
		set("x:978", "CLOSED", "closed_ms", ms(c.Now()))
		// Marked a duplicate of x:970 first, then of x:983: x:970 no
		// longer has a duplicate.
		ingest(citizen("984", "pju mati lagi di jl juanda", c.Now()))
		set("x:984", "DUPLICATE", "duplicate_of", "x:970")
		set("x:984", "DUPLICATE", "duplicate_of", "x:983")
		c.t = cutoff.Add(400 * 24 * time.Hour)

		gone := []string{"x:970", "x:971", "x:974", "x:975", "x:976", "x:980", "x:985", "x:986", "x:987"}
		// The outbox still holds every event: nothing may go yet.
		res, err := s.Prune(ctx, cutoff, false)
		if err != nil {
			t.Fatal(err)
		}
		if want := (PruneResult{Open: 4, Recent: 1, Unrelayed: 13}); res != want {
			t.Fatalf("prune before the relay: %+v, want %+v", res, want)
		}
		relayAll(t, s)
		city := strings.TrimSuffix(strings.TrimPrefix(s.k.prefix(), "tanggap:{"), "}:")
		before := dumpCity(t, s.rdb, city)
		res, err = s.Prune(ctx, cutoff, true)
		if want := (PruneResult{Pruned: 9, Open: 4, Recent: 1, Joined: 1, Originals: 3}); err != nil || res != want {
			t.Fatalf("dry run: %+v %v, want %+v", res, err, want)
		}
		if d := cmp.Diff(before, dumpCity(t, s.rdb, city)); d != "" {
			t.Fatalf("the dry run changed Redis:\n%s", d)
		}
		if p, err := s.PrunedBefore(ctx); err != nil || !p.IsZero() {
			t.Fatalf("pruned before a prune: %v %v", p, err)
		}
		res, err = s.Prune(ctx, cutoff, false)
		if want := (PruneResult{Pruned: 9, Open: 4, Recent: 1, Joined: 1, Originals: 3}); err != nil || res != want {
			t.Fatalf("prune: %+v %v, want %+v", res, err, want)
		}
		// No key, member or field names a pruned item any more (a kept
		// item's history may: a report joined it, or named it its original).
		for k, v := range dumpCity(t, s.rdb, city) {
			for _, id := range gone {
				if strings.HasPrefix(k, "history:") {
					continue
				}
				if kv := k + " " + fmt.Sprint(v); regexp.MustCompile(regexp.QuoteMeta(id)+`($|[^0-9])`).MatchString(kv) || strings.Contains(kv, itemHash(id)) {
					t.Errorf("%s is still named in %s", id, k)
				}
			}
		}
		for _, id := range gone {
			if _, err := s.Item(ctx, id); tanggap.ErrorCode(err) != tanggap.ENOTFOUND {
				t.Errorf("%s: %v, want not found", id, err)
			}
		}
		for _, id := range []string{"x:972", "x:973", "x:977", "x:978", "x:979", "x:981", "x:982", "x:983", "x:984", "x:988", "x:989"} {
			if _, err := s.Item(ctx, id); err != nil {
				t.Errorf("%s kept: %v", id, err)
			}
		}
		if n, _ := s.ItemCount(ctx); n != 11 {
			t.Errorf("%d items left, want 11", n)
		}
		if d, err := s.linkedTo(ctx, "x:983"); err != nil || !slices.Equal(d, []string{"x:984"}) {
			t.Errorf("the kept original lists %v (%v), want x:984", d, err)
		}
		if m, err := s.ClusterMembers(ctx, "x:981", 10); err != nil || !slices.Equal(m, []string{"x:982"}) {
			t.Errorf("the kept first report lists %v (%v), want x:982", m, err)
		}
		if p, err := s.PrunedBefore(ctx); err != nil || !p.Equal(cutoff.Truncate(time.Millisecond)) {
			t.Errorf("pruned before: %v %v, want %v", p, err, cutoff)
		}
		// An earlier cutoff later leaves the mark where it was.
		if _, err := s.Prune(ctx, cutoff.Add(-time.Hour), false); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.PrunedBefore(ctx); !p.Equal(cutoff.Truncate(time.Millisecond)) {
			t.Errorf("pruned before after an earlier cutoff: %v", p)
		}
		// Once the report that joined it has ended too, both go in one
		// run (the first report is judged again after the others), and a
		// dry run counts them the same.
		set("x:982", "CLOSED", "closed_ms", closedMS)
		relayAll(t, s)
		for _, dry := range []bool{true, false} {
			res, err = s.Prune(ctx, cutoff, dry)
			if want := (PruneResult{Pruned: 2, Open: 3, Recent: 1, Originals: 3}); err != nil || res != want {
				t.Errorf("prune the ended cluster (dry %v): %+v %v, want %+v", dry, res, err, want)
			}
		}
		for _, id := range []string{"x:981", "x:982"} {
			if _, err := s.Item(ctx, id); tanggap.ErrorCode(err) != tanggap.ENOTFOUND {
				t.Errorf("%s: %v, want not found", id, err)
			}
		}
		if m, err := s.ClusterMembers(ctx, "x:981", 10); err != nil || len(m) != 0 {
			t.Errorf("the pruned cluster still lists %v (%v)", m, err)
		}
	})
}

// relayAll does the event relay's part without Kafka: it reads and
// acknowledges every outbox entry, so the outbox is trimmed, and returns
// the events, as the events topic would hold them.
func relayAll(tb testing.TB, s *Store) []tanggap.Event {
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
