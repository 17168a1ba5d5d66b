package calendar

import (
	_ "embed"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // Asia/Jakarta must load where the system has no tzdata
)

// embeddedTable is holidays-id.csv as built into the binary. It is a string,
// so its contents cannot be changed at run time.
//
//go:embed holidays-id.csv
var embeddedTable string

// EmbeddedName is the name under which [Default] loads the embedded table; it
// prefixes parse errors.
const EmbeddedName = "holidays-id.csv (embedded)"

// Zone is the IANA name of the time zone of every calendar.
const Zone = "Asia/Jakarta"

// Default office hours, local time.
const (
	DefaultOfficeStart = "08:00"
	DefaultOfficeEnd   = "16:00"
)

// maxTableSize bounds what [Load] reads: the real table is a few kilobytes
// a year.
const maxTableSize = 4 << 20

// Options are the per-city settings of a calendar.
//
// The zero value means cuti bersama are working days, because a bool
// defaults to false; the policy default is that they are not. Start from
// [DefaultOptions] and change what differs.
type Options struct {
	// CutiBersamaIsNonworking makes cuti bersama days non-working days
	// (setting cuti_bersama_is_nonworking, policy default true).
	CutiBersamaIsNonworking bool
	// OfficeStart and OfficeEnd are the office hours in local time, "HH:MM"
	// (24-hour). Empty means 08:00 and 16:00. A post received at or after
	// OfficeEnd counts from the next working day, and a deadline day ends at
	// OfficeEnd.
	OfficeStart, OfficeEnd string
}

// DefaultOptions returns the policy defaults: cuti bersama are non-working
// days and office hours are 08:00-16:00.
func DefaultOptions() Options {
	return Options{CutiBersamaIsNonworking: true, OfficeStart: DefaultOfficeStart, OfficeEnd: DefaultOfficeEnd}
}

// HolidayType is the kind of a row in the holiday table.
type HolidayType string

const (
	// LiburNasional is a national holiday: never a working day.
	LiburNasional HolidayType = "libur_nasional"
	// CutiBersama is collective leave: a working day unless
	// Options.CutiBersamaIsNonworking.
	CutiBersama HolidayType = "cuti_bersama"
)

// Holiday is one row of the holiday table.
type Holiday struct {
	// Date is the day, at 00:00 Asia/Jakarta.
	Date time.Time `json:"date"`
	// Type is libur_nasional or cuti_bersama.
	Type HolidayType `json:"type"`
	// Name is the Indonesian name (column name_id).
	Name string `json:"name_id"`
	// LegalBasis is the decree that sets the day (column legal_basis).
	LegalBasis string `json:"legal_basis,omitempty"`
	// Line is the row's line number in the source file.
	Line int `json:"line"`
	// Nonworking reports whether this row makes its date a non-working day
	// under the calendar's options (it may fall on a weekend anyway).
	Nonworking bool `json:"nonworking"`
}

// Calendar is a working-day calendar: a holiday table, a time zone and
// office hours. Build it with [Default], [Load] or [LoadFile]; it is
// immutable afterwards and safe for concurrent use.
type Calendar struct {
	loc      *time.Location
	opt      Options
	startMin int           // office start, minutes after local midnight
	endMin   int           // office end, minutes after local midnight
	dayLen   time.Duration // endMin - startMin: one HK of working time
	version  string
	holidays []Holiday // sorted by date, then line
	closed   []int64   // sorted day numbers of non-working Mondays to Fridays
	years    []int     // sorted years with at least one row
}

// Default builds the calendar from the holiday table embedded in the binary.
func Default(opt Options) (*Calendar, error) {
	return Load(strings.NewReader(embeddedTable), EmbeddedName, opt)
}

// LoadFile builds the calendar from the holiday table at path, so that the
// table can be edited without rebuilding.
func LoadFile(path string, opt Options) (*Calendar, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Load(f, path, opt)
}

// Location returns the calendar's time zone (Asia/Jakarta, or a fixed
// UTC+07:00 zone named WIB if it could not be loaded).
func (c *Calendar) Location() *time.Location { return c.loc }

// Options returns the settings the calendar was built with, office hours
// normalised to "HH:MM".
func (c *Calendar) Options() Options { return c.opt }

// CutiBersamaIsNonworking reports the cuti_bersama_is_nonworking setting,
// which every report shows next to [Calendar.Version].
func (c *Calendar) CutiBersamaIsNonworking() bool { return c.opt.CutiBersamaIsNonworking }

// Version identifies the holiday table: its legal bases and the first 12 hex
// digits of the SHA-256 of the file, e.g.
// "SKB 1497/2/5 Tahun 2025; sha256:f890dfe8587a". Show it on every report.
func (c *Calendar) Version() string { return c.version }

// String is the line a report prints about its calendar: table version,
// cuti bersama setting and office hours, in Indonesian.
func (c *Calendar) String() string {
	cb := "hari kerja"
	if c.opt.CutiBersamaIsNonworking {
		cb = "hari libur"
	}
	return fmt.Sprintf("Kalender %s; cuti bersama = %s; jam kantor %s-%s WIB",
		c.version, cb, c.opt.OfficeStart, c.opt.OfficeEnd)
}

// OfficeDay is the working time in one working day: one HK.
func (c *Calendar) OfficeDay() time.Duration { return c.dayLen }

// Holidays returns a copy of the holiday table sorted by date, for an admin
// page.
func (c *Calendar) Holidays() []Holiday { return slices.Clone(c.holidays) }

// Years returns the years that have at least one row in the holiday table,
// ascending.
func (c *Calendar) Years() []int { return slices.Clone(c.years) }

// jakarta loads the named zone, falling back to a fixed UTC+07:00 zone named
// WIB (Asia/Jakarta has had no transition since 1964).
func jakarta(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.FixedZone("WIB", 7*60*60)
}

// parseClock parses "HH:MM" (or "H:MM") into minutes after midnight.
func parseClock(field, s, def string) (int, string, error) {
	if s == "" {
		s = def
	}
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, "", fmt.Errorf("calendar: %s %q: want HH:MM (24-hour)", field, s)
	}
	return t.Hour()*60 + t.Minute(), t.Format("15:04"), nil
}
