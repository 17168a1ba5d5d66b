package instagram_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/facebook/graph/graphfake"
	"github.com/tanggap/tanggap/collectors/instagram"
	"github.com/tanggap/tanggap/collectors/instagram/instagramfake"
	"github.com/tanggap/tanggap/config"
)

// cursorMap is an in-memory collectors.Cursors.
type cursorMap map[string]string

func (c cursorMap) Cursor(_ context.Context, _ tanggap.Platform, account string) (string, error) {
	return c[account], nil
}

func (c cursorMap) SetCursor(_ context.Context, _ tanggap.Platform, account, cur string) error {
	c[account] = cur
	return nil
}

// mentionEnv is env with a news account whose media a citizen comments on,
// @mentioning the watched account.
type mentionEnv struct {
	*env
	news, newsMedia string
}

func newMentionEnv(t *testing.T) *mentionEnv {
	e := newEnv(t, nil)
	news := e.fake.AddAccount("infobekasi", "")
	m := e.fake.AddMedia(instagramfake.Media{Owner: news, Caption: "Banjir setinggi lutut di Jl. Kemakmuran pagi ini",
		Timestamp: e.clk.Now().Add(-time.Hour)})
	return &mentionEnv{env: e, news: news, newsMedia: m}
}

func TestResolveMentions(t *testing.T) {
	e := newMentionEnv(t)
	ctx := context.Background()
	at := e.clk.Now().Add(-10 * time.Minute).Truncate(time.Second)
	cid := e.fake.AddComment(instagramfake.Comment{MediaID: e.newsMedia, Username: "warga_margahayu", Timestamp: at,
		Text: "@humaskotabekasi tolong got di RT 03 mampet, tiap hujan banjir <script>alert(1)</script>"})
	caption := e.fake.AddMedia(instagramfake.Media{Owner: e.news, Timestamp: at,
		Caption: "Lampu jalan mati sebulan di Jl. Ahmad Yani, cc @HumasKotaBekasi."})
	cursors := cursorMap{}
	res := e.poller.Mentions([]config.Account{e.acct}, cursors)

	got, err := res.Resolve(ctx, instagram.Mention{V: 1, AccountID: e.uid, MediaID: e.newsMedia, CommentID: cid, Sent: e.clk.Now().Unix()})
	if err != nil {
		t.Fatal(err)
	}
	want := tanggap.Post{Platform: tanggap.PlatformInstagram, ID: cid, Account: "humaskotabekasi",
		Text:      "@humaskotabekasi tolong got di RT 03 mampet, tiap hujan banjir <script>alert(1)</script>",
		CreatedAt: at, CapturedAt: e.clk.Now(), ThreadID: e.newsMedia, Interaction: tanggap.InteractionMention}
	if !strings.Contains(got.URL, "/c/"+cid+"/") {
		t.Errorf("url %q: want the comment's link under the news media", got.URL)
	}
	got.URL = ""
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("comment mention (-want +got):\n%s", d)
	}

	got, err = res.Resolve(ctx, instagram.Mention{V: 1, AccountID: e.uid, MediaID: caption})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != caption || got.Author != "infobekasi" || got.Interaction != tanggap.InteractionMention ||
		!strings.HasPrefix(got.URL, "https://www.instagram.com/p/") || !strings.Contains(got.Text, "Lampu jalan") {
		t.Errorf("caption mention: %+v", got)
	}

	// Deleted since the webhook: gone, not an error to retry.
	e.fake.DeleteComment(cid)
	if _, err := res.Resolve(ctx, instagram.Mention{V: 1, AccountID: e.uid, CommentID: cid}); tanggap.ErrorCode(err) != tanggap.ENOTFOUND {
		t.Errorf("deleted comment: %v, want ENOTFOUND", err)
	}
	// A comment that does not mention the account cannot be read through it.
	other := e.fake.AddComment(instagramfake.Comment{MediaID: e.newsMedia, Text: "mantap min", Username: "a"})
	if _, err := res.Resolve(ctx, instagram.Mention{V: 1, AccountID: e.uid, CommentID: other}); tanggap.ErrorCode(err) != tanggap.ENOTFOUND {
		t.Errorf("comment without the mention: %v, want ENOTFOUND", err)
	}
	// An account the city does not watch: never readable (dead letter).
	if _, err := res.Resolve(ctx, instagram.Mention{V: 1, AccountID: e.news, MediaID: caption}); tanggap.ErrorCode(err) != tanggap.EINVALID {
		t.Errorf("unwatched account: %v, want EINVALID", err)
	}
	if _, err := res.Resolve(ctx, instagram.Mention{V: 2, AccountID: e.uid, MediaID: caption}); tanggap.ErrorCode(err) != tanggap.EINVALID {
		t.Errorf("newer version: %v, want EINVALID", err)
	}
}

