package instagram_test

import (
	"context"
	"flag"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/facebook/graph/graphtest"
	"github.com/tanggap/tanggap/collectors/instagram"
	"github.com/tanggap/tanggap/collectors/internal/golden"
	"github.com/tanggap/tanggap/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixtureServer answers from the real-format responses in testdata, with
// the usage headers of this platform.
func fixtureServer(t *testing.T, routes map[string]string) *httptest.Server {
	return graphtest.FixtureServer(t, routes, map[string]string{
		"X-Business-Use-Case-Usage": `{"17841400000000001":[{"type":"instagram","call_count":28,"total_cputime":5,"total_time":7,"estimated_time_to_regain_access":0}]}`,
	})
}

func TestGoldenFixtures(t *testing.T) {
	now := time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC)
	srv := fixtureServer(t, map[string]string{
		"/v23.0/me/accounts":                "me_accounts.json",
		"/v23.0/17841400000000001/media":    "media.json",
		"/v23.0/17986543210012345/comments": "comments_p1.json",
		"/v23.0/17986543210012345/comments?after=QVFIUnNTdUpCb2pNXzBkN1gzUGRHUkpLVDVHWmxacjh3": "comments_p2.json",
		"/v23.0/17986543210012001/comments":                                                    "empty.json",
		"/v23.0/17841400000000001/tags":                                                        "tags.json",
	})
	p := instagram.New(instagram.StaticToken("fixture-token"),
		instagram.WithBaseURL(srv.URL), instagram.WithClock(func() time.Time { return now }), instagram.WithPageSize(2))
	acct := config.Account{Platform: tanggap.PlatformInstagram, Handle: "humaskotabekasi", Owner: "city"}
	b, err := p.Poll(context.Background(), acct, "")
	if err != nil {
		t.Fatal(err)
	}
	if !b.Budget.Known || b.Budget.Remaining != 72 || b.Budget.Limit != 100 {
		t.Errorf("budget = %+v, want 72%% left", b.Budget)
	}
	// me/accounts, media, 2 comment pages, tags (the second media is
	// older than the active window: its comments are not listed)
	if b.Calls != 5 {
		t.Errorf("calls = %d, want 5", b.Calls)
	}
	golden.Check(t, "poll.json", b.Posts, *update)
}

func TestGoldenErrors(t *testing.T) {
	now := time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ fixture, code string }{
		{"error_token_expired.json", tanggap.EAUTH},
		{"error_throttled.json", tanggap.ERATELIMIT},
		{"error_not_found.json", tanggap.ENOTFOUND},
	} {
		srv := fixtureServer(t, map[string]string{"/v23.0/17841400000000001/media": tc.fixture})
		p := instagram.New(instagram.StaticToken("fixture-token"), instagram.WithBaseURL(srv.URL), instagram.WithClock(func() time.Time { return now }))
		_, err := p.Poll(context.Background(), config.Account{Handle: "humaskotabekasi", ID: "17841400000000001"}, "")
		if tanggap.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.fixture, err, tc.code)
		}
	}
}
