package triage

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/workflow"
)

// redisTriage is a Triage with the keyword classifier over a store in a
// fresh miniredis.
type redisTriage struct {
	*Triage
	cfg    *config.Config
	clocks *workflow.Clocks
	rdb    *redis.Client
	st     *store.Store
	m      *Metrics
}

func newRedisTriage(t *testing.T) *redisTriage {
	t.Helper()
	r := &redisTriage{cfg: mustConfig(t)}
	var err error
	if r.clocks, err = workflow.NewClocks(r.cfg, ""); err != nil {
		t.Fatal(err)
	}
	r.rdb = redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
	t.Cleanup(func() { r.rdb.Close() })
	r.st = store.New(r.rdb, "bekasi", nil)
	r.m = NewMetrics(prometheus.NewRegistry())
	r.Triage = New(r.cfg, r.clocks, NewKeywords(r.cfg), r.st, r.m, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	return r
}

// TestHandleBatch stores a batch in one round trip, in Kafka order: an
// official reply ahead of its complaint waits for it and answers it; junk
// records get their own EINVALID and do not stop the others; a redelivered
// batch changes nothing.
func TestHandleBatch(t *testing.T) {
	r := newRedisTriage(t)
	tr, st, m, rdb := r.Triage, r.st, r.m, r.rdb
	t0 := time.Date(2026, 3, 17, 8, 0, 0, 0, time.UTC)
	rec := func(p tanggap.Post) kafka.Message {
		b, err := json.Marshal(bus.Envelope{V: 1, Type: "post", Post: &p})
		if err != nil {
			t.Fatal(err)
		}
		return kafka.Message{Value: b, Time: t0.Add(time.Minute)}
	}
	reply := tanggap.Post{Platform: tanggap.PlatformX, ID: "20", ParentID: "10", ThreadID: "10", Author: "dlh_kotabekasi",
		Text: "@warga sudah kami teruskan", CreatedAt: t0.Add(30 * time.Minute)}
	complaint := tanggap.Post{Platform: tanggap.PlatformX, ID: "10", ThreadID: "10", Author: "warga",
		Text: "sampah numpuk di tps liar, bau busuk", CreatedAt: t0}
	other := tanggap.Post{Platform: tanggap.PlatformX, ID: "30", ThreadID: "30", Author: "warga2",
		Text: "jalan berlubang parah di jl. ahmad yani", CreatedAt: t0}
	batch := []kafka.Message{rec(reply), {Value: []byte("<html>")}, rec(complaint), rec(other)}
	errs := tr.HandleBatch(context.Background(), batch)
	if len(errs) != 4 || errs[0] != nil || tanggap.ErrorCode(errs[1]) != tanggap.EINVALID || errs[2] != nil || errs[3] != nil {
		t.Fatalf("errors %v", errs)
	}
	it, err := st.Item(context.Background(), "x:10")
	if err != nil {
		t.Fatal(err)
	}
	if it.FirstResponseAt == nil || !it.FirstResponseAt.Equal(reply.CreatedAt) || it.Version != 2 {
		t.Errorf("complaint not answered by the reply that came first: %+v", it)
	}
	if n, _ := st.ItemCount(context.Background()); n != 3 {
		t.Errorf("%d items, want 3", n)
	}
	// Redelivery: nothing changes.
	if errs := tr.HandleBatch(context.Background(), batch); errs[0] != nil || errs[2] != nil || errs[3] != nil {
		t.Fatalf("redelivery: %v", errs)
	}
	again, _ := st.Item(context.Background(), "x:10")
	if again.Version != it.Version {
		t.Errorf("redelivery changed the complaint: version %d -> %d", it.Version, again.Version)
	}
	if got := testutil.ToFloat64(m.Records.WithLabelValues("duplicate")); got != 3 {
		t.Errorf("duplicates counted %v, want 3", got)
	}
	// Redis down: every post gets a retryable error, the junk stays EINVALID.
	rdb.Close()
	errs = tr.HandleBatch(context.Background(), batch)
	for i, err := range errs {
		want := tanggap.EUNAVAILABLE
		if i == 1 {
			want = tanggap.EINVALID
		}
		if tanggap.ErrorCode(err) != want {
			t.Errorf("record %d with Redis down: %v", i, err)
		}
	}
}

// TestHandleBatchFacebookNamesAnswerNothing is the audit's case end to end:
// on Facebook a citizen whose profile is named like the city page stays a
// citizen, whose complaint is queued and whose reply leaves the clock of
// the complaint it answers running; the page's own reply, marked by its
// collector (by_account in the record), stops that clock.
func TestHandleBatchFacebookNamesAnswerNothing(t *testing.T) {
	r := newRedisTriage(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 17, 8, 0, 0, 0, time.UTC)
	handle := func(ps ...tanggap.Post) {
		t.Helper()
		var msgs []kafka.Message
		for i := range ps {
			b, err := json.Marshal(bus.Envelope{V: 1, Type: "post", Post: &ps[i]})
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, kafka.Message{Value: b, Time: t0})
		}
		for i, err := range r.HandleBatch(ctx, msgs) {
			if err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
		}
	}
	item := func(id string) *tanggap.Item {
		t.Helper()
		it, err := r.st.Item(ctx, "facebook:"+id)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	const page = "104938271650123"
	post := func(id, parent, author, authorID string, at time.Duration, text string) tanggap.Post {
		p := tanggap.Post{Platform: tanggap.PlatformFacebook, ID: id, Account: "pemkotbekasi", Author: author, AuthorName: author,
			AuthorID: authorID, ThreadID: page + "_1", ParentID: parent, Text: text, CreatedAt: t0.Add(at), Interaction: tanggap.InteractionComment}
		if parent != "" {
			p.Interaction = tanggap.InteractionReply
		}
		return p
	}
	impostor := post("1_10", "", "PemkotBekasi", "26001234567890123", 0, "Air PDAM mati 3 hari di Perumnas 3, tolong segera diperbaiki")
	complaint := post("1_20", "", "Budi Santoso", "26009876543210987", 0, "sampah numpuk di tps liar, bau busuk")
	fake := post("1_21", "1_20", "PemkotBekasi", "26001234567890123", 10*time.Minute, "Terima kasih, laporan sudah kami teruskan ke dinas terkait")
	handle(impostor, complaint, fake)
	if it := item("1_10"); it.Kind == tanggap.KindOfficial || it.ReplyBy != "" || it.Status == tanggap.StatusNotComplaint || !it.Queued {
		t.Errorf("complaint by a citizen named like the page: kind=%s status=%s reply_by=%q queued=%v", it.Kind, it.Status, it.ReplyBy, it.Queued)
	}
	if it := item("1_21"); it.Kind == tanggap.KindOfficial || it.ReplyBy != "" {
		t.Errorf("reply by a citizen named like the page: kind=%s reply_by=%q", it.Kind, it.ReplyBy)
	}
	if it := item("1_20"); it.FirstResponseAt != nil {
		t.Errorf("a citizen named like the page answered the complaint at %v", it.FirstResponseAt)
	}
	answer := post("1_22", "1_20", "pemkotbekasi", page, 20*time.Minute, "Terima kasih, sudah kami teruskan ke DLH")
	answer.ByAccount = true
	handle(answer)
	if it := item("1_22"); it.Kind != tanggap.KindOfficial || it.ReplyBy != "city" {
		t.Errorf("the page's reply: kind=%s reply_by=%q", it.Kind, it.ReplyBy)
	}
	if it := item("1_20"); it.FirstResponseAt == nil || !it.FirstResponseAt.Equal(answer.CreatedAt) {
		t.Errorf("the page's reply did not answer the complaint: first response %v", it.FirstResponseAt)
	}
}

// nearStore fails its near-duplicate lookups.
type nearStore struct {
	lookups int
	stored  []string
}

func (s *nearStore) Ingest(_ context.Context, in store.Ingest) (store.IngestResult, error) {
	s.stored = append(s.stored, in.Post.ID)
	return store.Stored, nil
}

func (s *nearStore) NearCandidates(context.Context, []store.Ingest) ([][]store.NearCandidate, error) {
	s.lookups++
	return nil, tanggap.Errorf(tanggap.EUNAVAILABLE, "redis down")
}

type fingerprinting struct{ Classifier }

func (f fingerprinting) Classify(text string) Decision {
	d := f.Classifier.Classify(text)
	d.Fingerprint, d.Kelurahan = "ff", "Margajaya"
	if strings.Contains(text, "beda") {
		d.Fingerprint = "ee"
	}
	return d
}

// candStore has one stored candidate, x:90 in cluster x:80, similar to
// fingerprint "ee"; it records what it stores.
type candStore struct{ stored []store.Ingest }

func (s *candStore) Ingest(_ context.Context, in store.Ingest) (store.IngestResult, error) {
	s.stored = append(s.stored, in)
	return store.Stored, nil
}

func (s *candStore) NearCandidates(_ context.Context, ins []store.Ingest) ([][]store.NearCandidate, error) {
	out := make([][]store.NearCandidate, len(ins))
	for i := range ins {
		if ins[i].NearKey() != "" {
			out[i] = []store.NearCandidate{{ID: "x:90", ClusterID: "x:80", Fingerprint: "ee", Created: ins[i].Post.CreatedAt}}
		}
	}
	return out, nil
}

// TestHandleBatchClustersWithinBatch: a report joins an earlier report of
// the same batch (which becomes the root) or a stored candidate's cluster;
// a report with nothing similar starts none.
func TestHandleBatchClustersWithinBatch(t *testing.T) {
	cfg := mustConfig(t)
	clocks, _ := workflow.NewClocks(cfg, "")
	cs := &candStore{}
	tr := New(cfg, clocks, fingerprinting{NewKeywords(cfg)}, cs, NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	tr.Cluster(func(a, b string) float64 {
		if a == b {
			return 1
		}
		return 0
	}, 0.5)
	now := time.Now()
	var batch []kafka.Message
	for i, text := range []string{"sampah numpuk di tps liar", "sampah numpuk lagi di tps liar", "sampah beda numpuk di tps liar"} {
		id := strconv.Itoa(i + 1)
		p := tanggap.Post{Platform: tanggap.PlatformX, ID: id, ThreadID: id, Author: "warga", Text: text, CreatedAt: now}
		b, _ := json.Marshal(bus.Envelope{V: 1, Type: "post", Post: &p})
		batch = append(batch, kafka.Message{Value: b})
	}
	for i, err := range tr.HandleBatch(context.Background(), batch) {
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	if len(cs.stored) != 3 {
		t.Fatalf("stored %d", len(cs.stored))
	}
	if cs.stored[0].NearKey() == "" {
		t.Fatal("the test posts cannot cluster: no OPD or place")
	}
	want := []string{"", "x:1", "x:80"}
	for i, in := range cs.stored {
		if in.ClusterID != want[i] {
			t.Errorf("post %d joined cluster %q, want %q", i+1, in.ClusterID, want[i])
		}
	}
}

// TestHandleBatchClusterLookupFails: when the batch's near-duplicate lookup
// fails, nothing is stored and every record is retried, after one lookup.
func TestHandleBatchClusterLookupFails(t *testing.T) {
	cfg := mustConfig(t)
	clocks, _ := workflow.NewClocks(cfg, "")
	ns := &nearStore{}
	tr := New(cfg, clocks, fingerprinting{NewKeywords(cfg)}, ns, NewMetrics(prometheus.NewRegistry()), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	tr.Cluster(func(a, b string) float64 { return 1 }, 0.5)
	var batch []kafka.Message
	for _, id := range []string{"1", "2", "3"} {
		p := tanggap.Post{Platform: tanggap.PlatformX, ID: id, ThreadID: id, Author: "warga", Text: "sampah numpuk di tps liar", CreatedAt: time.Now()}
		b, _ := json.Marshal(bus.Envelope{V: 1, Type: "post", Post: &p})
		batch = append(batch, kafka.Message{Value: b})
	}
	errs := tr.HandleBatch(context.Background(), batch)
	for i, err := range errs {
		if tanggap.ErrorCode(err) != tanggap.EUNAVAILABLE {
			t.Errorf("record %d: %v, want EUNAVAILABLE", i, err)
		}
	}
	if len(ns.stored) != 0 || ns.lookups != 1 {
		t.Errorf("stored %v after %d lookups; want none after 1", ns.stored, ns.lookups)
	}
}

// An item on hold waits for its citizen; when that citizen writes again in
// the thread after the hold, triage resumes the item as the system. Posts
// from before the hold, by someone else, or by an official account do not,
// and a redelivered batch changes nothing.
func TestHandleBatchResumesHeld(t *testing.T) {
	r := newRedisTriage(t)
	tr, st, m, cfg, clocks := r.Triage, r.st, r.m, r.cfg, r.clocks
	t0 := time.Date(2026, 3, 17, 8, 0, 0, 0, time.UTC)
	wf := workflow.New(st, cfg, clocks, func() time.Time { return t0.Add(time.Hour) })
	tr.ResumeHeld(wf)
	ctx := context.Background()
	handle := func(posts ...tanggap.Post) {
		t.Helper()
		var batch []kafka.Message
		for _, p := range posts {
			b, err := json.Marshal(bus.Envelope{V: 1, Type: "post", Post: &p})
			if err != nil {
				t.Fatal(err)
			}
			batch = append(batch, kafka.Message{Value: b, Time: p.CreatedAt})
		}
		for i, err := range tr.HandleBatch(ctx, batch) {
			if err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
		}
	}
	post := func(id, author string, at time.Duration) tanggap.Post {
		return tanggap.Post{Platform: tanggap.PlatformX, ID: id, ThreadID: "10", Author: author, Text: "sampah numpuk di tps liar, bau busuk",
			CreatedAt: t0.Add(at), URL: "https://x.com/" + author + "/status/" + id}
	}
	handle(post("10", "warga", 0))
	it, err := st.Item(ctx, "x:10")
	if err != nil || it.OPD == "" {
		t.Fatalf("complaint: %+v %v", it, err)
	}
	if _, err := wf.Do(ctx, workflow.Actor{Login: "dlh", OPD: it.OPD}, workflow.Request{ID: "x:10", Version: it.Version, Action: "hold", Reason: "mohon kirim foto lokasi"}); err != nil {
		t.Fatal(err)
	}
	status := func() (tanggap.Status, int64) {
		t.Helper()
		it, err := st.Item(ctx, "x:10")
		if err != nil {
			t.Fatal(err)
		}
		return it.Status, it.Version
	}
	_, held := status()
	official := post("12", "dlh_kotabekasi", 2*time.Hour)
	handle(post("11", "warga", 30*time.Minute), post("13", "warga_lain", 2*time.Hour), official, post("10", "warga", 0))
	if st, v := status(); st != tanggap.StatusOnHold || v != held {
		t.Fatalf("after posts that are not the citizen's answer: %s version %d (held at %d)", st, v, held)
	}
	answer := post("14", "warga", 2*time.Hour)
	handle(answer)
	st2, v := status()
	if st2 == tanggap.StatusOnHold || v != held+1 {
		t.Fatalf("after the citizen's answer: %s version %d", st2, v)
	}
	h, _ := st.History(ctx, "x:10")
	if last := h[len(h)-1]; last.Action != "resume" || last.Actor != "system" || last.Reason != "warga membalas: x:14 https://x.com/warga/status/14" {
		t.Errorf("resume event: %+v", last)
	}
	handle(answer)
	if _, again := status(); again != v {
		t.Errorf("redelivery changed the item: version %d -> %d", v, again)
	}
	if n := testutil.ToFloat64(m.Resumed.WithLabelValues("resumed")); n != 1 {
		t.Errorf("resumed counted %v, want 1", n)
	}
}

// On Facebook a citizen is named by a display name anyone can take: a
// namesake writing in the thread of a held item does not resume it, its
// own citizen (the same platform id) does.
func TestHandleBatchResumesHeldByAuthorID(t *testing.T) {
	r := newRedisTriage(t)
	tr, st := r.Triage, r.st
	t0 := time.Date(2026, 3, 17, 8, 0, 0, 0, time.UTC)
	wf := workflow.New(st, r.cfg, r.clocks, func() time.Time { return t0.Add(time.Hour) })
	tr.ResumeHeld(wf)
	ctx := context.Background()
	handle := func(p tanggap.Post) {
		t.Helper()
		b, err := json.Marshal(bus.Envelope{V: 1, Type: "post", Post: &p})
		if err != nil {
			t.Fatal(err)
		}
		for i, err := range tr.HandleBatch(ctx, []kafka.Message{{Value: b, Time: p.CreatedAt}}) {
			if err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
		}
	}
	post := func(id, authorID string, at time.Duration) tanggap.Post {
		return tanggap.Post{Platform: tanggap.PlatformFacebook, ID: "100_" + id, ThreadID: "100", ParentID: "100",
			Account: "pemkotbekasi", Author: "Budi Santoso", AuthorName: "Budi Santoso", AuthorID: authorID,
			Text: "sampah numpuk di tps liar, bau busuk", CreatedAt: t0.Add(at), Interaction: tanggap.InteractionComment}
	}
	const id = "facebook:100_1"
	handle(post("1", "1001", 0))
	it, err := st.Item(ctx, id)
	if err != nil || it.OPD == "" {
		t.Fatalf("complaint: %+v %v", it, err)
	}
	if _, err := wf.Do(ctx, workflow.Actor{Login: "dlh", OPD: it.OPD}, workflow.Request{ID: id, Version: it.Version, Action: "hold", Reason: "mohon kirim alamat lengkap"}); err != nil {
		t.Fatal(err)
	}
	status := func() tanggap.Status {
		t.Helper()
		it, err := st.Item(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return it.Status
	}
	handle(post("2", "2002", 2*time.Hour))
	if s := status(); s != tanggap.StatusOnHold {
		t.Fatalf("after a namesake's post: %s, want ON_HOLD", s)
	}
	handle(post("3", "1001", 3*time.Hour))
	if s := status(); s == tanggap.StatusOnHold {
		t.Fatalf("after the citizen's answer: still %s", s)
	}
	h, _ := st.History(ctx, id)
	if last := h[len(h)-1]; last.Action != "resume" || last.Reason != "warga membalas: facebook:100_3" {
		t.Errorf("resume event: %+v", last)
	}
}
