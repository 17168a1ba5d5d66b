package report

import (
	"github.com/tanggap/tanggap"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tanggap/tanggap/calendar"
)

// workClock gives the calendar's answer for instants inside its table,
// around it and far outside it, at office-hour and day boundaries, for
// several office hours and both cuti bersama settings.
func TestWorkClockMatchesCalendar(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, opt := range []calendar.Options{
		calendar.DefaultOptions(),
		{CutiBersamaIsNonworking: false, OfficeStart: "07:30", OfficeEnd: "15:45"},
		{CutiBersamaIsNonworking: true, OfficeStart: "00:00", OfficeEnd: "23:59"},
	} {
		cal, err := calendar.Default(opt)
		if err != nil {
			t.Fatal(err)
		}
		loc := cal.Location()
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
		to := time.Date(2026, 12, 31, 23, 0, 0, 0, loc)
		w := newWorkClock(cal, from, to)
		if len(w.days) < 365 {
			t.Fatalf("%+v: table of %d days", opt, len(w.days))
		}
		var points []time.Time
		for d := from.AddDate(0, 0, -3); d.Before(to.AddDate(0, 0, 3)); d = d.AddDate(0, 0, 1) {
			for _, hm := range [][2]int{{0, 0}, {7, 30}, {8, 0}, {12, 0}, {15, 45}, {16, 0}, {23, 59}} {
				at := time.Date(d.Year(), d.Month(), d.Day(), hm[0], hm[1], 0, 0, loc)
				points = append(points, at, at.Add(-time.Nanosecond), at.Add(time.Millisecond))
			}
		}
		points = append(points, time.Date(1999, 5, 5, 10, 0, 0, 0, loc), time.Date(2030, 5, 5, 10, 0, 0, 0, loc), time.Time{})
		span := to.Sub(from) + 20*24*time.Hour
		for range 3000 {
			points = append(points, from.Add(-10*24*time.Hour+time.Duration(rng.Int64N(int64(span)))))
		}
		for range 200_000 {
			a, b := points[rng.IntN(len(points))], points[rng.IntN(len(points))]
			if got, want := w.Hours(a, b), cal.WorkingHoursBetween(a, b); got != want {
				t.Fatalf("%+v: Hours(%v, %v) = %v, want %v", opt, a, b, got, want)
			}
			if got, want := w.Days(a, b), cal.WorkingDaysBetween(a, b); got != want {
				t.Fatalf("%+v: Days(%v, %v) = %v, want %v", opt, a, b, got, want)
			}
		}
	}
}

// A report of a period far before now builds a table of maxClockDays
// days, not one row per day up to now, and the instants past it still
// get the calendar's answer.
func TestWorkClockSpanCapped(t *testing.T) {
	cal := testCalendar(t)
	loc := cal.Location()
	from := time.Date(2000, 1, 1, 0, 0, 0, 0, loc)
	to := time.Date(2027, 4, 1, 9, 0, 0, 0, loc)
	w := newWorkClock(cal, from, to)
	if len(w.days) != maxClockDays {
		t.Fatalf("table of %d days, want %d", len(w.days), maxClockDays)
	}
	for _, c := range [][2]time.Time{
		{from.Add(10 * time.Hour), from.AddDate(0, 2, 0)},
		{from.Add(10 * time.Hour), to},
		{time.Date(2026, 3, 2, 9, 0, 0, 0, loc), to},
	} {
		if got, want := w.Hours(c[0], c[1]), cal.WorkingHoursBetween(c[0], c[1]); got != want {
			t.Errorf("Hours(%v, %v) = %v, want %v", c[0], c[1], got, want)
		}
	}
	// An empty report of year 1, as a request once asked for, is refused
	// before it is built; built anyway, its table is as short.
	p := Month(1, time.January, loc)
	if err := p.Validate(); tanggap.ErrorCode(err) != tanggap.EINVALID {
		t.Errorf("Validate of %s = %v, want EINVALID", p.Slug(loc), err)
	}
	if rep := Build(&Data{Period: p, Scope: scopeAll()}, Options{Calendar: cal, Now: now}); len(rep.clock.days) > maxClockDays {
		t.Errorf("report of %s: table of %d days", p.Slug(loc), len(rep.clock.days))
	}
}

// An open item's deadline state from the open sets is Item.StateAt's.
func TestOpenItemState(t *testing.T) {
	t0 := time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct{ deadline, soon time.Time }{
		{}, {t0.Add(4 * time.Hour), t0.Add(3 * time.Hour)}, {t0.Add(4 * time.Hour), time.Time{}}, {t0, t0},
	} {
		o := OpenItem{Deadline: c.deadline, DueSoonAt: c.soon}
		it := tanggap.Item{Status: tanggap.StatusAssigned, Deadline: c.deadline, DueSoonAt: c.soon}
		for now := t0.Add(-time.Hour); now.Before(t0.Add(6 * time.Hour)); now = now.Add(30 * time.Minute) {
			if got, want := o.stateAt(now), it.StateAt(now); got != want {
				t.Errorf("deadline %v, soon %v, at %v: %v, Item.StateAt %v", c.deadline, c.soon, now, got, want)
			}
		}
	}
}
