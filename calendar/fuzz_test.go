package calendar

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzLoad feeds arbitrary bytes to the holiday-table loader. It must never
// panic; an error must be a *ParseError naming the file; a table it accepts
// must give a sorted table, a version, and closed days consistent with it.
// Seeds are in testdata/fuzz/FuzzLoad, plus the embedded table.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(embeddedTable))
	f.Add([]byte(header + "2026-08-17,libur_nasional,Merdeka,SKB\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load(bytes.NewReader(data), "fuzz.csv", DefaultOptions())
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error %q is not a *ParseError naming the file", err)
			}
			return
		}
		if v := c.Version(); !strings.Contains(v, "sha256:") {
			t.Fatalf("Version = %q", v)
		}
		hs := c.Holidays()
		for i, h := range hs {
			if i > 0 && h.Date.Before(hs[i-1].Date) {
				t.Fatalf("holidays not sorted at %d", i)
			}
			if h.Type != LiburNasional && h.Type != CutiBersama || h.Name == "" || h.Line < 2 {
				t.Fatalf("bad row %+v", h)
			}
			if h.Nonworking && c.IsWorkingDay(h.Date.Add(12*time.Hour)) {
				t.Fatalf("%s is a holiday and a working day", h.Date)
			}
		}
		// The clock still works on whatever table was accepted.
		t0 := time.Date(2026, 3, 17, 10, 0, 0, 0, c.Location())
		if hs := c.Holidays(); len(hs) > 0 {
			t0 = hs[0].Date
		}
		dl := c.AddWorkingDays(t0, 5)
		if !c.IsWorkingDay(dl) || !dl.After(t0) {
			t.Fatalf("AddWorkingDays(%s, 5) = %s", t0, dl)
		}
		if got := c.WorkingDaysBetween(c.ClockStart(t0), dl); got <= 5 || got > 6 {
			t.Fatalf("%v HK from clock start to +5 HK", got)
		}
	})
}
