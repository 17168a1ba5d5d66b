package calendar

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/tanggap/tanggap"
)

// maxWorkingDays bounds n in AddWorkingDays and the length of an Extend, so
// that absurd inputs cannot overflow the day arithmetic (a million working
// days is about 3,800 years).
const maxWorkingDays = 1_000_000

// IsWorkingDay reports whether the local (Asia/Jakarta) day of t is a
// working day: Monday to Friday, not a libur nasional, and not a cuti
// bersama when those are non-working. The time of day does not matter.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	return c.isWorking(c.dayOf(t))
}

// ClockStart returns when a clock started by a post received at t0 starts
// running, in local time: t0 itself during office hours of a working day,
// the office start if t0 is earlier that day, and otherwise (at or after the
// cut-off, or on a non-working day) the office start of the next working
// day. The day of the result is day 0.
func (c *Calendar) ClockStart(t0 time.Time) time.Time {
	_, s := c.receipt(t0)
	return s
}

// AddWorkingDays returns the deadline of a post received at t0 and due in n
// working days: the office-hours end (16:00 by default), local time, of the
// nth working day after day 0. Day 0 is the day of receipt, or the next
// working day when t0 is at or after the cut-off or on a non-working day.
// n <= 0 gives the end of day 0; n is capped at 1,000,000.
func (c *Calendar) AddWorkingDays(t0 time.Time, n int) time.Time {
	day0, _ := c.receipt(t0)
	return c.at(c.nthWorkingAfter(day0, n), c.endMin)
}

// WorkingHoursBetween returns the office time elapsed from from to to: the
// time inside office hours of working days only. It is negative when to is
// before from. Use it for "time to first response, working hours".
func (c *Calendar) WorkingHoursBetween(from, to time.Time) time.Duration {
	if to.Before(from) {
		return -c.WorkingHoursBetween(to, from)
	}
	a, b := from.In(c.loc), to.In(c.loc)
	da, db := c.dayOf(a), c.dayOf(b)
	if da == db {
		return c.overlap(da, a, b)
	}
	return c.overlap(da, a, c.at(da, c.endMin)) +
		time.Duration(c.workingIn(da+1, db))*c.dayLen +
		c.overlap(db, c.at(db, c.startMin), b)
}

// WorkingDaysBetween returns the working days elapsed from from to to, as
// WorkingHoursBetween divided by the length of one office day: fractional,
// so Tuesday 10:00 to Wednesday 12:00 is 1.25 HK with 08:00-16:00 office
// hours, and a weekend adds nothing. It is negative when to is before from.
func (c *Calendar) WorkingDaysBetween(from, to time.Time) float64 {
	return float64(c.WorkingHoursBetween(from, to)) / float64(c.dayLen)
}

// Extend returns deadline moved forward by the working time between
// pausedFrom and pausedTo (the time an item spent ON_HOLD), counted as
// WorkingHoursBetween does. A pause of k whole working days moves a deadline
// at an office-hours end by exactly k working days; a pause of two office
// hours moves a Friday 16:00 deadline to Monday 10:00. A zero deadline, or a
// pause with no working time in it, leaves deadline unchanged.
func (c *Calendar) Extend(deadline, pausedFrom, pausedTo time.Time) time.Time {
	d := c.WorkingHoursBetween(pausedFrom, pausedTo)
	if deadline.IsZero() || d <= 0 {
		return deadline
	}
	return c.advance(deadline, d)
}

// ExtendDays returns deadline moved forward by n whole working days of
// office time, as Extend moves it by a pause: a deadline at an office-hours
// end moves to the office-hours end of the nth working day after it.
func (c *Calendar) ExtendDays(deadline time.Time, n int) time.Time {
	if deadline.IsZero() || n <= 0 {
		return deadline
	}
	return c.advance(deadline, time.Duration(n)*c.dayLen)
}

// State returns where a clock stands at now against its deadline: overdue
// when now is at or after the deadline, due_soon when at most one HK of
// working time is left (so from the office-hours end of the working day
// before the due day, weekends and holidays in between included), on_track
// otherwise. A zero deadline is on_track.
func (c *Calendar) State(deadline, now time.Time) tanggap.DeadlineState {
	switch {
	case deadline.IsZero():
		return tanggap.OnTrack
	case !now.Before(deadline):
		return tanggap.Overdue
	case c.WorkingHoursBetween(now, deadline) <= c.dayLen:
		return tanggap.DueSoon
	}
	return tanggap.OnTrack
}

// MissingYears returns the local current year and the next one when the
// holiday table has no row for them, ascending; nil when both are loaded.
func (c *Calendar) MissingYears(now time.Time) []int {
	y := now.In(c.loc).Year()
	var miss []int
	for _, yy := range []int{y, y + 1} {
		if _, ok := slices.BinarySearch(c.years, yy); !ok {
			miss = append(miss, yy)
		}
	}
	return miss
}

// MissingYearWarning returns a warning in Indonesian for every report and
// admin page when the holiday table lacks the current or the next year (its
// days are then counted with weekends only), or "" when both are loaded.
// For example, "Kalender libur 2027 belum dimuat: tenggat setelah 31
// Desember 2026 bisa salah".
func (c *Calendar) MissingYearWarning(now time.Time) string {
	return c.MissingYearWarningIn(now, "id")
}

