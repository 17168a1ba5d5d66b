package web

// Browser tests (issue 5 item 7, issue 7 item 4): Debian's chromium, headless,
// driven through chromedp against an httptest server of the real handlers
// (newFixture: miniredis, the real store, workflow and sessions). They skip
// when /usr/bin/chromium is absent, except in the integration run, where that
// is a failure (see requireChromium).

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/store"
)

// TestBrowserQueueWorkflow walks an OPD admin's morning: sign in through the
// form, see the queue, claim an item (a colleague sees the claim and cannot
// take it), mark it answered with the reply link, hand another item to a
// different OPD with a reason (that OPD sees it, this one no longer does),
// be refused another OPD's item, and watch a new complaint arrive on the open
// queue page without a reload. Screenshots of the login page, the queue, an
// item and the city board are kept as artefacts.
func TestBrowserQueueWorkflow(t *testing.T) {
	requireChromium(t)
	t.Parallel()
	f := newFixture(t)
	b := startBrowser(t, f.srv.URL)
	shots := artifacts(t)
	in := newIngester(t, f)

	// Signing in through the form: the queue asks for it, then comes back.
	dlh := b.session("")
	dlh.open("/antrian/lingkungan_hidup")
	if p := dlh.path(); !strings.HasPrefix(p, "/masuk?next=") {
		t.Fatalf("anonymous queue visit landed on %s, want the login page", p)
	}
	if h := dlh.text("form.login h1"); h != "Masuk" {
		t.Errorf("login page heading %q, want Masuk", h)
	}
	dlh.screenshot(shots, "login")
	dlh.signIn("dlh")
	if p := dlh.path(); p != "/antrian/lingkungan_hidup" {
		t.Fatalf("after sign-in dlh is on %s, want back on the queue", p)
	}

	// The queue: DLH's two items, not DBMSDA's; citizen text shown as text.
	if h := dlh.text("main h1"); h != "Antrian: Dinas Lingkungan Hidup" {
		t.Errorf("queue heading %q", h)
	}
	for _, id := range []string{"x:101", "x:102"} {
		if dlh.count(`#sections tr[data-id="`+id+`"]`) != 1 {
			t.Errorf("queue lacks %s", id)
		}
	}
	if dlh.count(`tr[data-id="x:201"]`) != 0 {
		t.Error("DLH's queue shows DBMSDA's x:201")
	}
	if got := dlh.textContent(`tr[data-id="x:102"] td.text`); !strings.Contains(got, "bau busuk dari TPS") {
		t.Errorf("x:102 row text %q", got)
	}
	if got := dlh.textContent(`tr[data-id="x:101"] td.text`); !strings.Contains(got, `sampah <script>alert("x")</script> numpuk`) {
		t.Errorf("x:101 text not shown literally: %q", got)
	}

	if bad := dlh.clippedControls(); len(bad) > 0 {
		t.Errorf("queue page: controls cut off or outside their card: %q", bad)
	}

	// The live queue: the queue stays open in a second tab while dlh works
	// in the first; a complaint stored now must show up there without a
	// reload (htmx polls every 10 s), checked at the end.
	live := dlh.tab()
	live.open("/antrian/lingkungan_hidup")
	eval[bool](live, `(() => {
		window.__sameDocument = true;
		new MutationObserver(() => {
			if (!window.__seenAt && document.querySelector('#sections tr[data-id="x:103"]')) window.__seenAt = Date.now();
		}).observe(document.getElementById("sections"), {childList: true, subtree: true});
		return true;
	})()`)
	liveStart := time.Now()
	liveID := in.ingest(tanggap.Post{ID: "103", Author: "warga_jatiasih", URL: "https://x.com/warga_jatiasih/status/103",
		Text: "sampah di pinggir kali belum diangkut seminggu"}, "lingkungan_hidup", 20*time.Minute)
	eval[float64](live, `window.__storedAt = Date.now()`)

	// Claim x:102: the page says so, and a colleague sees who holds it.
	dlh.open("/item/x:102")
	if bad := dlh.clippedControls(); len(bad) > 0 {
		t.Errorf("item page: controls cut off or outside their card: %q", bad)
	}
	if res := dlh.submit(`form[action="/item/x:102/claim"] button`); res.Status != 200 {
		t.Fatalf("claim: status %d", res.Status)
	}
	if p := dlh.path(); p != "/item/x:102?ok=claim" {
		t.Errorf("after claim dlh is on %s", p)
	}
	if it, err := f.st.Item(t.Context(), "x:102"); err != nil || it.ClaimedBy != "dlh" {
		t.Fatalf("x:102 after claim: %+v, %v", it, err)
	}
	// The claimer releases from the line that says who holds the item.
	if n := dlh.count(`article.item .banner.gap form[action="/item/x:102/release"] button`); n != 1 {
		t.Errorf("claimer's item page: %d release buttons beside the claim", n)
	}

	ppid := b.session("dlh.ppid")
	ppid.open("/antrian/lingkungan_hidup")
	const claimed = "sedang ditangani dlh"
	if got := strings.TrimSpace(ppid.textContent(`tr[data-id="x:102"] .claim`)); got != claimed {
		t.Errorf("colleague's queue shows the claim as %q, want %q (web/render.go messages needs \"claimed_by\")", got, claimed)
	}
	ppid.open("/item/x:102")
	if got := strings.Join(strings.Fields(ppid.textContent(`article.item .banner.gap`)), " "); got != claimed {
		t.Errorf("colleague's item page shows the claim as %q, want %q", got, claimed)
	}
	// Only the claimer (or the PPID Utama) is offered the release form.
	if n := ppid.count(`form[action="/item/x:102/release"]`); n != 0 {
		t.Errorf("colleague is offered to release dlh's claim")
	}
	// Acting on the claimed item is refused: dlh holds the claim.
	ppid.do("fill in a reply link", chromedp.SendKeys(chromedp.CSS(`form[action="/item/x:102/answer"] input[name="url"]`), "https://x.com/dlh_kotabekasi/status/1"))
	res := ppid.submit(`form[action="/item/x:102/answer"] button`)
	if res.Status != http.StatusConflict {
		t.Errorf("colleague acting on a claimed item: status %d, want 409", res.Status)
	}
	if msg := ppid.text("main"); !strings.Contains(msg, "dlh") {
		t.Errorf("conflict page does not say who holds the claim: %q", msg)
	} else {
		t.Logf("colleague's conflict page: %q", msg)
	}

	// Mark x:102 answered with the link to the public reply.
	const reply = "https://x.com/dlhkotabekasi/status/1901234567890123456"
	dlh.open("/item/x:102")
	dlh.do("fill in the reply link", chromedp.SendKeys(chromedp.CSS(`form[action="/item/x:102/answer"] input[name="url"]`), reply))
	if res := dlh.submit(`form[action="/item/x:102/answer"] button[type="submit"]`); res.Status != 200 {
		t.Fatalf("answer: status %d", res.Status)
	}
	if p := dlh.path(); p != "/item/x:102?ok=answer" {
		t.Errorf("after answer dlh is on %s", p)
	}
	if dlh.count(`article.item a[href="`+reply+`"]`) != 1 {
		t.Error("item page does not link the public reply")
	}
	if dd := dlh.textContent("article.item dl"); !strings.Contains(dd, "Diproses") {
		t.Errorf("answered item's status is not Diproses: %q", dd)
	}
	if it, _ := f.st.Item(t.Context(), "x:102"); it.Status != tanggap.StatusInProgress || it.FirstResponseURL != reply {
		t.Errorf("x:102 after answer: status %s, reply %q", it.Status, it.FirstResponseURL)
	}
	dlh.screenshot(shots, "item")

	// The name in the header opens the account page, where the password changes.
	dlh.do("open the account page", chromedp.Click(chromedp.CSS(`header a.me`)))
	if err := dlh.waitVisible(`form[action="/akun"] input[name="current"]`, stepTimeout); err != nil {
		t.Errorf("the account page did not open from the header: %v", err)
	} else if h := dlh.text("main h1"); h != "Akun saya" {
		t.Errorf("account page heading %q", h)
	}
	dlh.screenshot(shots, "account")

	// Hand x:101 to Bina Marga with a reason: it leaves DLH's queue.
	const reason = "saluran air tersumbat, wewenang DBMSDA"
	dlh.open("/item/x:101")
	dlh.do("fill in the assign form",
		chromedp.SetValue(chromedp.CSS(`form[action="/item/x:101/assign"] select[name="opd"]`), "bina_marga_sda"),
		chromedp.SendKeys(chromedp.CSS(`form[action="/item/x:101/assign"] input[name="reason"]`), reason),
	)
	if res := dlh.submit(`form[action="/item/x:101/assign"] button[type="submit"]`); res.Status != 200 {
		t.Fatalf("assign: status %d", res.Status)
	}
	if p := dlh.path(); p != "/antrian/lingkungan_hidup?ok=assign" {
		t.Errorf("after handing x:101 over dlh is on %s, want the queue", p)
	}
	if dlh.count(`tr[data-id="x:101"]`) != 0 {
		t.Error("x:101 still in DLH's queue after it was handed to DBMSDA")
	}
	if code := dlh.open("/item/x:101"); code != http.StatusNotFound {
		t.Errorf("dlh opening the handed-over x:101: status %d, want 404", code)
	}

	// DBMSDA's admin now has it, with the hop and its reason in the history.
	dbm := b.session("dbm")
	if p := dbm.path(); p != "/antrian/bina_marga_sda" {
		t.Errorf("dbm landed on %s after sign-in", p)
	}
	for _, id := range []string{"x:101", "x:201"} {
		if dbm.count(`#sections tr[data-id="`+id+`"]`) != 1 {
			t.Errorf("DBMSDA's queue lacks %s", id)
		}
	}
	dbm.open("/item/x:101")
	if h := dbm.textContent("ol.history"); !strings.Contains(h, reason) || !strings.Contains(h, "Dinas Lingkungan Hidup → Dinas Bina Marga dan Sumber Daya Air") {
		t.Errorf("x:101 history lacks the hop and its reason: %q", h)
	}

	// Another OPD's item is not found, and nothing of it shows.
	if code := dlh.open("/item/x:201"); code != http.StatusNotFound {
		t.Errorf("dlh opening DBMSDA's x:201: status %d, want 404", code)
	}
	if h := dlh.text("main h1"); !strings.Contains(h, "(404)") {
		t.Errorf("404 page heading %q", h)
	}
	if body := dlh.textContent("body"); strings.Contains(body, "jalan berlubang") {
		t.Error("the 404 page shows the other OPD's complaint")
	}

	// The city board of the PPID Utama.
	humas := b.session("humas")
	if p := humas.path(); p != "/" {
		t.Errorf("humas landed on %s after sign-in", p)
	}
	if h := humas.text("main h1"); h != "Papan kota" {
		t.Errorf("board heading %q", h)
	}
	if humas.count(`table.board a[href="/antrian/lingkungan_hidup"]`) != 1 {
		t.Error("the board has no row for DLH")
	}
	humas.screenshot(shots, "board")

	// The search box in the header finds a complaint by its words.
	humas.do("search from the header", chromedp.SendKeys(chromedp.CSS(`header input[name="q"]`), "berlubang yani\n"))
	if err := humas.waitVisible(`table.items tr[data-id="x:201"]`, stepTimeout); err != nil {
		t.Errorf("searching from the header did not list x:201: %v", err)
	} else if p := humas.path(); p != "/cari?q=berlubang+yani" {
		t.Errorf("the header search went to %s", p)
	}
	// The search page's form limits the days received (x:201 came on 17
	// March, the city's time): from the 18th on it is not found.
	humas.do("search from a later day", chromedp.SetValue(chromedp.CSS(`form.search input[name="dari"]`), "2026-03-18"))
	if res := humas.submit(`form.search button[type="submit"]`); res.Status != 200 {
		t.Errorf("search from the 18th: %d", res.Status)
	} else if p := humas.path(); p != "/cari?q=berlubang+yani&dari=2026-03-18&sampai=" || humas.count(`table.items tr[data-id="x:201"]`) != 0 {
		t.Errorf("a search from the 18th went to %s and lists x:201: %v", p, humas.count(`table.items tr[data-id="x:201"]`) != 0)
	}
	humas.do("search from the day it came", chromedp.SetValue(chromedp.CSS(`form.search input[name="dari"]`), "2026-03-17"))
	if res := humas.submit(`form.search button[type="submit"]`); res.Status != 200 || humas.count(`table.items tr[data-id="x:201"]`) != 1 {
		t.Errorf("a search from the 17th does not list x:201 (%d)", res.Status)
	}
	humas.screenshot(shots, "search")

	// Humas adds an OPD admin from the header's Pengguna and gets the
	// temporary password to hand over.
	humas.do("open the users page", chromedp.Click(chromedp.CSS(`header a[href="/pengguna"]`)))
	if err := humas.waitVisible(`form[action="/pengguna"] input[name="login"]`, stepTimeout); err != nil {
		t.Fatalf("the users page did not open from the header: %v", err)
	}
	humas.do("fill in the new account",
		chromedp.SendKeys(chromedp.CSS(`form[action="/pengguna"] input[name="login"]`), "dishub.staf"),
		chromedp.SendKeys(chromedp.CSS(`form[action="/pengguna"] input[name="name"]`), "Staf Dishub"),
		chromedp.SetValue(chromedp.CSS(`form[action="/pengguna"] select[name="opd"]`), "perhubungan"),
	)
	if bad := humas.clippedControls(); len(bad) > 0 {
		t.Errorf("users page controls clipped: %v", bad)
	}
	humas.screenshot(shots, "users")
	if res := humas.submit(`form[action="/pengguna"] button[type="submit"]`); res.Status != 200 {
		t.Fatalf("add a user: status %d", res.Status)
	}
	if pwd := humas.text("code.secret"); len(pwd) != 14 {
		t.Errorf("the temporary password shown is %q", pwd)
	}
	if u, err := f.st.User(t.Context(), "dishub.staf"); err != nil || u.OPD != "perhubungan" || u.Role != string(RoleOPDAdmin) || !u.TempPassword {
		t.Errorf("the account added in the browser: %+v %v", u, err)
	}
	humas.screenshot(shots, "user")

	if err := live.waitVisible(`#sections tr[data-id="`+liveID+`"]`, max(livePoll-time.Since(liveStart), time.Second)); err != nil {
		t.Fatalf("new item %s did not appear on the open queue page within %v: %v", liveID, livePoll, err)
	}
	if ms := eval[float64](live, `window.__seenAt - window.__storedAt`); ms > 0 {
		t.Logf("new item appeared on the open queue page %.1f s after it was stored", ms/1000)
	}
	if !eval[bool](live, `window.__sameDocument === true`) {
		t.Error("the queue page reloaded to show the new item")
	}
	live.screenshot(shots, "queue")
}

