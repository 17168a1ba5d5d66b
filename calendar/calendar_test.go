package calendar

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tanggap/tanggap"
)

// mustDefault returns the embedded calendar with cuti bersama non-working
// (nonworking true) or working.
func mustDefault(t testing.TB, nonworking bool) *Calendar {
	t.Helper()
	opt := DefaultOptions()
	opt.CutiBersamaIsNonworking = nonworking
	c, err := Default(opt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wib is a local Jakarta time.
func wib(t testing.TB, y int, m time.Month, d, hh, mm int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(y, m, d, hh, mm, 0, 0, loc)
}

func fmtT(t time.Time) string { return t.Format("Mon 2006-01-02 15:04:05.000 MST") }

func TestWorkedCheck(t *testing.T) {
	// Issue 5, item 3: received Tuesday 17 March 2026.
	for _, tc := range []struct {
		nonworking bool
		n          int
		want       time.Time
	}{
		{true, 3, wib(t, 2026, time.March, 27, 16, 0)},  // Friday
		{true, 5, wib(t, 2026, time.March, 31, 16, 0)},  // Tuesday
		{false, 3, wib(t, 2026, time.March, 23, 16, 0)}, // Monday
		{false, 5, wib(t, 2026, time.March, 25, 16, 0)}, // Wednesday
	} {
		c := mustDefault(t, tc.nonworking)
		for _, hm := range [][2]int{{0, 0}, {7, 0}, {8, 0}, {10, 0}, {15, 59}} {
			t0 := wib(t, 2026, time.March, 17, hm[0], hm[1])
			got := c.AddWorkingDays(t0, tc.n)
			if !got.Equal(tc.want) {
				t.Errorf("cuti bersama nonworking=%v: %s +%d HK = %s, want %s",
					tc.nonworking, fmtT(t0), tc.n, fmtT(got), fmtT(tc.want))
			}
			if got.Weekday() != tc.want.Weekday() {
				t.Errorf("weekday %s, want %s", got.Weekday(), tc.want.Weekday())
			}
		}
	}
}

func TestReceiptAndCutoff(t *testing.T) {
	cb := mustDefault(t, true)
	cw := mustDefault(t, false)
	for _, tc := range []struct {
		name  string
		c     *Calendar
		t0    time.Time
		start time.Time // ClockStart
		plus1 time.Time // +1 HK
	}{
		{"before office start", cb, wib(t, 2026, time.March, 17, 6, 30),
			wib(t, 2026, time.March, 17, 8, 0), wib(t, 2026, time.March, 25, 16, 0)},
		{"during office hours", cb, wib(t, 2026, time.March, 17, 9, 15),
			wib(t, 2026, time.March, 17, 9, 15), wib(t, 2026, time.March, 25, 16, 0)},
		{"one second before cut-off", cb, wib(t, 2026, time.March, 17, 15, 59).Add(59 * time.Second),
			wib(t, 2026, time.March, 17, 15, 59).Add(59 * time.Second), wib(t, 2026, time.March, 25, 16, 0)},
		{"exactly at cut-off", cb, wib(t, 2026, time.March, 17, 16, 0),
			wib(t, 2026, time.March, 25, 8, 0), wib(t, 2026, time.March, 26, 16, 0)},
		{"evening, cuti bersama working", cw, wib(t, 2026, time.March, 17, 21, 0),
			wib(t, 2026, time.March, 18, 8, 0), wib(t, 2026, time.March, 20, 16, 0)},
		{"Saturday", cb, wib(t, 2026, time.March, 7, 10, 0),
			wib(t, 2026, time.March, 9, 8, 0), wib(t, 2026, time.March, 10, 16, 0)},
		{"Sunday night", cb, wib(t, 2026, time.March, 8, 23, 59),
			wib(t, 2026, time.March, 9, 8, 0), wib(t, 2026, time.March, 10, 16, 0)},
		{"national holiday (Nyepi)", cw, wib(t, 2026, time.March, 19, 10, 0),
			wib(t, 2026, time.March, 20, 8, 0), wib(t, 2026, time.March, 23, 16, 0)},
		{"cuti bersama non-working", cb, wib(t, 2026, time.March, 18, 10, 0),
			wib(t, 2026, time.March, 25, 8, 0), wib(t, 2026, time.March, 26, 16, 0)},
		{"cuti bersama working", cw, wib(t, 2026, time.March, 18, 10, 0),
			wib(t, 2026, time.March, 18, 10, 0), wib(t, 2026, time.March, 20, 16, 0)},
		{"Friday after cut-off", cb, wib(t, 2026, time.March, 27, 17, 0),
			wib(t, 2026, time.March, 30, 8, 0), wib(t, 2026, time.March, 31, 16, 0)},
		{"UTC input, Jakarta evening", cb, time.Date(2026, time.March, 17, 9, 30, 0, 0, time.UTC), // 16:30 WIB
			wib(t, 2026, time.March, 25, 8, 0), wib(t, 2026, time.March, 26, 16, 0)},
		{"UTC input, previous UTC day", cb, time.Date(2026, time.March, 16, 23, 30, 0, 0, time.UTC), // Tue 06:30 WIB
			wib(t, 2026, time.March, 17, 8, 0), wib(t, 2026, time.March, 25, 16, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.ClockStart(tc.t0); !got.Equal(tc.start) {
				t.Errorf("ClockStart(%s) = %s, want %s", fmtT(tc.t0), fmtT(got), fmtT(tc.start))
			}
			if got := tc.c.AddWorkingDays(tc.t0, 1); !got.Equal(tc.plus1) {
				t.Errorf("+1 HK from %s = %s, want %s", fmtT(tc.t0), fmtT(got), fmtT(tc.plus1))
			}
			// +0 HK is the end of day 0.
			want0 := tc.c.at(tc.c.dayOf(tc.start), tc.c.endMin)
			if got := tc.c.AddWorkingDays(tc.t0, 0); !got.Equal(want0) {
				t.Errorf("+0 HK = %s, want %s", fmtT(got), fmtT(want0))
			}
			if got := tc.c.AddWorkingDays(tc.t0, -3); !got.Equal(want0) {
				t.Errorf("-3 HK = %s, want +0 HK %s", fmtT(got), fmtT(want0))
			}
		})
	}
}

func TestIsWorkingDay(t *testing.T) {
	cb := mustDefault(t, true)
	cw := mustDefault(t, false)
	for _, tc := range []struct {
		day      time.Time
		nonwork  bool // with cuti bersama non-working
		workCuti bool // with cuti bersama working
	}{
		{wib(t, 2026, time.March, 17, 0, 0), true, true},    // Tuesday
		{wib(t, 2026, time.March, 18, 23, 59), false, true}, // cuti bersama Nyepi
		{wib(t, 2026, time.March, 19, 12, 0), false, false}, // Nyepi
		{wib(t, 2026, time.March, 21, 12, 0), false, false}, // Saturday, Idul Fitri
		{wib(t, 2026, time.March, 28, 12, 0), false, false}, // plain Saturday
		{wib(t, 2026, time.March, 29, 12, 0), false, false}, // Sunday
		{wib(t, 2026, time.January, 1, 12, 0), false, false},
		{wib(t, 2026, time.December, 24, 12, 0), false, true},
		{wib(t, 2026, time.December, 31, 12, 0), true, true},
		{wib(t, 2027, time.January, 1, 12, 0), true, true}, // not in the table: a plain Friday
	} {
		if got := cb.IsWorkingDay(tc.day); got != tc.nonwork {
			t.Errorf("cuti bersama non-working: IsWorkingDay(%s) = %v", fmtT(tc.day), got)
		}
		if got := cw.IsWorkingDay(tc.day); got != tc.workCuti {
			t.Errorf("cuti bersama working: IsWorkingDay(%s) = %v", fmtT(tc.day), got)
		}
	}
	// The local day counts, not the UTC one: 2026-03-18 20:00 UTC is Thursday
	// 19 March (Nyepi) in Jakarta.
	if cw.IsWorkingDay(time.Date(2026, time.March, 18, 20, 0, 0, 0, time.UTC)) {
		t.Error("IsWorkingDay used the UTC date")
	}
}

func TestYearBoundaryAndMissingYear(t *testing.T) {
	c := mustDefault(t, true)
	t0 := wib(t, 2026, time.December, 23, 10, 0) // Wednesday
	// 24 cuti bersama, 25 Natal, 26-27 weekend, 28-31 are +1..+4, and
	// 1 January 2027 is not in the table, so it counts as a working day.
	if got, want := c.AddWorkingDays(t0, 5), wib(t, 2027, time.January, 1, 16, 0); !got.Equal(want) {
		t.Errorf("+5 HK without 2027 = %s, want %s", fmtT(got), fmtT(want))
	}
	want := "Kalender libur 2027 belum dimuat: tenggat setelah 31 Desember 2026 bisa salah"
	if got := c.MissingYearWarning(t0); got != want {
		t.Errorf("MissingYearWarning(2026) = %q, want %q", got, want)
	}
	if got := c.MissingYearWarning(wib(t, 2027, time.January, 1, 0, 0)); got != "Kalender libur 2027 dan 2028 belum dimuat: semua tenggat hari kerja bisa salah" {
		t.Errorf("MissingYearWarning(2027) = %q", got)
	}
	// 31 Dec 2026 17:30 UTC is already 2027 in Jakarta.
	if got := c.MissingYears(time.Date(2026, time.December, 31, 17, 30, 0, 0, time.UTC)); !cmp.Equal(got, []int{2027, 2028}) {
		t.Errorf("MissingYears at Jakarta new year = %v", got)
	}
	if got := c.MissingYearWarning(wib(t, 2025, time.June, 1, 0, 0)); got != "Kalender libur 2025 belum dimuat: tenggat sampai 31 Desember 2025 bisa salah" {
		t.Errorf("MissingYearWarning(2025) = %q", got)
	}
	// The same three cases in English (the web UI's other language).
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{t0, "Holiday calendar for 2027 not loaded: deadlines after 31 December 2026 may be wrong"},
		{wib(t, 2027, time.January, 1, 0, 0), "Holiday calendar for 2027 and 2028 not loaded: every working-day deadline may be wrong"},
		{wib(t, 2025, time.June, 1, 0, 0), "Holiday calendar for 2025 not loaded: deadlines up to 31 December 2025 may be wrong"},
	} {
		if got := c.MissingYearWarningIn(tc.now, "en"); got != tc.want {
			t.Errorf("MissingYearWarningIn(%s, en) = %q, want %q", fmtT(tc.now), got, tc.want)
		}
	}

	// With 2027 loaded, the warning is gone in 2026 and New Year's Day is
	// skipped.
	table := embeddedTable +
		"2027-01-01,libur_nasional,Tahun Baru 2027 Masehi,Contoh\n"
	c2, err := Load(strings.NewReader(table), "with-2027.csv", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got := c2.MissingYearWarning(t0); got != "" {
		t.Errorf("MissingYearWarning with 2027 = %q, want none", got)
	}
	if got := c2.MissingYearWarning(wib(t, 2027, time.March, 1, 0, 0)); !strings.Contains(got, "Kalender libur 2028 belum dimuat") {
		t.Errorf("MissingYearWarning(2027) = %q", got)
	}
	if got, want := c2.AddWorkingDays(t0, 5), wib(t, 2027, time.January, 4, 16, 0); !got.Equal(want) {
		t.Errorf("+5 HK with 2027 = %s, want %s", fmtT(got), fmtT(want))
	}
	if got := c2.Years(); !cmp.Equal(got, []int{2026, 2027}) {
		t.Errorf("Years = %v", got)
	}
}

func TestZoneIsDSTFree(t *testing.T) {
	c := mustDefault(t, true)
	if got := c.Location().String(); got != Zone {
		t.Errorf("Location = %q, want %q (tzdata embedded)", got, Zone)
	}
	for _, y := range []int{1970, 2026, 2027, 2040} {
		for d := time.Date(y, 1, 1, 12, 0, 0, 0, c.Location()); d.Year() == y; d = d.AddDate(0, 0, 1) {
			if name, off := d.Zone(); off != 7*3600 || name != "WIB" {
				t.Fatalf("%s: zone %s %+d, want WIB +25200", d, name, off)
			}
		}
	}
	// Every working day of 2026 has the same office length.
	for d := time.Date(2026, 1, 1, 0, 0, 0, 0, c.Location()); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		want := time.Duration(0)
		if c.IsWorkingDay(d) {
			want = 8 * time.Hour
		}
		if got := c.WorkingHoursBetween(d, d.AddDate(0, 0, 1)); got != want {
			t.Fatalf("%s: %s of office time, want %s", d.Format(time.DateOnly), got, want)
		}
	}
	// Without tzdata the fallback is a fixed WIB zone with the same offset.
	loc := jakarta("Nowhere/Not_A_Zone")
	if name, off := time.Date(2026, 3, 17, 12, 0, 0, 0, loc).Zone(); name != "WIB" || off != 7*3600 {
		t.Errorf("fallback zone %s %d", name, off)
	}
}

func TestWorkingHoursBetween(t *testing.T) {
	c := mustDefault(t, true)
	for _, tc := range []struct {
		from, to time.Time
		want     time.Duration
	}{
		{wib(t, 2026, time.March, 10, 10, 0), wib(t, 2026, time.March, 10, 12, 30), 150 * time.Minute},
		{wib(t, 2026, time.March, 10, 10, 0), wib(t, 2026, time.March, 11, 12, 0), 10 * time.Hour},
		{wib(t, 2026, time.March, 10, 6, 0), wib(t, 2026, time.March, 10, 20, 0), 8 * time.Hour},
		{wib(t, 2026, time.March, 10, 17, 0), wib(t, 2026, time.March, 11, 7, 0), 0},
		{wib(t, 2026, time.March, 13, 15, 0), wib(t, 2026, time.March, 16, 9, 0), 2 * time.Hour}, // over a weekend
		{wib(t, 2026, time.March, 17, 15, 0), wib(t, 2026, time.March, 25, 9, 0), 2 * time.Hour}, // over Lebaran
		// 2-27 March: 20 weekdays, 18, 19, 20, 23 and 24 closed: 15 HK.
		{wib(t, 2026, time.March, 2, 8, 0), wib(t, 2026, time.March, 30, 8, 0), 15 * 8 * time.Hour},
		{wib(t, 2026, time.March, 21, 10, 0), wib(t, 2026, time.March, 22, 10, 0), 0},
	} {
		if got := c.WorkingHoursBetween(tc.from, tc.to); got != tc.want {
			t.Errorf("WorkingHoursBetween(%s, %s) = %s, want %s", fmtT(tc.from), fmtT(tc.to), got, tc.want)
		}
		if got := c.WorkingHoursBetween(tc.to, tc.from); got != -tc.want {
			t.Errorf("reversed: %s, want %s", got, -tc.want)
		}
	}
	// The same against a minute-by-minute count.
	from, to := wib(t, 2026, time.March, 2, 8, 0), wib(t, 2026, time.March, 30, 8, 0)
	if got, want := c.WorkingHoursBetween(from, to), newNaive(c).hours(from, to); got != want {
		t.Errorf("March: %s, naive %s", got, want)
	}

	if got := c.WorkingDaysBetween(wib(t, 2026, time.March, 10, 10, 0), wib(t, 2026, time.March, 11, 12, 0)); got != 1.25 {
		t.Errorf("WorkingDaysBetween Tue 10:00 - Wed 12:00 = %v, want 1.25", got)
	}
	// Received Tuesday 17 March 10:00, due +3 HK Friday 27 March 16:00:
	// 6 hours on day 0 and three full days.
	t0 := wib(t, 2026, time.March, 17, 10, 0)
	if got := c.WorkingDaysBetween(t0, c.AddWorkingDays(t0, 3)); got != 3.75 {
		t.Errorf("WorkingDaysBetween(t0, +3 HK) = %v, want 3.75", got)
	}
}

func TestExtend(t *testing.T) {
	c := mustDefault(t, true)
	fri := wib(t, 2026, time.March, 27, 16, 0) // +3 HK deadline of the worked check
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     time.Time
	}{
		{"two whole working days", wib(t, 2026, time.March, 25, 7, 0), wib(t, 2026, time.March, 26, 18, 0),
			wib(t, 2026, time.March, 31, 16, 0)},
		{"two office hours", wib(t, 2026, time.March, 26, 9, 0), wib(t, 2026, time.March, 26, 11, 0),
			wib(t, 2026, time.March, 30, 10, 0)},
		{"paused over Lebaran only", wib(t, 2026, time.March, 17, 16, 0), wib(t, 2026, time.March, 25, 8, 0),
			fri},
		{"paused over a weekend only", wib(t, 2026, time.March, 27, 16, 0), wib(t, 2026, time.March, 30, 8, 0),
			fri},
		{"empty pause", wib(t, 2026, time.March, 26, 9, 0), wib(t, 2026, time.March, 26, 9, 0), fri},
		{"reversed pause", wib(t, 2026, time.March, 26, 11, 0), wib(t, 2026, time.March, 26, 9, 0), fri},
		{"one full day", wib(t, 2026, time.March, 26, 8, 0), wib(t, 2026, time.March, 26, 16, 0),
			wib(t, 2026, time.March, 30, 16, 0)},
		{"eight and a half hours", wib(t, 2026, time.March, 25, 15, 30), wib(t, 2026, time.March, 27, 8, 0),
			wib(t, 2026, time.March, 31, 8, 30)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.Extend(fri, tc.from, tc.to)
			if !got.Equal(tc.want) {
				t.Errorf("Extend = %s, want %s", fmtT(got), fmtT(tc.want))
			}
		})
	}
	// A pause of k whole days equals k more HK from receipt.
	t0 := wib(t, 2026, time.March, 17, 10, 0)
	for k := 0; k <= 30; k++ {
		from := wib(t, 2026, time.April, 6, 8, 0) // Monday
		to := c.AddWorkingDays(from, k-1)         // end of the kth working day from 6 April
		if k == 0 {
			to = from
		}
		got := c.Extend(c.AddWorkingDays(t0, 5), from, to)
		if want := c.AddWorkingDays(t0, 5+k); !got.Equal(want) {
			t.Errorf("pause of %d HK: %s, want %s", k, fmtT(got), fmtT(want))
		}
	}
	// A deadline not at a day's end, or outside office hours.
	if got, want := c.Extend(wib(t, 2026, time.March, 26, 12, 0), wib(t, 2026, time.March, 10, 8, 0), wib(t, 2026, time.March, 10, 14, 0)),
		wib(t, 2026, time.March, 27, 10, 0); !got.Equal(want) {
		t.Errorf("Extend from midday = %s, want %s", fmtT(got), fmtT(want))
	}
	if got, want := c.Extend(wib(t, 2026, time.March, 28, 12, 0), wib(t, 2026, time.March, 10, 8, 0), wib(t, 2026, time.March, 10, 9, 0)),
		wib(t, 2026, time.March, 30, 9, 0); !got.Equal(want) {
		t.Errorf("Extend from a Saturday = %s, want %s", fmtT(got), fmtT(want))
	}
	if got := c.Extend(time.Time{}, wib(t, 2026, time.March, 10, 8, 0), wib(t, 2026, time.March, 10, 9, 0)); !got.IsZero() {
		t.Errorf("Extend of zero deadline = %s", got)
	}
}

