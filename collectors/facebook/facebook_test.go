package facebook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/facebook"
	"github.com/tanggap/tanggap/collectors/facebook/facebookfake"
	"github.com/tanggap/tanggap/collectors/facebook/graph/graphfake"
	"github.com/tanggap/tanggap/config"
)

const token = "page-token-SECRET"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	clk    *clock
	fake   *facebookfake.Server
	poller *facebook.Poller
	acct   config.Account
	pid    string
	post   string
	cursor string
}

func newEnv(t *testing.T, fakeOpts []facebookfake.Option, opts ...facebook.Option) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC)}
	fake := facebookfake.New(append([]facebookfake.Option{facebookfake.WithClock(clk.Now), facebookfake.WithToken(token)}, fakeOpts...)...)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p := facebook.New(facebook.StaticToken(token), append([]facebook.Option{
		facebook.WithBaseURL(srv.URL), facebook.WithClock(clk.Now), facebook.WithHTTPClient(srv.Client()),
	}, opts...)...)
	e := &env{clk: clk, fake: fake, poller: p,
		acct: config.Account{Platform: tanggap.PlatformFacebook, Handle: "PerumdaTirtaPatriot", Owner: "pdam"}}
	e.pid = fake.AddPage("PerumdaTirtaPatriot", "Perumda Tirta Patriot", "")
	e.post = fake.AddPost(facebookfake.Post{PageID: e.pid, Message: "Info gangguan distribusi air", Created: clk.Now().Add(-3 * time.Hour)})
	return e
}

func (e *env) comment(name, text, parent string, ago time.Duration) string {
	return e.fake.AddComment(facebookfake.Comment{PostID: e.post, ParentID: parent, Message: text, FromName: name, Created: e.clk.Now().Add(-ago)})
}

func (e *env) poll(t *testing.T) collectors.Batch {
	t.Helper()
	b, err := e.poller.Poll(context.Background(), e.acct, e.cursor)
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	e.cursor = b.Cursor
	return b
}

type brief struct {
	ID, Author, Text, Parent string
	Kind                     tanggap.Interaction
	Edited, Deleted          bool
}

func briefs(posts []tanggap.Post) []brief {
	var out []brief
	for _, p := range posts {
		out = append(out, brief{p.ID, p.Author, p.Text, p.ParentID, p.Interaction, p.EditedAt != nil, p.Deleted})
	}
	return out
}

