package store

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/internal/testenv"
)

// The plain path must leave Redis exactly as the ingest script does, and
// give the same results, whichever posts of a batch take it: two cities
// ingest the same batches, one with the plain path and one without, and
// every key of each must match (the outbox as a set: the plain posts of a
// batch are written before the others, and only each item's own order of
// events matters).
func TestPlainMatchesScript(t *testing.T) {
	run := func(t *testing.T, rdb redis.UniversalClient, city string) {
		ctx := context.Background()
		c := newClock()
		plain, script := New(rdb, city+"p", c.Now), New(rdb, city+"s", c.Now)
		script.noPlain = true
		t.Cleanup(func() { dropCity(rdb, city+"p"); dropCity(rdb, city+"s") })
		t0 := c.Now().Add(-time.Hour)
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		clustered := func(id string, m int, root string) Ingest {
			in := citizen(id, "pohon tumbang di jl kemakmuran", at(m))
			in.Kelurahan, in.Fingerprint, in.ClusterID = "Margajaya", strings.Repeat("0123abcd", 16), root
			in.Post.Author = "warga" + id
			return in
		}
		// A report by the citizen of an earlier one (by author's name).
		again := func(id string, m int, root, of string) Ingest {
			in := clustered(id, m, root)
			in.Post.Author = "warga" + of
			return in
		}
		unrouted := citizen("102", "tolong dong pak", at(2))
		unrouted.OPD, unrouted.Status = "", tanggap.StatusNew
		// Two clocks due at once: the first considered (first response) wins.
		unrouted.Deadlines.Routing, unrouted.Deadlines.RoutingSoon = unrouted.Deadlines.FirstResponse, at(100)
		notComplaint := citizen("103", "selamat pagi bekasi", at(3))
		notComplaint.Kind, notComplaint.Status, notComplaint.Queued, notComplaint.Deadlines = tanggap.KindNoise, tanggap.StatusNotComplaint, false, tanggap.Deadlines{}
		auto := citizen("104", "got mampet", at(4))
		auto.ClassifierOPD, auto.Urgent = "bina_marga_sda", true
		at0 := at(5)
		edited := citizen("105", "jalan rusak (diedit)", at(5))
		edited.Post.EditedAt = &at0
		threadless := citizen("106", "lampu mati", at(6))
		threadless.Post.ThreadID = ""
		late := citizen("108", "parent of a waiting reply", at(8))
		batches := [][]Ingest{{
			citizen("101", "jalan rusak di jl ahmad yani", at(1)),
			unrouted,
			reply("209", "108", at(9), "bina_marga_sda"), // its parent comes in the next batch
			notComplaint,
			clustered("140", -15*24*60, ""), // past the near set's keep: trimmed by 130
			clustered("110", 10, ""),
			clustered("111", 11, "x:110"),
			clustered("112", 12, "x:110"),
			citizen("120", "sampah numpuk", at(20)),
			reply("121", "120", at(21), "lingkungan_hidup"), // after its parent in the batch
			reply("251", "150", at(51), "lingkungan_hidup"), // before its parent in the batch
			citizen("150", "sampah belum diangkut", at(50)),
			citizen("160", "air mati", at(60)),
			citizen("160", "air mati", at(60)), // twice in one batch (a replay)
			clustered("113", 13, "x:110"),
			clustered("171", 71, ""),
			again("172", 72, "x:171", "171"), // the root's citizen again: one reporter
			clustered("173", 73, "x:171"),    // a second citizen: the root changes
		}, {
			auto,
			clustered("114", 14, "x:110"),    // the root has its reporters: a plain join
			again("115", 15, "x:110", "111"), // a citizen counted already: a plain join, not counted
			again("174", 74, "x:171", "173"), // counted already, in a cluster still forming
			clustered("130", 30, "x:110"),    // an id ending in 0: the near set is trimmed (140 goes)
			clustered("141", -16*24*60, ""),  // older still, but added after the trim: kept
			citizen("101", "jalan rusak di jl ahmad yani", at(1)),
			late,
			edited,
			threadless,
		}}
		// A batch of several transactions (run at once), whose posts share
		// the items index, two OPDs' sets, near sets and the counters.
		var many []Ingest
		for i := range 3*plainChunk + 5 {
			in := clustered(strconv.Itoa(3000+i), 40+i, "")
			if i%3 == 0 {
				in.ClusterID = "x:110" // formed: a plain join
				// Citizens who report several times, within a transaction
				// and across them.
				in.Post.Author = "warga" + strconv.Itoa(i/3%21)
			}
			if i%2 == 0 {
				in.OPD, in.ClassifierOPD = "lingkungan_hidup", "lingkungan_hidup"
			}
			many = append(many, in)
		}
		batches = append(batches, many)
		for i, batch := range batches {
			c.Add(time.Minute)
			rp, ep := plain.IngestBatch(ctx, batch)
			rs, es := script.IngestBatch(ctx, batch)
			if d := cmp.Diff(rs, rp); d != "" {
				t.Errorf("batch %d results (-script +plain):\n%s", i, d)
			}
			for j := range ep {
				if ep[j] != nil || es[j] != nil {
					t.Fatalf("batch %d post %d: %v / %v", i, j, ep[j], es[j])
				}
			}
		}
		dump := dumpCity(t, rdb, city+"p")
		if d := cmp.Diff(dumpCity(t, rdb, city+"s"), dump); d != "" {
			t.Errorf("Redis state (-script +plain):\n%s", d)
		}
		near := dump["near:bina_marga_sda|Margajaya"].([]redis.Z)
		if len(near) == 0 || !strings.HasPrefix(near[0].Member.(string), "x:141 ") || strings.HasPrefix(near[1].Member.(string), "x:140 ") {
			t.Errorf("near set trimmed wrong (want 141 first, 140 gone): %v", near)
		}
		// The plain path took 101, 102, 103, 140, 110, 120 and 171, then
		// 104, 114, 115, 130, 141, 105 and 106; not the joins while their
		// root changes, the replies, 150 (its reply came first), 160
		// (twice), 101 again (stored) nor 108 (a reply waits for it); then
		// every post of the last batch.
		if n, m := plain.PlainIngests(), script.PlainIngests(); n != 14+int64(len(many)) || m != 0 {
			t.Errorf("plain path took %d and %d posts, want %d and 0", n, m, 14+len(many))
		}
		// Both count citizens: x:110, its own and those of 111 to 114 and
		// 130, then 21 more; x:171, two.
		for _, st := range []*Store{plain, script} {
			its, err := st.ItemsByID(ctx, []string{"x:110", "x:171"})
			if err != nil || len(its) != 2 || its[0].Reporters != 6+21 || its[1].Reporters != 2 || its[1].Version != 2 {
				t.Errorf("cluster roots: %+v %v, want 27 and 2 reporters", its, err)
			}
		}
	}
	for _, backend := range testBackends {
		t.Run(backend, func(t *testing.T) {
			run(t, testClients(t, backend, 1)[0], "plain"+time.Now().Format("150405.000000"))
		})
	}
}