func TestState(t *testing.T) {
	c := mustDefault(t, true)
	t0 := wib(t, 2026, time.March, 17, 10, 0)
	dl := c.AddWorkingDays(t0, 3) // Friday 27 March 16:00
	ns := time.Nanosecond
	for _, tc := range []struct {
		now  time.Time
		want tanggap.DeadlineState
	}{
		{t0, tanggap.OnTrack},
		{wib(t, 2026, time.March, 25, 16, 0), tanggap.OnTrack},          // 2 HK left
		{wib(t, 2026, time.March, 26, 16, 0).Add(-ns), tanggap.OnTrack}, // 1 HK + 1 ns left
		{wib(t, 2026, time.March, 26, 16, 0), tanggap.DueSoon},          // exactly 1 HK left
		{wib(t, 2026, time.March, 26, 23, 0), tanggap.DueSoon},
		{wib(t, 2026, time.March, 27, 15, 59), tanggap.DueSoon},
		{dl.Add(-ns), tanggap.DueSoon},
		{dl, tanggap.Overdue}, // at the end of the day: late
		{dl.Add(time.Hour), tanggap.Overdue},
		{wib(t, 2026, time.April, 20, 9, 0), tanggap.Overdue},
	} {
		if got := c.State(dl, tc.now); got != tc.want {
			t.Errorf("State(%s, now %s) = %s, want %s", fmtT(dl), fmtT(tc.now), got, tc.want)
		}
	}
	// Over a weekend: a Monday deadline is due soon from Friday 16:00.
	mon := wib(t, 2026, time.March, 30, 16, 0)
	if got := c.State(mon, wib(t, 2026, time.March, 27, 15, 0)); got != tanggap.OnTrack {
		t.Errorf("Friday 15:00 before a Monday deadline: %s", got)
	}
	if got := c.State(mon, wib(t, 2026, time.March, 28, 10, 0)); got != tanggap.DueSoon {
		t.Errorf("Saturday before a Monday deadline: %s", got)
	}
	// Over Lebaran: the +1 HK deadline of a post received Tuesday 17 March is
	// due soon for the whole week, since only one working day is left.
	if got := c.State(c.AddWorkingDays(t0, 1), wib(t, 2026, time.March, 18, 10, 0)); got != tanggap.DueSoon {
		t.Errorf("during Lebaran: %s", got)
	}
	if got := c.State(time.Time{}, t0); got != tanggap.OnTrack {
		t.Errorf("zero deadline: %s", got)
	}
}

