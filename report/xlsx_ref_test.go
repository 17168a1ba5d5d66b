package report

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

// writeRegisterXLSXExcelize is WriteRegisterXLSX as it was before the rows
// were written by sheetWriter: every cell through excelize's stream writer.
// The test compares the two.
func writeRegisterXLSXExcelize(w io.Writer, rep *Report, reg *Register, lang string) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	sheet := text(lang, "sheet_register")
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	cols := RegisterColumns(lang)
	colW := []float64{24, 17, 17, 10, 18, 11, 30, 16, 60, 14, 18, 16, 16, 18, 30, 17, 17, 17, 30, 14, 17, 12, 18, 14}
	for i, wd := range colW[:min(len(colW), len(cols))] {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	head := make([]any, len(cols))
	for i, c := range cols {
		head[i] = excelize.Cell{StyleID: st.header, Value: c}
	}
	if err := sw.SetRow("A1", head, excelize.RowOpts{Height: 30}); err != nil {
		return err
	}
	loc := rep.loc
	txt := func(s string) excelize.Cell { return excelize.Cell{StyleID: st.text, Value: s} }
	when := func(t time.Time) excelize.Cell {
		if t.IsZero() {
			return excelize.Cell{StyleID: st.when}
		}
		return excelize.Cell{StyleID: st.when, Value: t.In(loc)}
	}
	vals := make([]any, len(cols))
	for i := range reg.Rows {
		r := &reg.Rows[i]
		hk := excelize.Cell{StyleID: st.dec2}
		if r.HasHKLeft {
			hk.Value = r.HKLeft
		}
		code := r.OPD
		if code == "" {
			code = "_unrouted"
		}
		vals = append(vals[:0], txt(r.ID), when(r.Posted), when(r.Captured), txt(r.Platform), txt(r.Account), txt(r.Interaction),
			txt(r.Link), txt(r.Reporter), txt(r.Summary), txt(r.Kind), txt(r.Topic), txt(r.Kecamatan), txt(r.Kelurahan), txt(code),
			txt(r.OPDName), when(r.Assigned), when(r.FirstResponse), when(r.Resolved), txt(r.Evidence), txt(r.StatusLabel),
			when(r.Deadline), hk, txt(r.ExternalRef), txt(r.Officer))
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, vals); err != nil {
			return fmt.Errorf("register row %d: %w", i+1, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	mask := text(lang, "meta_masked")
	if reg.Unmasked {
		mask = text(lang, "meta_unmasked")
	}
	if err := rep.notesSheet(f, st, text(lang, "title_register"), lang, mask); err != nil {
		return err
	}
	return f.Write(w)
}

// UnzipParts is unzipParts for the external tests (package report_test).
var UnzipParts = unzipParts

// unzipParts reads every part of an XLSX file.
func unzipParts(t *testing.T, b []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out[f.Name] = string(data)
	}
	return out
}

// The register written by sheetWriter is, part for part, the workbook
// excelize's stream writer wrote, including for values excelize escapes,
// truncates or marks (surrounding space, _xHHHH_, invalid UTF-8, control
// characters, 40,000-character texts, instants before 1900, NaN).
func TestRegisterXLSXSameAsExcelize(t *testing.T) {
	d := hostile(fixture())
	rep := build(t, d)
	for _, unmask := range []bool{false, true} {
		reg := rep.BuildRegister(d, RegisterOptions{Lang: "id", Unmask: unmask})
		odd := reg.Rows[0]
		for i, s := range []string{" lead", "trail\t", "_x0041_ and _x005F_x0041_ and _x005F_ and _xD800_", "a\x01b\x7f\xffc",
			"<&>\"'", "baris\nbaru\r\n", "😀 ÷ × –", strings.Repeat("ab😀", 14000), strings.Repeat("x", 32768), ""} {
			r := odd
			r.ID, r.Summary, r.Reporter, r.Officer = fmt.Sprintf("odd:%d", i), s, s, s
			switch i {
			case 0:
				r.Posted = time.Date(1899, 12, 1, 10, 0, 0, 0, time.UTC)
			case 1:
				r.HKLeft, r.HasHKLeft = math.NaN(), true
			case 2:
				r.HKLeft, r.HasHKLeft = 1234567.123456789012, true
			case 3:
				r.HKLeft, r.HasHKLeft = -0.004, true
			case 4:
				r.Resolved = time.Date(2026, 3, 5, 23, 59, 59, 999_000_000, time.UTC)
			}
			reg.Rows = append(reg.Rows, r)
		}
		for _, lang := range []string{"id", "en"} {
			var got, want bytes.Buffer
			if err := WriteRegisterXLSX(&got, rep, reg, lang); err != nil {
				t.Fatal(err)
			}
			if err := writeRegisterXLSXExcelize(&want, rep, reg, lang); err != nil {
				t.Fatal(err)
			}
			g, w := unzipParts(t, got.Bytes()), unzipParts(t, want.Bytes())
			if diff := cmp.Diff(w, g); diff != "" {
				t.Fatalf("unmask=%v lang=%s: parts differ (-excelize +sheetWriter):\n%s", unmask, lang, diff)
			}
		}
	}
}

// A register of many rows spans many compressed chunks and reads back.
func TestRegisterXLSXLarge(t *testing.T) {
	d := hostile(fixture())
	rep := build(t, d)
	reg := rep.BuildRegister(d, RegisterOptions{Lang: "id"})
	base := reg.Rows
	for len(reg.Rows) < 6000 {
		for _, r := range base {
			r.ID = fmt.Sprintf("%s#%d", r.ID, len(reg.Rows))
			reg.Rows = append(reg.Rows, r)
		}
	}
	var got, want bytes.Buffer
	if err := WriteRegisterXLSX(&got, rep, reg, "id"); err != nil {
		t.Fatal(err)
	}
	if err := writeRegisterXLSXExcelize(&want, rep, reg, "id"); err != nil {
		t.Fatal(err)
	}
	g, w := unzipParts(t, got.Bytes()), unzipParts(t, want.Bytes())
	if len(g[registerSheetPath]) < 3*deflateChunk {
		t.Fatalf("sheet of %d bytes: too small to span chunks", len(g[registerSheetPath]))
	}
	if g[registerSheetPath] != w[registerSheetPath] {
		t.Fatal("large register sheet differs from excelize's")
	}
	f, err := excelize.OpenReader(&got)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(text("id", "sheet_register"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(reg.Rows) || rows[len(rows)-1][0] != reg.Rows[len(reg.Rows)-1].ID {
		t.Fatalf("%d rows read back, last %v", len(rows), rows[len(rows)-1][:1])
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

// FailWriter is failWriter for the external tests: it fails after n bytes.
func FailWriter(n int) io.Writer { return &failWriter{n: n} }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, fmt.Errorf("connection lost")
	}
	w.n -= len(p)
	return len(p), nil
}

// A destination that fails mid-file makes the export fail, and leaves no
// goroutine of the row writers or of the compressor behind.
func TestXLSXWriteErrorEndsGoroutines(t *testing.T) {
	d := hostile(fixture())
	rep := build(t, d)
	reg := rep.BuildRegister(d, RegisterOptions{Lang: "id"})
	base := reg.Rows
	for len(reg.Rows) < 8000 {
		reg.Rows = append(reg.Rows, base...)
	}
	before := runtime.NumGoroutine()
	for _, n := range []int{0, 100, 5000, 300_000} {
		if err := WriteRegisterXLSX(&failWriter{n: n}, rep, reg, "id"); err == nil {
			t.Errorf("failing after %d bytes: no error", n)
		}
		if err := WriteRecapXLSX(&failWriter{n: n}, rep, "id"); err == nil && n < 5000 {
			t.Errorf("recap failing after %d bytes: no error", n)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
