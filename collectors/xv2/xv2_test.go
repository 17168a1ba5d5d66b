package xv2_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/xv2"
	"github.com/tanggap/tanggap/collectors/xv2/xv2fake"
	"github.com/tanggap/tanggap/config"
)

const token = "bearer-SECRET"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	clk    *clock
	fake   *xv2fake.Server
	poller *xv2.Poller
	acct   config.Account
	uid    string
	cursor string
}

func newEnv(t *testing.T, fakeOpts []xv2fake.Option, opts ...xv2.Option) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC)}
	fake := xv2fake.New(append([]xv2fake.Option{xv2fake.WithClock(clk.Now), xv2fake.WithToken(token)}, fakeOpts...)...)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p := xv2.New(xv2.StaticToken(token), append([]xv2.Option{
		xv2.WithBaseURL(srv.URL), xv2.WithClock(clk.Now), xv2.WithHTTPClient(srv.Client()),
	}, opts...)...)
	e := &env{clk: clk, fake: fake, poller: p, acct: config.Account{Platform: tanggap.PlatformX, Handle: "humasbekasikota", Owner: "city"}}
	e.uid = fake.AddUser("humasbekasikota", "Humas Pemkot Bekasi", "")
	return e
}

func (e *env) tweet(author, text, replyTo string, ago time.Duration) string {
	uid := e.fake.AddUser(author, "", "")
	return e.fake.AddTweet(xv2fake.Tweet{AuthorID: uid, Text: text, ReplyTo: replyTo, Created: e.clk.Now().Add(-ago)})
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
	ID, Author, Text, Parent, Thread string
	Kind                             tanggap.Interaction
	Edited, Deleted                  bool
}

func briefs(posts []tanggap.Post) []brief {
	var out []brief
	for _, p := range posts {
		out = append(out, brief{p.ID, p.Author, p.Text, p.ParentID, p.ThreadID, p.Interaction, p.EditedAt != nil, p.Deleted})
	}
	return out
}

func TestMentionsOwnTweetsAndOfficialReplies(t *testing.T) {
	e := newEnv(t, nil)
	c1 := e.tweet("andi_jatibening", "@humasbekasikota pohon tumbang di Jl. Joyomartono", "", 50*time.Minute)
	r1 := e.tweet("pemkotbekasi", "@andi_jatibening petugas DPUPR menuju lokasi", c1, 40*time.Minute)
	r2 := e.fake.AddTweet(xv2fake.Tweet{AuthorID: e.uid, Text: "@andi_jatibening sudah kami teruskan", ReplyTo: c1, Created: e.clk.Now().Add(-30 * time.Minute)})
	own := e.fake.AddTweet(xv2fake.Tweet{AuthorID: e.uid, Text: "Posko banjir buka 24 jam", Created: e.clk.Now().Add(-20 * time.Minute)})
	e.tweet("orang_lain", "tidak menyebut akun kota", "", 10*time.Minute)

	b := e.poll(t)
	want := []brief{
		{ID: c1, Author: "andi_jatibening", Text: "@humasbekasikota pohon tumbang di Jl. Joyomartono", Thread: c1, Kind: tanggap.InteractionMention},
		// a reply to the citizen in a thread the account is in: X counts it as a mention
		{ID: r1, Author: "pemkotbekasi", Text: "@andi_jatibening petugas DPUPR menuju lokasi", Parent: c1, Thread: c1, Kind: tanggap.InteractionReply},
		{ID: r2, Author: "humasbekasikota", Text: "@andi_jatibening sudah kami teruskan", Parent: c1, Thread: c1, Kind: tanggap.InteractionReply},
		{ID: own, Author: "humasbekasikota", Text: "Posko banjir buka 24 jam", Thread: own, Kind: tanggap.InteractionPost},
	}
	// r1 mentions only @andi: it is not in the account's mentions. The
	// fake follows X: mentions are @username or replies to the account.
	want = append(want[:1], want[2:]...)
	if diff := cmp.Diff(want, briefs(b.Posts)); diff != "" {
		t.Fatalf("first poll (-want +got):\n%s", diff)
	}
	for _, p := range b.Posts {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", p.ID, err)
		}
		if ts, ok := xv2.SnowflakeTime(p.ID); !ok || ts.Sub(p.CreatedAt).Abs() > time.Second {
			t.Errorf("%s: created %v, id says %v", p.ID, p.CreatedAt, ts)
		}
	}

	e.clk.Advance(time.Minute)
	if b := e.poll(t); len(b.Posts) != 0 || b.Calls != 2 {
		t.Errorf("idle poll: %v, %d calls", briefs(b.Posts), b.Calls)
	}
	c2 := e.tweet("rina_bks", "@HumasBekasiKota banjir Kalimalang", "", 0)
	e.clk.Advance(time.Minute)
	b = e.poll(t)
	if diff := cmp.Diff([]brief{{ID: c2, Author: "rina_bks", Text: "@HumasBekasiKota banjir Kalimalang", Thread: c2, Kind: tanggap.InteractionMention}}, briefs(b.Posts)); diff != "" {
		t.Errorf("third poll (-want +got):\n%s", diff)
	}
}

