package instagram_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/facebook/graph/graphfake"
	"github.com/tanggap/tanggap/collectors/instagram"
	"github.com/tanggap/tanggap/collectors/instagram/instagramfake"
	"github.com/tanggap/tanggap/config"
)

const token = "test-token-SECRET"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	clk    *clock
	fake   *instagramfake.Server
	poller *instagram.Poller
	acct   config.Account
	uid    string
	media  string
	cursor string
}

func newEnv(t *testing.T, fakeOpts []instagramfake.Option, opts ...instagram.Option) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC)}
	fake := instagramfake.New(append([]instagramfake.Option{instagramfake.WithClock(clk.Now), instagramfake.WithToken(token)}, fakeOpts...)...)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p := instagram.New(instagram.StaticToken(token), append([]instagram.Option{
		instagram.WithBaseURL(srv.URL), instagram.WithClock(clk.Now), instagram.WithHTTPClient(srv.Client()),
	}, opts...)...)
	e := &env{clk: clk, fake: fake, poller: p,
		acct: config.Account{Platform: tanggap.PlatformInstagram, Handle: "humaskotabekasi", Owner: "city"}}
	e.uid = fake.AddAccount("humaskotabekasi", "")
	e.media = fake.AddMedia(instagramfake.Media{Owner: e.uid, Caption: "Kerja bakti serentak", Timestamp: clk.Now().Add(-2 * time.Hour)})
	return e
}

func (e *env) comment(text, parent string, ago time.Duration) string {
	user := "warga" + fmt.Sprint(len(text))
	return e.fake.AddComment(instagramfake.Comment{MediaID: e.media, ParentID: parent, Text: text,
		Username: user, Timestamp: e.clk.Now().Add(-ago)})
}

// poll polls and keeps the cursor, failing the test on error.
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

func TestPollCommentsRepliesAndOfficialReplies(t *testing.T) {
	e := newEnv(t, nil)
	c1 := e.comment("Lampu jalan mati di Jl. Ahmad Yani", "", 90*time.Minute)
	off := e.fake.AddComment(instagramfake.Comment{MediaID: e.media, ParentID: c1, Text: "Baik kak, kami teruskan ke OPD terkait",
		UserID: e.uid, Username: "humaskotabekasi", Timestamp: e.clk.Now().Add(-30 * time.Minute)})
	other := e.fake.AddComment(instagramfake.Comment{MediaID: e.media, ParentID: c1, Text: "Sudah kami jadwalkan perbaikan",
		Username: "dinasperkimtan.bekasi", Timestamp: e.clk.Now().Add(-20 * time.Minute)})

	b := e.poll(t)
	want := []brief{
		{ID: e.media, Author: "humaskotabekasi", Text: "Kerja bakti serentak", Kind: tanggap.InteractionPost},
		{ID: c1, Author: "warga34", Text: "Lampu jalan mati di Jl. Ahmad Yani", Kind: tanggap.InteractionComment},
		{ID: off, Author: "humaskotabekasi", Text: "Baik kak, kami teruskan ke OPD terkait", Parent: c1, Kind: tanggap.InteractionReply},
		{ID: other, Author: "dinasperkimtan.bekasi", Text: "Sudah kami jadwalkan perbaikan", Parent: c1, Kind: tanggap.InteractionReply},
	}
	if diff := cmp.Diff(want, briefs(b.Posts)); diff != "" {
		t.Fatalf("first poll (-want +got):\n%s", diff)
	}
	for _, p := range b.Posts {
		if p.ThreadID != e.media || p.Account != "humaskotabekasi" || p.CreatedAt.IsZero() || !p.CapturedAt.Equal(e.clk.Now()) {
			t.Errorf("post %s: thread %q account %q created %v captured %v", p.ID, p.ThreadID, p.Account, p.CreatedAt, p.CapturedAt)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("post %s: %v", p.ID, err)
		}
	}
	if b.Posts[2].AuthorID != e.uid {
		t.Errorf("official reply author id = %q, want the account's %q", b.Posts[2].AuthorID, e.uid)
	}

	// Nothing new: nothing published, and only the media list is spent
	// (the comment count did not change).
	e.clk.Advance(time.Minute)
	b = e.poll(t)
	if len(b.Posts) != 0 {
		t.Errorf("second poll published %v", briefs(b.Posts))
	}
	if b.Calls != 1 {
		t.Errorf("second poll spent %d calls, want 1 (media list only)", b.Calls)
	}

	// A new comment changes the count: only it is published.
	c2 := e.comment("Jalan berlubang depan SDN", "", 0)
	e.clk.Advance(time.Minute)
	b = e.poll(t)
	if diff := cmp.Diff([]brief{{ID: c2, Author: "warga25", Text: "Jalan berlubang depan SDN", Kind: tanggap.InteractionComment}}, briefs(b.Posts)); diff != "" {
		t.Errorf("third poll (-want +got):\n%s", diff)
	}
}

