package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
)

// MaxPeriod bounds how long a report period may be, so that one request
// cannot scan years of items.
const MaxPeriod = 366 * 24 * time.Hour

// MinYear is the first year a report period may start in: no city kept
// social-media complaints before it, and a period of year 1 made a report
// compute two thousand years of office time (see newWorkClock).
const MinYear = 2000

// Period is the half-open interval [From, To) of platform time (T0) a
// report covers. From and To are local midnights (Asia/Jakarta) when built
// by Month or Days.
type Period struct {
	From, To time.Time
}

// Month is the calendar month of year y, month m in loc.
func Month(y int, m time.Month, loc *time.Location) Period {
	from := time.Date(y, m, 1, 0, 0, 0, 0, loc)
	return Period{From: from, To: from.AddDate(0, 1, 0)}
}

// MonthOf is the calendar month containing t in loc.
func MonthOf(t time.Time, loc *time.Location) Period {
	lt := t.In(loc)
	return Month(lt.Year(), lt.Month(), loc)
}

// Days is the period from the start of day first to the end of day last
// (both included), in loc.
func Days(first, last time.Time, loc *time.Location) Period {
	f, l := first.In(loc), last.In(loc)
	return Period{
		From: time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc),
		To:   time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc),
	}
}

// ParseMonth parses "YYYY-MM".
func ParseMonth(s string, loc *time.Location) (Period, error) {
	t, err := time.ParseInLocation("2006-01", s, loc)
	if err != nil {
		return Period{}, tanggap.Errorf(tanggap.EINVALID, "month must be YYYY-MM, got %q", clip(s, 20))
	}
	return Month(t.Year(), t.Month(), loc), nil
}

// ParseDays parses a first and a last day, "YYYY-MM-DD" each, both
// included in the period.
func ParseDays(first, last string, loc *time.Location) (Period, error) {
	f, err := time.ParseInLocation("2006-01-02", first, loc)
	if err != nil {
		return Period{}, tanggap.Errorf(tanggap.EINVALID, "from must be YYYY-MM-DD, got %q", clip(first, 20))
	}
	l, err := time.ParseInLocation("2006-01-02", last, loc)
	if err != nil {
		return Period{}, tanggap.Errorf(tanggap.EINVALID, "to must be YYYY-MM-DD, got %q", clip(last, 20))
	}
	if l.Before(f) {
		return Period{}, tanggap.Errorf(tanggap.EINVALID, "to (%s) is before from (%s)", last, first)
	}
	return Days(f, l, loc), nil
}

// Validate checks that the period is not empty, not longer than
// MaxPeriod and does not start before MinYear (in From's zone).
func (p Period) Validate() error {
	switch {
	case !p.To.After(p.From):
		return tanggap.Errorf(tanggap.EINVALID, "empty report period")
	case p.To.Sub(p.From) > MaxPeriod:
		return tanggap.Errorf(tanggap.EINVALID, "a report period is at most one year")
	case p.From.Year() < MinYear:
		return tanggap.Errorf(tanggap.EINVALID, "a report period starts in %d or later", MinYear)
	}
	return nil
}

// ValidateAt is Validate for a period asked for at now: it also refuses a
// period that ends after the year following now's (in From's zone), which
// holds no complaint yet.
func (p Period) ValidateAt(now time.Time) error {
	if err := p.Validate(); err != nil {
		return err
	}
	last := now.In(p.From.Location()).Year() + 1
	if p.To.After(time.Date(last+1, time.January, 1, 0, 0, 0, 0, p.From.Location())) {
		return tanggap.Errorf(tanggap.EINVALID, "a report period ends in %d at the latest", last)
	}
	return nil
}

// Contains reports whether t is in [From, To).
func (p Period) Contains(t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

// Last is the last day of the period (To minus one nanosecond) in loc.
func (p Period) Last(loc *time.Location) time.Time { return p.To.Add(-1).In(loc) }

// IsMonth reports whether the period is exactly one calendar month in loc.
func (p Period) IsMonth(loc *time.Location) bool {
	f := p.From.In(loc)
	return f.Day() == 1 && f.Hour() == 0 && f.Minute() == 0 && f.Second() == 0 && f.Nanosecond() == 0 &&
		p.To.Equal(f.AddDate(0, 1, 0))
}

// Slug is a file-name-safe name of the period: "2026-03" for a month,
// "2026-03-01_2026-03-15" otherwise.
func (p Period) Slug(loc *time.Location) string {
	if p.IsMonth(loc) {
		return p.From.In(loc).Format("2006-01")
	}
	return p.From.In(loc).Format("2006-01-02") + "_" + p.Last(loc).Format("2006-01-02")
}

// Label is the period as people read it: "Maret 2026" for a month,
// "1 Maret 2026 s.d. 15 Maret 2026" otherwise ("March 2026", "1 March 2026
// to 15 March 2026" in English).
func (p Period) Label(lang string, loc *time.Location) string {
	if p.IsMonth(loc) {
		f := p.From.In(loc)
		return monthName(f.Month(), lang) + " " + fmt.Sprint(f.Year())
	}
	sep := " s.d. "
	if lang == "en" {
		sep = " to "
	}
	return DateLabel(p.From, lang, loc) + sep + DateLabel(p.Last(loc), lang, loc)
}

// DateLabel formats a day as "1 Maret 2026" (or "1 March 2026").
func DateLabel(t time.Time, lang string, loc *time.Location) string {
	lt := t.In(loc)
	return fmt.Sprintf("%d %s %d", lt.Day(), monthName(lt.Month(), lang), lt.Year())
}

// TimeLabel formats an instant as "17 Maret 2026 17:00 WIB".
func TimeLabel(t time.Time, lang string, loc *time.Location) string {
	lt := t.In(loc)
	return DateLabel(lt, lang, loc) + " " + lt.Format("15:04") + " WIB"
}

func monthName(m time.Month, lang string) string {
	if lang == "en" {
		return m.String()
	}
	switch m {
	case time.January:
		return "Januari"
	case time.February:
		return "Februari"
	case time.March:
		return "Maret"
	case time.April:
		return "April"
	case time.May:
		return "Mei"
	case time.June:
		return "Juni"
	case time.July:
		return "Juli"
	case time.August:
		return "Agustus"
	case time.September:
		return "September"
	case time.October:
		return "Oktober"
	case time.November:
		return "November"
	}
	return "Desember"
}

// clip cuts s to at most n bytes on a rune boundary, for error messages.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
