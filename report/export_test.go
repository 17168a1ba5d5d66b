package report

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tanggap/tanggap"
	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// hostile adds citizen-derived strings that try formula injection, HTML
// and line breaks to the fixture.
func hostile(d *Data) *Data {
	for i := range d.Items {
		it := &d.Items[i]
		switch it.PostID {
		case "a1":
			it.Author, it.AuthorName = "warga88", "Budi Santoso"
		case "a3":
			it.Author = "=cmd|' /C calc'!A0"
			it.Text = "Sampah numpuk\n\tdi depan <script>alert(1)</script> pasar,\r\nsudah 3 hari tidak diangkut; truk tidak datang dan warga mulai membakar sampah sendiri sehingga asapnya masuk ke rumah-rumah."
		case "a4":
			it.Author = "+6281234567888"
			it.Topic = "@bau"
		case "a6":
			it.Evidence = "-2+3"
			it.ExternalRef = "@LAPOR-123"
			it.Officer = "dlh.admin"
		}
	}
	return d
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test ./report -update rewrites it):\n%s", name, diff)
	}
}

func TestCSVGolden(t *testing.T) {
	d := hostile(fixture())
	rep := build(t, d)
	// The goldens must not change when the holiday table gains a year.
	rep.CalendarVersion = "SKB (uji); sha256:000000000000"
	tests := []struct {
		file  string
		write func(w io.Writer) error
	}{
		{"rekap.csv", func(w io.Writer) error { return WriteRecapCSV(w, rep, CSVOptions{Lang: "id"}) }},
		{"rekap_semicolon.csv", func(w io.Writer) error { return WriteRecapCSV(w, rep, CSVOptions{Lang: "id", Semicolon: true}) }},
		{"rekap_en.csv", func(w io.Writer) error { return WriteRecapCSV(w, rep, CSVOptions{Lang: "en"}) }},
		{"register_semicolon.csv", func(w io.Writer) error {
			return WriteRegisterCSV(w, rep, rep.BuildRegister(d, RegisterOptions{Lang: "id"}), CSVOptions{Lang: "id", Semicolon: true})
		}},
		{"register_unmasked.csv", func(w io.Writer) error {
			return WriteRegisterCSV(w, rep, rep.BuildRegister(d, RegisterOptions{Lang: "id", Unmask: true}), CSVOptions{Lang: "id"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b.Bytes(), []byte(BOM)) {
				t.Fatal("no UTF-8 BOM")
			}
			golden(t, tt.file, b.Bytes())
			// Every record parses back, and no text cell can start a formula.
			r := csv.NewReader(bytes.NewReader(b.Bytes()[len(BOM):]))
			r.Comma = ','
			if strings.Contains(tt.file, "semicolon") {
				r.Comma = ';'
			}
			r.FieldsPerRecord = -1
			recs, err := r.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range recs {
				for _, cell := range rec {
					if cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) {
						t.Errorf("cell %q starts a formula", cell)
					}
					if cell != "" && cell[0] == '-' && !isNumber(cell) {
						t.Errorf("text cell %q starts with '-'", cell)
					}
				}
			}
		})
	}
}

func isNumber(s string) bool {
	s = strings.Replace(s, ",", ".", 1)
	for i, r := range s {
		if !(r >= '0' && r <= '9' || r == '.' || (i == 0 && r == '-')) {
			return false
		}
	}
	return true
}