func TestPagination(t *testing.T) {
	for _, tc := range []struct {
		name              string
		comments, replies int
		pageSize          int
		wantCalls         int
	}{
		// calls: me/accounts (the id is resolved), media, comment pages,
		// reply pages, tags
		{"one page", 10, 0, 50, 4},
		{"exact pages", 100, 0, 50, 5},
		{"many pages", 120, 0, 25, 8},
		{"replies beyond the nested 25", 1, 60, 50, 5},
		{"empty media", 0, 0, 50, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, []instagramfake.Option{instagramfake.WithBudget(0, 0)}, instagram.WithPageSize(tc.pageSize))
			ids := map[string]bool{e.media: true}
			var first string
			for i := 0; i < tc.comments; i++ {
				id := e.comment(fmt.Sprintf("keluhan nomor %d", i), "", time.Duration(i)*time.Second)
				ids[id] = true
				if first == "" {
					first = id
				}
			}
			for i := 0; i < tc.replies; i++ {
				ids[e.comment(fmt.Sprintf("balasan %d", i), first, 0)] = true
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
				t.Errorf("published ids (-want +got):\n%s", diff)
			}
			if b.Calls != tc.wantCalls {
				t.Errorf("calls = %d, want %d", b.Calls, tc.wantCalls)
			}
		})
	}
}