func TestOptions(t *testing.T) {
	c, err := Default(Options{CutiBersamaIsNonworking: true, OfficeStart: "7:30", OfficeEnd: "15:00"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Options(); got != (Options{true, "07:30", "15:00"}) {
		t.Errorf("Options = %+v", got)
	}
	if c.OfficeDay() != 7*time.Hour+30*time.Minute {
		t.Errorf("OfficeDay = %s", c.OfficeDay())
	}
	t0 := wib(t, 2026, time.March, 17, 15, 30) // after a 15:00 cut-off
	if got, want := c.AddWorkingDays(t0, 1), wib(t, 2026, time.March, 26, 15, 0); !got.Equal(want) {
		t.Errorf("+1 HK with 07:30-15:00 = %s, want %s", fmtT(got), fmtT(want))
	}
	// Empty office hours mean the defaults.
	z, err := Default(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := z.Options(); got != (Options{false, "08:00", "16:00"}) {
		t.Errorf("zero Options = %+v", got)
	}
	if z.CutiBersamaIsNonworking() || !mustDefault(t, true).CutiBersamaIsNonworking() {
		t.Error("CutiBersamaIsNonworking does not reflect the option")
	}
	for _, bad := range []Options{
		{OfficeStart: "8"}, {OfficeEnd: "25:00"}, {OfficeStart: "16:00", OfficeEnd: "08:00"},
		{OfficeStart: "09:00", OfficeEnd: "09:00"}, {OfficeStart: "08:00pm"},
	} {
		if _, err := Default(bad); err == nil {
			t.Errorf("Default(%+v) accepted", bad)
		}
	}
}

func TestVersionAndString(t *testing.T) {
	c := mustDefault(t, true)
	if got, want := c.Version(), "SKB 1497/2/5 Tahun 2025; sha256:f890dfe8587a"; got != want {
		t.Errorf("Version = %q, want %q", got, want)
	}
	if got, want := c.String(), "Kalender SKB 1497/2/5 Tahun 2025; sha256:f890dfe8587a; cuti bersama = hari libur; jam kantor 08:00-16:00 WIB"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got := mustDefault(t, false).String(); !strings.Contains(got, "cuti bersama = hari kerja") {
		t.Errorf("String = %q", got)
	}
}

func TestHolidays(t *testing.T) {
	cb := mustDefault(t, true)
	hs := cb.Holidays()
	if len(hs) != 25 {
		t.Fatalf("%d holidays, want 25", len(hs))
	}
	first := Holiday{
		Date: wib(t, 2026, time.January, 1, 0, 0), Type: LiburNasional, Name: "Tahun Baru 2026 Masehi",
		LegalBasis: "SKB Menag-Menaker-MenPANRB No. 1497/2/5 Tahun 2025", Line: 2, Nonworking: true,
	}
	if diff := cmp.Diff(first, hs[0]); diff != "" {
		t.Errorf("first holiday (-want +got):\n%s", diff)
	}
	for i := 1; i < len(hs); i++ {
		if hs[i].Date.Before(hs[i-1].Date) {
			t.Errorf("not sorted at %d", i)
		}
	}
	hs[0].Name = "changed"
	if cb.Holidays()[0].Name == "changed" {
		t.Error("Holidays returned the calendar's own slice")
	}
	for _, h := range mustDefault(t, false).Holidays() {
		if h.Nonworking != (h.Type == LiburNasional) {
			t.Errorf("cuti bersama working: %s %s Nonworking=%v", h.Date.Format(time.DateOnly), h.Type, h.Nonworking)
		}
	}
}

// naive is a day-by-day reference implementation built from Holidays, for
// cross-checks (default office hours only).
type naive struct {
	loc    *time.Location
	closed map[string]bool // non-working dates
}

func newNaive(c *Calendar) naive {
	n := naive{loc: c.Location(), closed: map[string]bool{}}
	for _, h := range c.Holidays() {
		if h.Nonworking {
			n.closed[h.Date.Format(time.DateOnly)] = true
		}
	}
	return n
}

func (n naive) working(d time.Time) bool {
	d = d.In(n.loc)
	if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		return false
	}
	return !n.closed[d.Format(time.DateOnly)]
}

// add walks day by day.
func (n naive) add(t0 time.Time, k int) time.Time {
	l := t0.In(n.loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, n.loc)
	end := func(d time.Time) time.Time { return time.Date(d.Year(), d.Month(), d.Day(), 16, 0, 0, 0, n.loc) }
	if !n.working(day) || !l.Before(end(day)) {
		day = day.AddDate(0, 0, 1)
		for !n.working(day) {
			day = day.AddDate(0, 0, 1)
		}
	}
	for i := 0; i < k; {
		day = day.AddDate(0, 0, 1)
		if n.working(day) {
			i++
		}
	}
	return end(day)
}

// hours walks minute by minute (from and to on whole minutes).
func (n naive) hours(from, to time.Time) time.Duration {
	var d time.Duration
	for m := from.In(n.loc); m.Before(to); m = m.Add(time.Minute) {
		if n.working(m) && m.Hour() >= 8 && m.Hour() < 16 {
			d += time.Minute
		}
	}
	return d
}

func TestAgainstNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 3))
	for _, nonworking := range []bool{true, false} {
		c := mustDefault(t, nonworking)
		ref := newNaive(c)
		base := wib(t, 2025, time.December, 1, 0, 0)
		for i := 0; i < 400; i++ {
			t0 := base.Add(time.Duration(r.IntN(400*24*60)) * time.Minute)
			n := r.IntN(70)
			if got, want := c.AddWorkingDays(t0, n), ref.add(t0, n); !got.Equal(want) {
				t.Fatalf("nonworking=%v AddWorkingDays(%s, %d) = %s, naive %s", nonworking, fmtT(t0), n, fmtT(got), fmtT(want))
			}
			if got, want := c.IsWorkingDay(t0), ref.working(t0); got != want {
				t.Fatalf("IsWorkingDay(%s) = %v, naive %v", fmtT(t0), got, want)
			}
			if i%20 == 0 {
				t1 := t0.Add(time.Duration(r.IntN(30*24*60)) * time.Minute)
				if got, want := c.WorkingHoursBetween(t0, t1), ref.hours(t0, t1); got != want {
					t.Fatalf("WorkingHoursBetween(%s, %s) = %s, naive %s", fmtT(t0), fmtT(t1), got, want)
				}
			}
			// ClockStart + n HK of office time reaches the deadline.
			dl := c.AddWorkingDays(t0, n)
			start := c.ClockStart(t0)
			want := c.at(c.dayOf(start), c.endMin).Sub(start) + time.Duration(n)*c.OfficeDay()
			if got := c.WorkingHoursBetween(t0, dl); got != want {
				t.Fatalf("office time from %s to +%d HK = %s, want %s", fmtT(t0), n, got, want)
			}
		}
	}
}

