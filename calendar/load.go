package calendar

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ParseError is an error in a holiday table, with the file name and the line
// it is on (Line is 0 for errors about the whole file).
type ParseError struct {
	Name string // file name given to Load
	Line int    // 1-based line number, 0 if none
	Err  error
}

// Error formats the error as "name:line: message".
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Name, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Name, e.Err)
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// headerSpec lists the columns of the holiday table, all required; other
// columns are ignored.
const headerSpec = "date,type,name_id,legal_basis"

// Load builds a calendar from a holiday table in CSV read from r (at most
// 4 MiB). name is the file's name, used in errors: a table error is a
// *ParseError naming name and the line.
//
// The table has a header line with the columns date (YYYY-MM-DD), type
// (libur_nasional or cuti_bersama), name_id and legal_basis, in any order;
// other columns are ignored. Lines starting with # are comments and blank
// lines are skipped. A date may appear on several rows (two holidays on one
// day, or a holiday that is also cuti bersama), but not twice with the same
// type and name.
func Load(r io.Reader, name string, opt Options) (*Calendar, error) {
	c, err := newCalendar(opt)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxTableSize+1))
	if err != nil {
		return nil, &ParseError{Name: name, Err: err}
	}
	if len(raw) > maxTableSize {
		return nil, &ParseError{Name: name, Err: fmt.Errorf("larger than %d bytes", maxTableSize)}
	}
	bases, err := c.parse(raw, name)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	c.version = "sha256:" + hex.EncodeToString(sum[:])[:12]
	if len(bases) > 0 {
		c.version = strings.Join(bases, " + ") + "; " + c.version
	}
	return c, nil
}

// newCalendar validates opt and returns a calendar without holidays.
func newCalendar(opt Options) (*Calendar, error) {
	s, sText, err := parseClock("office start", opt.OfficeStart, DefaultOfficeStart)
	if err != nil {
		return nil, err
	}
	e, eText, err := parseClock("office end", opt.OfficeEnd, DefaultOfficeEnd)
	if err != nil {
		return nil, err
	}
	if s >= e {
		return nil, fmt.Errorf("calendar: office hours %s-%s: start must be before end", sText, eText)
	}
	opt.OfficeStart, opt.OfficeEnd = sText, eText
	return &Calendar{
		loc:      jakarta(Zone),
		opt:      opt,
		startMin: s,
		endMin:   e,
		dayLen:   time.Duration(e-s) * time.Minute,
	}, nil
}

// parse fills c's table from raw and returns the distinct legal bases,
// shortened, in date order.
func (c *Calendar) parse(raw []byte, name string) ([]string, error) {
	fail := func(line int, format string, args ...any) error {
		return &ParseError{Name: name, Line: line, Err: fmt.Errorf(format, args...)}
	}
	if !utf8.Valid(raw) {
		// Name the first bad line.
		line := 1
		for i := 0; i < len(raw); {
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, fail(line, "not valid UTF-8")
			}
			if r == '\n' {
				line++
			}
			i += size
		}
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\ufeff"))))
	cr.Comment = '#'
	cr.FieldsPerRecord = -1 // checked here, to say which line
	cr.TrimLeadingSpace = true

	header, err := cr.Read()
	if err == io.EOF {
		return nil, fail(0, "empty file: want a header line %s", headerSpec)
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	headerLine, _ := cr.FieldPos(0)
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := col[h]; dup && h != "" {
			return nil, fail(headerLine, "column %q appears twice", h)
		}
		col[h] = i
	}
	for _, want := range strings.Split(headerSpec, ",") {
		if _, ok := col[want]; !ok {
			return nil, fail(headerLine, "missing column %q: the header must name %s", want, headerSpec)
		}
	}

	type key struct {
		day  int64
		typ  HolidayType
		name string
	}
	seen := map[key]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return nil, fail(line, "%d fields, want %d as in the header", len(rec), len(header))
		}
		field := func(k string) string { return strings.TrimSpace(rec[col[k]]) }

		ds := field("date")
		d, err := time.Parse(time.DateOnly, ds)
		if err != nil {
			return nil, fail(line, "date %q: want YYYY-MM-DD", ds)
		}
		typ := HolidayType(strings.ToLower(field("type")))
		if typ != LiburNasional && typ != CutiBersama {
			return nil, fail(line, "type %q: want %s or %s", field("type"), LiburNasional, CutiBersama)
		}
		hname := field("name_id")
		if hname == "" {
			return nil, fail(line, "name_id is empty")
		}
		dn := dayNumber(d.Year(), d.Month(), d.Day())
		k := key{dn, typ, hname}
		if prev, dup := seen[k]; dup {
			return nil, fail(line, "%s %s %q repeats line %d", ds, typ, hname, prev)
		}
		seen[k] = line
		c.holidays = append(c.holidays, Holiday{
			Date:       time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, c.loc),
			Type:       typ,
			Name:       hname,
			LegalBasis: field("legal_basis"),
			Line:       line,
			Nonworking: typ == LiburNasional || c.opt.CutiBersamaIsNonworking,
		})
	}

	slices.SortStableFunc(c.holidays, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	var bases []string
	for _, h := range c.holidays {
		y, m, d := h.Date.Date()
		if n := len(c.years); n == 0 || c.years[n-1] != y {
			c.years = append(c.years, y)
		}
		if b := shortBasis(h.LegalBasis); b != "" && !slices.Contains(bases, b) {
			bases = append(bases, b)
		}
		if !h.Nonworking {
			continue
		}
		dn := dayNumber(y, m, d)
		if wd := weekday(dn); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		if n := len(c.closed); n == 0 || c.closed[n-1] != dn { // sorted and unique, as holidays are sorted
			c.closed = append(c.closed, dn)
		}
	}
	return bases, nil
}

// csvError turns an encoding/csv error into a *ParseError with its line.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{Name: name, Line: pe.Line, Err: pe.Err}
	}
	return &ParseError{Name: name, Err: err}
}

// shortBasis shortens "SKB Menag-Menaker-MenPANRB No. 1497/2/5 Tahun 2025" to
// "SKB 1497/2/5 Tahun 2025" for the version string; other texts are kept.
func shortBasis(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if rest, ok := strings.CutPrefix(s, "SKB "); ok {
		if _, num, ok := strings.Cut(rest, "No. "); ok && num != "" {
			return "SKB " + num
		}
	}
	return s
}