func TestVeryLargePageAndLongTexts(t *testing.T) {
	e := newEnv(t, []instagramfake.Option{instagramfake.WithBudget(0, 0)}, instagram.WithPageSize(100))
	long := strings.Repeat("jalan rusak parah ", 2000) // 36 KB
	for i := 0; i < 100; i++ {
		e.comment(fmt.Sprintf("%d %s", i, long), "", time.Duration(i)*time.Second)
	}
	b := e.poll(t)
	if len(b.Posts) != 101 {
		t.Fatalf("published %d posts, want 101", len(b.Posts))
	}
	for _, p := range b.Posts[1:] {
		if !p.Truncated || len(p.Text) > tanggap.MaxTextBytes {
			t.Fatalf("post %s: truncated=%v len=%d", p.ID, p.Truncated, len(p.Text))
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fault      graphfake.Fault
		code       string
		reason     string
		scope      string
		wantCursor bool // the error came after some progress
	}{
		{name: "token expired", fault: graphfake.TokenExpired(), code: tanggap.EAUTH},
		{name: "401 without body", fault: graphfake.Fault{Status: 401}, code: tanggap.EAUTH},
		{name: "instagram account throttled", fault: instagramfake.Throttled(80002), code: tanggap.ERATELIMIT, reason: "rate_limit"},
		{name: "app throttled", fault: instagramfake.Throttled(4), code: tanggap.ERATELIMIT, reason: "rate_limit", scope: "meta:app"},
		{name: "user throttled", fault: instagramfake.Throttled(17), code: tanggap.ERATELIMIT, reason: "rate_limit"},
		{name: "page throttled", fault: instagramfake.Throttled(32), code: tanggap.ERATELIMIT, reason: "rate_limit"},
		{name: "api throttled", fault: instagramfake.Throttled(613), code: tanggap.ERATELIMIT, reason: "rate_limit"},
		{name: "429", fault: graphfake.Fault{Status: 429}, code: tanggap.ERATELIMIT, reason: "rate_limit"},
		{name: "500 graph error", fault: graphfake.ServerError(), code: tanggap.EUNAVAILABLE},
		{name: "502 html", fault: graphfake.Fault{Status: 502}, code: tanggap.EUNAVAILABLE},
		{name: "503 html", fault: graphfake.Fault{Status: 503}, code: tanggap.EUNAVAILABLE},
		{name: "malformed JSON", fault: graphfake.Malformed(), code: tanggap.EINVALID},
		{name: "wrong JSON type", fault: graphfake.Fault{Status: 200, Body: `{"data":{"id":1}}`}, code: tanggap.EINVALID},
		{name: "usage at 100% on a good answer", code: tanggap.ERATELIMIT, reason: "app_usage", scope: "meta:app", wantCursor: true,
			fault: graphfake.Fault{Status: 200, Body: `{"data":[]}`, Header: map[string]string{"X-App-Usage": `{"call_count":100,"total_cputime":12,"total_time":20}`}}},
		{name: "comments fail after the media list", fault: func() graphfake.Fault { f := graphfake.ServerError(); f.Path = "/comments"; return f }(),
			code: tanggap.EUNAVAILABLE, wantCursor: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.comment("Air PDAM mati sejak pagi", "", time.Minute)
			e.acct.ID = e.uid
			e.fake.Inject(tc.fault)
			b, err := e.poller.Poll(context.Background(), e.acct, "")
			if got := tanggap.ErrorCode(err); got != tc.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tc.code)
			}
			msg := err.Error()
			if strings.Contains(msg, token) {
				t.Errorf("error shows the token: %s", msg)
			}
			if !strings.Contains(msg, "@humaskotabekasi") {
				t.Errorf("error does not name the account: %s", msg)
			}
			var rl *collectors.RateLimitError
			if tc.reason != "" {
				if !errors.As(err, &rl) {
					t.Fatalf("no RateLimitError in %v", err)
				}
				if rl.Reason != tc.reason || rl.Scope != tc.scope || !rl.Until.After(e.clk.Now()) {
					t.Errorf("rate limit = %+v, want reason %q scope %q and a future Until", rl, tc.reason, tc.scope)
				}
			} else if errors.As(err, &rl) {
				t.Errorf("unexpected RateLimitError %+v", rl)
			}
			if (b.Cursor != "") != tc.wantCursor {
				t.Errorf("cursor = %q, want one: %v", b.Cursor, tc.wantCursor)
			}
		})
	}
}

func TestBudgetSpentAndRegainEstimate(t *testing.T) {
	e := newEnv(t, []instagramfake.Option{instagramfake.WithBudget(3, time.Hour)},
		instagram.WithRescanEvery(2*time.Hour), instagram.WithTagsEvery(2*time.Hour))
	e.acct.ID = e.uid
	for i := 0; i < 3; i++ {
		e.comment(fmt.Sprintf("aduan %d", i), "", 0)
	}
	// media, comments, tags = 3 calls: the third answer reports 100% and
	// 60 minutes to regain access. The poll stops there; what it got
	// comes with the error and a cursor covering it.
	b, err := e.poller.Poll(context.Background(), e.acct, "")
	var rl *collectors.RateLimitError
	if tanggap.ErrorCode(err) != tanggap.ERATELIMIT || !errors.As(err, &rl) {
		t.Fatalf("first poll: %v, want ERATELIMIT", err)
	}
	if rl.Reason != "app_usage" || !rl.Until.Equal(e.clk.Now().Add(time.Hour)) {
		t.Errorf("rate limit = %+v, want app_usage until +60m", rl)
	}
	if len(b.Posts) != 4 || b.Cursor == "" || !b.Budget.Known || b.Budget.Remaining != 0 || b.Calls != 3 {
		t.Errorf("partial batch: %d posts, cursor %q, budget %+v, calls %d", len(b.Posts), b.Cursor, b.Budget, b.Calls)
	}

	// Polling anyway: Graph error 80002 with the minutes left (50).
	e.clk.Advance(10 * time.Minute)
	_, err = e.poller.Poll(context.Background(), e.acct, b.Cursor)
	if tanggap.ErrorCode(err) != tanggap.ERATELIMIT || !errors.As(err, &rl) {
		t.Fatalf("second poll: %v, want ERATELIMIT", err)
	}
	if want := e.clk.Now().Add(50 * time.Minute); rl.Reason != "rate_limit" || !rl.Until.Equal(want) {
		t.Errorf("rate limit = %+v, want rate_limit until %v", rl, want)
	}

	// The window reopens: one call (the media list) of three spent.
	e.clk.Advance(51 * time.Minute)
	e.cursor = b.Cursor
	if b := e.poll(t); b.Budget.Remaining != 67 {
		t.Errorf("after the window: budget %+v", b.Budget)
	}
}