func byID(in []brief) []brief {
	out := append([]brief(nil), in...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func TestPollFeedCommentsAndPageReplies(t *testing.T) {
	e := newEnv(t, nil)
	visitor := e.fake.AddPost(facebookfake.Post{PageID: e.pid, FromID: "26000000000000001", FromName: "Siti Rahmawati",
		Message: "Air keruh di Perumnas 3", Created: e.clk.Now().Add(-2 * time.Hour)})
	c1 := e.comment("Budi Santoso", "Air mati di Harapan Jaya", "", 90*time.Minute)
	reply := e.fake.AddComment(facebookfake.Comment{PostID: e.post, ParentID: c1, FromID: e.pid,
		Message: "Mohon maaf Pak, petugas sedang menuju lokasi", Created: e.clk.Now().Add(-time.Hour)})

	b := e.poll(t)
	want := []brief{
		{ID: e.post, Author: "PerumdaTirtaPatriot", Text: "Info gangguan distribusi air", Kind: tanggap.InteractionPost},
		{ID: visitor, Author: "Siti Rahmawati", Text: "Air keruh di Perumnas 3", Kind: tanggap.InteractionMention},
		{ID: c1, Author: "Budi Santoso", Text: "Air mati di Harapan Jaya", Kind: tanggap.InteractionComment},
		{ID: reply, Author: "PerumdaTirtaPatriot", Text: "Mohon maaf Pak, petugas sedang menuju lokasi", Parent: c1, Kind: tanggap.InteractionReply},
	}
	if diff := cmp.Diff(want, briefs(b.Posts)); diff != "" {
		t.Fatalf("first poll (-want +got):\n%s", diff)
	}
	for _, p := range b.Posts {
		if err := p.Validate(); err != nil {
			t.Errorf("post %s: %v", p.ID, err)
		}
		if p.ID != visitor && p.ThreadID != e.post {
			t.Errorf("post %s: thread %s", p.ID, p.ThreadID)
		}
	}
	if b.Posts[3].AuthorID != e.pid || b.Posts[3].AuthorName != "Perumda Tirta Patriot" {
		t.Errorf("page reply author = %q %q", b.Posts[3].AuthorID, b.Posts[3].AuthorName)
	}

	e.clk.Advance(time.Minute)
	if b := e.poll(t); len(b.Posts) != 0 || b.Calls != 1 {
		t.Errorf("idle poll: %d posts, %d calls", len(b.Posts), b.Calls)
	}

	c2 := e.comment("Dewi", "Di Margahayu juga mati", "", 0)
	e.clk.Advance(time.Minute)
	b = e.poll(t)
	if diff := cmp.Diff([]brief{{ID: c2, Author: "Dewi", Text: "Di Margahayu juga mati", Kind: tanggap.InteractionComment}}, briefs(b.Posts)); diff != "" {
		t.Errorf("third poll (-want +got):\n%s", diff)
	}
}

// TestPageKnownByIDNotName: Graph gives people by their names, which
// anyone can set to a city page's handle. Only the page's own id makes a
// post the page's (ByAccount), and the city config's rule then finds the
// page's posts official and the impostor's not.
func TestPageKnownByIDNotName(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil)
	impostor := e.fake.AddComment(facebookfake.Comment{PostID: e.post, FromID: "26001234567890123", FromName: "PerumdaTirtaPatriot",
		Message: "Air PDAM mati 3 hari di Perumnas 3", Created: e.clk.Now().Add(-90 * time.Minute)})
	fake := e.fake.AddComment(facebookfake.Comment{PostID: e.post, ParentID: impostor, FromID: "26001234567890123", FromName: "PerumdaTirtaPatriot",
		Message: "Sudah kami teruskan", Created: e.clk.Now().Add(-80 * time.Minute)})
	reply := e.fake.AddComment(facebookfake.Comment{PostID: e.post, ParentID: impostor, FromID: e.pid, FromName: "Perumda Tirta Patriot",
		Message: "Mohon maaf, petugas sedang menuju lokasi", Created: e.clk.Now().Add(-time.Hour)})
	b := e.poll(t)
	want := map[string]bool{e.post: true, impostor: false, fake: false, reply: true}
	if len(b.Posts) != len(want) {
		t.Fatalf("%d posts, want %d: %v", len(b.Posts), len(want), briefs(b.Posts))
	}
	for _, p := range b.Posts {
		if p.ByAccount != want[p.ID] {
			t.Errorf("post %s by %q (id %s): ByAccount %v, want %v", p.ID, p.Author, p.AuthorID, p.ByAccount, want[p.ID])
		}
		if p.ID == impostor && (p.Author != "PerumdaTirtaPatriot" || p.AuthorName != "PerumdaTirtaPatriot") {
			t.Errorf("the impostor's name is shown as %q %q", p.Author, p.AuthorName)
		}
		a, ok := cfg.Official(&p)
		if ok != want[p.ID] || (ok && a.Owner != "pdam") {
			t.Errorf("post %s by %q: official %v (%s), want %v", p.ID, p.Author, ok, a.Owner, want[p.ID])
		}
	}
}

func TestPagination(t *testing.T) {
	for _, tc := range []struct {
		name      string
		comments  int
		pageSize  int
		wantCalls int // page id, feed, comment pages
	}{
		{"one page", 10, 50, 3},
		{"exact pages", 100, 50, 4},
		{"many pages", 130, 25, 8},
		{"no comments", 0, 50, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, []facebookfake.Option{facebookfake.WithBudget(0, 0)}, facebook.WithPageSize(tc.pageSize))
			ids := map[string]bool{e.post: true}
			var first string
			for i := 0; i < tc.comments; i++ {
				parent := ""
				if i%3 == 2 {
					parent = first
				}
				id := e.comment("warga", fmt.Sprintf("keluhan %d", i), parent, time.Duration(tc.comments-i)*time.Second)
				if first == "" {
					first = id
				}
				ids[id] = true
			}
			b := e.poll(t)
			got := map[string]bool{}
			for _, p := range b.Posts {
				if got[p.ID] {
					t.Errorf("post %s published twice", p.ID)
				}
				got[p.ID] = true
			}
			if diff := cmp.Diff(ids, got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if b.Calls != tc.wantCalls {
				t.Errorf("calls = %d, want %d", b.Calls, tc.wantCalls)
			}
		})
	}
}