// Hostile strings a citizen (or a forged collector record) can put in a post.
var hostile = []string{
	`<script>window.__pwned=1</script>`,
	`<img src=x onerror="window.__pwned=1">`,
	`"><svg onload=window.__pwned=1>`,
	`'><iframe srcdoc="<script>parent.__pwned=1</script>">`,
}

// Post URLs a collector could pass on unchecked.
var hostileURLs = []string{
	"javascript:window.__pwned=1",
	"JaVaScRiPt:window.__pwned=1//",
	" javascript:window.__pwned=1",
	"data:text/html,<script>window.__pwned=1</script>",
}

// TestBrowserHostileInputInert proves script and HTML in citizen texts and
// names render inert on the queue page (first render and htmx refresh), on
// the item page and in the JSON API, and that a javascript: post URL never
// becomes a javascript: link.
func TestBrowserHostileInputInert(t *testing.T) {
	requireChromium(t)
	t.Parallel()
	f := newFixture(t)
	b := startBrowser(t, f.srv.URL)
	shots := artifacts(t)
	in := newIngester(t, f)

	type post struct {
		id, text, author, name, url string
	}
	var posts []post
	add := func(n int) {
		p := post{
			id:     "9" + string(rune('0'+n)),
			text:   "sampah numpuk " + hostile[n%len(hostile)] + " di Jl. Kemakmuran",
			author: hostile[(n+1)%len(hostile)],
			name:   hostile[(n+2)%len(hostile)],
			url:    hostileURLs[n%len(hostileURLs)],
		}
		p.id = in.ingest(tanggap.Post{ID: p.id, Text: p.text, Author: p.author, AuthorName: p.name, URL: p.url},
			"lingkungan_hidup", time.Duration(n+1)*time.Minute)
		posts = append(posts, p)
	}
	for n := range 3 {
		add(n)
	}
	// A forged record's post id lands in attributes (data-id, value, href,
	// form actions): it may not break out of them. Post.Validate refuses only
	// blanks and braces.
	evilID := in.ingest(tanggap.Post{ID: `77"onfocus="window.__pwned=1"autofocus="`, Text: "id jahat", Author: "warga",
		URL: "https://x.com/warga/status/77"}, "lingkungan_hidup", 90*time.Minute)

	inert := func(s *session, where string) {
		t.Helper()
		// An onerror, onload or onfocus would fire shortly after the page settled.
		s.do("settle", chromedp.Sleep(300*time.Millisecond))
		if got := eval[string](s, `typeof window.__pwned`); got != "undefined" {
			t.Errorf("%s: window.__pwned is %s: citizen input ran as script", where, got)
		}
		if n := s.count(`main script, main img, main iframe, main [srcdoc], main [autofocus], #sections table svg, article.item svg`); n != 0 {
			t.Errorf("%s: %d elements made from citizen input", where, n)
		}
		if attrs := eval[[]string](s, `Array.from(document.querySelectorAll("body *")).flatMap(e =>
			Array.from(e.attributes).filter(a => a.name.startsWith("on")).map(a => e.tagName + " " + a.name))`); len(attrs) != 0 {
			t.Errorf("%s: event-handler attributes made from citizen input: %q", where, attrs)
		}
	}

	// The queue page stays open in the first tab; one more hostile post
	// arrives while it is open and comes in through the htmx fragment, the
	// other rendering path. It is checked at the end, after the poll.
	queue := b.session("dlh")
	if p := queue.path(); p != "/antrian/lingkungan_hidup" {
		t.Fatalf("dlh landed on %s", p)
	}
	liveStart := time.Now()
	add(3)

	// Item pages, in a second tab.
	dlh := queue.tab()
	for _, p := range posts {
		where := "item page " + p.id
		if code := dlh.open("/item/" + p.id); code != 200 {
			t.Fatalf("%s: status %d", where, code)
		}
		inert(dlh, where)
		if got := dlh.textContent("blockquote.post"); got != p.text {
			t.Errorf("%s: text %q, want %q literally", where, got, p.text)
		}
		if got := dlh.textContent("article.item p.meta b"); got != p.author {
			t.Errorf("%s: author %q, want %q literally", where, got, p.author)
		}
		if got := dlh.textContent("article.item p.meta"); !strings.Contains(got, "("+p.name+")") {
			t.Errorf("%s: author name not shown literally: %q", where, got)
		}
		// "Buka unggahan asli" must not be a javascript: (or data:) link.
		link := eval[map[string]string](dlh, `(() => {
			const a = Array.from(document.querySelectorAll("article.item a")).find(a => a.textContent.trim() === "Buka unggahan asli");
			return a ? {href: a.getAttribute("href"), protocol: a.protocol} : {};
		})()`)
		href, proto := link["href"], link["protocol"]
		t.Logf("%s: post URL %q rendered as href %q", where, p.url, href)
		if href == "" {
			// Not an http(s) URL: no link at all, and the page says so.
			if n := dlh.count(`article.item span.note`); n == 0 {
				t.Errorf("%s: post URL %q shows neither a link nor the no-link note", where, p.url)
			}
			continue
		}
		if proto != "http:" && proto != "https:" {
			t.Errorf("%s: the original-post link has href %q (protocol %q) for post URL %q", where, href, proto, p.url)
		}
		if h := strings.ToLower(strings.TrimSpace(href)); strings.HasPrefix(h, "javascript:") || strings.HasPrefix(h, "data:") {
			t.Errorf("%s: the original-post link is %q", where, href)
		}
	}
	if dlh.open("/item/"+posts[0].id) == 200 {
		dlh.screenshot(shots, "hostile-item")
		// Followed in the same tab, so that anything it ran would run here.
		eval[bool](dlh, `(() => {
			const a = Array.from(document.querySelectorAll("article.item a")).find(a => a.textContent.trim() === "Buka unggahan asli");
			if (a) { a.removeAttribute("target"); a.click(); }
			return true;
		})()`)
		inert(dlh, "after following the original-post link")
	}
	if code := dlh.open("/item/" + url.PathEscape(evilID)); code != 200 {
		t.Errorf("item page of the hostile id: status %d", code)
	} else {
		inert(dlh, "item page of the hostile id")
		if n := dlh.count(`form[action="/item/` + url.PathEscape(evilID) + `/claim"]`); n != 1 {
			t.Errorf("item page of the hostile id: %d claim forms with the escaped id in their action", n)
		}
	}

	// Back to the open queue page, once the new post has come in.
	if err := queue.waitVisible(`#sections tr[data-id="`+posts[3].id+`"]`, max(livePoll-time.Since(liveStart), time.Second)); err != nil {
		t.Fatalf("hostile item %s did not arrive through the live queue within %v: %v", posts[3].id, livePoll, err)
	}
	inert(queue, "queue page")
	for _, p := range posts {
		row := `#sections tr[data-id="` + p.id + `"]`
		if got := queue.textContent(row + ` td.text`); !strings.Contains(got, p.text) {
			t.Errorf("queue row %s: text %q, want it to contain %q literally", p.id, got, p.text)
		}
		if got := queue.textContent(row + ` td:nth-child(3)`); got != p.author {
			t.Errorf("queue row %s: author %q, want %q literally", p.id, got, p.author)
		}
	}
	// The hostile id: its row, checkbox and link carry it intact.
	row := eval[map[string]string](queue, fmt.Sprintf(`(() => {
		const r = Array.from(document.querySelectorAll("#sections tr[data-id]")).find(r => r.dataset.id === %s);
		return r ? {value: r.querySelector("input[type=checkbox]").value, href: r.querySelector("a").getAttribute("href")} : {};
	})()`, jsString(evilID)))
	if row["value"] != evilID || row["href"] != "/item/"+url.PathEscape(evilID) {
		t.Errorf("row of the hostile id %q: checkbox value %q, link %q", evilID, row["value"], row["href"])
	}
	queue.screenshot(shots, "hostile-queue")

	// The JSON API opened in the browser is data, not a page.
	if code := dlh.open("/api/v1/items/" + posts[0].id); code != 200 {
		t.Errorf("API item: status %d", code)
	}
	dlh.do("settle", chromedp.Sleep(200*time.Millisecond))
	if got := eval[string](dlh, `typeof window.__pwned`); got != "undefined" {
		t.Errorf("API item page: window.__pwned is %s", got)
	}
	if got := eval[string](dlh, `document.contentType`); got != "application/json" {
		t.Errorf("API item served as %q", got)
	}
}

