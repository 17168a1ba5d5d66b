package xfake

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/tanggap/tanggap/collectors/demo"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var t0 = time.Date(2026, 3, 3, 3, 0, 0, 0, time.UTC)

// get sends one request to the server and returns status, headers, body.
func get(t *testing.T, srv *Server, path, auth string) (int, http.Header, []byte) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.Bytes()
}

func oauth(token string) string {
	return `OAuth oauth_consumer_key="ck", oauth_nonce="n", oauth_signature="c2ln", oauth_signature_method="HMAC-SHA1", oauth_timestamp="1", oauth_token="` + token + `", oauth_version="1.0"`
}

func pageIDs(t *testing.T, body []byte) []string {
	t.Helper()
	var tweets []struct {
		IDStr string `json:"id_str"`
	}
	if err := json.Unmarshal(body, &tweets); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var out []string
	for _, tw := range tweets {
		out = append(out, tw.IDStr)
	}
	return out
}

func newServer(opts Options) (*Server, *clock) {
	c := &clock{t: t0}
	opts.Now = c.now
	return New(opts), c
}

func TestTimelinesHonourSinceMaxCount(t *testing.T) {
	srv, _ := newServer(Options{})
	tok, _ := srv.Authorize("humasbekasikota")
	var sts []Status
	for i := range 10 {
		sts = append(sts, Status{CreatedAt: t0.Add(time.Duration(i) * time.Minute), Text: "@humasbekasikota aduan " + strconv.Itoa(i), User: User{ScreenName: "warga"}})
	}
	sts = append(sts, Status{CreatedAt: t0, Text: "balasan resmi", User: User{ScreenName: "humasbekasikota"}})
	got := srv.Append(sts...)
	id := func(i int) string { return got[i].ID }
	for _, tc := range []struct {
		name, path string
		want       []string
	}{
		{"newest first, count", "/1.1/statuses/mentions_timeline.json?count=3", []string{id(9), id(8), id(7)}},
		{"since_id is exclusive", "/1.1/statuses/mentions_timeline.json?since_id=" + id(7), []string{id(9), id(8)}},
		{"max_id is inclusive", "/1.1/statuses/mentions_timeline.json?count=2&max_id=" + id(4), []string{id(4), id(3)}},
		{"default count 20", "/1.1/statuses/mentions_timeline.json", []string{id(9), id(8), id(7), id(6), id(5), id(4), id(3), id(2), id(1), id(0)}},
		{"user timeline by screen name", "/1.1/statuses/user_timeline.json?screen_name=HumasBekasiKota", []string{id(10)}},
		{"user timeline by id", "/1.1/statuses/user_timeline.json?user_id=" + got[10].User.ID, []string{id(10)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := get(t, srv, tc.path, oauth(tok))
			if code != 200 {
				t.Fatalf("HTTP %d: %s", code, body)
			}
			if diff := cmp.Diff(tc.want, pageIDs(t, body)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
	// Ids are snowflakes of the creation time and grow in append order.
	for i := 1; i < len(got); i++ {
		a, _ := strconv.ParseInt(got[i-1].ID, 10, 64)
		b, _ := strconv.ParseInt(got[i].ID, 10, 64)
		if b <= a {
			t.Errorf("id %d not after id %d", b, a)
		}
	}
	if ms := mustInt(got[0].ID)>>22 + twitterEpochMS; ms != t0.UnixMilli() {
		t.Errorf("snowflake time %d, want %d", ms, t0.UnixMilli())
	}
}

func mustInt(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }

// With a reach, a timeline serves only its newest statuses: X's
// mentions_timeline stops about 800 back, whatever since_id and max_id say.
func TestTimelinesReach(t *testing.T) {
	srv, _ := newServer(Options{MentionsReach: 3, TimelineReach: 1})
	tok, _ := srv.Authorize("humasbekasikota")
	var sts []Status
	for i := range 6 {
		sts = append(sts, Status{CreatedAt: t0.Add(time.Duration(i) * time.Minute), Text: "@humasbekasikota aduan " + strconv.Itoa(i), User: User{ScreenName: "warga"}})
		sts = append(sts, Status{CreatedAt: t0.Add(time.Duration(i) * time.Minute), Text: "info " + strconv.Itoa(i), User: User{ScreenName: "humasbekasikota"}})
	}
	got := srv.Append(sts...)
	mention := func(i int) string { return got[2*i].ID }
	for _, tc := range []struct {
		name, path string
		want       []string
	}{
		{"newest three", "/1.1/statuses/mentions_timeline.json?count=200", []string{mention(5), mention(4), mention(3)}},
		{"max_id below the reach", "/1.1/statuses/mentions_timeline.json?max_id=" + mention(2), nil},
		{"max_id inside the reach", "/1.1/statuses/mentions_timeline.json?max_id=" + mention(4), []string{mention(4), mention(3)}},
		{"since_id inside the reach", "/1.1/statuses/mentions_timeline.json?since_id=" + mention(3), []string{mention(5), mention(4)}},
		{"since_id below the reach", "/1.1/statuses/mentions_timeline.json?since_id=" + mention(0), []string{mention(5), mention(4), mention(3)}},
		{"user timeline", "/1.1/statuses/user_timeline.json?screen_name=humasbekasikota", []string{got[11].ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, unsorted := range []bool{false, true} {
				srv.mu.Lock()
				srv.unsorted = unsorted
				srv.mu.Unlock()
				code, _, body := get(t, srv, tc.path, oauth(tok))
				if code != 200 {
					t.Fatalf("HTTP %d: %s", code, body)
				}
				if diff := cmp.Diff(tc.want, pageIDs(t, body)); diff != "" {
					t.Errorf("unsorted %v: ids (-want +got):\n%s", unsorted, diff)
				}
			}
		})
	}
}

func TestAuth(t *testing.T) {
	srv, _ := newServer(Options{})
	srv.Append(Status{Text: "@humasbekasikota halo", User: User{ScreenName: "warga"}})
	tok, _ := srv.Authorize("humasbekasikota")
	for _, tc := range []struct {
		name, path, auth string
		want             int
	}{
		{"user token", "/1.1/statuses/mentions_timeline.json", oauth(tok), 200},
		{"bearer on user_timeline", "/1.1/statuses/user_timeline.json?screen_name=warga", "Bearer " + srv.Bearer(), 200},
		{"bearer on mentions", "/1.1/statuses/mentions_timeline.json", "Bearer " + srv.Bearer(), 403},
		{"wrong bearer", "/1.1/statuses/user_timeline.json?screen_name=warga", "Bearer nope", 401},
		{"unknown token", "/1.1/statuses/mentions_timeline.json", oauth("nope"), 401},
		{"no auth", "/1.1/statuses/mentions_timeline.json", "", 401},
		{"unknown user", "/1.1/statuses/user_timeline.json?screen_name=tidak_ada", "Bearer " + srv.Bearer(), 404},
		{"unknown endpoint", "/1.1/statuses/home_timeline.json", oauth(tok), 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, body := get(t, srv, tc.path, tc.auth); code != tc.want {
				t.Errorf("HTTP %d, want %d: %s", code, tc.want, body)
			}
		})
	}
	srv.Revoke("humasbekasikota")
	if code, _, _ := get(t, srv, "/1.1/statuses/mentions_timeline.json", oauth(tok)); code != 401 {
		t.Errorf("revoked token: HTTP %d", code)
	}
}

func TestRateWindow(t *testing.T) {
	srv, c := newServer(Options{MentionsLimit: 2, Window: 15 * time.Minute})
	tok, _ := srv.Authorize("humasbekasikota")
	reset := strconv.FormatInt(t0.Add(15*time.Minute).Unix(), 10)
	var got [][3]string
	for range 3 {
		code, h, _ := get(t, srv, "/1.1/statuses/mentions_timeline.json", oauth(tok))
		got = append(got, [3]string{strconv.Itoa(code), h.Get("x-rate-limit-remaining"), h.Get("x-rate-limit-reset")})
		if h.Get("x-rate-limit-limit") != "2" {
			t.Errorf("limit header %q", h.Get("x-rate-limit-limit"))
		}
	}
	want := [][3]string{{"200", "1", reset}, {"200", "0", reset}, {"429", "0", reset}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The bearer window is separate (per app) and the window reopens.
	if code, _, _ := get(t, srv, "/1.1/statuses/user_timeline.json?screen_name=humasbekasikota", "Bearer "+srv.Bearer()); code != 200 {
		t.Errorf("app window: HTTP %d", code)
	}
	c.add(15 * time.Minute)
	if code, h, _ := get(t, srv, "/1.1/statuses/mentions_timeline.json", oauth(tok)); code != 200 || h.Get("x-rate-limit-remaining") != "1" {
		t.Errorf("after the window: HTTP %d, remaining %s", code, h.Get("x-rate-limit-remaining"))
	}
}

func TestFaults(t *testing.T) {
	srv, _ := newServer(Options{LargeTextBytes: 50_000})
	tok, _ := srv.Authorize("humasbekasikota")
	srv.Append(Status{Text: "@humasbekasikota sampah numpuk", User: User{ScreenName: "warga"}})
	path := "/1.1/statuses/mentions_timeline.json?tweet_mode=extended"
	for _, tc := range []struct {
		kind  FaultKind
		check func(t *testing.T, code int, h http.Header, body []byte)
	}{
		{RateLimited, func(t *testing.T, code int, h http.Header, body []byte) {
			if code != 429 || h.Get("x-rate-limit-reset") == "" || !strings.Contains(string(body), `"code":88`) {
				t.Errorf("HTTP %d %v %s", code, h, body)
			}
		}},
		{Unavailable, func(t *testing.T, code int, h http.Header, body []byte) {
			if code != 503 || len(body) != 0 {
				t.Errorf("HTTP %d, %d bytes: want an empty 503", code, len(body))
			}
		}},
		{ServerError, func(t *testing.T, code int, h http.Header, body []byte) {
			if code != 500 || !json.Valid(body) {
				t.Errorf("HTTP %d %s", code, body)
			}
		}},
		{Malformed, func(t *testing.T, code int, h http.Header, body []byte) {
			if code != 200 || json.Valid(body) {
				t.Errorf("HTTP %d, valid JSON %v", code, json.Valid(body))
			}
		}},
		{InvalidUTF8, func(t *testing.T, code int, h http.Header, body []byte) {
			if code != 200 || utf8.Valid(body) || !strings.Contains(string(body), "sampah numpuk") {
				t.Errorf("HTTP %d, valid UTF-8 %v", code, utf8.Valid(body))
			}
		}},
		{LargeText, func(t *testing.T, code int, h http.Header, body []byte) {
			if code != 200 || len(body) < 50_000 || !json.Valid(body) {
				t.Errorf("HTTP %d, %d bytes", code, len(body))
			}
		}},
		{Unauthorized, func(t *testing.T, code int, h http.Header, body []byte) {
			if code != 401 {
				t.Errorf("HTTP %d", code)
			}
		}},
	} {
		srv.Inject(Fault{Kind: tc.kind, Endpoint: Mentions})
		code, h, body := get(t, srv, path, oauth(tok))
		tc.check(t, code, h, body)
		// A fault hits once by default.
		if code, _, _ := get(t, srv, path, oauth(tok)); code != 200 {
			t.Errorf("fault %d stayed: HTTP %d", tc.kind, code)
		}
	}
	// Faults can target one endpoint only.
	srv.Inject(Fault{Kind: Unavailable, Endpoint: UserTimeline, Times: 2})
	if code, _, _ := get(t, srv, path, oauth(tok)); code != 200 {
		t.Errorf("a user_timeline fault hit mentions: HTTP %d", code)
	}
}

func TestSlowFaultGivesUpWithTheClient(t *testing.T) {
	srv := New(Options{})
	tok, _ := srv.Authorize("humasbekasikota")
	hs := httptest.NewServer(srv)
	defer hs.Close()
	srv.Inject(Fault{Kind: Slow, Delay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", hs.URL+"/1.1/statuses/mentions_timeline.json", nil)
	req.Header.Set("Authorization", oauth(tok))
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("a slow answer arrived")
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("gave up after %v", time.Since(start))
	}
	// The next request is served normally.
	req, _ = http.NewRequest("GET", hs.URL+"/1.1/statuses/mentions_timeline.json", nil)
	req.Header.Set("Authorization", oauth(tok))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("HTTP %d", resp.StatusCode)
	}
}

// TestTweetShapeMatchesFixtures checks that the fake answers with the same
// fields as the hand-written real-format fixtures of the poller.
func TestTweetShapeMatchesFixtures(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "mentions_timeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fixture []map[string]any
	if err := json.Unmarshal(b, &fixture); err != nil {
		t.Fatal(err)
	}
	srv, _ := newServer(Options{})
	tok, _ := srv.Authorize("humasbekasikota")
	parent := srv.Append(Status{Text: "@humasbekasikota jalan rusak #Bekasi", User: User{ScreenName: "warga", Name: "Warga"}})[0]
	srv.Append(Status{Text: "@warga @humasbekasikota ikut lapor", User: User{ScreenName: "warga2"}, InReplyTo: parent.ID, InReplyToUser: parent.User})
	_, _, body := get(t, srv, "/1.1/statuses/mentions_timeline.json?tweet_mode=extended", oauth(tok))
	var served []map[string]any
	if err := json.Unmarshal(body, &served); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	want, got := keys(fixture[1]), keys(served[0]) // both replies
	for _, k := range want {
		if !slices.Contains(got, k) {
			t.Errorf("served tweet lacks %q", k)
		}
	}
	userKeys := keys(served[0]["user"].(map[string]any))
	for _, k := range []string{"id", "id_str", "name", "screen_name", "created_at"} {
		if !slices.Contains(userKeys, k) {
			t.Errorf("served user lacks %q", k)
		}
	}
	if served[0]["in_reply_to_status_id_str"] != parent.ID || served[1]["in_reply_to_status_id"] != nil {
		t.Errorf("reply fields: %v / %v", served[0]["in_reply_to_status_id_str"], served[1]["in_reply_to_status_id"])
	}
	if _, err := time.Parse(rubyDate, served[0]["created_at"].(string)); err != nil {
		t.Error(err)
	}
	mentions := served[0]["entities"].(map[string]any)["user_mentions"].([]any)
	if len(mentions) != 2 || mentions[0].(map[string]any)["screen_name"] != "warga" {
		t.Errorf("user_mentions %v", mentions)
	}
}

func TestCompatModeTruncates(t *testing.T) {
	srv, _ := newServer(Options{})
	tok, _ := srv.Authorize("humasbekasikota")
	long := "@humasbekasikota " + strings.Repeat("jalan rusak parah ", 20)
	srv.Append(Status{Text: long, User: User{ScreenName: "warga"}})
	_, _, body := get(t, srv, "/1.1/statuses/mentions_timeline.json", oauth(tok))
	var tw []struct {
		Text      string `json:"text"`
		FullText  string `json:"full_text"`
		Truncated bool   `json:"truncated"`
	}
	if err := json.Unmarshal(body, &tw); err != nil {
		t.Fatal(err)
	}
	if len(tw) != 1 || !tw[0].Truncated || tw[0].FullText != "" || utf8.RuneCountInString(tw[0].Text) != 140 {
		t.Errorf("compat mode: %+v", tw)
	}
}

func TestLoadDemo(t *testing.T) {
	posts, err := demo.Load()
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := newServer(Options{})
	sts, err := srv.LoadDemo(posts, t0)
	if err != nil {
		t.Fatal(err)
	}
	xs := demo.ForPlatform(posts, "x")
	if len(sts) != len(xs) {
		t.Fatalf("%d statuses for %d X posts", len(sts), len(xs))
	}
	idOf := map[string]string{}
	for i, p := range xs {
		idOf[p.Key] = sts[i].ID
		if want := t0.Add(-time.Duration(p.MinutesAgo) * time.Minute); !sts[i].CreatedAt.Equal(want) {
			t.Errorf("%s created %v, want %v", p.Key, sts[i].CreatedAt, want)
		}
		if i > 0 && mustInt(sts[i].ID) <= mustInt(sts[i-1].ID) {
			t.Errorf("%s: ids do not grow in feed order", p.Key)
		}
		if len(sts[i].ID) != 19 {
			t.Errorf("%s: id %s is not snowflake-like", p.Key, sts[i].ID)
		}
	}
	for i, p := range xs {
		if p.ReplyTo == "" {
			continue
		}
		if sts[i].InReplyTo != idOf[p.ReplyTo] {
			t.Errorf("%s replies to %s, want %s", p.Key, sts[i].InReplyTo, idOf[p.ReplyTo])
		}
		if !strings.HasPrefix(strings.ToLower(sts[i].Text), "@"+strings.ToLower(sts[i].InReplyToUser.ScreenName)) {
			t.Errorf("%s: reply text does not start with the parent's author", p.Key)
		}
	}
	// The reply listed before its parent has the smaller id.
	if mustInt(idOf["sampah-jatimekar-balas"]) >= mustInt(idOf["sampah-jatimekar"]) {
		t.Error("reply-before-parent: reply id not smaller")
	}
}

func TestDrip(t *testing.T) {
	srv := New(Options{})
	sts := []Status{{Text: "a", User: User{ScreenName: "w"}}, {Text: "b", User: User{ScreenName: "w"}}, {Text: "c", User: User{ScreenName: "w"}}}
	if err := srv.Drip(context.Background(), sts, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := len(srv.Statuses()); got != 3 {
		t.Errorf("%d statuses after the drip", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := New(Options{}).Drip(ctx, sts, time.Hour); err == nil {
		t.Error("Drip ignored a cancelled context")
	}
}

// A page read by walking back from the head (statuses appended in id
// order) is the page the full scan selects, for every window and reader.
func TestPageWalkMatchesScan(t *testing.T) {
	s := New(Options{})
	t0 := time.Date(2026, 3, 17, 9, 0, 0, 0, time.UTC)
	authors := []string{"warga1", "warga2", "humasbekasikota", "dishub_bekasi"}
	for i := range 300 {
		text := "jalan rusak"
		if i%3 != 0 {
			text = "@humasbekasikota jalan rusak"
		}
		if i%5 == 0 {
			text += " @dishub_bekasi"
		}
		s.Append(Status{CreatedAt: t0.Add(time.Duration(i) * time.Second), Text: text, User: User{ScreenName: authors[i%len(authors)]}})
	}
	ids := []string{""}
	for _, i := range []int{0, 1, 57, 150, 298, 299} {
		ids = append(ids, strconv.FormatInt(s.statuses[i].id, 10))
	}
	for _, ep := range []string{Mentions, UserTimeline} {
		for _, who := range []string{"humasbekasikota", "dishub_bekasi", "warga2"} {
			for _, since := range ids {
				for _, maxID := range ids {
					for _, count := range []string{"", "5", "200"} {
						q := url.Values{"since_id": {since}, "max_id": {maxID}, "count": {count}}
						s.unsorted = false
						walk := s.pageLocked(ep, who, q)
						s.unsorted = true
						scan := s.pageLocked(ep, who, q)
						if len(walk) != len(scan) {
							t.Fatalf("%s %s %v: walk %d statuses, scan %d", ep, who, q, len(walk), len(scan))
						}
						for i := range walk {
							if walk[i].id != scan[i].id {
								t.Fatalf("%s %s %v: status %d is %d by walking, %d by scanning", ep, who, q, i, walk[i].id, scan[i].id)
							}
						}
					}
				}
			}
		}
	}
}