func TestVeryLargePage(t *testing.T) {
	e := newEnv(t, []facebookfake.Option{facebookfake.WithBudget(0, 0)}, facebook.WithPageSize(100))
	long := strings.Repeat("air tidak mengalir ", 1500)
	for i := 0; i < 100; i++ {
		e.comment("warga", fmt.Sprintf("%d %s", i, long), "", time.Duration(i)*time.Second)
	}
	b := e.poll(t)
	if len(b.Posts) != 101 {
		t.Fatalf("%d posts, want 101", len(b.Posts))
	}
	for _, p := range b.Posts[1:] {
		if !p.Truncated || len(p.Text) > tanggap.MaxTextBytes {
			t.Fatalf("post %s: truncated %v len %d", p.ID, p.Truncated, len(p.Text))
		}
	}
}

func TestErrors(t *testing.T) {
	scoped := func(f graphfake.Fault, path string) graphfake.Fault { f.Path = path; return f }
	for _, tc := range []struct {
		name          string
		fault         graphfake.Fault
		code          string
		reason, scope string
		wantCursor    bool
	}{
		{name: "token expired", fault: graphfake.TokenExpired(), code: tanggap.EAUTH},
		{name: "401", fault: graphfake.Fault{Status: 401}, code: tanggap.EAUTH},
		{name: "permission missing", fault: graphfake.Fault{Error: &graphfake.Error{Message: "(#10) This endpoint requires the 'pages_read_engagement' permission", Type: "OAuthException", Code: 10}}, code: tanggap.EAUTH},
		{name: "page throttled", fault: facebookfake.Throttled(32), code: tanggap.ERATELIMIT, reason: "rate_limit"},
		{name: "page BUC throttled", fault: facebookfake.Throttled(80001), code: tanggap.ERATELIMIT, reason: "rate_limit"},
		{name: "app throttled", fault: facebookfake.Throttled(4), code: tanggap.ERATELIMIT, reason: "rate_limit", scope: "meta:app"},
		{name: "429", fault: graphfake.Fault{Status: 429}, code: tanggap.ERATELIMIT, reason: "rate_limit"},
		{name: "500", fault: graphfake.ServerError(), code: tanggap.EUNAVAILABLE},
		{name: "504 html", fault: graphfake.Fault{Status: 504}, code: tanggap.EUNAVAILABLE},
		{name: "malformed", fault: graphfake.Malformed(), code: tanggap.EINVALID},
		{name: "bad timestamp", fault: graphfake.Fault{Status: 200, Body: `{"data":[{"id":"1_2","created_time":"kemarin"}]}`}, code: tanggap.EINVALID},
		{name: "BUC at 100%", code: tanggap.ERATELIMIT, reason: "app_usage", wantCursor: true,
			fault: graphfake.Fault{Status: 200, Body: `{"data":[]}`, Header: map[string]string{"X-Business-Use-Case-Usage": `{"1":[{"type":"pages","call_count":100,"total_cputime":10,"total_time":10,"estimated_time_to_regain_access":7}]}`}}},
		{name: "comments fail", fault: scoped(graphfake.ServerError(), "/comments"), code: tanggap.EUNAVAILABLE, wantCursor: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.acct.ID = e.pid
			e.comment("warga", "Air mati", "", time.Minute)
			e.fake.Inject(tc.fault)
			b, err := e.poller.Poll(context.Background(), e.acct, "")
			if got := tanggap.ErrorCode(err); got != tc.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tc.code)
			}
			if strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "@PerumdaTirtaPatriot") {
				t.Errorf("error message: %s", err)
			}
			var rl *collectors.RateLimitError
			if tc.reason != "" {
				if !errors.As(err, &rl) || rl.Reason != tc.reason || rl.Scope != tc.scope || !rl.Until.After(e.clk.Now()) {
					t.Errorf("rate limit = %+v, want reason %q scope %q", rl, tc.reason, tc.scope)
				}
			}
			if (b.Cursor != "") != tc.wantCursor {
				t.Errorf("cursor %q, want one: %v", b.Cursor, tc.wantCursor)
			}
		})
	}
}