// TestBrowserClusterBulk: the PPID Utama opens the first report of a
// near-duplicate cluster, sees the two reports that joined it, and hands
// all three to another OPD with one form.
func TestBrowserClusterBulk(t *testing.T) {
	requireChromium(t)
	t.Parallel()
	f := newFixture(t)
	b := startBrowser(t, f.srv.URL)
	shots := artifacts(t)
	for i, text := range []string{"jalan berlubang di jl ahmad yani depan sekolah", "lubang besar jl ahmad yani, motor jatuh"} {
		id := strconv.Itoa(202 + i)
		created := f.now.Add(-time.Duration(i+1) * time.Hour)
		if _, err := f.st.Ingest(t.Context(), store.Ingest{Post: tanggap.Post{Platform: tanggap.PlatformInstagram, ID: id, Text: text, Author: "warga" + id,
			Account: "humaskotabekasi", CreatedAt: created, CapturedAt: created, ThreadID: id, URL: "https://www.instagram.com/p/C" + id},
			Kind: tanggap.KindComplaint, OPD: "bina_marga_sda", Status: tanggap.StatusAssigned, Queued: true, ClusterID: "x:201"}); err != nil {
			t.Fatal(err)
		}
	}
	humas := b.session("humas")
	humas.open("/item/x:201")
	if n := humas.count(`section.cluster tbody tr`); n != 3 {
		t.Fatalf("the cluster lists %d rows, want the first report and two more", n)
	}
	const reason = "jalan nasional? cek ke Dishub dulu"
	humas.do("select the cluster and fill in the bulk form",
		chromedp.Click(chromedp.CSS(`section.cluster input[value="instagram:202"]`)),
		chromedp.Click(chromedp.CSS(`section.cluster input[value="instagram:203"]`)),
		chromedp.Click(chromedp.CSS(`section.cluster input[value="x:201"]`)),
		chromedp.SetValue(chromedp.CSS(`section.cluster select[name="action"]`), "assign"),
		chromedp.SetValue(chromedp.CSS(`section.cluster select[name="opd"]`), "perhubungan"),
		chromedp.SendKeys(chromedp.CSS(`section.cluster input[name="reason"]`), reason),
	)
	if bad := humas.clippedControls(); len(bad) > 0 {
		t.Errorf("cluster page controls clipped: %v", bad)
	}
	humas.screenshot(shots, "cluster")
	if res := humas.submit(`section.cluster button[type="submit"]`); res.Status != 200 {
		t.Fatalf("bulk assign: status %d", res.Status)
	}
	if p := humas.path(); p != "/item/x:201?ok=bulk" {
		t.Errorf("after the bulk action humas is on %s, want back on the first report", p)
	}
	for _, id := range []string{"x:201", "instagram:202", "instagram:203"} {
		if it, _ := f.st.Item(t.Context(), id); it.OPD != "perhubungan" {
			t.Errorf("%s is with %q after the bulk assign", id, it.OPD)
		}
	}
}

