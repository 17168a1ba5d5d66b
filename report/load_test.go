package report_test

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/calendar"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/report"
	"github.com/tanggap/tanggap/report/reporttest"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/workflow"
)

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// TestLoad reads through the real store (miniredis): the period's items,
// the items of the lookback window that ended after the period began (the
// store's ended index), and open items received outside the period through
// the open sets.
func TestLoad(t *testing.T) {
	ctx := context.Background()
	loc, _ := time.LoadLocation(calendar.Zone)
	at := func(y int, m time.Month, d, hh int) time.Time { return time.Date(y, m, d, hh, 0, 0, 0, loc) }
	now := at(2026, time.April, 1, 9)
	st, _ := reporttest.Store(t, func() time.Time { return now })
	ingest := func(id, opd string, t0 time.Time, official bool) {
		t.Helper()
		in := store.Ingest{
			Post: tanggap.Post{Platform: tanggap.PlatformX, ID: id, Text: "aduan " + id, Author: "warga" + id, Account: "humasbekasikota",
				CreatedAt: t0, CapturedAt: t0, ThreadID: id},
			Kind: tanggap.KindComplaint, OPD: opd, Status: tanggap.StatusAssigned, Queued: true,
			Deadlines: tanggap.Deadlines{FirstResponse: t0.Add(24 * time.Hour)},
		}
		if official {
			in.Kind, in.Queued, in.ReplyBy, in.Status = tanggap.KindOfficial, false, opd, tanggap.StatusInProgress
		}
		if _, err := st.Ingest(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	ingest("in_period", "pdam", at(2026, time.March, 5, 10), false)
	ingest("lookback_resolved", "pdam", at(2026, time.February, 20, 10), false)
	ingest("lookback_closed_before", "pdam", at(2026, time.February, 2, 10), false)
	ingest("old_open", "pdam", at(2025, time.October, 1, 10), false)
	ingest("old_resolved", "pdam", at(2025, time.October, 2, 10), false)
	ingest("after_open", "pdam", at(2026, time.April, 1, 8), false)
	ingest("official", "pdam", at(2026, time.March, 6, 10), true)
	ingest("other_opd", "perhubungan", at(2026, time.March, 7, 10), false)
	ingest("lookback_reopened", "pdam", at(2026, time.February, 15, 10), false)
	resolve := func(id string, when time.Time) {
		t.Helper()
		if _, err := st.Apply(ctx, store.Change{ID: "x:" + id, Version: -1, Actor: "t", Action: "resolve",
			Set: map[string]string{"status": string(tanggap.StatusResolved), "resolved_ms": ms(when), "evidence": "https://e.example/" + id}}); err != nil {
			t.Fatal(err)
		}
	}
	resolve("lookback_resolved", at(2026, time.March, 3, 10))
	resolve("lookback_closed_before", at(2026, time.February, 10, 10))
	resolve("old_resolved", at(2026, time.March, 2, 10)) // open at 1 March, but older than the lookback: missed (documented)
	resolve("lookback_reopened", at(2026, time.February, 20, 10))
	if _, err := st.Apply(ctx, store.Change{ID: "x:lookback_reopened", Version: -1, Actor: "t", Action: "reopen",
		Set: map[string]string{"status": string(tanggap.StatusReopened)}}); err != nil {
		t.Fatal(err)
	}

	sc := report.Scope{OPDs: []report.OPD{{Code: "pdam", Name: "PDAM Tirta Patriot"}}}
	d, err := report.Load(ctx, st, report.Month(2026, time.March, loc), sc, 0)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(its []tanggap.Item) []string {
		var out []string
		for _, it := range its {
			out = append(out, it.ID)
		}
		return out
	}
	if diff := cmp.Diff([]string{"x:in_period"}, ids(d.Items)); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	// Not read: lookback_closed_before (ended before the period) nor
	// other_opd. lookback_reopened comes once, read in full: it became
	// open again after the period began, so the open sets cannot say
	// whether it was open at its start.
	if diff := cmp.Diff([]string{"x:lookback_resolved", "x:lookback_reopened"}, ids(d.Others)); diff != "" {
		t.Errorf("others (-want +got):\n%s", diff)
	}
	var open []string
	for _, o := range d.Open {
		open = append(open, o.ID)
	}
	slices.Sort(open)
	if diff := cmp.Diff([]string{"x:after_open", "x:old_open"}, open); diff != "" {
		t.Errorf("open (-want +got):\n%s", diff)
	}
	cal, err := calendar.Default(calendar.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	rep := report.Build(d, report.Options{Calendar: cal, Now: now})
	r := rep.Rows[0]
	// Carried over: lookback_resolved and old_open. Not lookback_reopened:
	// resolved on 20 February and reopened on 1 April, it was not open on
	// 1 March (March's figure must not change when it is reopened later).
	// Open now: in_period, old_open, after_open, lookback_reopened.
	if r.CarryOver != 2 || r.OpenNow != 4 || r.Received != 1 {
		t.Errorf("carry %d, open %d, received %d", r.CarryOver, r.OpenNow, r.Received)
	}
}

// Reopening or routing again an item that had ended changes no past
// month's carry-over: a complaint resolved in October 2025 and reopened on
// 1 April 2026 was not open at the start of January, February or March;
// one received in February and resolved in March was open at the start of
// March, reopened or not; a post archived at triage and routed in April
// was in no queue before. Each goes through workflow, as people do it.
func TestCarryOverAfterReopening(t *testing.T) {
	ctx := context.Background()
	c := newTestCity(t)
	at := func(y int, m time.Month, d, hh int) time.Time { return time.Date(y, m, d, hh, 0, 0, 0, c.loc) }
	now := at(2025, time.October, 1, 10)
	c.st, _ = reporttest.Store(t, func() time.Time { return now })
	wf := workflow.New(c.st, c.cfg, c.clocks, func() time.Time { return now })
	humas := workflow.Actor{Login: "humas", Citywide: true}
	do := func(when time.Time, r workflow.Request) {
		t.Helper()
		now = when
		r.Version = -1
		if _, err := wf.Do(ctx, humas, r); err != nil {
			t.Fatalf("%s %s: %v", r.Action, r.ID, err)
		}
	}
	ingest := func(id string, t0 time.Time, archived bool) {
		t.Helper()
		now = t0
		in := store.Ingest{
			Post: tanggap.Post{Platform: tanggap.PlatformX, ID: id, Text: "aduan " + id, Author: "warga" + id, Account: "humasbekasikota",
				CreatedAt: t0, CapturedAt: t0, ThreadID: id},
			Kind: tanggap.KindComplaint, OPD: "pdam", Status: tanggap.StatusAssigned, Queued: true,
			Deadlines: c.clocks.Deadlines(t0, tanggap.KindComplaint, "pdam", false),
		}
		if archived {
			in.OPD, in.Status, in.Queued, in.Deadlines = "", tanggap.StatusNotComplaint, false, tanggap.Deadlines{}
		}
		if _, err := c.st.Ingest(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	ingest("old", at(2025, time.October, 1, 10), false)
	do(at(2025, time.October, 4, 10), workflow.Request{ID: "x:old", Action: "resolve", Evidence: "https://e.example/1"})
	ingest("feb", at(2026, time.February, 20, 10), false)
	do(at(2026, time.March, 3, 10), workflow.Request{ID: "x:feb", Action: "resolve", Evidence: "https://e.example/2"})
	ingest("noise", at(2026, time.January, 10, 10), true)

	sc := report.Scope{OPDs: []report.OPD{{Code: "pdam", Name: "PDAM Tirta Patriot"}}}
	months := []time.Month{time.January, time.February, time.March}
	carry := func() []int {
		t.Helper()
		var out []int
		for _, m := range months {
			d, err := report.Load(ctx, c.st, report.Month(2026, m, c.loc), sc, 0)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, report.Build(d, report.Options{Calendar: c.clocks.Calendar(), Now: now}).Rows[0].CarryOver)
		}
		return out
	}
	now = at(2026, time.April, 1, 8)
	before := carry()
	// January: old was resolved, feb and noise not yet received; March:
	// feb was open on 1 March.
	if diff := cmp.Diff([]int{0, 0, 1}, before); diff != "" {
		t.Fatalf("carry-over Jan-Mar before the reopenings (-want +got):\n%s", diff)
	}
	do(at(2026, time.April, 1, 9), workflow.Request{ID: "x:old", Action: "reopen", Reason: "warga: air masih keruh"})
	do(at(2026, time.April, 1, 9), workflow.Request{ID: "x:feb", Action: "reopen", Reason: "warga: belum beres"})
	do(at(2026, time.April, 1, 10), workflow.Request{ID: "x:noise", Action: "assign", OPD: "pdam", Reason: "ternyata aduan"})
	if diff := cmp.Diff(before, carry()); diff != "" {
		t.Errorf("carry-over Jan-Mar changed by reopenings on 1 April (-before +after):\n%s", diff)
	}
	// April's report carries none over: at 1 April 00:00 none was open
	// (they became open again later that day); May's carries all three.
	for _, c2 := range []struct {
		m    time.Month
		want int
	}{{time.April, 0}, {time.May, 3}} {
		now = at(2026, c2.m, 2, 9)
		d, err := report.Load(ctx, c.st, report.Month(2026, c2.m, c.loc), sc, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := report.Build(d, report.Options{Calendar: c.clocks.Calendar(), Now: now}).Rows[0].CarryOver; got != c2.want {
			t.Errorf("%s 2026: carry-over %d, want %d", c2.m, got, c2.want)
		}
	}
}

// testCity is the seeded city of the Load and export tests: the embedded
// config and its clocks, a store (miniredis, or the real redis-server in
// the integration run) whose clock is 1 April 2026 09:00 in the city's
// zone, and a scope of every OPD with unrouted and other items.
type testCity struct {
	cfg    *config.Config
	clocks *workflow.Clocks
	loc    *time.Location
	now    time.Time
	st     *store.Store
	codes  []string
	scope  report.Scope
}

func newTestCity(t *testing.T) *testCity {
	t.Helper()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	clocks, err := workflow.NewClocks(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	c := &testCity{cfg: cfg, clocks: clocks, loc: cfg.Location(), scope: report.Scope{Unrouted: true, Other: true}}
	c.now = time.Date(2026, time.April, 1, 9, 0, 0, 0, c.loc)
	c.st, _ = reporttest.Store(t, func() time.Time { return c.now })
	for _, o := range cfg.OPDs {
		c.codes = append(c.codes, o.Code)
		c.scope.OPDs = append(c.scope.OPDs, report.OPD{Code: o.Code, Name: o.Name, Abbrev: o.Abbrev})
	}
	return c
}

// seed stores n items created in month m of 2026 across every OPD.
func (c *testCity) seed(t *testing.T, m time.Month, n int, seed uint64) {
	t.Helper()
	if err := reporttest.Seed(context.Background(), c.st, c.clocks, reporttest.Options{N: n, Period: report.Month(2026, m, c.loc),
		OPDs: c.codes, Now: c.now, Seed: seed, Workers: 4}); err != nil {
		t.Fatal(err)
	}
}

// options are the report options of the city at its now.
func (c *testCity) options() report.Options {
	return report.Options{Calendar: c.clocks.Calendar(), Now: c.now, FirstResponseTarget: c.cfg.Clocks.FirstResponse.D()}
}

// TestLoadOrder checks that Load, which reads windows ahead on several
// connections and decodes them in place, returns what one plain scan
// returns, in the same order.
func TestLoadOrder(t *testing.T) {
	ctx := context.Background()
	c := newTestCity(t)
	c.seed(t, time.March, 300, 1)
	st, sc, p := c.st, c.scope, report.Month(2026, time.March, c.loc)
	var want []string
	if err := st.ScanCreated(ctx, p.From, p.To, 7, func(its []tanggap.Item) error {
		for _, it := range its {
			want = append(want, it.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	d, err := report.Load(ctx, st, p, sc, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range d.Items {
		got = append(got, it.ID)
	}
	if len(want) != 300 {
		t.Fatalf("seeded %d", len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parallel scan differs (-sequential +parallel):\n%s", diff)
	}
}

// Data from Load lets Build and BuildRegister skip remembering every id of
// Items; the report must be the one of the same data without that
// knowledge, duplicates between Items and Others included.
func TestBuildLoadedDataAsPlainData(t *testing.T) {
	ctx := context.Background()
	c := newTestCity(t)
	c.seed(t, time.March, 400, 2)
	st, sc, p := c.st, c.scope, report.Month(2026, time.March, c.loc)
	d, err := report.Load(ctx, st, p, sc, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(d.Items); i += 7 { // in both: counted once
		d.Others = append(d.Others, d.Items[i])
	}
	plain := &report.Data{Period: d.Period, Scope: d.Scope, Items: d.Items, Others: d.Others}
	opt := c.options()
	got, want := report.Build(d, opt), report.Build(plain, opt)
	if diff := cmp.Diff(want.Rows, got.Rows); diff != "" {
		t.Errorf("rows (-plain +loaded):\n%s", diff)
	}
	if diff := cmp.Diff(want.Charts, got.Charts); diff != "" {
		t.Errorf("charts (-plain +loaded):\n%s", diff)
	}
	if want.Total.Received != 400 {
		t.Errorf("received %d, want 400", want.Total.Received)
	}
	ro := report.RegisterOptions{Lang: "id"}
	if diff := cmp.Diff(want.BuildRegister(plain, ro), got.BuildRegister(d, ro)); diff != "" {
		t.Errorf("register (-plain +loaded):\n%s", diff)
	}
}

// The register from LoadPeriod and Header (what the register exports use)
// is the register of the whole report, and so are its files.
func TestRegisterFromHeader(t *testing.T) {
	ctx := context.Background()
	c := newTestCity(t)
	// February and March: the March register must not list February.
	c.seed(t, time.February, 150, 10)
	c.seed(t, time.March, 150, 11)
	st, sc, p, opt := c.st, c.scope, report.Month(2026, time.March, c.loc), c.options()
	for _, scope := range []report.Scope{sc, {OPDs: sc.OPDs[:1]}} {
		full, err := report.Load(ctx, st, p, scope, 0)
		if err != nil {
			t.Fatal(err)
		}
		items, err := report.LoadPeriod(ctx, st, p, scope)
		if err != nil {
			t.Fatal(err)
		}
		if len(items.Others) != 0 || len(items.Items) != len(full.Items) || len(full.Items) == 0 {
			t.Fatalf("LoadPeriod: %d items, %d others; Load: %d items", len(items.Items), len(items.Others), len(full.Items))
		}
		rep, head := report.Build(full, opt), report.Header(items, opt)
		for _, ro := range []report.RegisterOptions{{Lang: "id"}, {Lang: "en", Unmask: true}} {
			a, b := rep.BuildRegister(full, ro), head.BuildRegister(items, ro)
			if diff := cmp.Diff(a, b); diff != "" {
				t.Fatalf("register (-Build +Header):\n%s", diff)
			}
			var ca, cb bytes.Buffer
			if err := report.WriteRegisterCSV(&ca, rep, a, report.CSVOptions{Lang: ro.Lang}); err != nil {
				t.Fatal(err)
			}
			if err := report.WriteRegisterCSV(&cb, head, b, report.CSVOptions{Lang: ro.Lang}); err != nil {
				t.Fatal(err)
			}
			if ca.String() != cb.String() {
				t.Fatal("register CSV from Header differs")
			}
		}
	}
}

// The carry-over and backlog Load finds through the store's ended index
// and open sets are those of reading every item of the lookback window and
// every open item.
func TestLoadCarryOverAsFullLookback(t *testing.T) {
	ctx := context.Background()
	c := newTestCity(t)
	for i, m := range []time.Month{time.January, time.February, time.March} {
		c.seed(t, m, 300, uint64(20+i))
	}
	st, p, opt := c.st, report.Month(2026, time.March, c.loc), c.options()
	for _, sc := range []report.Scope{c.scope, {OPDs: c.scope.OPDs[:1]}} {
		d, err := report.Load(ctx, st, p, sc, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Every item of the lookback, then every open item outside it.
		keep := func(it *tanggap.Item) bool { return report.Counted(it) && sc.Includes(it.OPD) }
		all, err := st.AppendCreated(ctx, "", p.From.Add(-report.DefaultLookback), p.From, 50, nil, keep)
		if err != nil {
			t.Fatal(err)
		}
		var open []string
		if err := st.OpenOutside(ctx, sc.Slots(), p.From.Add(-report.DefaultLookback), p.To, func(id, _ string, _, _, _ time.Time) {
			open = append(open, id)
		}); err != nil {
			t.Fatal(err)
		}
		its, err := st.ItemsByID(ctx, open)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range its {
			if keep(&it) {
				all = append(all, it)
			}
		}
		plain := &report.Data{Period: d.Period, Scope: sc, Items: d.Items, Others: all}
		got, want := report.Build(d, opt), report.Build(plain, opt)
		if diff := cmp.Diff(want.Rows, got.Rows); diff != "" {
			t.Errorf("rows (-full lookback +ended index and open sets):\n%s", diff)
		}
		if diff := cmp.Diff(want.Charts, got.Charts); diff != "" {
			t.Errorf("charts (-full lookback +ended index and open sets):\n%s", diff)
		}
		if want.Total.CarryOver == 0 || want.Total.Overdue == 0 || len(d.Open) == 0 || len(d.Others) >= len(all) {
			t.Errorf("carry-over %d, overdue %d from %d items read and %d open, %d in the full lookback",
				want.Total.CarryOver, want.Total.Overdue, len(d.Others), len(d.Open), len(all))
		}
	}
}