func TestBudgetSpent(t *testing.T) {
	e := newEnv(t, []facebookfake.Option{facebookfake.WithBudget(3, time.Hour)}, facebook.WithRescanEvery(2*time.Hour))
	e.acct.ID = e.pid
	e.comment("warga", "Air mati", "", time.Minute)
	b := e.poll(t) // feed and comments: 2 of 3 calls
	if !b.Budget.Known || b.Budget.Remaining != 34 || b.Budget.Scope != "" {
		t.Errorf("budget = %+v", b.Budget)
	}
	// The feed call spends the last one: the answer is used, and the poll
	// ends with ERATELIMIT until the page's window reopens (59 min left).
	e.clk.Advance(time.Minute)
	e.fake.AddComment(facebookfake.Comment{PostID: e.post, Message: "Masih mati", FromName: "warga"})
	b, err := e.poller.Poll(context.Background(), e.acct, e.cursor)
	var rl *collectors.RateLimitError
	if tanggap.ErrorCode(err) != tanggap.ERATELIMIT || !errors.As(err, &rl) {
		t.Fatalf("err = %v, want ERATELIMIT", err)
	}
	if want := e.clk.Now().Add(59 * time.Minute); rl.Reason != "app_usage" || !rl.Until.Equal(want) {
		t.Errorf("rate limit %+v, want app_usage until %v", rl, want)
	}
	if b.Cursor == "" || b.Calls != 1 || b.Budget.Remaining != 0 {
		t.Errorf("partial batch: cursor %q calls %d budget %+v", b.Cursor, b.Calls, b.Budget)
	}
	// Polling anyway: Graph error 80001 with the same estimate.
	_, err = e.poller.Poll(context.Background(), e.acct, b.Cursor)
	if !errors.As(err, &rl) || rl.Reason != "rate_limit" || !rl.Until.Equal(e.clk.Now().Add(59*time.Minute)) {
		t.Errorf("err = %v (%+v)", err, rl)
	}
}

