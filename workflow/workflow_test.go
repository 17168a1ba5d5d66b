package workflow

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
)

var jkt = time.FixedZone("WIB", 7*3600)

func cfgWith(t *testing.T, cutiNonworking bool) *config.Config {
	t.Helper()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clocks.CutiBersamaIsNonworking = &cutiNonworking
	return cfg
}

// The worked check of the issue: received Tuesday 17 March 2026.
func TestDeadlinesWorkedCheck(t *testing.T) {
	t0 := time.Date(2026, 3, 17, 10, 0, 0, 0, jkt)
	for _, tc := range []struct {
		cuti            bool
		routing, follow string
	}{
		{true, "2026-03-27", "2026-03-31"},
		{false, "2026-03-23", "2026-03-25"},
	} {
		cfg := cfgWith(t, tc.cuti)
		cfg.Clocks.RoutingHK, cfg.Clocks.FollowupHK = 3, 5
		c, err := NewClocks(cfg, "")
		if err != nil {
			t.Fatal(err)
		}
		d := c.Deadlines(t0, tanggap.KindComplaint, "bina_marga_sda", false)
		if got := d.Routing.In(jkt).Format("2006-01-02"); got != tc.routing {
			t.Errorf("cuti nonworking=%v: +3 HK = %s, want %s", tc.cuti, got, tc.routing)
		}
		if got := d.Followup.In(jkt).Format("2006-01-02"); got != tc.follow {
			t.Errorf("cuti nonworking=%v: +5 HK = %s, want %s", tc.cuti, got, tc.follow)
		}
		if !d.FirstResponse.Equal(t0.Add(24 * time.Hour)) {
			t.Errorf("first response %v", d.FirstResponse)
		}
		if !d.RoutingSoon.Before(d.Routing) || !d.FollowupSoon.Before(d.Followup) {
			t.Errorf("soon instants must precede deadlines: %+v", d)
		}
	}
}

type env struct {
	st  *store.Store
	svc *Service
	now *time.Time
	c   *Clocks
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cfg := cfgWith(t, true)
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	now := time.Date(2026, 4, 6, 9, 0, 0, 0, jkt) // a Monday
	clk := func() time.Time { return now }
	st := store.New(rdb, "wf", clk)
	c, err := NewClocks(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, svc: New(st, cfg, c, clk), now: &now, c: c}
}

