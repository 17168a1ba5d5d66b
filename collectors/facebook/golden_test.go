package facebook_test

import (
	"context"
	"flag"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/facebook"
	"github.com/tanggap/tanggap/collectors/facebook/graph/graphtest"
	"github.com/tanggap/tanggap/collectors/internal/golden"
	"github.com/tanggap/tanggap/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixtureServer answers from the real-format responses in testdata, with
// the usage headers of this platform.
func fixtureServer(t *testing.T, routes map[string]string) *httptest.Server {
	return graphtest.FixtureServer(t, routes, map[string]string{
		"X-Business-Use-Case-Usage": `{"104938271650123":[{"type":"pages","call_count":9,"total_cputime":2,"total_time":3,"estimated_time_to_regain_access":0}]}`,
		"X-App-Usage":               `{"call_count":12,"total_cputime":1,"total_time":2}`,
	})
}

func TestGoldenFixtures(t *testing.T) {
	now := time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC)
	srv := fixtureServer(t, map[string]string{
		"/v23.0/PemkotBekasi":                              "page.json",
		"/v23.0/104938271650123/feed":                      "feed.json",
		"/v23.0/104938271650123_1187654321098765/comments": "comments.json",
		"/v23.0/104938271650123_1187650000000001/comments": "empty.json",
	})
	p := facebook.New(facebook.StaticToken("fixture-token"),
		facebook.WithBaseURL(srv.URL), facebook.WithClock(func() time.Time { return now }))
	acct := config.Account{Platform: tanggap.PlatformFacebook, Handle: "PemkotBekasi", Owner: "city"}
	b, err := p.Poll(context.Background(), acct, "")
	if err != nil {
		t.Fatal(err)
	}
	// The page is at 9%, the app at 12%: the app figure rules.
	if !b.Budget.Known || b.Budget.Remaining != 88 || b.Budget.Scope != "meta:app" {
		t.Errorf("budget = %+v, want 88%% left in the app scope", b.Budget)
	}
	// page, feed (the third post is older than the window: no next page),
	// two comment listings
	if b.Calls != 4 {
		t.Errorf("calls = %d, want 4", b.Calls)
	}
	golden.Check(t, "poll.json", b.Posts, *update)
}

func TestGoldenErrors(t *testing.T) {
	now := time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ fixture, code string }{
		{"error_token_expired.json", tanggap.EAUTH},
		{"error_page_throttled.json", tanggap.ERATELIMIT},
	} {
		srv := fixtureServer(t, map[string]string{"/v23.0/104938271650123/feed": tc.fixture})
		p := facebook.New(facebook.StaticToken("fixture-token"), facebook.WithBaseURL(srv.URL), facebook.WithClock(func() time.Time { return now }))
		_, err := p.Poll(context.Background(), config.Account{Handle: "PemkotBekasi", ID: "104938271650123"}, "")
		if tanggap.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.fixture, err, tc.code)
		}
	}
}