// TestPlainTaken checks which posts the plain path takes.
func TestPlainTaken(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	c := newClock()
	s := New(rdb, "test", c.Now)
	t0 := c.Now().Add(-time.Hour)
	held := citizen("3", "ditunda", t0)
	held.Status = tanggap.StatusOnHold
	ins := []Ingest{
		citizen("1", "jalan rusak", t0),       // plain
		reply("2", "9", t0, "bina_marga_sda"), // an official reply
		held,                                  // a status the script handles
		citizen("9", "got mampet", t0),        // its official reply came first
		citizen("4", "got mampet", t0),        // a citizen's reply follows: plain
		{Post: tanggap.Post{Platform: tanggap.PlatformX, ID: "5", ParentID: "4", ThreadID: "4", Text: "+1", Author: "warga2",
			CreatedAt: t0, CapturedAt: t0, Interaction: tanggap.InteractionReply}, Kind: tanggap.KindNoise, Status: tanggap.StatusNotComplaint},
		citizen("6", "sampah", t0), // twice
		citizen("6", "sampah", t0),
	}
	calls := make([]batchCall, len(ins))
	for i := range ins {
		c, err := s.newIngestCall(&ins[i])
		if err != nil {
			t.Fatal(err)
		}
		calls[i] = batchCall{i, &ins[i], c}
	}
	if got := s.plainIngest(ctx, calls); !slices.Equal(got, []bool{true, false, false, false, true, true, false, false}) {
		t.Errorf("plain: %v", got)
	}
	// Stored now: a redelivery is not plain.
	if got := s.plainIngest(ctx, calls[:1]); got[0] {
		t.Error("a stored post took the plain path")
	}
}

// dumpCity reads every key of a city by its type (testenv.DumpCity).
func dumpCity(t *testing.T, rdb redis.UniversalClient, city string) map[string]any {
	t.Helper()
	return testenv.DumpCity(t, rdb, city)
}

// A write by another client to a watched key between the reads and EXEC
// aborts the transaction: its posts then go through the script, which
// finds the item stored by the other writer (a rebalance can hand one
// partition to two consumers for a moment).
func TestPlainAbortsOnConcurrentWrite(t *testing.T) {
	for _, backend := range testBackends {
		t.Run(backend, func(t *testing.T) {
			cs := testClients(t, backend, 2)
			rdb, other := cs[0], cs[1]
			c := newClock()
			city := "abort" + time.Now().Format("150405.000000")
			s := New(rdb, city, c.Now)
			t.Cleanup(func() { dropCity(rdb, city) })
			ctx := context.Background()
			rival := s.k.item("x:461")
			hook := afterWatchHook{func() { other.HSet(ctx, rival, "id", "x:461", "version", "1") }}
			if cc, ok := rdb.(*redis.ClusterClient); ok { // its transactions run on a node's client
				if err := cc.ForEachShard(ctx, func(_ context.Context, n *redis.Client) error { n.AddHook(hook); return nil }); err != nil {
					t.Fatal(err)
				}
			} else {
				rdb.AddHook(hook)
			}
			t0 := c.Now().Add(-time.Hour)
			res, errs := s.IngestBatch(ctx, []Ingest{citizen("460", "lampu mati", t0), citizen("461", "got mampet", t0)})
			if errs[0] != nil || errs[1] != nil || res[0] != Stored || res[1] != Duplicate {
				t.Fatalf("results %v %v, want stored (by the script) and duplicate", res, errs)
			}
			if n := s.PlainIngests(); n != 0 {
				t.Errorf("the plain path stored %d posts of an aborted transaction", n)
			}
			if h, _ := s.History(ctx, "x:461"); len(h) != 0 {
				t.Errorf("the other writer's item got events: %v", h)
			}
		})
	}
}

// afterWatchHook runs fn once, after the pipeline that arms WATCH.
type afterWatchHook struct{ fn func() }

func (afterWatchHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (afterWatchHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h afterWatchHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	done := false
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if !done && len(cmds) > 0 && cmds[0].Name() == "watch" {
			done = true
			h.fn()
		}
		return err
	}
}