func TestSlowResponseTimesOut(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.Inject(graphfake.Slow(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := e.poller.Poll(ctx, e.acct, "")
	if tanggap.ErrorCode(err) != tanggap.EUNAVAILABLE || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want EUNAVAILABLE wrapping context.DeadlineExceeded", err)
	}
}

func TestEditsHidingAndDeletions(t *testing.T) {
	e := newEnv(t, nil, instagram.WithRescanEvery(30*time.Minute))
	c1 := e.comment("Jalan rusak", "", time.Hour)
	c2 := e.comment("Saluran mampet", "", time.Hour)
	c3 := e.comment("Pohon tumbang", "", time.Hour)
	r1 := e.comment("Betul, parah", c1, time.Hour)
	first := e.poll(t)
	created := map[string]time.Time{}
	for _, p := range first.Posts {
		created[p.ID] = p.CreatedAt
	}

	// An edit keeps the count: it shows at the next rescan.
	e.fake.EditComment(c1, "Jalan rusak parah di Jl. Juanda")
	e.fake.HideComment(c2, true)
	e.clk.Advance(31 * time.Minute)
	b := e.poll(t)
	want := []brief{
		{ID: c1, Author: "warga11", Text: "Jalan rusak parah di Jl. Juanda", Kind: tanggap.InteractionComment, Edited: true},
		{ID: c2, Author: "warga14", Text: "Saluran mampet", Kind: tanggap.InteractionComment, Deleted: true},
	}
	if diff := cmp.Diff(want, briefs(b.Posts), cmp.Transformer("sort", sortBriefs)); diff != "" {
		t.Fatalf("after edit and hide (-want +got):\n%s", diff)
	}
	for _, p := range b.Posts {
		if !p.CreatedAt.Equal(created[p.ID]) {
			t.Errorf("post %s: created_at changed from %v to %v", p.ID, created[p.ID], p.CreatedAt)
		}
		if p.EditedAt != nil && !p.EditedAt.Equal(e.clk.Now()) {
			t.Errorf("post %s: edited_at %v", p.ID, p.EditedAt)
		}
	}

	// Deleting drops the count: the comments missing from the listing are
	// looked up and reported deleted on Graph error 100/33.
	e.fake.DeleteComment(c3)
	e.fake.DeleteComment(r1)
	e.clk.Advance(time.Minute)
	b = e.poll(t)
	want = []brief{
		{ID: c3, Kind: tanggap.InteractionComment, Deleted: true},
		{ID: r1, Parent: c1, Kind: tanggap.InteractionReply, Deleted: true},
	}
	if diff := cmp.Diff(want, briefs(b.Posts), cmp.Transformer("sort", sortBriefs)); diff != "" {
		t.Fatalf("after deletes (-want +got):\n%s", diff)
	}
	for _, p := range b.Posts {
		if !p.CreatedAt.Equal(created[p.ID]) || p.ThreadID != e.media {
			t.Errorf("deleted post %s: created %v thread %s", p.ID, p.CreatedAt, p.ThreadID)
		}
	}

	// Reported once.
	e.clk.Advance(31 * time.Minute)
	if b := e.poll(t); len(b.Posts) != 0 {
		t.Errorf("deletions reported again: %v", briefs(b.Posts))
	}

	// The media itself deleted.
	e.fake.DeleteMedia(e.media)
	e.clk.Advance(time.Minute)
	b = e.poll(t)
	if diff := cmp.Diff([]brief{{ID: e.media, Kind: tanggap.InteractionPost, Deleted: true}}, briefs(b.Posts)); diff != "" {
		t.Errorf("after media delete (-want +got):\n%s", diff)
	}
}

func sortBriefs(in []brief) []brief {
	out := append([]brief(nil), in...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestTaggedMedia(t *testing.T) {
	e := newEnv(t, nil)
	citizen := e.fake.AddAccount("warga_jatiasih", "")
	m := e.fake.AddMedia(instagramfake.Media{Owner: citizen, Caption: "Banjir lagi @humaskotabekasi", Timestamp: e.clk.Now().Add(-time.Hour)})
	e.fake.Tag(m, e.uid)
	b := e.poll(t)
	var tagged []brief
	for _, x := range briefs(b.Posts) {
		if x.Kind == tanggap.InteractionTag {
			tagged = append(tagged, x)
		}
	}
	want := []brief{{ID: m, Author: "warga_jatiasih", Text: "Banjir lagi @humaskotabekasi", Kind: tanggap.InteractionTag}}
	if diff := cmp.Diff(want, tagged); diff != "" {
		t.Errorf("tagged (-want +got):\n%s", diff)
	}
	// Tags are listed every 10 minutes, not every poll.
	e.clk.Advance(time.Minute)
	if b := e.poll(t); b.Calls != 1 {
		t.Errorf("calls = %d, want 1", b.Calls)
	}
}

func TestCursorSurvivesGarbage(t *testing.T) {
	e := newEnv(t, nil)
	e.comment("Trotoar rusak", "", time.Minute)
	for _, cur := range []string{"not json", `{"v":99}`, `{"v":1,"seen":"x"}`} {
		b, err := e.poller.Poll(context.Background(), e.acct, cur)
		if err != nil || len(b.Posts) != 2 || b.Cursor == "" {
			t.Errorf("cursor %q: %d posts, cursor %q, err %v", cur, len(b.Posts), b.Cursor, err)
		}
	}
}

func TestMissingToken(t *testing.T) {
	p := instagram.New(instagram.EnvToken(func(string) string { return "" }, "TANGGAP_INSTAGRAM_TOKEN"))
	_, err := p.Poll(context.Background(), config.Account{Handle: "humaskotabekasi"}, "")
	if tanggap.ErrorCode(err) != tanggap.EAUTH || !strings.Contains(err.Error(), "@humaskotabekasi") {
		t.Errorf("err = %v", err)
	}
	env := map[string]string{"TANGGAP_INSTAGRAM_TOKEN_BEKASIKOTA_SETDA": "per-account", "TANGGAP_INSTAGRAM_TOKEN": "shared"}
	src := instagram.EnvToken(func(k string) string { return env[k] }, "TANGGAP_INSTAGRAM_TOKEN")
	for handle, want := range map[string]string{"bekasikota.setda": "per-account", "humaskotabekasi": "shared"} {
		if got, _ := src(context.Background(), config.Account{Handle: handle}); got != want {
			t.Errorf("token for %s = %q, want %q", handle, got, want)
		}
	}
}

func TestTagsPermissionMissingDoesNotStopComments(t *testing.T) {
	e := newEnv(t, nil)
	c := e.comment("Air mati", "", time.Minute)
	e.fake.Inject(graphfake.Fault{Path: "/tags", Error: &graphfake.Error{Message: "(#10) Application does not have permission for this action", Type: "OAuthException", Code: 10}})
	b := e.poll(t)
	if len(b.Posts) != 2 || b.Posts[1].ID != c {
		t.Fatalf("posts %v", briefs(b.Posts))
	}
	e.clk.Advance(time.Minute) // tags are not asked again before 10 minutes
	if b := e.poll(t); b.Calls != 1 {
		t.Errorf("calls %d, want 1", b.Calls)
	}
}

// TestResolveBeyondFirstAccountsPage: the token manages more Pages than
// one me/accounts page holds and the watched account is on a later page.
func TestResolveBeyondFirstAccountsPage(t *testing.T) {
	e := newEnv(t, []instagramfake.Option{instagramfake.WithBudget(0, 0)})
	for i := range 150 {
		// Ids that sort before the watched account's: it comes last.
		e.fake.AddAccount(fmt.Sprintf("opd_lain_%03d", i), fmt.Sprintf("10000000000%04d", i))
	}
	c := e.comment("Sampah menumpuk di TPS Bantargebang", "", time.Minute)
	b := e.poll(t)
	found := false
	for _, p := range b.Posts {
		found = found || p.ID == c
	}
	if !found {
		t.Fatalf("the comment was not collected: %+v", briefs(b.Posts))
	}
	if !strings.Contains(string(b.Cursor), e.uid) {
		t.Errorf("cursor %s does not keep the resolved id %s", b.Cursor, e.uid)
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

// pollUntilQuiet polls, a minute apart, until a poll spends only the media
// list and is not behind, at most n+1 times; no poll may spend more than
// the media list, 10 comment and reply pages and the tags.
func pollUntilQuiet(t *testing.T, e *env, got tally, n int) {
	t.Helper()
	for i := 0; ; i++ {
		if i > n {
			t.Fatalf("still scanning after %d polls", n+1)
		}
		e.clk.Advance(time.Minute)
		b := e.poll(t)
		got.add(b)
		if b.Calls > 12 {
			t.Errorf("poll %d spent %d calls, want at most 12", i, b.Calls)
		}
		if b.Calls == 1 && !b.Behind {
			return
		}
	}
}

// TestLongThreadGoesOnAcrossPolls: a media with more comments, or a
// comment with more replies, than one poll reads (10 pages in all) is
// read over several polls, each going on from where the last stopped
// (inside a comment's replies too, without listing again the replies of
// the comments before it); the poll is Behind meanwhile, and no poll
// spends more than the media list, 10 pages and the tags.
func TestLongThreadGoesOnAcrossPolls(t *testing.T) {
	for _, tc := range []struct {
		name              string
		comments, replies int // replies to each comment
		first             int // posts of the first poll
	}{
		// media, 10 pages of 50 comments
		{name: "600 comments", comments: 600, first: 501},
		// media, the comment with 25 nested replies, 9 pages of 50 more
		{name: "600 replies to one comment", comments: 1, replies: 600, first: 477},
		// media, 3 comments with 25 nested replies each, 4 pages of 50
		// more for the first two, 1 for the third: the second poll reads
		// the comment page again and goes on inside the third's replies.
		{name: "225 replies to each of 3 comments", comments: 3, replies: 225, first: 529},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, []instagramfake.Option{instagramfake.WithBudget(0, 0)})
			e.acct.ID = e.uid
			want := map[string]bool{e.media: true}
			for i := range tc.comments {
				c := e.comment(fmt.Sprintf("keluhan %d", i), "", time.Duration(tc.comments-i)*time.Minute)
				want[c] = true
				for j := range tc.replies {
					want[e.comment(fmt.Sprintf("balasan %d", j), c, time.Duration(tc.comments-i)*time.Minute-time.Duration(j+1)*time.Millisecond)] = true
				}
			}
			got := tally{}
			b := e.poll(t)
			got.add(b)
			if len(b.Posts) != tc.first || b.Calls != 12 || !b.Behind {
				t.Fatalf("first poll: %d posts, %d calls, behind %v; want %d, 12, true", len(b.Posts), b.Calls, b.Behind, tc.first)
			}
			pollUntilQuiet(t, e, got, 3)
			got.check(t, want)
		})
	}
}

// TestLongThreadCursorNeverAhead: a poll that fails in the middle of a
// long thread, among its comment pages or its reply pages, keeps the
// position of the pages it published and no further, and the next polls
// collect the rest.
func TestLongThreadCursorNeverAhead(t *testing.T) {
	for _, tc := range []struct {
		name   string
		suffix string // the path of the failing request
		nth    int
	}{
		{name: "fourth comment page fails", suffix: "/comments", nth: 4},
		{name: "second reply page of the second comment fails", suffix: "/replies", nth: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, []instagramfake.Option{instagramfake.WithBudget(0, 0)})
			e.acct.ID = e.uid
			want := map[string]bool{e.media: true}
			for i := range 300 {
				c := e.comment(fmt.Sprintf("keluhan %d", i), "", time.Duration(300-i)*time.Minute)
				want[c] = true
				if i >= 297 { // the three newest, on the first page
					for j := range 125 {
						want[e.comment(fmt.Sprintf("balasan %d", j), c, time.Duration(300-i)*time.Minute-time.Duration(j+1)*time.Millisecond)] = true
					}
				}
			}
			n := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, tc.suffix) {
					if n++; n == tc.nth {
						graphfake.WriteError(w, 500, graphfake.Error{Message: "An unexpected error has occurred.", Type: "OAuthException", Code: 2})
						return
					}
				}
				e.fake.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			e.poller = instagram.New(instagram.StaticToken(token), instagram.WithBaseURL(srv.URL), instagram.WithClock(e.clk.Now))

			got := tally{}
			b, err := e.poller.Poll(context.Background(), e.acct, "")
			if err == nil || b.Cursor == "" {
				t.Fatalf("first poll: %d posts, cursor %v, err %v; want a cursor and an error", len(b.Posts), b.Cursor != "", err)
			}
			got.add(b)
			e.cursor = b.Cursor
			pollUntilQuiet(t, e, got, 4)
			got.check(t, want)
		})
	}
}

