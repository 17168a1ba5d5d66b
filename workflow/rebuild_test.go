package workflow

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/internal/testenv"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/store/storetest"
)

// notRebuilt are the keys of a city (by the start of their name after the
// city's prefix) that `tanggap rebuild` does not restore from the events
// topic, and why. Every other key must come back exactly as it was: a key
// a new change adds and the rebuild leaves out fails
// TestRebuildRestoresEveryKey until the rebuild restores it or it is
// listed here with its reason.
var notRebuilt = []struct{ prefix, why string }{
	{"outbox", "the relay's queue to the events topic: what it held is on the topic"},
	{"session:", "sign-ins, with a TTL: people sign in again"},
	{"loginfail:", "failed sign-in counters, with a TTL"},
	{"lease:", "collector workers' leases, with a TTL: taken again"},
	{"cursor:", "collectors' cursors: a collector polls its account again from the start, and ingest is idempotent by post id"},
	{"coverage", "collectors' last reports: each reports again after its next poll"},
	{"once:", "markers of work done once (digests sent), with a TTL"},
	{"user:", "web accounts are no events (a bcrypt hash does not belong on Kafka): made again with `tanggap user add`"},
	{"users", "the account list and its change record, like the accounts"},
}

// A city rebuilt from its events topic (after its Redis was lost) is the
// city it was, key for key: a varied history of posts and people's actions
// runs through the live code, the relay hands its events to "Kafka", the
// city is wiped and rebuilt from them, and every key is compared, but those
// of notRebuilt. Replaying the events again changes nothing.
func TestRebuildRestoresEveryKey(t *testing.T) {
	cfg := cfgWith(t, true)
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	now := time.Date(2026, 4, 6, 9, 0, 0, 0, jkt) // a Monday
	clk := func() time.Time { return now }
	const city = "rebuild"
	st := store.New(rdb, city, clk)
	clocks, err := NewClocks(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	svc := New(st, cfg, clocks, clk)
	tick := func() { now = now.Add(7 * time.Minute) }

	post := func(p tanggap.Platform, id, text, opd, classifier string) store.Ingest {
		st := tanggap.StatusAssigned
		if opd == "" {
			st = tanggap.StatusNew
		}
		return store.Ingest{
			Post: tanggap.Post{Platform: p, ID: id, Text: text, Author: "warga" + id, Account: "humasbekasikota",
				CreatedAt: now.Add(-time.Hour), CapturedAt: now, ThreadID: id, Interaction: tanggap.InteractionComment,
				URL: "https://example.com/" + string(p) + "/" + id},
			Kind: tanggap.KindComplaint, OPD: opd, ClassifierOPD: classifier, Confidence: 0.8, Status: st, Queued: true,
			Deadlines: clocks.Deadlines(now.Add(-time.Hour), tanggap.KindComplaint, opd, false), Features: []string{"kata: " + text},
		}
	}
	official := func(p tanggap.Platform, id, parent, by string) store.Ingest {
		return store.Ingest{
			Post: tanggap.Post{Platform: p, ID: id, ParentID: parent, ThreadID: parent, Text: "Terima kasih, segera kami tindak lanjuti",
				Author: "dlh_bekasi", Account: "humasbekasikota", CreatedAt: now, CapturedAt: now, Interaction: tanggap.InteractionReply,
				URL: "https://example.com/" + string(p) + "/" + id},
			Kind: tanggap.KindOfficial, OPD: by, Status: tanggap.StatusNotComplaint, ReplyBy: by,
		}
	}
	ingest := func(ins ...store.Ingest) {
		t.Helper()
		tick()
		_, errs := st.IngestBatch(ctx, ins)
		for i, err := range errs {
			if err != nil {
				t.Fatalf("ingest %s: %v", ins[i].Post.ID, err)
			}
		}
	}
	humas := Actor{Login: "humas", Citywide: true}
	dbm := Actor{Login: "dbm1", OPD: "bina_marga_sda"}
	dlh := Actor{Login: "dlh1", OPD: "lingkungan_hidup"}
	dishub := Actor{Login: "dishub1", OPD: "perhubungan"}
	do := func(a Actor, id string, r Request) {
		t.Helper()
		tick()
		r.ID, r.Version = id, -1
		if _, err := svc.Do(ctx, a, r); err != nil {
			t.Fatalf("%s %s by %s: %v", r.Action, id, a.Login, err)
		}
	}

	// Posts: routed by the classifier on its own, left unrouted for a
	// person, on Instagram, X, Facebook (its citizen named by id) and
	// YouTube; official replies before and after their parent, one whose
	// parent never comes; a near-duplicate cluster; noise; an edit and a
	// deletion.
	fb := post(tanggap.PlatformFacebook, "3", "sampah belum diangkut", "lingkungan_hidup", "lingkungan_hidup")
	fb.Post.Author, fb.Post.AuthorID = "Budi Santoso", "3001"
	yt := post(tanggap.PlatformYouTube, "4", "lampu jalan mati", "", "perhubungan")
	yt.Post.Author = "@wargabekasi"
	noise := post(tanggap.PlatformInstagram, "80", "selamat pagi bekasi", "", "")
	noise.Kind, noise.Status, noise.Queued, noise.Deadlines = tanggap.KindNoise, tanggap.StatusNotComplaint, false, tanggap.Deadlines{}
	ingest(
		post(tanggap.PlatformInstagram, "1", "jalan rusak", "bina_marga_sda", "bina_marga_sda"),
		post(tanggap.PlatformX, "2", "got mampet", "", "perhubungan"),
		fb,
		official(tanggap.PlatformYouTube, "5", "4", "perhubungan"),
		official(tanggap.PlatformX, "9", "8", "bina_marga_sda"),
		post(tanggap.PlatformInstagram, "50", "got mampet lagi", "bina_marga_sda", "bina_marga_sda"),
		post(tanggap.PlatformInstagram, "60", "promo pinjol", "lingkungan_hidup", "lingkungan_hidup"),
		post(tanggap.PlatformInstagram, "61", "listrik padam", "perhubungan", "perhubungan"),
		post(tanggap.PlatformInstagram, "70", "lampu lalu lintas mati", "perhubungan", "perhubungan"),
		noise,
		post(tanggap.PlatformX, "90", "trotoar rusak", "bina_marga_sda", "bina_marga_sda"),
		post(tanggap.PlatformX, "91", "parkir liar", "perhubungan", "perhubungan"),
	)
	ingest(yt, official(tanggap.PlatformFacebook, "10", "3", "lingkungan_hidup"))
	for i, id := range []string{"40", "41", "42", "43"} {
		in := post(tanggap.PlatformX, id, "pohon tumbang di jl kemakmuran", "lingkungan_hidup", "lingkungan_hidup")
		in.Kelurahan, in.Fingerprint = "Margajaya", strings.Repeat("0123abcd", 16)
		if i > 0 {
			in.ClusterID = "x:40"
		}
		ingest(in)
	}
	edited := post(tanggap.PlatformX, "90", "trotoar rusak parah", "bina_marga_sda", "bina_marga_sda")
	at := now
	edited.Post.EditedAt = &at
	deleted := post(tanggap.PlatformX, "91", "parkir liar", "perhubungan", "perhubungan")
	deleted.Post.Deleted = true
	ingest(edited, deleted)

	// People's actions: routings and reroutings (the classifier overruled
	// once per item), a claim, a hold the citizen's reply resumes, answers,
	// an extension, resolutions, a reopening, a duplicate, an archive as
	// spam, out of scope, a hold left open, and the system's auto-close.
	do(humas, "instagram:1", Request{Action: "assign", OPD: "lingkungan_hidup", Reason: "sampah, bukan jalan"})
	do(dlh, "instagram:1", Request{Action: "claim"})
	do(dlh, "instagram:1", Request{Action: "hold", Reason: "minta foto lokasi"})
	tick()
	reply := tanggap.Post{Platform: tanggap.PlatformInstagram, ID: "1001", ParentID: "1", ThreadID: "1", Author: "warga1",
		Text: "ini fotonya", CreatedAt: now, URL: "https://example.com/instagram/1001"}
	if ok, err := svc.CitizenReplied(ctx, "instagram:1", reply); err != nil || !ok {
		t.Fatalf("citizen replied: %v %v", ok, err)
	}
	do(dlh, "instagram:1", Request{Action: "answer", URL: "https://instagram.com/p/balasan"})
	do(dlh, "instagram:1", Request{Action: "extend", Reason: "perlu cek lapangan"})
	do(dlh, "instagram:1", Request{Action: "resolve", Evidence: "https://instagram.com/p/bukti"})
	do(humas, "instagram:1", Request{Action: "reopen", Reason: "warga: masih numpuk"})
	do(dlh, "instagram:1", Request{Action: "resolve", Evidence: "surat 12/DLH"})
	do(humas, "x:2", Request{Action: "assign", OPD: "perhubungan", Reason: "saluran di jalan"})
	do(dishub, "x:2", Request{Action: "assign", OPD: "bina_marga_sda", Reason: "drainase jalan kota"})
	do(dbm, "x:2", Request{Action: "answer", URL: "https://x.com/dbmsda/status/2"})
	do(dlh, "facebook:3", Request{Action: "hold", Reason: "alamat lengkap?"})
	do(dbm, "instagram:50", Request{Action: "duplicate", Of: "x:2"})
	do(humas, "instagram:60", Request{Action: "archive", ReasonCode: "spam", Reason: "iklan"})
	do(humas, "instagram:61", Request{Action: "out_of_scope", Target: "PLN", TrackingID: "LAPOR-1"})
	for _, opd := range []string{"bina_marga_sda", "perhubungan", "lingkungan_hidup"} {
		do(humas, "instagram:70", Request{Action: "assign", OPD: opd, Reason: "bukan wewenang"})
	}
	do(humas, "instagram:80", Request{Action: "assign", OPD: "lingkungan_hidup", Reason: "sebenarnya aduan sampah"})
	do(dlh, "x:41", Request{Action: "duplicate", Of: "x:40"})
	do(dlh, "x:42", Request{Action: "resolve", Evidence: "https://x.com/dlh/status/42"})
	do(dlh, "x:42", Request{Action: "close"})
	now = clocks.Calendar().AddWorkingDays(now, 11)
	if n, err := svc.AutoClose(ctx, st); err != nil || n != 1 {
		t.Fatalf("autoclose: %d %v", n, err)
	}

	// The city's other keys: accounts, a session, a failed sign-in, a
	// lease, a cursor, a coverage report, a digest marker.
	if err := st.PutUser(ctx, store.User{Login: "dlh1", Name: "Admin DLH", Role: "opd_admin", OPD: "lingkungan_hidup"}, "rahasia-panjang-sekali", true); err != nil {
		t.Fatal(err)
	}
	if err := st.LogUserChange(ctx, store.UserChange{By: "(cli)", Action: "add", Login: "dlh1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.NewSession(ctx, "dlh1", time.Hour); err != nil {
		t.Fatal(err)
	}
	st.CheckPassword(ctx, "dlh1", "salah", "10.0.0.1")
	if _, err := st.AcquireLease(ctx, "collect:x", "worker-1", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := st.SetCursor(ctx, tanggap.PlatformX, "humasbekasikota", "1790000000000000000"); err != nil {
		t.Fatal(err)
	}
	if err := st.PutCoverage(ctx, []store.Coverage{{Platform: tanggap.PlatformX, Account: "humasbekasikota", LastSuccess: now}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Once(ctx, "digest:lingkungan_hidup:2026-04-21", time.Hour); err != nil {
		t.Fatal(err)
	}

	evs := storetest.RelayAll(t, st)
	state := func() map[string]any {
		t.Helper()
		out := testenv.DumpCity(t, rdb, city)
		for k, v := range out {
			if slices.ContainsFunc(notRebuilt, func(n struct{ prefix, why string }) bool { return strings.HasPrefix(k, n.prefix) }) {
				delete(out, k)
				continue
			}
			// A rebuild writes each event with its fields in another
			// order: histories compare as events.
			if strings.HasPrefix(k, "history:") {
				var hs []tanggap.Event
				for _, raw := range v.([]string) {
					var ev tanggap.Event
					if err := json.Unmarshal([]byte(raw), &ev); err != nil {
						t.Fatal(err)
					}
					hs = append(hs, ev)
				}
				out[k] = hs
			}
		}
		return out
	}
	// Every exception is one this history exercises.
	all := testenv.DumpCity(t, rdb, city)
	for _, n := range notRebuilt {
		if !slices.ContainsFunc(slices.Collect(maps.Keys(all)), func(k string) bool { return strings.HasPrefix(k, n.prefix) }) {
			t.Errorf("no key %s* before the rebuild: the history does not exercise the exception", n.prefix)
		}
	}
	want := state()
	// The classifier's routings and the one overrule of each item it
	// routed that people moved (instagram:1 once, instagram:70 once for
	// three moves); seven people's routings.
	if d := cmp.Diff(map[string]string{"bina_marga_sda:auto": "3", "bina_marga_sda:overruled": "1", "lingkungan_hidup:auto": "6",
		"perhubungan:auto": "3", "perhubungan:overruled": "1"}, want["routing"]); d != "" {
		t.Fatalf("routing counts before the rebuild (-want +got):\n%s", d)
	}
	if cs, _ := want["corrections"].([]string); len(cs) != 7 {
		t.Fatalf("%d corrections before the rebuild, want 7", len(cs))
	}

	if err := testenv.DropCity(ctx, rdb, city); err != nil {
		t.Fatal(err)
	}
	slices.Reverse(evs) // the rebuild orders them by item and version itself
	if res, err := st.Restore(ctx, evs, time.Time{}); err != nil || res.Applied != len(evs) || res.Gaps != 0 {
		t.Fatalf("restore: %+v %v of %d events", res, err, len(evs))
	}
	if d := cmp.Diff(want, state()); d != "" {
		t.Errorf("the rebuilt city differs (-before +rebuilt):\n%s", d)
	}
	if res, err := st.Restore(ctx, evs, time.Time{}); err != nil || res.Skipped != len(evs) {
		t.Fatalf("second restore: %+v %v", res, err)
	}
	if d := cmp.Diff(want, state()); d != "" {
		t.Errorf("a second replay changed the city (-before +replayed):\n%s", d)
	}

	// Assign events written before the workflow put its overrule verdict
	// in them are judged by its rule: the same counts and corrections.
	stripped := 0
	for _, ev := range evs {
		if _, ok := ev.Data["overrule"]; ok {
			delete(ev.Data, "overrule")
			stripped++
		}
	}
	if stripped != 7 {
		t.Fatalf("%d events carried the overrule verdict, want 7 (people's assigns)", stripped)
	}
	if err := testenv.DropCity(ctx, rdb, city); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Restore(ctx, evs, time.Time{}); err != nil {
		t.Fatal(err)
	}
	got := state()
	if d := cmp.Diff(want["routing"], got["routing"]); d != "" {
		t.Errorf("routing counts rebuilt from events without the verdict (-before +rebuilt):\n%s", d)
	}
	if d := cmp.Diff(want["corrections"], got["corrections"]); d != "" {
		t.Errorf("corrections rebuilt from events without the verdict (-before +rebuilt):\n%s", d)
	}
}