func TestSlowResponseTimesOut(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.Inject(graphfake.Slow(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := e.poller.Poll(ctx, e.acct, "")
	if tanggap.ErrorCode(err) != tanggap.EUNAVAILABLE || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestEditsHidingAndDeletions(t *testing.T) {
	e := newEnv(t, nil)
	c1 := e.comment("Budi", "Air mati", "", time.Hour)
	c2 := e.comment("Ani", "Iklan obat", "", time.Hour)
	c3 := e.comment("Dewi", "Pipa bocor", "", time.Hour)
	r1 := e.comment("Eko", "Sama di sini", c1, time.Hour)
	first := e.poll(t)
	created := map[string]time.Time{}
	for _, p := range first.Posts {
		created[p.ID] = p.CreatedAt
	}

	e.fake.EditComment(c1, "Air mati sejak subuh di Harapan Jaya")
	e.fake.HideComment(c2, true)
	e.fake.EditPost(e.post, "Info gangguan distribusi air (diperbarui)")
	e.clk.Advance(time.Minute)
	b := e.poll(t)
	want := []brief{
		{ID: c1, Author: "Budi", Text: "Air mati sejak subuh di Harapan Jaya", Kind: tanggap.InteractionComment, Edited: true},
		{ID: c2, Author: "Ani", Text: "Iklan obat", Kind: tanggap.InteractionComment, Deleted: true},
		{ID: e.post, Author: "PerumdaTirtaPatriot", Text: "Info gangguan distribusi air (diperbarui)", Kind: tanggap.InteractionPost, Edited: true},
	}
	if diff := cmp.Diff(byID(want), byID(briefs(b.Posts))); diff != "" {
		t.Fatalf("edits (-want +got):\n%s", diff)
	}
	for _, p := range b.Posts {
		if !p.CreatedAt.Equal(created[p.ID]) {
			t.Errorf("%s: created_at changed", p.ID)
		}
	}

	e.fake.DeleteComment(c3)
	e.fake.DeleteComment(r1)
	e.clk.Advance(time.Minute)
	b = e.poll(t)
	want = []brief{
		{ID: c3, Kind: tanggap.InteractionComment, Deleted: true},
		{ID: r1, Parent: c1, Kind: tanggap.InteractionReply, Deleted: true},
	}
	if diff := cmp.Diff(byID(want), byID(briefs(b.Posts))); diff != "" {
		t.Fatalf("deletions (-want +got):\n%s", diff)
	}

	e.clk.Advance(time.Hour)
	if b := e.poll(t); len(b.Posts) != 0 {
		t.Errorf("reported again: %v", briefs(b.Posts))
	}

	e.fake.DeletePost(e.post)
	e.clk.Advance(time.Minute)
	b = e.poll(t)
	if diff := cmp.Diff([]brief{{ID: e.post, Kind: tanggap.InteractionPost, Deleted: true}}, briefs(b.Posts)); diff != "" {
		t.Errorf("post deleted (-want +got):\n%s", diff)
	}
}

func TestPostsEdgeSkipsVisitorPosts(t *testing.T) {
	e := newEnv(t, nil, facebook.WithEdge("posts"))
	e.fake.AddPost(facebookfake.Post{PageID: e.pid, FromID: "26000000000000001", FromName: "Siti", Message: "Air keruh"})
	b := e.poll(t)
	if len(b.Posts) != 1 || b.Posts[0].ID != e.post {
		t.Errorf("posts edge: %v", briefs(b.Posts))
	}
}

func TestUnknownPage(t *testing.T) {
	e := newEnv(t, nil)
	e.acct.Handle = "HalamanTidakAda"
	_, err := e.poller.Poll(context.Background(), e.acct, "")
	if tanggap.ErrorCode(err) != tanggap.EINVALID || !strings.Contains(err.Error(), "@HalamanTidakAda") {
		t.Errorf("err = %v", err)
	}
}

func TestInvalidUTF8(t *testing.T) {
	e := newEnv(t, nil)
	e.acct.ID = e.pid
	body := "{\"data\":[{\"id\":\"" + e.pid + "_1\",\"message\":\"air \xe2\x82 keruh \\ud83d\",\"created_time\":\"2026-03-17T09:00:00+0000\",\"updated_time\":\"2026-03-17T09:00:00+0000\",\"from\":{\"id\":\"26000000000000009\",\"name\":\"Siti\"}}]}"
	e.fake.Inject(graphfake.Fault{Path: "/feed", Status: 200, Body: body})
	b := e.poll(t)
	if len(b.Posts) != 1 || !b.Posts[0].InvalidUTF8 || b.Posts[0].Text != "air \uFFFD\uFFFD keruh \uFFFD" {
		t.Fatalf("%+v", b.Posts)
	}
}

// tally counts how often each post was published, over polls.
type tally map[string]int

func (ta tally) add(b collectors.Batch) {
	for _, p := range b.Posts {
		ta[p.ID]++
	}
}

// check fails unless every id of want was published exactly once and
// nothing else was.
func (ta tally) check(t *testing.T, want map[string]bool) {
	t.Helper()
	for id := range want {
		if ta[id] != 1 {
			t.Errorf("%s published %d times, want once", id, ta[id])
		}
	}
	for id, n := range ta {
		if !want[id] {
			t.Errorf("%s published %d times, want never", id, n)
		}
	}
}

// TestLongThreadGoesOnAcrossPolls: a post with more comments than one poll
// reads (10 pages of 50) is read over several polls, each going on from
// where the last stopped; the poll is Behind meanwhile, and no poll
// spends more than the feed and 10 comment pages.
func TestLongThreadGoesOnAcrossPolls(t *testing.T) {
	e := newEnv(t, nil)
	e.acct.ID = e.pid
	want := map[string]bool{e.post: true}
	for i := range 600 {
		want[e.comment("warga", fmt.Sprintf("keluhan %d", i), "", time.Duration(600-i)*time.Second)] = true
	}
	got := tally{}

	b := e.poll(t)
	got.add(b)
	if len(b.Posts) != 501 || b.Calls != 11 || !b.Behind {
		t.Fatalf("first poll: %d posts, %d calls, behind %v; want 501, 11, true", len(b.Posts), b.Calls, b.Behind)
	}
	// A comment written meanwhile is at the top of the listing, where the
	// scan that goes on does not look: the count the scan began with is
	// the one kept, so the post is scanned again for it.
	late := e.comment("warga", "keluhan susulan", "", 0)
	want[late] = true
	e.clk.Advance(time.Minute)
	b = e.poll(t)
	got.add(b)
	if len(b.Posts) != 100 || b.Calls != 3 || b.Behind {
		t.Fatalf("second poll: %d posts, %d calls, behind %v; want 100, 3, false", len(b.Posts), b.Calls, b.Behind)
	}
	pollUntilQuiet(t, e, got, 4)
	got.check(t, want)
}

// TestLongThreadCursorNeverAhead: a poll that fails in the middle of a
// long thread, or that the usage stop ends, keeps the position of the
// pages it published and no further, and the next polls collect the rest.
func TestLongThreadCursorNeverAhead(t *testing.T) {
	for _, tc := range []struct {
		name       string
		failPage   int // the comment page that fails; 0 none
		stopPage   int // the comment page whose answer reports 100% usage; 0 none
		firstPosts int
	}{
		{name: "fourth comment page fails", failPage: 4, firstPosts: 151},
		{name: "usage stop after four comment pages", stopPage: 4, firstPosts: 201},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, []facebookfake.Option{facebookfake.WithBudget(0, 0)})
			e.acct.ID = e.pid
			want := map[string]bool{e.post: true}
			for i := range 600 {
				want[e.comment("warga", fmt.Sprintf("keluhan %d", i), "", time.Duration(600-i)*time.Second)] = true
			}
			pages := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/comments") {
					switch pages++; pages {
					case tc.failPage:
						graphfake.WriteError(w, 500, graphfake.Error{Message: "An unexpected error has occurred.", Type: "OAuthException", Code: 2})
						return
					case tc.stopPage:
						w.Header().Set("X-Business-Use-Case-Usage", `{"`+e.pid+`":[{"type":"pages","call_count":100,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":0}]}`)
					}
				}
				e.fake.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			e.poller = facebook.New(facebook.StaticToken(token), facebook.WithBaseURL(srv.URL), facebook.WithClock(e.clk.Now))

			got := tally{}
			b, err := e.poller.Poll(context.Background(), e.acct, "")
			if err == nil || b.Cursor == "" || len(b.Posts) != tc.firstPosts {
				t.Fatalf("first poll: %d posts, cursor %v, err %v; want %d posts, a cursor and an error", len(b.Posts), b.Cursor != "", err, tc.firstPosts)
			}
			got.add(b)
			e.cursor = b.Cursor
			e.clk.Advance(time.Hour) // the usage window reopens
			pollUntilQuiet(t, e, got, 4)
			got.check(t, want)
		})
	}
}