func TestPaginationAndBacklog(t *testing.T) {
	for _, tc := range []struct {
		name      string
		n         int
		pageSize  int
		maxPages  int
		wantPolls int
	}{
		{"one page", 30, 100, 5, 1},
		{"three pages", 250, 100, 5, 1},
		{"backlog over polls", 250, 50, 2, 3},
		{"empty", 0, 100, 5, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, xv2.WithPageSize(tc.pageSize), xv2.WithMaxPages(tc.maxPages), xv2.WithOwnTweets(false))
			want := map[string]bool{}
			for i := 0; i < tc.n; i++ {
				want[e.tweet(fmt.Sprintf("warga%d", i%7), fmt.Sprintf("@humasbekasikota aduan %d", i), "", time.Duration(tc.n-i)*time.Second)] = true
			}
			got := map[string]bool{}
			polls := 0
			late := ""
			for polls < 10 {
				polls++
				b := e.poll(t)
				for _, p := range b.Posts {
					if got[p.ID] {
						t.Errorf("%s published twice", p.ID)
					}
					got[p.ID] = true
				}
				if polls == 1 && tc.wantPolls > 1 {
					// A mention arriving during the backlog is not lost.
					late = e.tweet("telat", "@humasbekasikota datang belakangan", "", 0)
					want[late] = true
				}
				if len(b.Posts) == 0 && polls > tc.wantPolls {
					break
				}
				e.clk.Advance(time.Minute)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVeryLargePage(t *testing.T) {
	e := newEnv(t, nil, xv2.WithOwnTweets(false))
	long := strings.Repeat("banjir setinggi lutut ", 1000)
	for i := 0; i < 100; i++ {
		e.tweet("warga", fmt.Sprintf("@humasbekasikota %d %s", i, long), "", time.Duration(100-i)*time.Second)
	}
	b := e.poll(t)
	if len(b.Posts) != 100 || b.Calls != 2 {
		t.Fatalf("%d posts in %d calls", len(b.Posts), b.Calls)
	}
	for _, p := range b.Posts {
		if !p.Truncated || len(p.Text) > tanggap.MaxTextBytes {
			t.Fatalf("%s: truncated %v len %d (the long text comes from note_tweet)", p.ID, p.Truncated, len(p.Text))
		}
	}
}

func TestErrors(t *testing.T) {
	reset := time.Date(2026, 3, 17, 10, 12, 0, 0, time.UTC)
	at := func(f xv2fake.Fault, path string) xv2fake.Fault { f.Path = path; return f }
	for _, tc := range []struct {
		name          string
		fault         xv2fake.Fault
		code          string
		reason, scope string
		until         time.Time
	}{
		{name: "401", fault: xv2fake.Unauthorized(), code: tanggap.EAUTH},
		{name: "403 client not enrolled", fault: xv2fake.Fault{Status: 403, Problem: &xv2fake.Problem{Title: "Client Forbidden", Type: "https://api.twitter.com/2/problems/client-forbidden", Detail: "This request must be made using an approved developer account that is enrolled in the requested endpoint."}}, code: tanggap.EAUTH},
		{name: "429", fault: xv2fake.RateLimited(reset), code: tanggap.ERATELIMIT, reason: "rate_limit", scope: xv2.ScopeMentions, until: reset},
		{name: "429 without headers", fault: xv2fake.Fault{Status: 429, Body: `{"title":"Too Many Requests","type":"about:blank","status":429}`}, code: tanggap.ERATELIMIT, reason: "rate_limit", scope: xv2.ScopeMentions, until: time.Date(2026, 3, 17, 10, 15, 0, 0, time.UTC)},
		{name: "monthly usage cap", fault: xv2fake.UsageCapped("Monthly"), code: tanggap.ERATELIMIT, reason: "spend_cap", scope: xv2.ScopeUsageCap, until: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		{name: "daily usage cap", fault: xv2fake.UsageCapped("Daily"), code: tanggap.ERATELIMIT, reason: "spend_cap", scope: xv2.ScopeUsageCap, until: time.Date(2026, 3, 18, 0, 0, 0, 0, time.UTC)},
		{name: "usage cap on the own timeline stops everything", fault: at(xv2fake.UsageCapped("Monthly"), "/tweets"), code: tanggap.ERATELIMIT, reason: "spend_cap", scope: xv2.ScopeUsageCap, until: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		{name: "503", fault: xv2fake.ServerError(), code: tanggap.EUNAVAILABLE},
		{name: "502 empty", fault: xv2fake.Fault{Status: 502}, code: tanggap.EUNAVAILABLE},
		{name: "malformed", fault: xv2fake.Malformed(), code: tanggap.EINVALID},
		{name: "400", fault: xv2fake.Fault{Status: 400, Body: `{"errors":[{"parameters":{"since_id":["x"]},"message":"bad"}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}`}, code: tanggap.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.acct.ID = e.uid
			e.tweet("warga", "@humasbekasikota air mati", "", time.Minute)
			e.fake.Inject(tc.fault)
			_, err := e.poller.Poll(context.Background(), e.acct, "")
			if got := tanggap.ErrorCode(err); got != tc.code {
				t.Fatalf("code %q (%v), want %q", got, err, tc.code)
			}
			if strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "@humasbekasikota") {
				t.Errorf("message: %s", err)
			}
			var rl *collectors.RateLimitError
			if tc.reason != "" {
				if !errors.As(err, &rl) {
					t.Fatalf("no RateLimitError: %v", err)
				}
				if diff := cmp.Diff(collectors.RateLimitError{Until: tc.until, Reason: tc.reason, Scope: tc.scope}, *rl); diff != "" {
					t.Errorf("rate limit (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestOwnTimelineRateLimitDoesNotStopMentions(t *testing.T) {
	e := newEnv(t, nil)
	c := e.tweet("warga", "@humasbekasikota jalan rusak", "", time.Minute)
	f := xv2fake.RateLimited(e.clk.Now().Add(10 * time.Minute))
	f.Path = "/tweets"
	e.fake.Inject(f)
	b := e.poll(t)
	if len(b.Posts) != 1 || b.Posts[0].ID != c {
		t.Fatalf("posts %v", briefs(b.Posts))
	}
	// Paused: the next poll does not ask the own timeline.
	e.clk.Advance(time.Minute)
	if b := e.poll(t); b.Calls != 1 {
		t.Errorf("calls while paused = %d, want 1", b.Calls)
	}
	e.clk.Advance(10 * time.Minute)
	own := e.fake.AddTweet(xv2fake.Tweet{AuthorID: e.uid, Text: "Pengumuman", Created: e.clk.Now()})
	if b := e.poll(t); len(b.Posts) != 1 || b.Posts[0].ID != own {
		t.Errorf("after the pause: %v", briefs(b.Posts))
	}
}

func TestAppRateWindow(t *testing.T) {
	e := newEnv(t, []xv2fake.Option{xv2fake.WithRateLimit(xv2fake.EndpointMentions, 3)}, xv2.WithOwnTweets(false))
	e.acct.ID = e.uid
	var last collectors.Budget
	for i := 0; i < 3; i++ {
		b := e.poll(t)
		last = b.Budget
		e.clk.Advance(time.Minute)
	}
	want := collectors.Budget{Limit: 3, Remaining: 0, Reset: time.Date(2026, 3, 17, 10, 15, 0, 0, time.UTC), Known: true, Scope: xv2.ScopeMentions}
	if diff := cmp.Diff(want, last); diff != "" {
		t.Errorf("budget (-want +got):\n%s", diff)
	}
	_, err := e.poller.Poll(context.Background(), e.acct, e.cursor)
	var rl *collectors.RateLimitError
	if !errors.As(err, &rl) || !rl.Until.Equal(want.Reset) || rl.Scope != xv2.ScopeMentions {
		t.Fatalf("err = %v", err)
	}
	e.clk.Advance(12 * time.Minute)
	e.poll(t)
}

func TestUsageCapFromTheFake(t *testing.T) {
	e := newEnv(t, []xv2fake.Option{xv2fake.WithUsageCap(2)}, xv2.WithOwnTweets(false))
	e.tweet("a", "@humasbekasikota satu", "", 2*time.Minute)
	e.tweet("b", "@humasbekasikota dua", "", time.Minute)
	e.poll(t)
	e.tweet("c", "@humasbekasikota tiga", "", 0)
	e.clk.Advance(time.Minute)
	_, err := e.poller.Poll(context.Background(), e.acct, e.cursor)
	var rl *collectors.RateLimitError
	if !errors.As(err, &rl) || rl.Reason != "spend_cap" {
		t.Fatalf("err = %v", err)
	}
}

func TestSlowResponseTimesOut(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.Inject(xv2fake.Slow(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := e.poller.Poll(ctx, e.acct, "")
	if tanggap.ErrorCode(err) != tanggap.EUNAVAILABLE || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestEditsAndDeletions(t *testing.T) {
	e := newEnv(t, nil)
	c1 := e.tweet("andi", "@humasbekasikota lampu mati", "", 5*time.Minute)
	c2 := e.tweet("budi", "@humasbekasikota got mampet", "", 4*time.Minute)
	first := e.poll(t)
	created := map[string]time.Time{}
	for _, p := range first.Posts {
		created[p.ID] = p.CreatedAt
	}

	e.clk.Advance(time.Minute)
	e.fake.EditTweet(c1, "@humasbekasikota lampu PJU mati di Jl. Pramuka")
	b := e.poll(t)
	if diff := cmp.Diff([]brief{{ID: c1, Author: "andi", Text: "@humasbekasikota lampu PJU mati di Jl. Pramuka", Thread: c1, Kind: tanggap.InteractionMention, Edited: true}}, briefs(b.Posts)); diff != "" {
		t.Fatalf("edit (-want +got):\n%s", diff)
	}
	if !b.Posts[0].CreatedAt.Equal(created[c1]) || !b.Posts[0].EditedAt.Equal(e.clk.Now()) {
		t.Errorf("edit times: created %v (was %v), edited %v", b.Posts[0].CreatedAt, created[c1], b.Posts[0].EditedAt)
	}

	e.fake.DeleteTweet(c2)
	e.clk.Advance(16 * time.Minute)
	b = e.poll(t)
	if diff := cmp.Diff([]brief{{ID: c2, Thread: c2, Kind: tanggap.InteractionMention, Deleted: true}}, briefs(b.Posts)); diff != "" {
		t.Fatalf("delete (-want +got):\n%s", diff)
	}
	if !b.Posts[0].CreatedAt.Equal(created[c2].Truncate(time.Millisecond)) {
		t.Errorf("deleted created_at %v, want %v", b.Posts[0].CreatedAt, created[c2])
	}
	e.clk.Advance(16 * time.Minute)
	if b := e.poll(t); len(b.Posts) != 0 {
		t.Errorf("deletion reported again: %v", briefs(b.Posts))
	}
}

func TestInvalidUTF8(t *testing.T) {
	e := newEnv(t, nil, xv2.WithOwnTweets(false))
	e.acct.ID = e.uid
	e.fake.Inject(xv2fake.Fault{Status: 200, Body: "{\"data\":[{\"id\":\"2033827062346785459\",\"text\":\"jalan \xc3\x28 rusak\",\"author_id\":\"1\",\"created_at\":\"2026-03-17T08:45:33.000Z\",\"conversation_id\":\"2033827062346785459\",\"edit_history_tweet_ids\":[\"2033827062346785459\"]}],\"meta\":{\"result_count\":1}}"})
	b := e.poll(t)
	if len(b.Posts) != 1 || !b.Posts[0].InvalidUTF8 || b.Posts[0].Text != "jalan \uFFFD( rusak" {
		t.Fatalf("posts: %+v", b.Posts)
	}
}

func TestIDOrderNeverUsesFloats(t *testing.T) {
	// 2^53+1 and 2^53 are equal as float64.
	e := newEnv(t, nil, xv2.WithOwnTweets(false))
	e.acct.ID = e.uid
	ids := []string{"9007199254740993", "9007199254740992"}
	body := `{"data":[` +
		`{"id":"` + ids[0] + `","text":"@humasbekasikota a","author_id":"1","created_at":"2026-03-17T08:45:33.000Z","conversation_id":"` + ids[0] + `"},` +
		`{"id":"` + ids[1] + `","text":"@humasbekasikota b","author_id":"1","created_at":"2026-03-17T08:45:32.000Z","conversation_id":"` + ids[1] + `"}` +
		`],"meta":{"result_count":2}}`
	e.fake.Inject(xv2fake.Fault{Status: 200, Body: body})
	b := e.poll(t)
	if !strings.Contains(b.Cursor, `"since":"`+ids[0]+`"`) {
		t.Errorf("cursor %s, want since %s", b.Cursor, ids[0])
	}
	got := []string{b.Posts[0].ID, b.Posts[1].ID}
	sort.Strings(got)
	if diff := cmp.Diff([]string{ids[1], ids[0]}, got); diff != "" {
		t.Error(diff)
	}
}

func TestUnknownUser(t *testing.T) {
	e := newEnv(t, nil)
	e.acct.Handle = "tidakada"
	_, err := e.poller.Poll(context.Background(), e.acct, "")
	if tanggap.ErrorCode(err) != tanggap.EINVALID || !strings.Contains(err.Error(), "@tidakada") {
		t.Errorf("err = %v", err)
	}
}

// X v2 serves only a timeline's most recent posts (800 mentions, 3,200 of
// the account's own). Posts after the cursor beyond that are reported (a
// *collectors.UnreachableError with the batch of what was read and a
// cursor past them), not skipped in silence; a backlog still within reach,
// read in one poll or over several, is not.
func TestUnreachablePosts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		reach      int
		own        bool // the backlog is the account's own posts
		backlog    int
		pageSize   int
		maxPages   int
		wantPolls  int // polls that publish posts
		wantMissed bool
	}{
		{name: "mentions beyond 800", reach: 800, backlog: 1200, maxPages: 10, wantPolls: 1, wantMissed: true},
		{name: "mentions beyond 800 over polls", reach: 800, backlog: 1200, wantPolls: 2, wantMissed: true},
		{name: "a walk over many polls runs out of reach", reach: 800, backlog: 1200, pageSize: 50, maxPages: 2, wantPolls: 8, wantMissed: true},
		{name: "mentions within 800 in one poll", reach: 800, backlog: 300, wantPolls: 1},
		{name: "mentions within 800 over polls", reach: 800, backlog: 700, wantPolls: 2},
		{name: "exactly the reach", reach: 800, backlog: 799, wantPolls: 2},
		{name: "own posts beyond 3,200", reach: 3200, own: true, backlog: 3400, maxPages: 40, wantPolls: 1, wantMissed: true},
		{name: "own posts within 3,200 over polls", reach: 3200, own: true, backlog: 3100, maxPages: 10, wantPolls: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			endpoint := xv2fake.EndpointMentions
			if tc.own {
				endpoint = xv2fake.EndpointTweets
			}
			e := newEnv(t, []xv2fake.Option{xv2fake.WithReach(endpoint, tc.reach)},
				xv2.WithPageSize(cmpOr(tc.pageSize, 100)), xv2.WithMaxPages(cmpOr(tc.maxPages, 5)), xv2.WithOwnTweets(tc.own))
			add := func(n int, at time.Time, what string) []string {
				ids := make([]string, n)
				for i := range ids {
					created := at.Add(-time.Duration(n-i) * time.Second)
					if tc.own {
						ids[i] = e.fake.AddTweet(xv2fake.Tweet{AuthorID: e.uid, Text: fmt.Sprintf("info %s %d", what, i), Created: created})
					} else {
						ids[i] = e.fake.AddTweet(xv2fake.Tweet{AuthorID: e.fake.AddUser(fmt.Sprintf("warga%d", i%7), "", ""),
							Text: fmt.Sprintf("@humasbekasikota aduan %s %d", what, i), Created: created})
					}
				}
				return ids
			}
			old := add(200, e.clk.Now().Add(-5*time.Hour), "lama")
			since := old[len(old)-1]
			for n := 0; n < 200; {
				b := e.poll(t)
				if len(b.Posts) == 0 {
					t.Fatalf("first polls: %d posts, want the 200 old ones", n)
				}
				n += len(b.Posts)
			}
			sinceAt, _ := xv2.SnowflakeTime(since)
			backlog := add(tc.backlog, e.clk.Now(), "baru")
			newest := backlog[len(backlog)-1]

			var (
				got    = map[string]bool{}
				polls  int
				missed []error
			)
			for poll := 1; poll <= 20; poll++ {
				e.clk.Advance(time.Minute)
				b, err := e.poller.Poll(context.Background(), e.acct, e.cursor)
				var ue *collectors.UnreachableError
				switch {
				case errors.As(err, &ue):
					if tanggap.ErrorCode(err) != tanggap.EUNAVAILABLE || b.Cursor == "" {
						t.Errorf("poll %d: code %q, cursor %q", poll, tanggap.ErrorCode(err), b.Cursor)
					}
					if !ue.Since.Equal(sinceAt) {
						t.Errorf("missed from %v, want the cursor's post's time %v", ue.Since, sinceAt)
					}
					if !strings.Contains(err.Error(), since) || !strings.Contains(err.Error(), "@humasbekasikota") {
						t.Errorf("error %q does not name the account and the since_id", err)
					}
					missed = append(missed, err)
				case err != nil:
					t.Fatalf("poll %d: %v", poll, err)
				}
				for _, p := range b.Posts {
					if got[p.ID] {
						t.Errorf("%s published twice", p.ID)
					}
					got[p.ID] = true
				}
				e.cursor = b.Cursor
				if len(b.Posts) == 0 {
					break
				}
				polls++
			}
			want := min(tc.backlog, tc.reach)
			if len(got) != want || !got[newest] {
				t.Errorf("%d posts (newest %v), want the %d newest", len(got), got[newest], want)
			}
			if polls != tc.wantPolls {
				t.Errorf("%d polls published posts, want %d", polls, tc.wantPolls)
			}
			if gotMissed := len(missed) > 0; gotMissed != tc.wantMissed || len(missed) > 1 {
				t.Errorf("missed reported %d times, want %v", len(missed), tc.wantMissed)
			}
			field := `"mentions":{"since":"` + newest + `"}`
			if tc.own {
				field = `"own":{"since":"` + newest + `"}`
			}
			if !strings.Contains(e.cursor, field) {
				t.Errorf("final cursor %s, want %s", e.cursor, field)
			}
		})
	}
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// The call that asks whether X still serves posts below the walk can fail
// too: the walk stays open and the next poll asks again. Mentions out of
// reach are reported even when the own timeline then fails, with the
// posts and a cursor; the own timeline goes on at the next poll.
func TestUnreachablePostsAfterFailures(t *testing.T) {
	setup := func(t *testing.T) (*env, string, *atomic.Bool) {
		e := newEnv(t, []xv2fake.Option{xv2fake.WithReach(xv2fake.EndpointMentions, 800)}, xv2.WithMaxPages(10))
		e.acct.ID = e.uid
		failProbe := new(atomic.Bool)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			if q.Get("until_id") != "" && q.Get("since_id") == "" && failProbe.CompareAndSwap(true, false) {
				http.Error(w, `{"title":"Service Unavailable","type":"about:blank","status":503}`, http.StatusServiceUnavailable)
				return
			}
			e.fake.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		e.poller = xv2.New(xv2.StaticToken(token), xv2.WithBaseURL(srv.URL), xv2.WithClock(e.clk.Now), xv2.WithHTTPClient(srv.Client()), xv2.WithMaxPages(10))
		since := e.tweet("warga", "@humasbekasikota lama", "", 5*time.Hour)
		e.poll(t)
		for i := 0; i < 1000; i++ {
			e.tweet(fmt.Sprintf("warga%d", i%7), fmt.Sprintf("@humasbekasikota aduan %d", i), "", time.Duration(1000-i)*time.Second)
		}
		return e, since, failProbe
	}

	t.Run("probe fails", func(t *testing.T) {
		e, since, failProbe := setup(t)
		failProbe.Store(true)
		b, err := e.poller.Poll(context.Background(), e.acct, e.cursor)
		var ue *collectors.UnreachableError
		if tanggap.ErrorCode(err) != tanggap.EUNAVAILABLE || errors.As(err, &ue) || len(b.Posts) != 800 || b.Cursor == "" {
			t.Fatalf("first poll: %d posts, cursor %q, err %v: want the 800 served, a cursor and the 503", len(b.Posts), b.Cursor, err)
		}
		e.cursor = b.Cursor
		b, err = e.poller.Poll(context.Background(), e.acct, e.cursor)
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), since) || len(b.Posts) != 0 || b.Cursor == "" {
			t.Fatalf("second poll: %d posts, err %v: want the missed posts reported", len(b.Posts), err)
		}
		e.cursor = b.Cursor
		if b := e.poll(t); len(b.Posts) != 0 {
			t.Errorf("third poll: %d posts", len(b.Posts))
		}
	})

	t.Run("own timeline fails after", func(t *testing.T) {
		e, since, _ := setup(t)
		own := e.fake.AddTweet(xv2fake.Tweet{AuthorID: e.uid, Text: "Pengumuman", Created: e.clk.Now()})
		e.fake.Inject(xv2fake.Fault{Path: "/tweets", Status: 503, Problem: xv2fake.ServerError().Problem})
		b, err := e.poller.Poll(context.Background(), e.acct, e.cursor)
		var ue *collectors.UnreachableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), since) || !strings.Contains(err.Error(), "HTTP 503") {
			t.Fatalf("err = %v: want the missed mentions and the 503", err)
		}
		if len(b.Posts) != 800 || b.Cursor == "" {
			t.Fatalf("%d posts, cursor %q: want the 800 served and a cursor", len(b.Posts), b.Cursor)
		}
		e.cursor = b.Cursor
		if b := e.poll(t); len(b.Posts) != 1 || b.Posts[0].ID != own {
			t.Errorf("next poll: %v, want the own post", briefs(b.Posts))
		}
	})
}
