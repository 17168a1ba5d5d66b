package report

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/calendar"
)

var jkt = mustJakarta()

func mustJakarta() *time.Location {
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		panic(err)
	}
	return loc
}

// at is a local time in 2026 (Asia/Jakarta).
func at(month time.Month, day, hh, mm int) time.Time {
	return time.Date(2026, month, day, hh, mm, 0, 0, jkt)
}

func ptr(t time.Time) *time.Time { return &t }

func testCalendar(t testing.TB) *calendar.Calendar {
	t.Helper()
	cal, err := calendar.Default(calendar.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

// item is a counted complaint of opd received at t0, first-response
// deadline 24 h later.
func item(id, opd string, p tanggap.Platform, t0 time.Time, st tanggap.Status) tanggap.Item {
	return tanggap.Item{ID: string(p) + ":" + id, Platform: p, PostID: id, URL: "https://example.org/p/" + id, Account: "humasbekasikota",
		Author: "warga" + id, Text: "aduan " + id, Interaction: tanggap.InteractionMention, Kind: tanggap.KindComplaint, OPD: opd,
		Status: st, CreatedAt: t0, CapturedAt: t0.Add(2 * time.Minute), Queued: true, UpdatedAt: t0,
		Deadlines: tanggap.Deadlines{FirstResponse: t0.Add(24 * time.Hour)}}
}

func answered(it tanggap.Item, fr time.Time) tanggap.Item {
	it.FirstResponseAt = ptr(fr)
	it.FirstResponseOPD = it.OPD
	if it.UpdatedAt.Before(fr) {
		it.UpdatedAt = fr
	}
	return it
}

func resolved(it tanggap.Item, at time.Time) tanggap.Item {
	it.ResolvedAt = ptr(at)
	it.Evidence = "https://example.org/bukti/" + it.PostID
	it.Deadlines.Resolution = at.Add(10 * 24 * time.Hour)
	it.UpdatedAt = at
	return it
}

func withTopic(it tanggap.Item, topic, kec string) tanggap.Item {
	it.Topic, it.Kecamatan = topic, kec
	return it
}

var (
	march = Month(2026, time.March, jkt)
	// now is after the period: 1 April 2026 09:00 WIB (a Wednesday).
	now = at(time.April, 1, 9, 0)
)

func scopeAll() Scope {
	return Scope{OPDs: []OPD{{"lingkungan_hidup", "Dinas Lingkungan Hidup", "DLH"}, {"bina_marga_sda", "Dinas Bina Marga dan Sumber Daya Air", "DBMSDA"},
		{"perhubungan", "Dinas Perhubungan", "Dishub"}, {"pdam", "PDAM Tirta Patriot", "PDAM"}}, Unrouted: true, Other: true}
}

// fixture is a month of hand-built items with known figures (see the
// comments: clock hours and working hours computed by hand, office hours
// 08:00-16:00, 18-24 March 2026 are non-working: Nyepi, Idul Fitri and
// cuti bersama).
func fixture() *Data {
	ig, x, fb := tanggap.PlatformInstagram, tanggap.PlatformX, tanggap.PlatformFacebook
	a4 := item("a4", "lingkungan_hidup", x, at(3, 10, 10, 0), tanggap.StatusAssigned)
	a4.Deadline = at(3, 17, 16, 0) // follow-up clock, past: overdue now
	a4.Clock = tanggap.ClockFollowup
	a5 := item("a5", "lingkungan_hidup", x, at(3, 11, 8, 0), tanggap.StatusNotComplaint)
	a6 := resolved(answered(item("a6", "lingkungan_hidup", fb, at(3, 12, 9, 0), tanggap.StatusClosed), at(3, 12, 9, 30)), at(3, 13, 9, 0))
	a6.ClosedAt = ptr(at(3, 27, 9, 0))
	b2 := item("b2", "bina_marga_sda", ig, at(3, 31, 15, 0), tanggap.StatusAssigned)
	b2.Deadline = b2.Deadlines.FirstResponse // 1 April 15:00: not yet
	b2.DueSoonAt = b2.Deadline.Add(-4 * time.Hour)
	c1 := item("c1", "lingkungan_hidup", ig, at(2, 20, 10, 0), tanggap.StatusInProgress)
	c1 = answered(c1, at(2, 20, 11, 0))
	c1.Deadline = at(4, 10, 16, 0)
	e1 := item("e1", "lingkungan_hidup", ig, at(4, 1, 8, 0), tanggap.StatusNew) // after the period, open now
	e1.Deadline = at(4, 2, 8, 0)
	official := item("o1", "lingkungan_hidup", x, at(3, 2, 11, 0), tanggap.StatusInProgress)
	official.Queued, official.ReplyBy, official.Kind = false, "lingkungan_hidup", tanggap.KindOfficial
	noise := item("n1", "lingkungan_hidup", x, at(3, 2, 12, 0), tanggap.StatusNotComplaint)
	noise.Queued, noise.Kind = false, tanggap.KindNoise

	d := &Data{Period: march, Scope: scopeAll(), Items: []tanggap.Item{
		// DLH: 6 received.
		withTopic(answered(item("a1", "lingkungan_hidup", ig, at(3, 2, 9, 0), tanggap.StatusInProgress), at(3, 2, 11, 0)), "sampah", "Bekasi Timur"),                          // 2 h, 2 wh
		withTopic(resolved(answered(item("a2", "lingkungan_hidup", ig, at(3, 2, 15, 0), tanggap.StatusResolved), at(3, 3, 9, 0)), at(3, 5, 15, 0)), "sampah", "Bekasi Timur"), // 18 h, 2 wh; resolved in 3 HK
		withTopic(answered(item("a3", "lingkungan_hidup", ig, at(3, 6, 15, 0), tanggap.StatusInProgress), at(3, 9, 10, 0)), "sampah", "Rawalumbu"),                            // 67 h, 3 wh: late
		withTopic(a4, "bau", "Rawalumbu"),
		a5,
		withTopic(a6, "bau", ""), // 0.5 h; resolved in 1 HK
		// DBMSDA: 2 received, below the minimum sample.
		answered(item("b1", "bina_marga_sda", x, at(3, 3, 9, 0), tanggap.StatusInProgress), at(3, 3, 10, 0)),
		b2,
		// Unrouted.
		item("u1", "", x, at(3, 4, 9, 0), tanggap.StatusNew),
		official, noise,
	}, Others: []tanggap.Item{
		c1, // carried over, still open
		resolved(item("c2", "lingkungan_hidup", ig, at(2, 25, 9, 0), tanggap.StatusResolved), at(3, 3, 9, 0)),  // carried over, resolved in March
		resolved(item("c3", "lingkungan_hidup", ig, at(2, 10, 9, 0), tanggap.StatusResolved), at(2, 27, 9, 0)), // resolved before March
		e1,
	}}
	// Dishub: 5 received, every one answered in 1 hour.
	for i, day := range []int{2, 3, 4, 5, 6} {
		id := string(rune('1' + i))
		d.Items = append(d.Items, answered(item("d"+id, "perhubungan", fb, at(3, day, 9, 0), tanggap.StatusInProgress), at(3, day, 10, 0)))
	}
	// A duplicate delivery of a1 in Others changes nothing.
	d.Others = append(d.Others, d.Items[0])
	return d
}

func build(t testing.TB, d *Data) *Report {
	return Build(d, Options{Calendar: testCalendar(t), Now: now, FirstResponseTarget: 24 * time.Hour})
}

// rowFacts is what the tests compare of a row.
type rowFacts struct {
	OPD                                                 string
	Rank                                                int
	Carry, Received, Archived, Need, Answered, InTarget int
	Pending, Resolved, Open, Overdue                    int
	FollowedUp, WithinTarget, ResolvedShare             string
	MedianH, P90H, MeanH, MedianWH, P90WH               float64
	ResHK, OldestHK                                     float64
	TopPlatform                                         tanggap.Platform
	TopTopic                                            string
}

func factsOf(r Row) rowFacts {
	fu, fuOK := r.FollowedUp()
	wt, wtOK := r.WithinTarget()
	rs, rsOK := r.ResolvedShare()
	round := func(v float64) float64 { return math.Round(v*1000) / 1000 }
	return rowFacts{OPD: r.OPD, Rank: r.Rank, Carry: r.CarryOver, Received: r.Received, Archived: r.Archived, Need: r.NeedAnswer,
		Answered: r.Answered, InTarget: r.InTarget, Pending: r.Pending, Resolved: r.Resolved, Open: r.OpenNow, Overdue: r.Overdue,
		FollowedUp: Pct(fu, fuOK, "en"), WithinTarget: Pct(wt, wtOK, "en"), ResolvedShare: Pct(rs, rsOK, "en"),
		MedianH: r.FirstResponse.Median.Hours(), P90H: r.FirstResponse.P90.Hours(), MeanH: round(r.FirstResponse.Mean.Hours()),
		MedianWH: r.FirstResponseWork.Median.Hours(), P90WH: r.FirstResponseWork.P90.Hours(),
		ResHK: round(r.ResolutionHK), OldestHK: round(r.OldestOpenHK), TopPlatform: r.TopPlatform, TopTopic: r.TopTopic}
}

func TestBuildRows(t *testing.T) {
	rep := build(t, fixture())
	var got []rowFacts
	for _, r := range rep.Rows {
		got = append(got, factsOf(r))
	}
	got = append(got, factsOf(rep.Total))
	want := []rowFacts{
		{OPD: "lingkungan_hidup", Rank: 2, Carry: 2, Received: 6, Archived: 1, Need: 5, Answered: 4, InTarget: 3, Resolved: 2,
			// open now: a1, a3 (in progress), a4, c1, e1 (after the period)
			Open: 5, Overdue: 1,
			FollowedUp: "80.0%", WithinTarget: "60.0%", ResolvedShare: "40.0%",
			// clock: 0.5, 2, 18, 67 -> median (2+18)/2, p90 rank ceil(3.6)=4
			MedianH: 10, P90H: 67, MeanH: 21.875,
			// working: 0.5, 2, 2, 3
			MedianWH: 2, P90WH: 3,
			ResHK: 2, // (3 + 1) / 2
			// c1: 20 Feb 10:00 to 1 Apr 09:00 = 6+40+40+40+16+24+16+1 = 183 office hours
			OldestHK: 22.875, TopPlatform: tanggap.PlatformInstagram, TopTopic: "sampah"},
		{OPD: "bina_marga_sda", Received: 2, Need: 2, Answered: 1, InTarget: 1, Pending: 1, Open: 2,
			FollowedUp: "50.0%", WithinTarget: "100.0%", ResolvedShare: "0.0%", MedianH: 1, P90H: 1, MeanH: 1, MedianWH: 1, P90WH: 1,
			OldestHK:    16, // b1: 3 Mar 09:00 to 1 Apr 09:00 = 7+24+40+16+24+16+1 = 128 office hours
			TopPlatform: tanggap.PlatformInstagram},
		{OPD: "perhubungan", Rank: 1, Received: 5, Need: 5, Answered: 5, InTarget: 5, Open: 5, FollowedUp: "100.0%", WithinTarget: "100.0%",
			ResolvedShare: "0.0%", MedianH: 1, P90H: 1, MeanH: 1, MedianWH: 1, P90WH: 1,
			OldestHK:    17, // d1: 2 Mar 09:00 to 1 Apr 09:00 = 7+32+40+16+24+16+1 = 136 office hours
			TopPlatform: tanggap.PlatformFacebook},
		{OPD: "pdam", FollowedUp: "-", WithinTarget: "-", ResolvedShare: "-"},
		{OPD: "", Received: 1, Need: 1, Open: 1, FollowedUp: "0.0%", WithinTarget: "0.0%", ResolvedShare: "0.0%",
			OldestHK:    15, // see TestOldestOpenHK
			TopPlatform: tanggap.PlatformX},
		{OPD: Total, Carry: 2, Received: 14, Archived: 1, Need: 13, Answered: 10, InTarget: 9, Pending: 1, Resolved: 2, Open: 13, Overdue: 1,
			FollowedUp: "76.9%", WithinTarget: "75.0%", ResolvedShare: "15.4%",
			// clock: 0.5, 1 (x6), 2, 18, 67
			MedianH: 1, P90H: 18, MeanH: 9.35, MedianWH: 1, P90WH: 2, ResHK: 2, OldestHK: 22.875,
			TopPlatform: tanggap.PlatformFacebook, TopTopic: "sampah"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestOldestOpenHK(t *testing.T) {
	// The unrouted item's age, by hand: 4 Mar 09:00-16:00 (7), 5-6 Mar (16),
	// 9-13 Mar (40), 16-17 Mar (16), 18-24 Mar closed, 25-27 Mar (24),
	// 30-31 Mar (16), 1 Apr 08:00-09:00 (1) = 120 office hours = 15 HK.
	got := testCalendar(t).WorkingDaysBetween(at(3, 4, 9, 0), now)
	if got != 15 {
		t.Fatalf("age of u1 = %v HK, want 15", got)
	}
}

func TestLeague(t *testing.T) {
	rep := build(t, fixture())
	type place struct {
		OPD   string
		Rank  int
		Label string
	}
	var got []place
	for i := range rep.League {
		got = append(got, place{rep.League[i].OPD, rep.League[i].Rank, rep.RankLabel(&rep.League[i], "id")})
	}
	want := []place{
		{"perhubungan", 1, "1"},                   // 100% within target
		{"lingkungan_hidup", 2, "2"},              // 60%
		{"bina_marga_sda", 0, "belum cukup data"}, // 2 received < 5
		{"pdam", 0, "belum cukup data"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("league (-want +got):\n%s", diff)
	}
}

func TestRankTieBreaks(t *testing.T) {
	mk := func(code string, received, need, answered, inTarget int, medWH time.Duration) Row {
		return Row{OPD: code, Received: received, NeedAnswer: need, Answered: answered, InTarget: inTarget,
			FirstResponseWork: Durations{N: answered, Median: medWH}}
	}
	tests := []struct {
		name string
		rows []Row
		min  int
		want []string
	}{
		{"within target first", []Row{mk("a", 10, 10, 10, 5, time.Hour), mk("b", 10, 10, 6, 6, time.Hour)}, 5, []string{"b", "a"}},
		{"then followed up", []Row{mk("a", 10, 10, 8, 5, time.Hour), mk("b", 10, 10, 9, 5, time.Hour)}, 5, []string{"b", "a"}},
		{"then median working hours", []Row{mk("a", 10, 10, 9, 5, 3*time.Hour), mk("b", 10, 10, 9, 5, 2*time.Hour)}, 5, []string{"b", "a"}},
		{"min sample", []Row{mk("a", 4, 4, 4, 4, time.Hour), mk("b", 5, 5, 0, 0, 0)}, 5, []string{"b", "a"}},
		{"custom min", []Row{mk("a", 4, 4, 4, 4, time.Hour), mk("b", 5, 5, 0, 0, 0)}, 3, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rank(tt.rows, tt.min)
			var got []string
			for _, r := range tt.rows {
				got = append(got, r.OPD)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	h := func(xs ...float64) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x * float64(time.Hour))
		}
		return out
	}
	tests := []struct {
		name string
		in   []time.Duration
		want Durations
	}{
		{"none", nil, Durations{}},
		{"one", h(3), Durations{N: 1, Mean: 3 * time.Hour, Median: 3 * time.Hour, P90: 3 * time.Hour}},
		{"two", h(1, 2), Durations{N: 2, Mean: 90 * time.Minute, Median: 90 * time.Minute, P90: 2 * time.Hour}},
		{"ten unsorted", h(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), Durations{N: 10, Mean: 330 * time.Minute, Median: 330 * time.Minute, P90: 9 * time.Hour}},
		{"eleven", h(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100), Durations{N: 11, Mean: 155 * time.Hour / 11, Median: 6 * time.Hour, P90: 10 * time.Hour}},
		{"twenty: rank 18 exactly", h(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), Durations{N: 20, Mean: 630 * time.Minute, Median: 630 * time.Minute, P90: 18 * time.Hour}},
		{"thirty: rank 27 exactly", h(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30), Durations{N: 30, Mean: 930 * time.Minute, Median: 930 * time.Minute, P90: 27 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarize(tt.in)
			got.Mean = got.Mean.Round(time.Second)
			tt.want.Mean = tt.want.Mean.Round(time.Second)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFirstResponseWorkingHours(t *testing.T) {
	cal := testCalendar(t)
	tests := []struct {
		name     string
		from, to time.Time
		clock    float64
		work     float64
	}{
		{"same office day", at(3, 2, 9, 0), at(3, 2, 11, 0), 2, 2},
		{"over the night", at(3, 2, 15, 0), at(3, 3, 9, 0), 18, 2},
		{"over the weekend", at(3, 6, 15, 0), at(3, 9, 10, 0), 67, 3},
		{"over Nyepi and Idul Fitri", at(3, 17, 15, 0), at(3, 25, 9, 0), 186, 2},
		{"posted at night", at(3, 2, 22, 0), at(3, 3, 8, 30), 10.5, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := answered(item("z", "pdam", tanggap.PlatformX, tt.from, tanggap.StatusInProgress), tt.to)
			rep := Build(&Data{Period: march, Scope: Scope{OPDs: []OPD{{Code: "pdam"}}}, Items: []tanggap.Item{it}},
				Options{Calendar: cal, Now: now})
			r := rep.Rows[0]
			if got := r.FirstResponse.Median.Hours(); got != tt.clock {
				t.Errorf("clock hours = %v, want %v", got, tt.clock)
			}
			if got := r.FirstResponseWork.Median.Hours(); got != tt.work {
				t.Errorf("working hours = %v, want %v", got, tt.work)
			}
		})
	}
}

func TestOpenAt(t *testing.T) {
	start := march.From
	base := item("x", "pdam", tanggap.PlatformX, at(2, 20, 9, 0), tanggap.StatusAssigned)
	later := func(st tanggap.Status, f func(*tanggap.Item)) tanggap.Item {
		it := base
		it.Status = st
		f(&it)
		return it
	}
	tests := []struct {
		name string
		it   tanggap.Item
		want bool
	}{
		{"open now", base, true},
		{"received in the period", item("y", "pdam", tanggap.PlatformX, at(3, 1, 0, 0), tanggap.StatusAssigned), false},
		{"resolved in the period", later(tanggap.StatusResolved, func(it *tanggap.Item) { it.ResolvedAt = ptr(at(3, 2, 9, 0)) }), true},
		{"resolved before", later(tanggap.StatusResolved, func(it *tanggap.Item) { it.ResolvedAt = ptr(at(2, 27, 9, 0)) }), false},
		{"resolved exactly at the start", later(tanggap.StatusClosed, func(it *tanggap.Item) { it.ResolvedAt = ptr(start) }), true},
		{"closed before, never resolved", later(tanggap.StatusClosed, func(it *tanggap.Item) { it.ClosedAt = ptr(at(2, 27, 9, 0)) }), false},
		{"archived in the period", later(tanggap.StatusNotComplaint, func(it *tanggap.Item) { it.UpdatedAt = at(3, 5, 9, 0) }), true},
		{"archived before", later(tanggap.StatusOutOfScope, func(it *tanggap.Item) { it.UpdatedAt = at(2, 21, 9, 0) }), false},
		// Reopened: not open between the instant it ended and its reopening.
		{"resolved before, reopened after", later(tanggap.StatusReopened, func(it *tanggap.Item) {
			it.Reopens = []tanggap.Reopen{{Ended: at(2, 27, 9, 0), At: at(3, 10, 9, 0)}}
		}), false},
		{"resolved after, reopened after", later(tanggap.StatusReopened, func(it *tanggap.Item) {
			it.Reopens = []tanggap.Reopen{{Ended: at(3, 2, 9, 0), At: at(3, 10, 9, 0)}}
		}), true},
		{"reopened before", later(tanggap.StatusReopened, func(it *tanggap.Item) {
			it.Reopens = []tanggap.Reopen{{Ended: at(2, 21, 9, 0), At: at(2, 27, 9, 0)}}
		}), true},
		{"reopened exactly at the start", later(tanggap.StatusAssigned, func(it *tanggap.Item) {
			it.Reopens = []tanggap.Reopen{{Ended: at(2, 21, 9, 0), At: start}}
		}), true},
		{"reopened twice, ended again in the period", later(tanggap.StatusResolved, func(it *tanggap.Item) {
			it.ResolvedAt = ptr(at(3, 20, 9, 0))
			it.Reopens = []tanggap.Reopen{{Ended: at(2, 21, 9, 0), At: at(2, 23, 9, 0)}, {Ended: at(2, 25, 9, 0), At: at(3, 3, 9, 0)}}
		}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OpenAt(&tt.it, start); got != tt.want {
				t.Errorf("OpenAt = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestScopeOPDOnly(t *testing.T) {
	d := fixture()
	d.Scope = Scope{OPDs: []OPD{{"bina_marga_sda", "Dinas Bina Marga dan Sumber Daya Air", "DBMSDA"}}}
	rep := build(t, d)
	if len(rep.Rows) != 1 || rep.Rows[0].OPD != "bina_marga_sda" {
		t.Fatalf("rows of an OPD-only scope: %+v", rep.Rows)
	}
	if rep.Total.Received != 2 || rep.Total.CarryOver != 0 {
		t.Fatalf("total of an OPD-only scope: received %d, carry %d", rep.Total.Received, rep.Total.CarryOver)
	}
	reg := rep.BuildRegister(d, RegisterOptions{})
	for _, r := range reg.Rows {
		if r.OPD != "bina_marga_sda" {
			t.Fatalf("register leaks %s of %s", r.ID, r.OPD)
		}
	}
	if len(reg.Rows) != 2 {
		t.Fatalf("register rows: %d", len(reg.Rows))
	}
}

func TestPeriods(t *testing.T) {
	tests := []struct {
		name      string
		p         Period
		err       bool
		label     string
		slug      string
		weekStart []string
	}{
		{"month", Month(2026, time.March, jkt), false, "Maret 2026", "2026-03", []string{"01/03", "02/03", "09/03", "16/03", "23/03", "30/03"}},
		{"days", mustDays(t, "2026-03-02", "2026-03-15"), false, "2 Maret 2026 s.d. 15 Maret 2026", "2026-03-02_2026-03-15", []string{"02/03", "09/03"}},
		{"one day", mustDays(t, "2026-03-04", "2026-03-04"), false, "4 Maret 2026 s.d. 4 Maret 2026", "2026-03-04_2026-03-04", []string{"04/03"}},
		{"too long", Period{From: at(1, 1, 0, 0), To: at(1, 1, 0, 0).AddDate(1, 0, 2)}, true, "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.p.Validate(); (err != nil) != tt.err {
				t.Fatalf("Validate() = %v", err)
			}
			if tt.err {
				return
			}
			if got := tt.p.Label("id", jkt); got != tt.label {
				t.Errorf("label %q, want %q", got, tt.label)
			}
			if got := tt.p.Slug(jkt); got != tt.slug {
				t.Errorf("slug %q, want %q", got, tt.slug)
			}
			var weeks []string
			for _, w := range WeekStarts(tt.p, jkt) {
				weeks = append(weeks, w.In(jkt).Format("02/01"))
			}
			if diff := cmp.Diff(tt.weekStart, weeks); diff != "" {
				t.Errorf("weeks (-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range [][2]string{{"2026-03-10", "2026-03-01"}, {"2026-3-1", "2026-03-02"}, {"", ""}} {
		if _, err := ParseDays(bad[0], bad[1], jkt); tanggap.ErrorCode(err) != tanggap.EINVALID {
			t.Errorf("ParseDays(%q, %q) = %v, want EINVALID", bad[0], bad[1], err)
		}
	}
	if _, err := ParseMonth("2026-13", jkt); tanggap.ErrorCode(err) != tanggap.EINVALID {
		t.Errorf("ParseMonth(2026-13) = %v", err)
	}
	// Years a report may cover: MinYear up to the year after now's.
	for _, c := range []struct {
		month string
		ok    bool
	}{{"0001-01", false}, {"1999-12", false}, {"2000-01", true}, {"2026-03", true}, {"2027-12", true}, {"2028-01", false}, {"9999-12", false}} {
		p, err := ParseMonth(c.month, jkt)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.ValidateAt(now); (err == nil) != c.ok || err != nil && tanggap.ErrorCode(err) != tanggap.EINVALID {
			t.Errorf("%s: ValidateAt = %v, want ok %v", c.month, err, c.ok)
		}
	}
	if err := mustDays(t, "0001-01-01", "0001-01-01").Validate(); tanggap.ErrorCode(err) != tanggap.EINVALID {
		t.Errorf("a day of year 1: Validate = %v, want EINVALID", err)
	}
}

func mustDays(t *testing.T, a, b string) Period {
	p, err := ParseDays(a, b, jkt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFormulasPrinted(t *testing.T) {
	rep := build(t, fixture())
	for _, lang := range []string{"id", "en"} {
		fs := rep.Formulas(lang)
		if len(fs) != 13 {
			t.Fatalf("%s: %d formulas", lang, len(fs))
		}
	}
	got := rep.Formulas("id")[2]
	want := Formula{"Persentase tindak lanjut", "Persentase tindak lanjut = Dijawab ÷ Perlu jawaban × 100%, dengan Dijawab = aduan (tidak diarsipkan) yang tanggapan publik pertamanya sudah tercatat, kapan pun tanggapan itu diberikan."}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("formula (-want +got):\n%s", diff)
	}
	notes := rep.Notes("id")
	if notes[3][1] != rep.CalendarVersion || notes[4][1] != "dihitung sebagai hari libur (bukan hari kerja)" {
		t.Errorf("notes: %q", notes)
	}
}