func TestHugeInputs(t *testing.T) {
	c := mustDefault(t, true)
	t0 := wib(t, 2026, time.March, 17, 10, 0)
	far := c.AddWorkingDays(t0, int(^uint(0)>>1))
	if far.Before(t0.AddDate(3000, 0, 0)) {
		t.Errorf("AddWorkingDays(MaxInt) = %s", far)
	}
	if got := c.Extend(t0, time.Time{}, t0); got.Before(t0) {
		t.Errorf("Extend by ages = %s", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	c := mustDefault(t, true)
	t0 := wib(t, 2026, time.March, 17, 10, 0)
	want := c.AddWorkingDays(t0, 5)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for i := 0; i < 200; i++ {
				if got := c.AddWorkingDays(t0, 5); !got.Equal(want) {
					t.Errorf("concurrent AddWorkingDays = %s", got)
					return
				}
				_ = c.State(want, t0.Add(time.Duration(i)*time.Hour))
				_ = c.WorkingDaysBetween(t0, want)
				_ = c.Holidays()
				_ = c.MissingYearWarning(t0)
			}
		})
	}
	wg.Wait()
}

func BenchmarkAddWorkingDays(b *testing.B) {
	c := mustDefault(b, true)
	t0 := wib(b, 2026, time.March, 17, 10, 0)
	for _, n := range []int{3, 14, 60} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				c.AddWorkingDays(t0, n)
			}
		})
	}
}
