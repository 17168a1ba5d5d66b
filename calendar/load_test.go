package calendar

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tanggap/tanggap/internal/shareddata"
)

const header = "date,type,name_id,legal_basis\n"

func TestLoadErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct {
		name, csv string
		want      string // the whole error message
	}{
		{"empty", "", "t.csv: empty file: want a header line date,type,name_id,legal_basis"},
		{"only comments", "# nothing\n\n", "t.csv: empty file: want a header line date,type,name_id,legal_basis"},
		{"missing column", "date,type,name_id\n", `t.csv:1: missing column "legal_basis": the header must name date,type,name_id,legal_basis`},
		{"header after comment", "# 2026\ndate,type,name,legal_basis\n", `t.csv:2: missing column "name_id": the header must name date,type,name_id,legal_basis`},
		{"duplicate column", "date,type,name_id,legal_basis,date\n", `t.csv:1: column "date" appears twice`},
		{"bad date", header + "2026-01-01,libur_nasional,A,B\n2026-02-30,libur_nasional,A,B\n", `t.csv:3: date "2026-02-30": want YYYY-MM-DD`},
		{"date with day first", header + "17-08-2026,libur_nasional,A,B\n", `t.csv:2: date "17-08-2026": want YYYY-MM-DD`},
		{"bad type", header + "# comment\n\n2026-08-17,libur,A,B\n", `t.csv:4: type "libur": want libur_nasional or cuti_bersama`},
		{"empty name", header + "2026-08-17,libur_nasional, ,B\n", "t.csv:2: name_id is empty"},
		{"too few fields", header + "2026-08-17,libur_nasional,A\n", "t.csv:2: 3 fields, want 4 as in the header"},
		{"too many fields", header + "2026-08-17,libur_nasional,A,B,C\n", "t.csv:2: 5 fields, want 4 as in the header"},
		{"bare quote", header + "2026-08-17,libur_nasional,Hari \"Merdeka\",B\n", `t.csv:2: bare " in non-quoted-field`},
		{"unterminated quote", header + "2026-08-17,libur_nasional,\"Merdeka,B\n", `t.csv:2: extraneous or missing " in quoted-field`},
		{"duplicate row", header + "2026-08-17,libur_nasional,Merdeka,B\n2026-08-18,cuti_bersama,X,B\n2026-08-17,libur_nasional,Merdeka,C\n",
			`t.csv:4: 2026-08-17 libur_nasional "Merdeka" repeats line 2`},
		{"invalid UTF-8", header + "2026-08-17,libur_nasional,A,B\n2026-08-18,libur_nasional,\xff,B\n", "t.csv:3: not valid UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tc.csv), "t.csv", DefaultOptions())
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tc.want {
				t.Errorf("error %q\nwant     %q", err, tc.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Name != "t.csv" {
				t.Errorf("not a *ParseError naming the file: %#v", err)
			}
		})
	}
}

func TestLoadTooLarge(t *testing.T) {
	big := header + strings.Repeat("# padding padding padding padding padding\n", maxTableSize/40)
	_, err := Load(strings.NewReader(big), "big.csv", DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v", err)
	}
}