// TestOlderMediaOfTheWindowAreRescanned: a media of the 7-day window that
// has fallen beyond the media list's first pages is still listed, and a
// new comment on it is collected.
func TestOlderMediaOfTheWindowAreRescanned(t *testing.T) {
	e := newEnv(t, []instagramfake.Option{instagramfake.WithBudget(0, 0)}, instagram.WithTagsEvery(24*time.Hour))
	e.acct.ID = e.uid
	// 120 media over 5 days, one an hour, oldest first; with the env's
	// media, media k has 119-k+1 newer ones once all are there.
	var media []string
	add := func(from, to int) {
		for k := from; k < to; k++ {
			media = append(media, e.fake.AddMedia(instagramfake.Media{Owner: e.uid, Caption: fmt.Sprintf("Info %d", k),
				Timestamp: e.clk.Now().Add(-120*time.Hour + time.Duration(k)*time.Hour)}))
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
			if b.Calls > maxCalls+9 {
				t.Errorf("poll spent %d calls, want at most %d", b.Calls, maxCalls+9)
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
	settle(3) // 121 media: 3 pages of 50

	target := media[11] // the 110th newest
	c := e.fake.AddComment(instagramfake.Comment{MediaID: target, Text: "Lampu jalan mati", Username: "warga_bekasi", Timestamp: e.clk.Now()})
	got := tally{}
	for i := range 5 {
		e.clk.Advance(time.Minute)
		b := e.poll(t)
		got.add(b)
		if i == 0 && (b.Calls != 4 || b.Behind) {
			t.Errorf("poll after the comment: %d calls, behind %v; want 4 (3 media pages, its comments), not behind", b.Calls, b.Behind)
		}
	}
	got.check(t, map[string]bool{c: true})
}
