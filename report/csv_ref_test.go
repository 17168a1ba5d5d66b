package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeRegisterCSVEncoding is WriteRegisterCSV as it was, every row through
// encoding/csv: the reference of the tests.
func writeRegisterCSVEncoding(w io.Writer, rep *Report, reg *Register, opt CSVOptions) error {
	c, bw, err := newCSV(w, opt, rep.loc)
	if err != nil {
		return err
	}
	cols := RegisterColumns(opt.Lang)
	for i := range cols {
		cols[i] = c.txt(cols[i])
	}
	c.w.Write(cols)
	rec := make([]string, len(cols))
	for i := range reg.Rows {
		r := &reg.Rows[i]
		hk := ""
		if r.HasHKLeft {
			hk = c.num(r.HKLeft, 2)
		}
		code := r.OPD
		if code == "" {
			code = "_unrouted"
		}
		rec = append(rec[:0], c.txt(r.ID), c.time(r.Posted), c.time(r.Captured), c.txt(r.Platform), c.txt(r.Account),
			c.txt(r.Interaction), c.txt(r.Link), c.txt(r.Reporter), c.txt(r.Summary), c.txt(r.Kind), c.txt(r.Topic),
			c.txt(r.Kecamatan), c.txt(r.Kelurahan), c.txt(code), c.txt(r.OPDName), c.time(r.Assigned), c.time(r.FirstResponse),
			c.time(r.Resolved), c.txt(r.Evidence), c.txt(r.StatusLabel), c.time(r.Deadline), hk, c.txt(r.ExternalRef), c.txt(r.Officer))
		if err := c.w.Write(rec); err != nil {
			return err
		}
	}
	mask := text(opt.Lang, "meta_masked")
	if reg.Unmasked {
		mask = text(opt.Lang, "meta_unmasked")
	}
	c.footer(rep, text(opt.Lang, "title_register"), mask)
	return c.close(bw)
}

// oddRegister is the fixture's register plus rows whose texts, times and
// numbers exercise every rule of CSV quoting and of the time and number
// formats.
func oddRegister(t *testing.T) (*Report, *Register) {
	t.Helper()
	d := hostile(fixture())
	rep := build(t, d)
	reg := rep.BuildRegister(d, RegisterOptions{Lang: "id"})
	base := reg.Rows[0]
	texts := []string{"", `\.`, `"kutip"`, "koma, titik; koma", "baris\nbaru", "cr\rsaja", "crlf\r\nakhir", " spasi", "\tTab",
		"\u00a0nbsp", "\u0085nel", "\nawal", "\vvt", "\fff", "\u2003em", "=1+1", "-2", "@x", "+62", "😀", "a\x00b", "\xff\xfe", "teks biasa"}
	hk := []float64{0, -0.001, 0.004, -0.005, 12.345, -17.125, 1e21, math.Inf(1), 2.5, -3}
	for i, s := range texts {
		r := base
		r.ID, r.Summary, r.Reporter, r.Topic, r.Officer = fmt.Sprintf("odd:%d", i), s, s, s, s
		r.HKLeft, r.HasHKLeft = hk[i%len(hk)], i%3 != 0
		r.Posted = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 7 * time.Hour)
		r.Captured = r.Posted.Add(59*time.Second + 999*time.Millisecond)
		r.Resolved = time.Date(1960+i, 1, 1, 0, 0, 30, 0, time.UTC)
		reg.Rows = append(reg.Rows, r)
	}
	return rep, reg
}

// WriteRegisterCSV writes what encoding/csv wrote, byte for byte, in both
// dialects, with times in zones that change offset (DST, and local mean
// time before 1924 in Jakarta).
func TestRegisterCSVSameAsEncodingCSV(t *testing.T) {
	rep, reg := oddRegister(t)
	for _, zone := range []string{"Asia/Jakarta", "Europe/Berlin", "America/Sao_Paulo", "Australia/Lord_Howe"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		r := *rep
		r.loc = loc
		// Times across DST changes and days, in and out of order.
		rows := append([]RegisterRow(nil), reg.Rows...)
		for i := range 200 {
			x := rows[i%len(rows)]
			x.ID = fmt.Sprintf("dst:%d", i)
			x.Posted = time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*37) * time.Minute)
			x.Deadline = time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*-41) * time.Minute)
			x.Assigned = time.Date(1920+i%10, 6, 1, 12, 0, 0, 0, time.UTC)
			if i%50 == 0 {
				x.FirstResponse = time.Date(10000+i, 1, 2, 3, 4, 5, 0, time.UTC)
			}
			rows = append(rows, x)
		}
		rg := &Register{Rows: rows, Unmasked: reg.Unmasked}
		for _, opt := range []CSVOptions{{Lang: "id"}, {Lang: "id", Semicolon: true}, {Lang: "en"}, {Lang: "en", Semicolon: true}} {
			var got, want bytes.Buffer
			if err := WriteRegisterCSV(&got, &r, rg, opt); err != nil {
				t.Fatal(err)
			}
			if err := writeRegisterCSVEncoding(&want, &r, rg, opt); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(strings.Split(want.String(), "\r\n"), strings.Split(got.String(), "\r\n")); diff != "" {
				t.Fatalf("%s %+v: differs from encoding/csv (-want +got):\n%s", zone, opt, diff)
			}
		}
	}
}

func TestAppendDecimal(t *testing.T) {
	for _, v := range []float64{0, math.Copysign(0, -1), -0.001, -0.05, -0.5, 0.004, 12.345, -17.125, 1e21, -1e-9, math.Inf(-1), math.NaN(), 99.995} {
		for dec := range 3 {
			for _, lang := range []string{"id", "en"} {
				want := Decimal(v, dec, lang)
				if got := string(appendDecimal([]byte("x"), v, dec, lang)[1:]); got != want {
					t.Errorf("appendDecimal(%v, %d, %s) = %q, want %q", v, dec, lang, got, want)
				}
			}
		}
	}
}