func TestLoadLenient(t *testing.T) {
	// BOM, CRLF, comments, blank lines, other column order, an extra column,
	// upper-case type, spaces, quoted commas.
	csv := "\ufeffname_id,Legal_Basis,date,TYPE,note\r\n" +
		"# Contoh tabel\r\n" +
		"\r\n" +
		"\"Hari Proklamasi Kemerdekaan RI, ke-81\", Keppres X ,2026-08-17,LIBUR_NASIONAL,\r\n" +
		"Cuti Bersama Contoh,,2026-08-18, cuti_bersama,catatan\r\n"
	c, err := Load(strings.NewReader(csv), "lenient.csv", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	got := c.Holidays()
	loc := c.Location()
	want := []Holiday{
		{Date: time.Date(2026, 8, 17, 0, 0, 0, 0, loc), Type: LiburNasional, Name: "Hari Proklamasi Kemerdekaan RI, ke-81", LegalBasis: "Keppres X", Line: 4, Nonworking: true},
		{Date: time.Date(2026, 8, 18, 0, 0, 0, 0, loc), Type: CutiBersama, Name: "Cuti Bersama Contoh", Line: 5, Nonworking: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("holidays (-want +got):\n%s", diff)
	}
	if v := c.Version(); !strings.HasPrefix(v, "Keppres X; sha256:") || len(v) != len("Keppres X; sha256:")+12 {
		t.Errorf("Version = %q", v)
	}
	if c.IsWorkingDay(time.Date(2026, 8, 18, 12, 0, 0, 0, loc)) {
		t.Error("cuti bersama on Tuesday 18 August is a working day")
	}
}

func TestLoadHeaderOnly(t *testing.T) {
	c, err := Load(strings.NewReader(header), "none.csv", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Holidays()) != 0 || !strings.HasPrefix(c.Version(), "sha256:") {
		t.Errorf("holidays %v, version %q", c.Holidays(), c.Version())
	}
	if got := c.MissingYearWarning(time.Date(2026, 5, 1, 0, 0, 0, 0, c.Location())); !strings.Contains(got, "2026 dan 2027") {
		t.Errorf("warning = %q", got)
	}
	// Only weekends are off: Friday 1 May 2026 + 1 HK is Monday 4 May.
	if got := c.AddWorkingDays(time.Date(2026, 5, 1, 9, 0, 0, 0, c.Location()), 1); got.Day() != 4 {
		t.Errorf("+1 HK = %s", got)
	}
}

func TestLoadSameDateTwice(t *testing.T) {
	// A national holiday that is also listed as cuti bersama: closed either way.
	csv := header + "2026-08-17,cuti_bersama,Cuti,SKB\n2026-08-17,libur_nasional,Merdeka,SKB\n2026-08-17,libur_nasional,Lain,SKB\n"
	opt := DefaultOptions()
	opt.CutiBersamaIsNonworking = false
	c, err := Load(strings.NewReader(csv), "same.csv", opt)
	if err != nil {
		t.Fatal(err)
	}
	if c.IsWorkingDay(time.Date(2026, 8, 17, 12, 0, 0, 0, c.Location())) {
		t.Error("17 August is a working day")
	}
	if n := len(c.Holidays()); n != 3 {
		t.Errorf("%d rows, want 3", n)
	}
	if c.Version() != "SKB; sha256:"+c.Version()[len("SKB; sha256:"):] {
		t.Errorf("Version = %q", c.Version())
	}
}

func TestVersionFollowsTheFile(t *testing.T) {
	a, err := Load(strings.NewReader(embeddedTable), "a.csv", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a.Version() != mustDefault(t, true).Version() {
		t.Error("the same bytes give another version")
	}
	b, err := Load(strings.NewReader(embeddedTable+"# edited\n"), "b.csv", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if a.Version() == b.Version() {
		t.Error("an edited file keeps its version")
	}
	two := embeddedTable + "2027-01-01,libur_nasional,Tahun Baru 2027 Masehi,SKB Menag-Menaker-MenPANRB No. 9/9/9 Tahun 2026\n"
	c, err := Load(strings.NewReader(two), "c.csv", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Version(); !strings.HasPrefix(got, "SKB 1497/2/5 Tahun 2025 + SKB 9/9/9 Tahun 2026; sha256:") {
		t.Errorf("Version = %q", got)
	}
}

func TestLoadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "libur.csv")
	if err := os.WriteFile(p, []byte(header+"2026-08-17,libur_nasional,Merdeka,SKB\n2026-08-18,libur,X,SKB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(p, DefaultOptions())
	if err == nil || err.Error() != p+`:3: type "libur": want libur_nasional or cuti_bersama` {
		t.Errorf("err = %v", err)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.csv"), DefaultOptions()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
	if _, err := Load(strings.NewReader(header), "x.csv", Options{OfficeStart: "x"}); err == nil {
		t.Error("bad options accepted")
	}
}

// The embedded table is a copy of ../shared/data/holidays-id.csv; when the
// shared file changes, copy it again (the version changes with it).
func TestEmbeddedMatchesSharedData(t *testing.T) {
	dir, err := shareddata.Dir()
	if err != nil {
		t.Skip(err)
	}
	shared, err := os.ReadFile(filepath.Join(dir, "holidays-id.csv"))
	if err != nil {
		t.Skip(err)
	}
	if !bytes.Equal(shared, []byte(embeddedTable)) {
		t.Error("calendar/holidays-id.csv differs from the shared holidays-id.csv")
	}
}