// TestLongThreadRefusedCursor: Graph refuses a kept cursor whose comment
// was deleted: the scan starts over, and still collects every comment.
func TestLongThreadRefusedCursor(t *testing.T) {
	e := newEnv(t, []facebookfake.Option{facebookfake.WithBudget(0, 0)})
	e.acct.ID = e.pid
	want := map[string]bool{e.post: true}
	for i := range 600 {
		want[e.comment("warga", fmt.Sprintf("keluhan %d", i), "", time.Duration(600-i)*time.Second)] = true
	}
	got := tally{}
	b := e.poll(t)
	got.add(b)
	// The kept cursor points to the oldest comment this poll read.
	oldest := b.Posts[0]
	for _, p := range b.Posts {
		if p.Interaction == tanggap.InteractionComment && (oldest.Interaction != tanggap.InteractionComment || p.CreatedAt.Before(oldest.CreatedAt)) {
			oldest = p
		}
	}
	e.fake.DeleteComment(oldest.ID)
	pollUntilQuiet(t, e, got, 5)
	got.check(t, want)
}

// pollUntilQuiet polls, a minute apart, until a poll spends only the feed
// call and is not behind, at most n+1 times; no poll may spend more than
// the feed and 10 comment pages.
func pollUntilQuiet(t *testing.T, e *env, got tally, n int) {
	t.Helper()
	for i := 0; ; i++ {
		if i > n {
			t.Fatalf("still scanning after %d polls", n+1)
		}
		e.clk.Advance(time.Minute)
		b := e.poll(t)
		got.add(b)
		if b.Calls > 11 {
			t.Errorf("poll %d spent %d calls, want at most 11", i, b.Calls)
		}
		if b.Calls == 1 && !b.Behind {
			return
		}
	}
}