func (e *env) ingest(t *testing.T, id, opd string) {
	t.Helper()
	st := tanggap.StatusAssigned
	if opd == "" {
		st = tanggap.StatusNew
	}
	_, err := e.st.Ingest(context.Background(), store.Ingest{
		Post: tanggap.Post{Platform: tanggap.PlatformInstagram, ID: id, Text: "jalan rusak", Author: "warga", CreatedAt: *e.now, ThreadID: id},
		Kind: tanggap.KindComplaint, OPD: opd, Status: st, Queued: true,
		Deadlines: e.c.Deadlines(*e.now, tanggap.KindComplaint, opd, false),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestActionsFollowStatusModel(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.ingest(t, "1", "")
	humas := Actor{Login: "humas", Citywide: true}
	dbm := Actor{Login: "dbm1", OPD: "bina_marga_sda"}
	dbm2 := Actor{Login: "dbm2", OPD: "bina_marga_sda"}
	dlh := Actor{Login: "dlh1", OPD: "lingkungan_hidup"}

	step := func(a Actor, r Request, wantCode string) *tanggap.Item {
		t.Helper()
		r.ID = "instagram:1"
		if r.Version == 0 {
			r.Version = -1
		}
		it, err := e.svc.Do(ctx, a, r)
		if tanggap.ErrorCode(err) != wantCode {
			t.Fatalf("%s by %s: got %v, want code %q", r.Action, a.Login, err, wantCode)
		}
		return it
	}
	// DBMSDA cannot see an unrouted item; Humas routes it.
	step(dbm, Request{Action: "claim"}, tanggap.ENOTFOUND)
	step(humas, Request{Action: "assign", OPD: "bina_marga_sda"}, tanggap.EINVALID) // no reason
	it := step(humas, Request{Action: "assign", OPD: "bina_marga_sda", Reason: "jalan kota"}, "")
	if it.Status != tanggap.StatusAssigned || it.AssignedAt == nil || it.Hops != 0 {
		t.Fatalf("after routing: %+v", it)
	}
	deadline := it.Deadline
	// Claim is a lease: a colleague gets a clear conflict.
	step(dbm, Request{Action: "claim"}, "")
	step(dbm2, Request{Action: "claim"}, tanggap.ECONFLICT)
	step(dbm2, Request{Action: "answer", URL: "https://instagram.com/p/x"}, tanggap.ECONFLICT)
	// A stale version is a conflict.
	step(dbm, Request{Action: "hold", Reason: "alamat?", Version: 1}, tanggap.ECONFLICT)
	// Reassignment is a hop and keeps the clocks.
	it = step(dbm, Request{Action: "assign", OPD: "lingkungan_hidup", Reason: "sampah, bukan jalan"}, "")
	if it.Hops != 1 || !it.Deadline.Equal(deadline) || it.ClaimedBy != "" {
		t.Fatalf("hop: hops=%d deadline %v (was %v) claim=%q", it.Hops, it.Deadline, deadline, it.ClaimedBy)
	}
	step(dbm, Request{Action: "resolve", Evidence: "x"}, tanggap.ENOTFOUND) // not theirs any more
	// Hold pauses the clocks: two working days on hold push them two HK.
	it = step(dlh, Request{Action: "hold", Reason: "minta foto lokasi"}, "")
	before := it.Deadlines.Resolution
	*e.now = e.now.Add(48 * time.Hour) // Monday 09:00 -> Wednesday 09:00
	it = step(dlh, Request{Action: "resume"}, "")
	if want := e.c.Calendar().Extend(before, e.now.Add(-48*time.Hour), *e.now); !it.Deadlines.Resolution.Equal(want) || !want.After(before) {
		t.Fatalf("resolution after hold: %v, want %v (was %v)", it.Deadlines.Resolution, want, before)
	}
	if it.Status != tanggap.StatusAssigned {
		t.Fatalf("resume: %s", it.Status)
	}
	it = step(dlh, Request{Action: "answer", URL: "https://instagram.com/p/reply"}, "")
	if it.Status != tanggap.StatusInProgress || it.Clock != tanggap.ClockResolution {
		t.Fatalf("answer: %s %s", it.Status, it.Clock)
	}
	step(dlh, Request{Action: "resolve"}, tanggap.EINVALID) // evidence required
	it = step(dlh, Request{Action: "resolve", Evidence: "https://instagram.com/p/foto-sesudah"}, "")
	if it.Status != tanggap.StatusResolved || it.ResolvedAt == nil {
		t.Fatalf("resolve: %+v", it)
	}
	step(dlh, Request{Action: "hold", Reason: "x"}, tanggap.EINVALID) // RESOLVED cannot go on hold
	it = step(dlh, Request{Action: "reopen", Reason: "warga: masih numpuk"}, "")
	if it.Status != tanggap.StatusReopened || !it.Status.Open() {
		t.Fatalf("reopen: %s", it.Status)
	}
	step(dlh, Request{Action: "resolve", Evidence: "surat 123/DLH"}, "")
	// Ten working days later the system closes it.
	*e.now = e.c.Calendar().AddWorkingDays(*e.now, 11)
	n, err := e.svc.AutoClose(ctx, e.st)
	if err != nil || n != 1 {
		t.Fatalf("autoclose: %d %v", n, err)
	}
	it, _ = e.st.Item(ctx, "instagram:1")
	if it.Status != tanggap.StatusClosed {
		t.Fatalf("after autoclose: %s", it.Status)
	}
	h, _ := e.st.History(ctx, "instagram:1")
	var acts []string
	for _, ev := range h {
		acts = append(acts, ev.Action)
	}
	want := "ingest assign claim assign hold resume answer resolve reopen resolve close"
	if got := join(acts); got != want {
		t.Errorf("history:\n got %s\nwant %s", got, want)
	}
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}

func TestOtherActionsAndBulk(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, id := range []string{"10", "11", "12", "13"} {
		e.ingest(t, id, "perhubungan")
	}
	a := Actor{Login: "dishub", OPD: "perhubungan"}
	if _, err := e.svc.Do(ctx, a, Request{ID: "instagram:10", Version: -1, Action: "archive", ReasonCode: "spam"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Do(ctx, a, Request{ID: "instagram:11", Version: -1, Action: "archive", ReasonCode: "nope"}); tanggap.ErrorCode(err) != tanggap.EINVALID {
		t.Fatalf("bad reason code: %v", err)
	}
	it, err := e.svc.Do(ctx, a, Request{ID: "instagram:11", Version: -1, Action: "out_of_scope", Target: "PLN", TrackingID: "LAPOR-123"})
	if err != nil || it.Status != tanggap.StatusOutOfScope || it.ExternalRef != "LAPOR-123" {
		t.Fatalf("out of scope: %v %+v", err, it)
	}
	it, err = e.svc.Do(ctx, a, Request{ID: "instagram:12", Version: -1, Action: "duplicate", Of: "instagram:13"})
	if err != nil || it.DuplicateOf != "instagram:13" {
		t.Fatalf("duplicate: %v", err)
	}
	// A request no item could take fails whole, before any item changes.
	if _, err := e.svc.Bulk(ctx, a, []string{"instagram:13", "instagram:10"}, Request{Action: "hold", Reason: "  "}); tanggap.ErrorCode(err) != tanggap.EINVALID {
		t.Fatalf("bulk hold without a reason: %v", err)
	}
	if it, _ := e.st.Item(ctx, "instagram:13"); it.Status == tanggap.StatusOnHold {
		t.Fatal("bulk hold without a reason changed an item")
	}
	res, err := e.svc.Bulk(ctx, a, []string{"instagram:13", "instagram:10", "instagram:404"}, Request{Action: "hold", Reason: "minta detail"})
	if err != nil {
		t.Fatal(err)
	}
	codes := []string{tanggap.ErrorCode(res[0].Err), tanggap.ErrorCode(res[1].Err), tanggap.ErrorCode(res[2].Err)}
	if codes[0] != "" || codes[1] != tanggap.EINVALID || codes[2] != tanggap.ENOTFOUND {
		t.Fatalf("bulk: %v", res)
	}
	q, _ := e.st.Queue(ctx, "perhubungan", store.QueuePage{Limit: 10})
	if q.Open != 0 || q.NHeld != 1 {
		t.Fatalf("queue: open %d held %d", q.Open, q.NHeld)
	}
}

// With hold_expire_hk set, an item whose citizen has not answered within
// that many working days of the hold is closed by the system, with the
// reason in its history; one held for less, or resumed, stays. With 0 (the
// default) nothing closes.
func TestExpireHeld(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dlh := Actor{Login: "dlh1", OPD: "lingkungan_hidup"}
	hold := func(id string) {
		t.Helper()
		if _, err := e.svc.Do(ctx, dlh, Request{ID: id, Version: -1, Action: "hold", Reason: "mohon kirim foto lokasi"}); err != nil {
			t.Fatal(err)
		}
	}
	e.ingest(t, "1", "lingkungan_hidup")
	e.ingest(t, "2", "lingkungan_hidup")
	e.ingest(t, "3", "")
	hold("instagram:1")
	if _, err := e.svc.Do(ctx, Actor{Login: "humas", Citywide: true}, Request{ID: "instagram:3", Version: -1, Action: "hold", Reason: "di mana?"}); err != nil {
		t.Fatal(err)
	}
	start := *e.now
	*e.now = e.c.Calendar().AddWorkingDays(start, 2)
	hold("instagram:2") // two working days later
	*e.now = e.c.Calendar().AddWorkingDays(start, 10).Add(time.Minute)
	if n, err := e.svc.ExpireHeld(ctx, e.st); err != nil || n != 0 {
		t.Fatalf("with hold_expire_hk 0: %d closed, %v", n, err)
	}
	e.svc.cfg.Clocks.HoldExpireHK = 10
	if n, err := e.svc.ExpireHeld(ctx, e.st); err != nil || n != 2 {
		t.Fatalf("after 10 HK: %d closed, %v; want the two held since the start", n, err)
	}
	for id, want := range map[string]tanggap.Status{"instagram:1": tanggap.StatusClosed, "instagram:3": tanggap.StatusClosed, "instagram:2": tanggap.StatusOnHold} {
		if it, _ := e.st.Item(ctx, id); it.Status != want {
			t.Errorf("%s: %s, want %s", id, it.Status, want)
		}
	}
	h, _ := e.st.History(ctx, "instagram:1")
	if last := h[len(h)-1]; last.Action != "close" || last.Actor != "system" || last.Reason != "warga tidak melengkapi dalam 10 HK" {
		t.Errorf("the close in the history: %+v", last)
	}
	if n, _ := e.svc.ExpireHeld(ctx, e.st); n != 0 {
		t.Errorf("a second round closed %d", n)
	}
	if got, want := e.c.HoldExpiry(start), e.c.Calendar().AddWorkingDays(start, 10); !got.Equal(want) {
		t.Errorf("hold expiry %v, want %v", got, want)
	}
}

// An action that would move an item to the status it is in is refused
// (assign, a hop, excepted): a second hold, reopen, resolve or close would
// restart what the first one started.
func TestRepeatedActionRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dlh := Actor{Login: "dlh1", OPD: "lingkungan_hidup"}
	do := func(id string, r Request) (*tanggap.Item, error) {
		r.ID, r.Version = "instagram:"+id, -1
		return e.svc.Do(ctx, dlh, r)
	}
	for _, tc := range []struct {
		before []Request
		again  Request
	}{
		{[]Request{{Action: "hold", Reason: "foto?"}}, Request{Action: "hold", Reason: "foto lagi?"}},
		{[]Request{{Action: "resolve", Evidence: "surat 1"}, {Action: "reopen", Reason: "masih"}}, Request{Action: "reopen", Reason: "lagi"}},
		{[]Request{{Action: "resolve", Evidence: "surat 1"}}, Request{Action: "resolve", Evidence: "surat 2"}},
		{[]Request{{Action: "resolve", Evidence: "surat 1"}, {Action: "close"}}, Request{Action: "close"}},
		{[]Request{{Action: "archive", ReasonCode: "spam", Reason: "iklan"}}, Request{Action: "archive", ReasonCode: "noise", Reason: "x"}},
	} {
		id := tc.again.Action + strconv.Itoa(len(tc.before))
		e.ingest(t, id, "lingkungan_hidup")
		for _, r := range tc.before {
			if _, err := do(id, r); err != nil {
				t.Fatalf("%s: %v", r.Action, err)
			}
		}
		was, _ := e.st.Item(ctx, "instagram:"+id)
		*e.now = e.now.Add(time.Hour)
		if _, err := do(id, tc.again); tanggap.ErrorCode(err) != tanggap.EINVALID {
			t.Errorf("%s on an item %s: %v, want EINVALID", tc.again.Action, was.Status, err)
		}
		if now, _ := e.st.Item(ctx, "instagram:"+id); now.Version != was.Version {
			t.Errorf("%s on an item %s changed it", tc.again.Action, was.Status)
		}
	}
	// Status-neutral actions still work on any status they did.
	if _, err := do("hold1", Request{Action: "answer", URL: "https://instagram.com/p/r"}); err != nil {
		t.Errorf("answer on hold: %v", err)
	}
}

// Hold pauses the first-response clock (clock hours) by the whole time on
// hold, the working-day clocks by its working time.
func TestResumeShiftsFirstResponseByWallClock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	*e.now = time.Date(2026, 4, 10, 15, 0, 0, 0, jkt) // Friday 15:00
	e.ingest(t, "1", "lingkungan_hidup")
	dlh := Actor{Login: "dlh1", OPD: "lingkungan_hidup"}
	*e.now = time.Date(2026, 4, 10, 16, 0, 0, 0, jkt)
	it, err := e.svc.Do(ctx, dlh, Request{ID: "instagram:1", Version: -1, Action: "hold", Reason: "alamat lengkap?"})
	if err != nil {
		t.Fatal(err)
	}
	was := it.Deadlines
	*e.now = time.Date(2026, 4, 13, 7, 30, 0, 0, jkt) // Monday 07:30, before office hours
	it, err = e.svc.Do(ctx, dlh, Request{ID: "instagram:1", Version: -1, Action: "resume"})
	if err != nil {
		t.Fatal(err)
	}
	held := e.now.Sub(time.Date(2026, 4, 10, 16, 0, 0, 0, jkt))
	if got, want := it.Deadlines.FirstResponse, was.FirstResponse.Add(held); !got.Equal(want) {
		t.Errorf("first response after %v on hold: %v, want %v", held, got.In(jkt), want.In(jkt))
	}
	if got, want := it.Deadlines.Resolution, e.c.Calendar().Extend(was.Resolution, time.Date(2026, 4, 10, 16, 0, 0, 0, jkt), *e.now); !got.Equal(want) {
		t.Errorf("resolution: %v, want %v", got.In(jkt), want.In(jkt))
	}
	if st := it.StateAt(*e.now); st != tanggap.OnTrack {
		t.Errorf("an item held one hour into its 24 h clock is %s when it resumes", st)
	}
}

// A post triage archived (no clock) that a person routes to an OPD gets
// its clocks from T0 and shows in that OPD's queue; an answered item on
// hold keeps IN_PROGRESS when it moves, as it would on resume.
func TestAssignStartsClocksAndKeepsAnswer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := tanggap.Post{Platform: tanggap.PlatformInstagram, ID: "9", Text: "mantap pak", Author: "warga", CreatedAt: *e.now, ThreadID: "9"}
	if _, err := e.st.Ingest(ctx, store.Ingest{Post: p, Kind: tanggap.KindPraise, Status: tanggap.StatusNotComplaint}); err != nil {
		t.Fatal(err)
	}
	humas := Actor{Login: "humas", Citywide: true}
	*e.now = e.now.Add(2 * time.Hour)
	it, err := e.svc.Do(ctx, humas, Request{ID: "instagram:9", Version: -1, Action: "assign", OPD: "lingkungan_hidup", Reason: "sebenarnya aduan sampah"})
	if err != nil {
		t.Fatal(err)
	}
	want := e.c.Deadlines(p.CreatedAt, tanggap.KindPraise, "lingkungan_hidup", false)
	if utc(it.Deadlines) != utc(want) || it.Clock != tanggap.ClockFirstResponse {
		t.Errorf("routed archived post: deadlines %+v clock %q, want %+v from T0", it.Deadlines, it.Clock, want)
	}
	if q, err := e.st.Queue(ctx, "lingkungan_hidup", store.QueuePage{Limit: 50}); err != nil || q.Open != 1 || len(q.Items) != 1 {
		t.Errorf("queue after routing: open=%d items=%d err=%v", q.Open, len(q.Items), err)
	}

	e.ingest(t, "1", "lingkungan_hidup")
	dlh := Actor{Login: "dlh1", OPD: "lingkungan_hidup"}
	for _, r := range []Request{{Action: "answer", URL: "https://instagram.com/p/r"}, {Action: "hold", Reason: "foto?"},
		{Action: "assign", OPD: "perhubungan", Reason: "lampu lalu lintas"}} {
		r.ID, r.Version = "instagram:1", -1
		if it, err = e.svc.Do(ctx, dlh, r); err != nil {
			t.Fatal(err)
		}
	}
	if it.Status != tanggap.StatusInProgress {
		t.Errorf("answered item on hold, reassigned: %s, want IN_PROGRESS", it.Status)
	}
}

func utc(d tanggap.Deadlines) tanggap.Deadlines {
	for _, t := range []*time.Time{&d.FirstResponse, &d.FirstResponseSoon, &d.Routing, &d.RoutingSoon,
		&d.Followup, &d.FollowupSoon, &d.Resolution, &d.ResolutionSoon} {
		*t = t.UTC()
	}
	return d
}

// TestExtend: an information request's resolution deadline is extended
// once by UU 14/2008's 7 HK, a complaint's to the field-check deadline;
// never twice, never for an ended item, and its status stays.
func TestExtend(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dlh := Actor{Login: "dlh1", OPD: "lingkungan_hidup"}
	e.ingest(t, "1", "lingkungan_hidup")
	info := tanggap.Post{Platform: tanggap.PlatformInstagram, ID: "2", Text: "minta data", Author: "warga", CreatedAt: *e.now, ThreadID: "2"}
	if _, err := e.st.Ingest(ctx, store.Ingest{Post: info, Kind: tanggap.KindInfo, OPD: "lingkungan_hidup", Status: tanggap.StatusAssigned,
		Queued: true, Deadlines: e.c.Deadlines(*e.now, tanggap.KindInfo, "lingkungan_hidup", false)}); err != nil {
		t.Fatal(err)
	}
	do := func(id string, r Request) (*tanggap.Item, error) {
		r.ID, r.Version = "instagram:"+id, -1
		return e.svc.Do(ctx, dlh, r)
	}
	if _, err := do("2", Request{Action: "extend"}); tanggap.ErrorCode(err) != tanggap.EINVALID {
		t.Errorf("extend without a reason: %v", err)
	}
	cal := e.c.Calendar()
	for _, tc := range []struct {
		id   string
		want time.Time
	}{
		{"2", cal.AddWorkingDays(*e.now, 10+7)}, // UU 14/2008 Pasal 22: 10 HK + 7
		{"1", cal.AddWorkingDays(*e.now, 60)},   // a field check: 60 HK instead of 14
	} {
		was, _ := e.st.Item(ctx, "instagram:"+tc.id)
		it, err := do(tc.id, Request{Action: "extend", Reason: "surat pemberitahuan 12/DLH"})
		if err != nil {
			t.Fatal(err)
		}
		if !it.Deadlines.Resolution.Equal(tc.want) || !it.Extended || it.Status != was.Status {
			t.Errorf("%s extended: resolution %v (was %v), want %v; extended %v, status %s", tc.id,
				it.Deadlines.Resolution.In(jkt), was.Deadlines.Resolution.In(jkt), tc.want.In(jkt), it.Extended, it.Status)
		}
		if _, err := do(tc.id, Request{Action: "extend", Reason: "lagi"}); tanggap.ErrorCode(err) != tanggap.EINVALID {
			t.Errorf("%s extended twice: %v", tc.id, err)
		}
	}
	e.ingest(t, "3", "lingkungan_hidup")
	if _, err := do("3", Request{Action: "resolve", Evidence: "surat 1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := do("3", Request{Action: "extend", Reason: "x"}); tanggap.ErrorCode(err) != tanggap.EINVALID {
		t.Errorf("extend a resolved item: %v", err)
	}
	if h, _ := e.st.History(ctx, "instagram:2"); h[len(h)-1].Action != "extend" || h[len(h)-1].Data["basis"] != "info_request" {
		t.Errorf("history: %+v", h[len(h)-1])
	}
}

// Every action that makes an ended item open again leaves the store its
// record of the time the item spent ended (reports count it open only
// outside it): reopen after a resolution, and an assign out of
// out-of-scope, duplicate or archived. Actions between open statuses add
// nothing.
func TestReopeningsRecorded(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	humas := Actor{Login: "humas", Citywide: true}
	do := func(id string, r Request) *tanggap.Item {
		t.Helper()
		*e.now = e.now.Add(time.Hour)
		r.ID, r.Version = id, -1
		it, err := e.svc.Do(ctx, humas, r)
		if err != nil {
			t.Fatalf("%s %s: %v", r.Action, id, err)
		}
		return it
	}
	for _, id := range []string{"20", "21", "22", "23", "24"} {
		e.ingest(t, id, "perhubungan")
	}
	again := Request{Action: "assign", OPD: "lingkungan_hidup", Reason: "ternyata aduan sampah"}
	for _, c := range []struct {
		id        string
		end, open Request
	}{
		{"instagram:20", Request{Action: "resolve", Evidence: "https://instagram.com/p/bukti"}, Request{Action: "reopen", Reason: "warga: belum"}},
		{"instagram:21", Request{Action: "out_of_scope", Target: "PLN"}, again},
		{"instagram:22", Request{Action: "duplicate", Of: "instagram:24"}, again},
		{"instagram:23", Request{Action: "archive", ReasonCode: "spam"}, again},
	} {
		ended := do(c.id, c.end).UpdatedAt
		it := do(c.id, c.open)
		want := []tanggap.Reopen{{Ended: ended, At: e.now.Truncate(time.Millisecond)}}
		if !it.Status.Open() || !reopensEqual(it.Reopens, want) {
			t.Errorf("%s after %s and %s: %s, reopens %v, want %v", c.id, c.end.Action, c.open.Action, it.Status, it.Reopens, want)
		}
		do(c.id, Request{Action: "hold", Reason: "minta foto"})
		if it = do(c.id, Request{Action: "resume"}); !reopensEqual(it.Reopens, want) {
			t.Errorf("%s after hold and resume: reopens %v, want %v", c.id, it.Reopens, want)
		}
	}
}

func reopensEqual(a, b []tanggap.Reopen) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Ended.Equal(b[i].Ended) || !a[i].At.Equal(b[i].At) {
			return false
		}
	}
	return true
}

// The classifier's overrule count is of items: an item the classifier
// routed counts once when people move it away, however often it moves
// after (back to the classifier's OPD and away again included), and an
// item a person routed to the classifier's suggestion is no routing of
// the classifier's, whoever moves it later.
func TestOverruleCountsItemOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, in := range []struct{ id, opd string }{{"30", "perhubungan"}, {"31", ""}} {
		_, err := e.st.Ingest(ctx, store.Ingest{
			Post: tanggap.Post{Platform: tanggap.PlatformInstagram, ID: in.id, Text: "lampu lalu lintas mati", Author: "warga", CreatedAt: *e.now, ThreadID: in.id},
			Kind: tanggap.KindComplaint, OPD: in.opd, ClassifierOPD: "perhubungan", Status: map[bool]tanggap.Status{true: tanggap.StatusAssigned, false: tanggap.StatusNew}[in.opd != ""],
			Queued: true, Deadlines: e.c.Deadlines(*e.now, tanggap.KindComplaint, in.opd, false),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	humas := Actor{Login: "humas", Citywide: true}
	for _, step := range []struct{ id, opd string }{
		{"instagram:30", "bina_marga_sda"},
		{"instagram:30", "perhubungan"},
		{"instagram:30", "lingkungan_hidup"},
		{"instagram:31", "perhubungan"},
		{"instagram:31", "bina_marga_sda"},
	} {
		if _, err := e.svc.Do(ctx, humas, Request{ID: step.id, Version: -1, Action: "assign", OPD: step.opd, Reason: "bukan wewenang"}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := e.st.Routing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := st["perhubungan"]; got.Auto != 1 || got.Overruled != 1 {
		t.Errorf("routing stats of perhubungan: %+v, want 1 routing, 1 overruled", got)
	}
}