// TestBrowserSimilarDuplicate: a DLH admin opens a report, sees the similar
// report of the same kelurahan that clustering did not join, and marks
// the first a duplicate of it with its button.
func TestBrowserSimilarDuplicate(t *testing.T) {
	requireChromium(t)
	t.Parallel()
	f := newFixture(t)
	b := startBrowser(t, f.srv.URL)
	shots := artifacts(t)
	put := f.placed(t, "lingkungan_hidup")
	put("940", "Jatimekar", "", "sampah menumpuk di tps liar gang mawar jatimekar sudah seminggu belum diangkut, baunya sampai ke rumah", 5*time.Hour)
	put("941", "Jatimekar", "", "sampah di tps liar gang mawar sudah menumpuk seminggu, bau sampai rumah warga", 2*time.Hour)
	dlh := b.session("dlh")
	dlh.open("/item/x:940")
	if n := dlh.count(`section.similar tbody tr`); n != 1 {
		t.Fatalf("the page offers %d similar reports, want 1", n)
	}
	if bad := dlh.clippedControls(); len(bad) > 0 {
		t.Errorf("item page controls clipped: %v", bad)
	}
	dlh.screenshot(shots, "similar")
	if res := dlh.submit(`section.similar button[type="submit"]`); res.Status != 200 {
		t.Fatalf("duplicate: status %d", res.Status)
	}
	if it, _ := f.st.Item(t.Context(), "x:940"); it.Status != tanggap.StatusDuplicate || it.DuplicateOf != "x:941" {
		t.Errorf("after the button x:940 is %s of %q, want a duplicate of x:941", it.Status, it.DuplicateOf)
	}
	if n := dlh.count(`section.similar`); n != 0 {
		t.Errorf("a duplicate still offers similar reports")
	}
}