// TestOldCursorLoads: a cursor written before scans could go on across
// polls (no scan fields in its post records) loads; the scan it could not
// finish starts over from the top and this time reaches the end.
func TestOldCursorLoads(t *testing.T) {
	e := newEnv(t, []facebookfake.Option{facebookfake.WithBudget(0, 0)})
	e.acct.ID = e.pid
	want := map[string]bool{e.post: true}
	for i := range 600 {
		want[e.comment("warga", fmt.Sprintf("keluhan %d", i), "", time.Duration(600-i)*time.Second)] = true
	}
	got := tally{}
	b := e.poll(t)
	got.add(b)
	var cur map[string]any
	if err := json.Unmarshal([]byte(b.Cursor), &cur); err != nil {
		t.Fatal(err)
	}
	for _, p := range cur["posts"].([]any) {
		rec := p.(map[string]any)
		if rec["a"] == nil || rec["b"] == nil {
			t.Fatalf("the unfinished scan is not in the post record: %v", rec)
		}
		for _, k := range []string{"b", "bn", "bu", "a", "ro", "ra"} {
			delete(rec, k)
		}
	}
	old, _ := json.Marshal(cur)
	e.cursor = string(old)
	pollUntilQuiet(t, e, got, 4)
	got.check(t, want)
}

// TestOlderPostsOfTheWindowAreRescanned: a post of the 7-day window that
// has fallen beyond the feed's first pages (visitor posts count too) is
// still listed, and a new comment on it is collected.
func TestOlderPostsOfTheWindowAreRescanned(t *testing.T) {
	e := newEnv(t, []facebookfake.Option{facebookfake.WithBudget(0, 0)})
	e.acct.ID = e.pid
	// 120 posts over 5 days, one an hour, oldest first; with the env's
	// post, post k has 119-k+1 newer ones once all are there.
	var posts []string
	add := func(from, to int) {
		for k := from; k < to; k++ {
			p := facebookfake.Post{PageID: e.pid, Message: fmt.Sprintf("Info %d", k), Created: e.clk.Now().Add(-120*time.Hour + time.Duration(k)*time.Hour)}
			if k%2 == 1 {
				p.FromID, p.FromName = fmt.Sprint(26000000000000000+k), "warga"
			}
			posts = append(posts, e.fake.AddPost(p))
		}
	}
	settle := func(maxCalls int) {
		t.Helper()
		for i := 0; ; i++ {
			if i == 30 {
				t.Fatal("not settled after 30 polls")
			}
			e.clk.Advance(time.Minute)
			b := e.poll(t)
			if b.Calls > maxCalls+8 {
				t.Errorf("poll spent %d calls, want at most %d", b.Calls, maxCalls+8)
			}
			if !b.Behind && len(b.Posts) == 0 && b.Calls <= maxCalls {
				return
			}
		}
	}
	// The oldest 20 first, listed and scanned while they are new.
	add(0, 20)
	settle(1)
	add(20, 120)
	settle(3) // 121 posts: 3 feed pages of 50

	target := posts[11] // the 110th newest
	c := e.fake.AddComment(facebookfake.Comment{PostID: target, Message: "Jalan di depan rumah rusak", FromName: "Budi", Created: e.clk.Now()})
	got := tally{}
	for i := range 5 {
		e.clk.Advance(time.Minute)
		b := e.poll(t)
		got.add(b)
		if i == 0 && (b.Calls != 4 || b.Behind) {
			t.Errorf("poll after the comment: %d calls, behind %v; want 4 (3 feed pages, its comments), not behind", b.Calls, b.Behind)
		}
	}
	got.check(t, map[string]bool{c: true})
}

// TestFeedBeyondItsPageBoundIsBehind: a window holding more feed pages
// than one poll reads makes every poll Behind, once the posts it lists
// are scanned too.
func TestFeedBeyondItsPageBoundIsBehind(t *testing.T) {
	e := newEnv(t, []facebookfake.Option{facebookfake.WithBudget(0, 0)}, facebook.WithPageSize(10))
	e.acct.ID = e.pid
	for k := range 120 {
		e.fake.AddPost(facebookfake.Post{PageID: e.pid, Message: fmt.Sprintf("Info %d", k), Created: e.clk.Now().Add(-time.Duration(k+4) * time.Hour)})
	}
	got := tally{}
	var b collectors.Batch
	for range 20 {
		e.clk.Advance(time.Minute)
		b = e.poll(t)
		got.add(b)
	}
	if !b.Behind || b.Calls != 10 || len(got) != 100 {
		t.Errorf("last poll: %d calls, behind %v, %d posts in all; want 10 feed pages, behind, the 100 newest", b.Calls, b.Behind, len(got))
	}
}