// The account's id comes from its poll cursor when the config has none,
// without listing the token's accounts; else from that listing, once.
func TestMentionsAccountID(t *testing.T) {
	ctx := context.Background()
	e := newMentionEnv(t)
	cid := e.fake.AddComment(instagramfake.Comment{MediaID: e.newsMedia, Text: "@humaskotabekasi jalan rusak", Username: "w"})
	m := instagram.Mention{V: 1, AccountID: e.uid, CommentID: cid}

	cursors := cursorMap{}
	e.poll(t)
	cursors[e.acct.Handle] = e.cursor
	before := e.fake.Requests()
	if _, err := e.poller.Mentions([]config.Account{e.acct}, cursors).Resolve(ctx, m); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.Requests() - before; n != 1 {
		t.Errorf("%d requests with the id in the cursor, want 1 (the mention)", n)
	}

	res := e.poller.Mentions([]config.Account{e.acct}, cursorMap{})
	before = e.fake.Requests()
	for range 2 {
		if _, err := res.Resolve(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fake.Requests() - before; n != 3 {
		t.Errorf("%d requests without a cursor, want 3 (me/accounts once, the mention twice)", n)
	}
	// A stranger's id: looked up again only after a while, and dead
	// lettered meanwhile rather than retried.
	before = e.fake.Requests()
	for range 3 {
		if _, err := res.Resolve(ctx, instagram.Mention{V: 1, AccountID: e.news, CommentID: cid}); tanggap.ErrorCode(err) != tanggap.EINVALID {
			t.Fatalf("unwatched: %v", err)
		}
	}
	if n := e.fake.Requests() - before; n != 0 {
		t.Errorf("%d requests for an unwatched account right after a look-up, want 0", n)
	}
}

// A look-up that failed is an error to retry, not an unwatched account.
func TestMentionsLookupFails(t *testing.T) {
	e := newMentionEnv(t)
	cid := e.fake.AddComment(instagramfake.Comment{MediaID: e.newsMedia, Text: "@humaskotabekasi jalan rusak", Username: "w"})
	e.fake.Inject(graphfake.ServerError())
	res := e.poller.Mentions([]config.Account{e.acct}, cursorMap{})
	m := instagram.Mention{V: 1, AccountID: e.uid, CommentID: cid}
	if _, err := res.Resolve(context.Background(), m); tanggap.ErrorCode(err) != tanggap.EUNAVAILABLE {
		t.Fatalf("look-up failed: %v, want EUNAVAILABLE", err)
	}
	e.clk.Advance(11 * time.Minute)
	if _, err := res.Resolve(context.Background(), m); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
}

// A throttled account, or one whose token Graph refuses, is not called
// again until it may answer.
func TestMentionsPause(t *testing.T) {
	for name, c := range map[string]struct {
		fault graphfake.Fault
		code  string
		wait  time.Duration
	}{
		"throttled":     {instagramfake.Throttled(80002), tanggap.ERATELIMIT, 15 * time.Minute},
		"token expired": {graphfake.TokenExpired(), tanggap.EAUTH, 5 * time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			e := newMentionEnv(t)
			e.acct.ID = e.uid
			cid := e.fake.AddComment(instagramfake.Comment{MediaID: e.newsMedia, Text: "@humaskotabekasi jalan rusak", Username: "w"})
			m := instagram.Mention{V: 1, AccountID: e.uid, CommentID: cid}
			res := e.poller.Mentions([]config.Account{e.acct}, nil)
			e.fake.Inject(c.fault)
			if _, err := res.Resolve(ctx, m); tanggap.ErrorCode(err) != c.code {
				t.Fatalf("first: %v, want %s", err, c.code)
			}
			before := e.fake.Requests()
			e.clk.Advance(c.wait - time.Second)
			if _, err := res.Resolve(ctx, m); tanggap.ErrorCode(err) != c.code || e.fake.Requests() != before {
				t.Fatalf("while paused: %v after %d requests, want %s and none", err, e.fake.Requests()-before, c.code)
			}
			e.clk.Advance(time.Second)
			if _, err := res.Resolve(ctx, m); err != nil {
				t.Fatalf("after the pause: %v", err)
			}
		})
	}
}
