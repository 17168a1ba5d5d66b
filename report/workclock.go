package report

import (
	"sort"
	"time"

	"github.com/tanggap/tanggap/calendar"
)

// workClock answers calendar.WorkingHoursBetween for the many instants of a
// report from a table of the local days they fall on: each day's bounds,
// its office hours when it is a working day, and the working time of the
// table's days before it. The office time between two instants is then the
// difference of two lookups. The table is built from the calendar's own
// answers (IsWorkingDay, ClockStart, AddWorkingDays), and instants outside
// it go to the calendar.
type workClock struct {
	cal    *calendar.Calendar
	dayLen time.Duration
	days   []workDay // consecutive local days, oldest first
}

type workDay struct {
	start, end int64 // Unix nanoseconds of the local midnight and the next one
	s, e       int64 // office start and end (Unix nanoseconds) of a working day
	work       bool
	before     time.Duration // office time of the table's days before this one
}

// maxClockDays bounds the table: a report meets instants from the
// lookback before its period to a year after now, about 500 days for this
// month and 1,200 for a year-long period that ended a year ago. Instants
// past a longer span go to the calendar, which answers them too (a binary
// search of its holidays), so a period years back costs a few
// milliseconds of table, not one row per day up to now.
const maxClockDays = 4 * 366

// newWorkClock covers the local days from the day of from to the day of
// to, at most maxClockDays of them. It covers nothing (every answer is
// the calendar's) when a working day's office hours are not one OfficeDay
// long (a zone change during them), since the difference of lookups would
// then differ from the calendar's sum over days.
func newWorkClock(cal *calendar.Calendar, from, to time.Time) *workClock {
	w := &workClock{cal: cal, dayLen: cal.OfficeDay()}
	loc := cal.Location()
	f := from.In(loc)
	var before time.Duration
	for d := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc); !d.After(to) && len(w.days) < maxClockDays; {
		next := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
		day := workDay{start: d.UnixNano(), end: next.UnixNano(), before: before, work: cal.IsWorkingDay(d)}
		if day.work {
			s, e := cal.ClockStart(d), cal.AddWorkingDays(d, 0)
			if e.Sub(s) != w.dayLen || s.Before(d) || e.After(next) {
				w.days = nil
				return w
			}
			day.s, day.e = s.UnixNano(), e.UnixNano()
			before += w.dayLen
		}
		w.days = append(w.days, day)
		d = next
	}
	return w
}

// day returns the index of the day t falls on, or -1 outside the table.
func (w *workClock) day(t time.Time) (int, int64) {
	if len(w.days) == 0 {
		return -1, 0
	}
	first, last := w.days[0].start, w.days[len(w.days)-1].end
	sec := t.Unix()
	if sec < first/1e9-1 || sec > last/1e9+1 {
		return -1, 0
	}
	ns := t.UnixNano()
	if ns < first || ns >= last {
		return -1, 0
	}
	i := int((ns - first) / int64(24*time.Hour))
	if i >= len(w.days) || ns < w.days[i].start || ns >= w.days[i].end { // a day that is not 24 hours long
		i = sort.Search(len(w.days), func(i int) bool { return w.days[i].end > ns })
	}
	return i, ns
}

// upTo is the office time of the table's days up to ns, on day i.
func (w *workClock) upTo(i int, ns int64) time.Duration {
	d := &w.days[i]
	v := d.before
	if d.work {
		v += time.Duration(min(max(ns, d.s), d.e) - d.s)
	}
	return v
}

// Hours is cal.WorkingHoursBetween(from, to).
func (w *workClock) Hours(from, to time.Time) time.Duration {
	i, a := w.day(from)
	j, b := w.day(to)
	if i < 0 || j < 0 {
		return w.cal.WorkingHoursBetween(from, to)
	}
	return w.upTo(j, b) - w.upTo(i, a)
}

// Days is cal.WorkingDaysBetween(from, to).
func (w *workClock) Days(from, to time.Time) float64 {
	return float64(w.Hours(from, to)) / float64(w.dayLen)
}