// TestBrowserPhone opens the pages an OPD admin and the PPID Utama work
// with on a phone's screen (390 × 844 CSS px, touch): no page is wider than
// the screen, every link and button of the header is on it, no control is
// cut off, and a queue row's text is as wide as the screen allows instead
// of a column a few letters wide.
func TestBrowserPhone(t *testing.T) {
	requireChromium(t)
	t.Parallel()
	f := newFixture(t)
	b := startBrowser(t, f.srv.URL)
	shots := artifacts(t)
	const width = 390
	for _, who := range []struct {
		login string
		paths []string
	}{
		{"dlh", []string{"/antrian/lingkungan_hidup", "/item/x:101", "/cari?q=sampah", "/akun"}},
		{"humas", []string{"/", "/laporan?bulan=2026-03", "/pengguna", "/item/x:201"}},
	} {
		s := b.session(who.login)
		s.do("phone screen", chromedp.EmulateViewport(width, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
		for _, p := range who.paths {
			if code := s.open(p); code != http.StatusOK {
				t.Errorf("%s %s: status %d", who.login, p, code)
				continue
			}
			if w := eval[int](s, `document.documentElement.scrollWidth`); w > width {
				t.Errorf("%s %s: the page is %d px wide on a %d px screen", who.login, p, w, width)
			}
			if off := eval[[]string](s, `Array.from(document.querySelectorAll("header.top a, header.top button, header.top input")).filter(e => {
				const r = e.getBoundingClientRect();
				return r.left < 0 || r.right > window.innerWidth;
			}).map(e => e.textContent.trim() || e.getAttribute("name"))`); len(off) > 0 {
				t.Errorf("%s %s: header controls off the screen: %q", who.login, p, off)
			}
			if bad := s.clippedControls(); len(bad) > 0 {
				t.Errorf("%s %s: controls cut off: %q", who.login, p, bad)
			}
		}
	}
	dlh := b.session("dlh")
	dlh.do("phone screen", chromedp.EmulateViewport(width, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	dlh.open("/antrian/lingkungan_hidup")
	if w := eval[float64](dlh, `document.querySelector('tr[data-id="x:101"] td.text').getBoundingClientRect().width`); w < width/2 {
		t.Errorf("a queue row's text is %.0f px wide on a %d px screen", w, width)
	}
	dlh.screenshot(shots, "phone-queue")
	dlh.open("/item/x:101")
	dlh.screenshot(shots, "phone-item")
}