// MissingYearWarningIn is MissingYearWarning in English when lang is "en".
func (c *Calendar) MissingYearWarningIn(now time.Time, lang string) string {
	y := now.In(c.loc).Year()
	miss := c.MissingYears(now)
	var msg [2]string // Indonesian, English; each takes two years
	var a, b int
	switch {
	case len(miss) == 2:
		msg, a, b = [2]string{"Kalender libur %d dan %d belum dimuat: semua tenggat hari kerja bisa salah",
			"Holiday calendar for %d and %d not loaded: every working-day deadline may be wrong"}, y, y+1
	case len(miss) == 1 && miss[0] == y:
		msg, a, b = [2]string{"Kalender libur %d belum dimuat: tenggat sampai 31 Desember %d bisa salah",
			"Holiday calendar for %d not loaded: deadlines up to 31 December %d may be wrong"}, y, y
	case len(miss) == 1:
		msg, a, b = [2]string{"Kalender libur %d belum dimuat: tenggat setelah 31 Desember %d bisa salah",
			"Holiday calendar for %d not loaded: deadlines after 31 December %d may be wrong"}, y+1, y
	default:
		return ""
	}
	if lang == "en" {
		return fmt.Sprintf(msg[1], a, b)
	}
	return fmt.Sprintf(msg[0], a, b)
}

// receipt returns day 0 and the instant the clock starts for a post
// received at t (see ClockStart).
func (c *Calendar) receipt(t time.Time) (int64, time.Time) {
	lt := t.In(c.loc)
	dn := c.dayOf(lt)
	if c.isWorking(dn) {
		if end := c.at(dn, c.endMin); lt.Before(end) {
			if start := c.at(dn, c.startMin); lt.Before(start) {
				return dn, start
			}
			return dn, lt
		}
	}
	next := c.nthWorkingAfter(dn, 1)
	return next, c.at(next, c.startMin)
}

// advance moves p forward by d > 0 of office time. A result that falls
// exactly on an office-hours end stays on that day.
func (c *Calendar) advance(p time.Time, d time.Duration) time.Time {
	lt := p.In(c.loc)
	dn := c.dayOf(lt)
	if c.isWorking(dn) {
		if end := c.at(dn, c.endMin); !lt.After(end) {
			s := lt
			if start := c.at(dn, c.startMin); s.Before(start) {
				s = start
			}
			rem := end.Sub(s)
			if d <= rem {
				return s.Add(d)
			}
			d -= rem
		}
	}
	// Now at the end of day dn: land in the mth working day after it.
	m := int64(d / c.dayLen)
	if m >= maxWorkingDays {
		return c.at(c.nthWorkingAfter(dn, maxWorkingDays), c.endMin)
	}
	off := d - time.Duration(m)*c.dayLen
	if off == 0 {
		return c.at(c.nthWorkingAfter(dn, int(m)), c.endMin)
	}
	return c.at(c.nthWorkingAfter(dn, int(m)+1), c.startMin).Add(off)
}

// overlap is the office time of day dn between a and b (a, b on that day or
// bounding it).
func (c *Calendar) overlap(dn int64, a, b time.Time) time.Duration {
	if !c.isWorking(dn) {
		return 0
	}
	if s := c.at(dn, c.startMin); a.Before(s) {
		a = s
	}
	if e := c.at(dn, c.endMin); b.After(e) {
		b = e
	}
	if !b.After(a) {
		return 0
	}
	return b.Sub(a)
}

// Day numbers count civil days from 1970-01-01 (day 0, a Thursday).

// dayNumber is the day number of a civil date.
func dayNumber(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// weekday is the day of the week of day number dn.
func weekday(dn int64) time.Weekday {
	return time.Weekday(floorMod(dn+4, 7))
}

// weekdaysBefore counts the Mondays to Fridays from an arbitrary origin to
// dn (exclusive); only differences are meaningful.
func weekdaysBefore(dn int64) int64 {
	k := dn - 4 // day 4, 1970-01-05, is a Monday
	q := floorDiv(k, 7)
	return q*5 + min(k-q*7, 5)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// dayOf is the local day number of t.
func (c *Calendar) dayOf(t time.Time) int64 {
	return dayNumber(t.In(c.loc).Date())
}

// at is the instant min minutes after local midnight of day dn.
func (c *Calendar) at(dn int64, min int) time.Time {
	y, m, d := time.Unix(dn*86400, 0).UTC().Date()
	return time.Date(y, m, d, min/60, min%60, 0, 0, c.loc)
}

// isWorking reports whether day dn is a working day.
func (c *Calendar) isWorking(dn int64) bool {
	if wd := weekday(dn); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, closed := slices.BinarySearch(c.closed, dn)
	return !closed
}

// workingIn counts the working days in [a, b).
func (c *Calendar) workingIn(a, b int64) int64 {
	if b <= a {
		return 0
	}
	ia, _ := slices.BinarySearch(c.closed, a)
	ib, _ := slices.BinarySearch(c.closed, b)
	return weekdaysBefore(b) - weekdaysBefore(a) - int64(ib-ia)
}

// nthWorkingAfter returns the nth working day after day dn (dn itself for
// n <= 0), n capped at maxWorkingDays.
func (c *Calendar) nthWorkingAfter(dn int64, n int) int64 {
	if n <= 0 {
		return dn
	}
	n = min(n, maxWorkingDays)
	// Every 7 days hold 5 weekdays, and each closed weekday costs one more
	// weekday, so the answer lies within this many days.
	span := (int64(n+len(c.closed))/5 + 2) * 7
	i := sort.Search(int(span), func(i int) bool {
		return c.workingIn(dn+1, dn+2+int64(i)) >= int64(n)
	})
	return dn + 1 + int64(i)
}