func TestRegister(t *testing.T) {
	d := hostile(fixture())
	rep := build(t, d)
	reg := rep.BuildRegister(d, RegisterOptions{Lang: "id"})
	var ids []string
	for _, r := range reg.Rows {
		ids = append(ids, r.ID)
	}
	// T0 order; official replies and noise are not registered; Others (the
	// carry-over) are not in the period.
	want := []string{"facebook:d1", "instagram:a1", "instagram:a2", "facebook:d2", "x:b1", "facebook:d3", "x:u1", "facebook:d4",
		"facebook:d5", "instagram:a3", "x:a4", "x:a5", "facebook:a6", "instagram:b2"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Fatalf("register ids (-want +got):\n%s", diff)
	}
	byID := map[string]RegisterRow{}
	for _, r := range reg.Rows {
		byID[r.ID] = r
	}
	a3 := byID["instagram:a3"]
	if a3.Reporter != "=c***A0" {
		t.Errorf("masked reporter %q", a3.Reporter)
	}
	if strings.ContainsAny(a3.Summary, "\n\r\t") || !strings.HasSuffix(a3.Summary, "…") || len([]rune(a3.Summary)) != SummaryRunes+1 {
		t.Errorf("summary %q", a3.Summary)
	}
	a4 := byID["x:a4"]
	// Open, running follow-up clock due 17 Mar 16:00; now 1 Apr 09:00:
	// 17 Mar 16:00 to 1 Apr 09:00 is 0+0+24+16+1 = 41 office hours late.
	if !a4.HasHKLeft || a4.HKLeft != -5.13 || !a4.Deadline.Equal(at(3, 17, 16, 0)) {
		t.Errorf("a4 HK left %v (%v), deadline %v", a4.HKLeft, a4.HasHKLeft, a4.Deadline)
	}
	a6 := byID["facebook:a6"]
	// Resolved 13 Mar 09:00, resolution deadline 23 Mar 09:00 (10 days):
	// 13 Mar 09:00-16:00 (7) + 16-17 Mar (16) = 23 office hours early.
	if !a6.HasHKLeft || a6.HKLeft != 2.88 || a6.StatusLabel != "Ditutup" {
		t.Errorf("a6 HK left %v, status %q", a6.HKLeft, a6.StatusLabel)
	}
	if u := byID["x:u1"]; u.OPDName != "Belum terdisposisi" || u.HasHKLeft {
		t.Errorf("unrouted row %+v", u)
	}
	if got := rep.BuildRegister(d, RegisterOptions{Unmask: true}).Rows[1].Reporter; got != "warga88 (Budi Santoso)" {
		t.Errorf("unmasked reporter %q", got)
	}
	if got := byID["instagram:a1"].Reporter; got != "wa***88" {
		t.Errorf("masked reporter %q", got)
	}
}

// A masked register (every role's default) names the reporter nowhere:
// not in the post's link, which on X carries the author's handle, nor in
// an @mention of the text; the city's own handles stay, and the unmasked
// register (the PPID Utama's, on request) keeps everything.
func TestMaskedRegisterHidesReporter(t *testing.T) {
	x := item("1900000000000000001", "lingkungan_hidup", tanggap.PlatformX, at(3, 5, 10, 0), tanggap.StatusAssigned)
	x.Author, x.AuthorName = "budi_santoso88", "Budi Santoso"
	x.URL = "https://x.com/budi_santoso88/status/1900000000000000001" // as collectors/x builds it
	x.Text = "@humasbekasi jalan rusak depan rumah saya, saya @Budi_Santoso88 sudah lapor 3x, tetangga @siti.r juga. budi@mail.example"
	fb := item("1187654321098765_912345678901001", "pdam", tanggap.PlatformFacebook, at(3, 5, 11, 0), tanggap.StatusAssigned)
	fb.Author = "Siti Rahmawati"
	fb.URL = "https://www.facebook.com/permalink.php?story_fbid=1187650000000001&id=26001234567890123"
	d := &Data{Period: march, Scope: scopeAll(), Items: []tanggap.Item{x, fb}}
	rep := build(t, d)
	opt := RegisterOptions{Lang: "id", Official: []string{"@HumasBekasi", "humaskotabekasi"}}
	reg := rep.BuildRegister(d, opt)
	row := reg.Rows[0]
	if want := "https://x.com/i/status/1900000000000000001"; row.Link != want {
		t.Errorf("link %q, want %q", row.Link, want)
	}
	if want := "@humasbekasi jalan rusak depan rumah saya, saya @Bu***88 sudah lapor 3x, tetangga @si***.r juga. budi@mail.example"; row.Summary != want {
		t.Errorf("summary %q, want %q", row.Summary, want)
	}
	if row := reg.Rows[1]; row.Link != "" {
		t.Errorf("a permalink.php link, whose id may be the poster's, is kept: %q", row.Link)
	}
	var csvb, xb bytes.Buffer
	if err := WriteRegisterCSV(&csvb, rep, reg, CSVOptions{Lang: "id"}); err != nil {
		t.Fatal(err)
	}
	if err := WriteRegisterXLSX(&xb, rep, reg, "id"); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"CSV": csvb.String(), "XLSX": UnzipParts(t, xb.Bytes())["xl/worksheets/sheet1.xml"]} {
		for _, id := range []string{"budi_santoso88", "26001234567890123", "siti.r"} {
			if strings.Contains(strings.ToLower(out), id) {
				t.Errorf("masked register %s holds %q", name, id)
			}
		}
	}
	un := rep.BuildRegister(d, RegisterOptions{Lang: "id", Unmask: true, Official: opt.Official}).Rows[0]
	if un.Link != x.URL || un.Summary != Summary(x.Text) {
		t.Errorf("unmasked register changed: link %q, summary %q", un.Link, un.Summary)
	}
}

