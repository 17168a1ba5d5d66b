package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/report"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/workflow"
	"github.com/xuri/excelize/v2"
)

func fetch(t *testing.T, c *http.Client, u string) (*http.Response, []byte) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// TestReportAuthorization walks the report routes with every role: only
// the PPID Utama sees every OPD and may unmask reporters; an OPD's roles
// see their own OPD; the operator sees no citizen data at all.
func TestReportAuthorization(t *testing.T) {
	f := newFixture(t)
	const (
		ok  = 200
		see = 303
		bad = 400
		fb  = 403
	)
	type want map[string]int
	all := func(anon, dlh, dlhppid, dbm, humas, ops int) want {
		return want{"": anon, "dlh": dlh, "dlh.ppid": dlhppid, "dbm": dbm, "humas": humas, "ops": ops}
	}
	routes := []struct {
		path string
		w    want
	}{
		{"/laporan", all(see, ok, ok, ok, ok, fb)},
		{"/laporan/cetak", all(see, ok, ok, ok, ok, fb)},
		{"/laporan/rekap.csv", all(see, ok, ok, ok, ok, fb)},
		{"/laporan/rekap.xlsx", all(see, ok, ok, ok, ok, fb)},
		{"/laporan/register.csv", all(see, ok, ok, ok, ok, fb)},
		{"/laporan/register.xlsx", all(see, ok, ok, ok, ok, fb)},
		{"/laporan?opd=lingkungan_hidup", all(see, ok, ok, fb, ok, fb)},
		{"/laporan?opd=bina_marga_sda", all(see, fb, fb, ok, ok, fb)},
		{"/laporan?opd=_unrouted", all(see, fb, fb, fb, ok, fb)},
		{"/laporan/register.csv?opd=bina_marga_sda", all(see, fb, fb, ok, ok, fb)},
		{"/laporan/register.csv?unmask=1", all(see, fb, fb, fb, ok, fb)},
		{"/laporan/register.xlsx?unmask=1", all(see, fb, fb, fb, ok, fb)},
		{"/laporan/register.csv?unmask=yes", all(see, bad, bad, bad, bad, fb)},
		{"/laporan/rekap.csv?unmask=1", all(see, fb, fb, fb, bad, fb)},
		{"/laporan?month=2026-13", all(see, bad, bad, bad, bad, fb)},
		{"/laporan?month=2026-03&from=2026-03-01&to=2026-03-31", all(see, ok, ok, ok, ok, fb)}, // the range wins
		{"/laporan?month=2026-03&from=&to=", all(see, ok, ok, ok, ok, fb)},                     // the picker's empty range
		{"/laporan?from=2026-03-01", all(see, bad, bad, bad, bad, fb)},
		{"/laporan?from=2026-03-10&to=2026-03-01", all(see, bad, bad, bad, bad, fb)},
		{"/laporan?from=2024-01-01&to=2026-03-01", all(see, bad, bad, bad, bad, fb)},
		{"/laporan?month=0001-01", all(see, bad, bad, bad, bad, fb)}, // years: 2000 to next year
		{"/laporan/register.csv?from=0001-01-01&to=0001-01-01", all(see, bad, bad, bad, bad, fb)},
		{"/laporan/rekap.xlsx?month=1999-12", all(see, bad, bad, bad, bad, fb)},
		{"/laporan?month=2000-01", all(see, ok, ok, ok, ok, fb)},
		{"/laporan?month=2027-12", all(see, ok, ok, ok, ok, fb)},
		{"/laporan/cetak?month=2028-01", all(see, bad, bad, bad, bad, fb)},
		{"/laporan/rekap.csv?sep=tab", all(see, bad, bad, bad, bad, fb)},
		{"/laporan?opd=tidak_ada", all(see, fb, fb, fb, bad, fb)},
		{"/laporan?from=2026-03-01&to=2026-03-17&opd=lingkungan_hidup", all(see, ok, ok, fb, ok, fb)},
	}
	clients := map[string]*http.Client{}
	for login := range routes[0].w {
		clients[login] = f.client(t, login)
	}
	for _, rt := range routes {
		for login, code := range rt.w {
			res, body := fetch(t, clients[login], f.srv.URL+rt.path)
			if res.StatusCode != code {
				t.Errorf("GET %s as %q: got %d, want %d: %.200s", rt.path, login, res.StatusCode, code, body)
			}
		}
	}
}

func TestReportPage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A post whose triage fields carry markup: every label must be escaped.
	created := f.now.Add(-5 * time.Hour)
	if _, err := f.st.Ingest(ctx, store.Ingest{
		Post: tanggap.Post{Platform: tanggap.PlatformInstagram, ID: "301", Text: "banjir", Author: "warga_301", Account: "humasbekasikota",
			CreatedAt: created, CapturedAt: created, ThreadID: "301", URL: "https://instagram.com/p/301"},
		Kind: tanggap.KindComplaint, OPD: "lingkungan_hidup", Status: tanggap.StatusAssigned, Queued: true,
		Topic: `<img src=x onerror=alert(1)>`, Kecamatan: `"><script>alert(2)</script>`,
	}); err != nil {
		t.Fatal(err)
	}
	res, b := fetch(t, f.client(t, "humas"), f.srv.URL+"/laporan")
	body := string(b)
	if res.StatusCode != 200 {
		t.Fatalf("%d: %s", res.StatusCode, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	for _, want := range []string{
		"Rekapitulasi Pengaduan Media Sosial per Perangkat Daerah",
		"Peringkat Tanggapan per Perangkat Daerah",
		"Periode: <b>Maret 2026</b>",
		"Persentase tindak lanjut = Dijawab ÷ Perlu jawaban × 100%",
		"belum cukup data",
		"Dinas Lingkungan Hidup", "Dinas Bina Marga dan Sumber Daya Air", "Belum terdisposisi",
		"SKB 1497/2/5 Tahun 2025",
		"dihitung sebagai hari libur",
		`<svg xmlns="http://www.w3.org/2000/svg" class="chart"`,
		`href="/static/report.css"`,
		`href="/laporan/register.xlsx?month=2026-03&amp;unmask=1"`,
		`href="/laporan/rekap.csv?month=2026-03&amp;sep=semicolon"`,
		"&lt;img src=x onerror=alert(1)&gt;",
		`&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;`,
		`value="2026-03"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("report page lacks %q", want)
		}
	}
	for _, bad := range []string{"<img src=x", "<script>alert(2)", "style=\"", "<style"} {
		if strings.Contains(body, bad) {
			t.Errorf("report page contains %q", bad)
		}
	}

	_, b = fetch(t, f.client(t, "humas"), f.srv.URL+"/laporan?lang=en")
	for _, want := range []string{"Recap of social-media complaints per department", "% followed up = Answered ÷ Need an answer × 100%", "not enough data"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("English report page lacks %q", want)
		}
	}

	// A period outside the years a report covers (2000 to the year after
	// now) is refused with a sentence the person can act on.
	for _, c := range []struct{ path, want string }{
		{"/laporan?month=0001-01", "periode laporan paling awal dimulai pada tahun 2000"},
		{"/laporan?from=2028-01-01&to=2028-01-31", "periode laporan paling lambat berakhir pada tahun 2027"},
		{"/laporan?month=1999-12&lang=en", "a report period starts in 2000 or later"},
	} {
		res, b := fetch(t, f.client(t, "dlh"), f.srv.URL+c.path)
		if res.StatusCode != 400 || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: %d, want 400 saying %q: %.300s", c.path, res.StatusCode, c.want, b)
		}
	}

	// DLH's admin sees DLH only: no other OPD, no unrouted row, no unmask link.
	_, b = fetch(t, f.client(t, "dlh"), f.srv.URL+"/laporan")
	body = string(b)
	for _, bad := range []string{"Dinas Bina Marga", "Belum terdisposisi", "unmask=1", `name="opd"`} {
		if strings.Contains(body, bad) {
			t.Errorf("DLH's report shows %q", bad)
		}
	}
	if !strings.Contains(body, "Dinas Lingkungan Hidup") {
		t.Error("DLH's report lacks DLH")
	}

	_, b = fetch(t, f.client(t, "humas"), f.srv.URL+"/laporan/cetak?month=2026-03")
	for _, want := range []string{`class="print-foot"`, "Periode: Maret 2026", "Versi kalender libur: SKB 1497/2/5", "Cuti bersama: dihitung sebagai hari libur", "Rumus yang dipakai", "Kota Bekasi"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("print page lacks %q", want)
		}
	}

	// After `tanggap prune` removed what ended before 15 March (WIB),
	// March's pages and files say they miss it; after one before 1 March
	// (what ended before the month was not March's) they do not.
	const incomplete = "Aduan yang berakhir sebelum 2026-03-15 telah dihapus dari Tanggap (tanggap prune)"
	f.rdb.Set(ctx, "tanggap:{test}:pruned_before", time.Date(2026, 3, 14, 17, 0, 0, 0, time.UTC).UnixMilli(), 0)
	for _, path := range []string{"/laporan?month=2026-03", "/laporan/cetak?month=2026-03", "/laporan/rekap.csv?month=2026-03"} {
		if _, b := fetch(t, f.client(t, "humas"), f.srv.URL+path); !strings.Contains(string(b), incomplete) {
			t.Errorf("%s after a prune lacks the note", path)
		}
	}
	if _, b := fetch(t, f.client(t, "humas"), f.srv.URL+"/laporan?month=2026-03"); !strings.Contains(string(b), `<div class="banner gap">`+incomplete) {
		t.Error("the report page does not say so at its top")
	}
	f.rdb.Set(ctx, "tanggap:{test}:pruned_before", time.Date(2026, 2, 28, 17, 0, 0, 0, time.UTC).UnixMilli(), 0)
	if _, b := fetch(t, f.client(t, "humas"), f.srv.URL+"/laporan?month=2026-03"); strings.Contains(string(b), "tanggap prune") {
		t.Error("March's report is marked incomplete by a prune before March")
	}
}

func TestReportExports(t *testing.T) {
	f := newFixture(t)
	humas, dlh := f.client(t, "humas"), f.client(t, "dlh")

	res, b := fetch(t, humas, f.srv.URL+"/laporan/rekap.csv?sep=semicolon")
	if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="rekap-bekasi-2026-03.csv"` {
		t.Errorf("disposition %q", cd)
	}
	if !bytes.HasPrefix(b, []byte(report.BOM)) {
		t.Fatal("CSV without BOM")
	}
	recs := readCSV(t, b, ';')
	if recs[0][0] != "No" || recs[0][2] != "Perangkat Daerah" {
		t.Errorf("header %q", recs[0])
	}
	// The DLH line: 2 received, 0 answered.
	var dlhLine []string
	for _, r := range recs {
		if len(r) > 2 && r[1] == "lingkungan_hidup" {
			dlhLine = r
		}
	}
	if dlhLine == nil || dlhLine[5] != "2" || dlhLine[17] != "0" {
		t.Errorf("DLH line %q", dlhLine)
	}

	// DLH's register: its two items, reporters masked.
	_, b = fetch(t, dlh, f.srv.URL+"/laporan/register.csv")
	recs = readCSV(t, b, ',')
	var ids, reporters []string
	for _, r := range recs[1:] {
		if len(r) > 7 && strings.Contains(r[0], ":") {
			ids = append(ids, r[0])
			reporters = append(reporters, r[7])
		}
	}
	if diff := cmp.Diff([]string{"x:101", "x:102"}, ids); diff != "" {
		t.Errorf("DLH register ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"<b***b>", "<b***b>"}, reporters); diff != "" {
		t.Errorf("DLH register reporters (-want +got):\n%s", diff)
	}
	if strings.Contains(string(b), "<b>warga</b>") {
		t.Error("register shows an unmasked reporter")
	}

	// The PPID Utama asked explicitly: unmasked, and the file says so.
	res, b = fetch(t, humas, f.srv.URL+"/laporan/register.csv?unmask=1&sep=semicolon")
	if !strings.Contains(string(b), "<b>warga</b>") || !strings.Contains(string(b), "TIDAK disamarkan") {
		t.Errorf("unmasked register:\n%s", b)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "tanpa-samaran") {
		t.Errorf("disposition %q", cd)
	}

	// XLSX: parsed back.
	res, b = fetch(t, humas, f.srv.URL+"/laporan/register.xlsx?from=2026-03-16&to=2026-03-17")
	if res.Header.Get("Content-Type") != contentXLSX {
		t.Errorf("content type %q", res.Header.Get("Content-Type"))
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="register-bekasi-2026-03-16_2026-03-17.xlsx"` {
		t.Errorf("disposition %q", cd)
	}
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows("Register")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][0] != "ID" || rows[1][7] != "<b***b>" {
		t.Fatalf("register rows %q", rows)
	}
	_, b = fetch(t, humas, f.srv.URL+"/laporan/rekap.xlsx?lang=en")
	x2, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x2.Close()
	if diff := cmp.Diff([]string{"Recap", "League", "Notes"}, x2.GetSheetList()); diff != "" {
		t.Errorf("sheets (-want +got):\n%s", diff)
	}
	if v, _ := x2.GetCellValue("Recap", "A1"); v != "Recap of social-media complaints per department" {
		t.Errorf("title %q", v)
	}
}

// The masked register names its reporters nowhere: X links lose the
// author's handle and @mentions are masked but the city's accounts'; the
// PPID Utama's unmasked register keeps both.
func TestRegisterMasksHandles(t *testing.T) {
	f := newFixture(t)
	created := f.now.Add(-3 * time.Hour)
	if _, err := f.st.Ingest(context.Background(), store.Ingest{
		Post: tanggap.Post{Platform: tanggap.PlatformX, ID: "1900000000000000001", Author: "budi_santoso88", AuthorName: "Budi Santoso",
			Text: "@humasbekasikota sampah numpuk, saya @budi_santoso88 sudah lapor", Account: "humasbekasikota",
			CreatedAt: created, CapturedAt: created, ThreadID: "1900000000000000001", URL: "https://x.com/budi_santoso88/status/1900000000000000001"},
		Kind: tanggap.KindComplaint, OPD: "lingkungan_hidup", Status: tanggap.StatusAssigned, Queued: true,
	}); err != nil {
		t.Fatal(err)
	}
	row := func(b []byte) []string {
		t.Helper()
		for _, r := range readCSV(t, b, ',') {
			if r[0] == "x:1900000000000000001" {
				return r
			}
		}
		t.Fatalf("no row of the post:\n%s", b)
		return nil
	}
	for _, login := range []string{"dlh", "humas"} {
		_, b := fetch(t, f.client(t, login), f.srv.URL+"/laporan/register.csv")
		if strings.Contains(string(b), "budi_santoso88") {
			t.Errorf("%s's masked register names the reporter:\n%s", login, b)
		}
		want := []string{"https://x.com/i/status/1900000000000000001", "bu***88", "'@humasbekasikota sampah numpuk, saya @bu***88 sudah lapor"} // SafeCell: no formula
		if diff := cmp.Diff(want, row(b)[6:9]); diff != "" {
			t.Errorf("%s's masked register: link, reporter, summary (-want +got):\n%s", login, diff)
		}
		_, b = fetch(t, f.client(t, login), f.srv.URL+"/laporan/register.xlsx")
		x, err := excelize.OpenReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := x.GetRows("Register")
		x.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if strings.Contains(strings.Join(r, "|"), "budi_santoso88") {
				t.Errorf("%s's masked XLSX register names the reporter: %q", login, r)
			}
		}
	}
	_, b := fetch(t, f.client(t, "humas"), f.srv.URL+"/laporan/register.csv?unmask=1")
	want := []string{"https://x.com/budi_santoso88/status/1900000000000000001", "budi_santoso88 (Budi Santoso)", "'@humasbekasikota sampah numpuk, saya @budi_santoso88 sudah lapor"}
	if diff := cmp.Diff(want, row(b)[6:9]); diff != "" {
		t.Errorf("unmasked register: link, reporter, summary (-want +got):\n%s", diff)
	}
}

func readCSV(t *testing.T, b []byte, sep rune) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte(report.BOM))))
	r.Comma = sep
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%v:\n%s", err, b)
	}
	return recs
}

// reversedStore gives each batch of a scan backwards: items out of T0
// order, which the register export must still list in order.
type reversedStore struct{ *store.Store }

func (s reversedStore) ScanCreatedIn(ctx context.Context, opd string, from, to time.Time, batch int64, fn func([]tanggap.Item) error) error {
	return s.Store.ScanCreatedIn(ctx, opd, from, to, batch, func(its []tanggap.Item) error {
		slices.Reverse(its)
		return fn(its)
	})
}

// The register exports are written while the store is read; when the
// store gives items out of order they are built first instead, and the
// files are the same.
func TestRegisterExportOutOfOrder(t *testing.T) {
	f := newFixture(t)
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	clocks, err := workflow.NewClocks(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	serve := func(st Store, path string) string {
		t.Helper()
		s, err := New(Options{Config: cfg, Store: st, Clocks: clocks, Auth: fixedAuth{&Principal{Login: "humas", Name: "Humas", Role: RolePPIDUtama}},
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(), Now: func() time.Time { return f.now }})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %.300s", path, rec.Code, rec.Body.String())
		}
		return rec.Body.String()
	}
	for _, path := range []string{"/laporan/register.csv?month=2026-03", "/laporan/register.xlsx?month=2026-03&unmask=1"} {
		want, got := serve(f.st, path), serve(reversedStore{f.st}, path)
		if got != want || len(want) < 500 {
			t.Errorf("%s: out-of-order store gives %d bytes, want the same %d", path, len(got), len(want))
		}
		if strings.HasSuffix(path, ".csv") && strings.Count(want, "x:") != 3 {
			t.Errorf("%s: %d items listed, want 3:\n%s", path, strings.Count(want, "x:"), want)
		}
	}
}