// The links a masked register keeps: the forms the collectors write that
// name no citizen.
func TestMaskedLink(t *testing.T) {
	m := newMasker(RegisterOptions{Official: []string{"humasbekasi"}})
	tests := []struct{ in, want string }{
		{"https://x.com/warga_88/status/1900000000000000001", "https://x.com/i/status/1900000000000000001"},
		{"https://twitter.com/warga_88/status/19/photo/1", "https://x.com/i/status/19"},
		{"https://x.com/i/web/status/19", "https://x.com/i/status/19"},
		{"https://x.com/i/status/19", "https://x.com/i/status/19"},
		{"https://x.com/HumasBekasi/status/19", "https://x.com/HumasBekasi/status/19"},
		{"https://x.com/warga_88", ""},
		{"https://x.com/warga_88/status/abc", ""},
		{"https://www.instagram.com/p/DHZxYw12AbC/", "https://www.instagram.com/p/DHZxYw12AbC/"},
		{"https://www.instagram.com/p/DHa1b2C3d4E/c/17900000000000001/", "https://www.instagram.com/p/DHa1b2C3d4E/c/17900000000000001/"},
		{"https://www.instagram.com/reel/DHa1b2C3d4E/?igsh=c2hhcmVy", "https://www.instagram.com/reel/DHa1b2C3d4E/"},
		{"https://www.instagram.com/stories/warga_88/3600000000000000000/", ""},
		{"https://www.instagram.com/warga_88/", ""},
		{"https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc=UgzABC", "https://www.youtube.com/watch?lc=UgzABC&v=dQw4w9WgXcQ"},
		{"https://www.youtube.com/channel/UC123/community?lc=UgzABC", "https://www.youtube.com/channel/UC123/community?lc=UgzABC"},
		{"https://www.youtube.com/@warga_88", ""},
		{"https://www.facebook.com/104938271650123/posts/1187654321098765?comment_id=912345678901001&reply_comment_id=912345678901234",
			"https://www.facebook.com/104938271650123/posts/1187654321098765?comment_id=912345678901001&reply_comment_id=912345678901234"},
		{"https://www.facebook.com/104938271650123/posts/1187654321098765?comment_id=1&__cft__=abc", "https://www.facebook.com/104938271650123/posts/1187654321098765?comment_id=1"},
		{"https://www.facebook.com/permalink.php?story_fbid=1&id=26001234567890123", ""},
		{"https://www.facebook.com/warga_88/posts/1", ""}, // the reporter's own handle, whatever the form
		{"https://example.org/p/warga_88", ""},
		{"https://user@x.com/i/status/19", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := m.link(tt.in, "Warga_88"); got != tt.want {
			t.Errorf("link(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskMentions(t *testing.T) {
	m := newMasker(RegisterOptions{Official: []string{"@humasbekasi", "dlh.bekasi"}})
	tests := []struct{ in, want string }{
		{"@budi_santoso88", "@bu***88"},
		{"tolong @HumasBekasi @dlh.bekasi. saya @budi_santoso88.", "tolong @HumasBekasi @dlh.bekasi. saya @bu***88."},
		{"(@abc) @ @@abcdef", "(@a***) @ @@ab***ef"},
		{"budi.santoso@gmail.com", "budi.santoso@gmail.com"},
		{"kami.@budi_santoso88", "kami.@bu***88"},
		{"jalan @rusak😀 é@x", "jalan @ru***ak😀 é@x***"},
		{"tanpa mention", "tanpa mention"},
	}
	for _, tt := range tests {
		if got := m.mentions(tt.in); got != tt.want {
			t.Errorf("mentions(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"warga88", "wa***88"},
		{"@warga_bekasi", "@w***si"},
		{"Budi Santoso", "Bu***so"},
		{"abcde", "ab***de"},
		{"abcd", "a***"},
		{"ab", "a***"},
		{"", ""},
		{"  ", ""},
		{"Ñandú99", "Ña***99"},
		{"😀😀x😀😀", "😀😀***😀😀"},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSafeCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=1+1", "'=1+1"},
		{"+62812", "'+62812"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"  =cmd", "'  =cmd"},
		{"\t=x", "'\t=x"},
		{"\rx", "'\rx"},
		{"jalan rusak", "jalan rusak"},
		{"a=b", "a=b"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := SafeCell(tt.in); got != tt.want {
			t.Errorf("SafeCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSummary(t *testing.T) {
	long := strings.Repeat("abc ", 40)
	tests := []struct{ in, want string }{
		{"  satu\n\ndua\tti\x00ga  ", "satu dua ti ga"},
		{"a\u2028b\u00a0c", "a b c"},
		{long, strings.TrimSpace(long[:SummaryRunes]) + "…"},
		{strings.Repeat("é", SummaryRunes), strings.Repeat("é", SummaryRunes)},
		{strings.Repeat("é", SummaryRunes+1), strings.Repeat("é", SummaryRunes) + "…"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
	}
	for _, tt := range tests {
		if got := Summary(tt.in); got != tt.want {
			t.Errorf("Summary(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRecapXLSX(t *testing.T) {
	rep := build(t, hostile(fixture()))
	var b bytes.Buffer
	if err := WriteRecapXLSX(&b, rep, "id"); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if diff := cmp.Diff([]string{"Rekap", "Peringkat", "Keterangan"}, f.GetSheetList()); diff != "" {
		t.Fatalf("sheets (-want +got):\n%s", diff)
	}
	cell := func(sheet, ref string) string {
		t.Helper()
		v, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Title, header on row 5, DLH on row 6, DBMSDA row 7, Dishub row 8, PDAM
	// row 9, unrouted row 10, total row 11.
	for _, c := range []struct{ sheet, ref, want string }{
		{"Rekap", "A1", "Rekapitulasi Pengaduan Media Sosial per Perangkat Daerah"},
		{"Rekap", "A2", "Periode: Maret 2026"},
		{"Rekap", "C5", "Perangkat Daerah"},
		{"Rekap", "E5", "Sisa awal periode"},
		{"Rekap", "B6", "lingkungan_hidup"},
		{"Rekap", "D6", "2"},
		{"Rekap", "E6", "2"},
		{"Rekap", "F6", "6"},
		{"Rekap", "Q6", "5"},   // need an answer
		{"Rekap", "T6", "0.8"}, // % followed up, a fraction
		{"Rekap", "U6", "0.6"},
		{"Rekap", "X6", "10"}, // median hours
		{"Rekap", "AA6", "3"}, // p90 working hours
		{"Rekap", "AB6", "2"}, // mean resolution HK
		{"Rekap", "AD6", "22.875"},
		{"Rekap", "AE6", "Instagram"},
		{"Rekap", "D7", "belum cukup data"},
		{"Rekap", "C10", "Belum terdisposisi"},
		{"Rekap", "C11", "Jumlah"},
		{"Rekap", "F11", "14"},
		{"Peringkat", "A6", "1"},
		{"Peringkat", "B6", "perhubungan"},
		{"Peringkat", "A8", "belum cukup data"},
		{"Keterangan", "B5", rep.CalendarVersion},
		{"Keterangan", "B6", "dihitung sebagai hari libur (bukan hari kerja)"},
	} {
		if got := cell(c.sheet, c.ref); got != c.want {
			t.Errorf("%s!%s = %q, want %q", c.sheet, c.ref, got, c.want)
		}
	}
	if fs, _ := f.GetCellFormula("Rekap", "T6"); fs != "" {
		t.Errorf("recap has a formula: %q", fs)
	}
	rows, _ := f.GetRows("Keterangan")
	var all []string
	for _, r := range rows {
		all = append(all, strings.Join(r, "|"))
	}
	joined := strings.Join(all, "\n")
	for _, want := range []string{"Persentase tindak lanjut = Dijawab ÷ Perlu jawaban × 100%", "Periode|Maret 2026 (2026-03-01 – 2026-03-31)", "Cuti bersama|"} {
		if !strings.Contains(joined, want) {
			t.Errorf("notes lack %q:\n%s", want, joined)
		}
	}
}

func TestRegisterXLSX(t *testing.T) {
	d := hostile(fixture())
	rep := build(t, d)
	reg := rep.BuildRegister(d, RegisterOptions{Lang: "id"})
	var b bytes.Buffer
	if err := WriteRegisterXLSX(&b, rep, reg, "id"); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Register")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(reg.Rows) {
		t.Fatalf("%d rows, want %d", len(rows), 1+len(reg.Rows))
	}
	if diff := cmp.Diff(RegisterColumns("id"), rows[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	// Row of a3 (10th in T0 order): injection stays a plain string.
	r := 1 + 10
	get := func(col string) string {
		v, err := f.GetCellValue("Register", col+itoa(r), excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := get("A"); got != "instagram:a3" {
		t.Fatalf("A%d = %q", r, got)
	}
	if got := get("H"); got != "=c***A0" {
		t.Errorf("reporter %q", got)
	}
	if fm, _ := f.GetCellFormula("Register", "H"+itoa(r)); fm != "" {
		t.Errorf("reporter became a formula %q", fm)
	}
	if typ, _ := f.GetCellType("Register", "H"+itoa(r)); typ != excelize.CellTypeInlineString {
		t.Errorf("reporter cell type %v", typ)
	}
	// T0 as a date-time cell, in WIB: 6 Mar 2026 15:00.
	serial := get("B")
	posted, err := excelize.ExcelDateToTime(mustFloat(t, serial), false)
	if err != nil || !posted.Equal(time.Date(2026, 3, 6, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("posted %q -> %v %v", serial, posted, err)
	}
	if got, _ := f.GetCellValue("Register", "B"+itoa(r)); got != "2026-03-06 15:00" {
		t.Errorf("posted shown as %q", got)
	}
	// a4: 5.13 HK late, as a number.
	r = 1 + 11
	if got := get("V"); got != "-5.13" {
		t.Errorf("HK left %q", got)
	}
	notes, _ := f.GetRows("Keterangan")
	var flat []string
	for _, n := range notes {
		flat = append(flat, n...)
	}
	if !strings.Contains(strings.Join(flat, "\n"), "Identitas pelapor disamarkan") {
		t.Error("notes do not say reporters are masked")
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return v
}

func TestChartsEscapeAndNoInlineStyle(t *testing.T) {
	d := hostile(fixture())
	for i := range d.Items {
		if d.Items[i].PostID == "a1" {
			d.Items[i].Topic = `<script>alert("t")</script>`
			d.Items[i].Kecamatan = `" onload="alert(1)`
		}
	}
	rep := build(t, d)
	for _, lang := range []string{"id", "en"} {
		ch := rep.ChartSVG(lang)
		for name, svg := range map[string]string{"weekly": string(ch.Weekly), "frt": string(ch.FirstResponse), "aging": string(ch.Aging),
			"topics": string(ch.Topics), "kecamatan": string(ch.Kecamatan)} {
			if strings.Contains(svg, "<script") || strings.Contains(svg, `" onload=`) {
				t.Errorf("%s/%s: unescaped label:\n%s", lang, name, svg)
			}
			if strings.Contains(svg, "style=") || strings.Contains(svg, "<style") {
				t.Errorf("%s/%s: inline style", lang, name)
			}
			if err := wellFormed(svg); err != nil {
				t.Errorf("%s/%s: not well-formed XML: %v\n%s", lang, name, err, svg)
			}
			if !strings.HasPrefix(svg, "<svg ") || !strings.Contains(svg, `role="img"`) {
				t.Errorf("%s/%s: %s", lang, name, svg[:min(80, len(svg))])
			}
		}
		if !strings.Contains(string(ch.Topics), "&lt;script&gt;") || !strings.Contains(string(ch.Kecamatan), "&#34; onload=") {
			t.Errorf("%s: labels missing or not escaped", lang)
		}
		// The aging buckets carry the Indonesian unit; the English chart's
		// title names its unit instead.
		if hk := strings.Contains(string(ch.Aging), " HK<"); hk != (lang == "id") {
			t.Errorf("%s: aging buckets with \" HK\": %v", lang, hk)
		}
	}
}

func wellFormed(s string) error {
	dec := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestChartData(t *testing.T) {
	rep := build(t, fixture())
	cd := rep.Charts
	// Answered: 0.5 h, 1 h (x6), 2 h, 18 h, 67 h; unanswered: a4, b2, u1.
	if diff := cmp.Diff([]int{7, 1, 0, 0, 1, 0, 1, 0}, cd.FRBuckets); diff != "" {
		t.Errorf("first-response buckets (-want +got):\n%s", diff)
	}
	if cd.FRUnanswered != 3 {
		t.Errorf("unanswered %d", cd.FRUnanswered)
	}
	// Open now: DLH a1, a3 (~16-17 HK), a4 (~11 HK), c1 (~23 HK), e1 (<1 HK);
	// DBMSDA b1 (16 HK), b2 (<1 HK); Dishub d1-d5 (13-17 HK); u1 (15 HK).
	var open int
	for _, a := range cd.Aging {
		open += a[0] + a[1] + a[2]
	}
	if open != 13 || cd.Aging[0][2] != 2 || cd.Aging[3][0] != 0 {
		t.Errorf("aging %v", cd.Aging)
	}
	if diff := cmp.Diff([]Count{{"sampah", 3}, {"bau", 2}}, cd.Topics); diff != "" {
		t.Errorf("topics (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Count{{"Bekasi Timur", 2}, {"Rawalumbu", 2}}, cd.Kecamatan); diff != "" {
		t.Errorf("kecamatan (-want +got):\n%s", diff)
	}
	var series []string
	for _, s := range cd.WeeklySeries {
		series = append(series, s.Label)
	}
	if diff := cmp.Diff([]string{"DLH", "Dishub", "DBMSDA", ""}, series); diff != "" {
		t.Errorf("weekly series (-want +got):\n%s", diff)
	}
	// Week of 2 March: DLH a1, a2, a3; Dishub d1-d5; DBMSDA b1; unrouted u1.
	if got := cd.WeeklySeries[0].Counts[1]; got != 3 {
		t.Errorf("DLH week 2 = %d", got)
	}
}
