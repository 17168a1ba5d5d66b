package instagramfake_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
	"github.com/tanggap/tanggap/collectors/instagram/instagramfake"
)

var now = time.Date(2026, 3, 17, 8, 30, 0, 0, time.UTC)

// mentionEnv is a watched account, humaskotabekasi, @mentioned under a
// news account's media.
type mentionEnv struct {
	fake        *instagramfake.Server
	api         *httptest.Server
	humas, news string // account ids
	media       string // infobekasi's media, its caption mentions humas
	own         string // humas's own media
	comment     string // on media, mentions humas
}

func newMentionEnv(t *testing.T, opts ...instagramfake.Option) *mentionEnv {
	t.Helper()
	fake := instagramfake.New(append([]instagramfake.Option{instagramfake.WithClock(func() time.Time { return now })}, opts...)...)
	t.Cleanup(fake.Close)
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	e := &mentionEnv{fake: fake, api: api}
	e.humas = fake.AddAccount("humaskotabekasi", "17841400000000001")
	e.news = fake.AddAccount("infobekasi", "17841400000000002")
	e.own = fake.AddMedia(instagramfake.Media{Owner: e.humas, Caption: "Posko siaga banjir dibuka @humaskotabekasi", Timestamp: now.Add(-3 * time.Hour)})
	e.media = fake.AddMedia(instagramfake.Media{Owner: e.news, Caption: "Banjir di Jatiasih pagi ini, cc @humaskotabekasi.", Timestamp: now.Add(-2 * time.Hour)})
	e.comment = fake.AddComment(instagramfake.Comment{MediaID: e.media, Text: "@HumasKotaBekasi tolong dicek min, air masuk rumah",
		Username: "warga_jatiasih", Timestamp: now.Add(-time.Hour)})
	return e
}

func (e *mentionEnv) get(t *testing.T, id, fields string) (int, map[string]any) {
	t.Helper()
	q := url.Values{"fields": {fields}, "access_token": {"tok"}}
	resp, err := http.Get(e.api.URL + "/v21.0/" + id + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func TestMentionToken(t *testing.T) {
	fake := instagramfake.New()
	api := httptest.NewServer(fake)
	defer api.Close()
	a := fake.AddAccount("humas.kota_bekasi", "1")
	m := fake.AddMedia(instagramfake.Media{Owner: fake.AddAccount("infobekasi", "2")})
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"@humas.kota_bekasi", true},
		{"tolong @HUMAS.KOTA_BEKASI.", true},
		{"(@humas.kota_bekasi) cek", true},
		{"@humas.kota_bekasi's admin", true},
		{"@humas.kota_bekasi, @humas.kota_bekasi!", true},
		{"@@humas.kota_bekasi", true},
		{"humas.kota_bekasi", false},
		{"@humas.kota_bekasi_2", false},
		{"@humas.kota_bekasi.id", false},
		{"@humas.kota", false},
		{"lapor@humas.kota_bekasi", false},
		{"@humas.kota_bekasié", false},
	} {
		c := fake.AddComment(instagramfake.Comment{MediaID: m, Text: tc.text})
		resp, err := http.Get(api.URL + "/v21.0/" + a + "?access_token=t&fields=" + url.QueryEscape("mentioned_comment.comment_id("+c+"){id}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.StatusCode == 200; got != tc.want {
			t.Errorf("%q mentions: %v, want %v (status %d)", tc.text, got, tc.want, resp.StatusCode)
		}
	}
}

func TestMentionedComment(t *testing.T) {
	e := newMentionEnv(t)
	status, got := e.get(t, e.humas, "mentioned_comment.comment_id("+e.comment+"){id,text,timestamp,like_count,media{id,permalink,username}}")
	want := map[string]any{
		"id": e.humas,
		"mentioned_comment": map[string]any{
			"id": e.comment, "text": "@HumasKotaBekasi tolong dicek min, air masuk rumah",
			"timestamp": "2026-03-17T07:30:00+0000", "like_count": 0.0,
			"media": map[string]any{"id": e.media, "permalink": "https://www.instagram.com/p/" + shortcode(t, e, e.media) + "/", "username": "infobekasi"},
		},
	}
	if status != 200 {
		t.Fatalf("status %d: %v", status, got)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mentioned_comment (-want +got):\n%s", diff)
	}
	if n := e.fake.Calls(e.humas); n != 1 {
		t.Errorf("humas spent %d calls, want 1", n)
	}

	// Only what is asked for, and the ids.
	_, got = e.get(t, e.humas, "username,mentioned_comment.comment_id("+e.comment+"){text,media}")
	want = map[string]any{
		"id": e.humas, "username": "humaskotabekasi",
		"mentioned_comment": map[string]any{"id": e.comment, "text": "@HumasKotaBekasi tolong dicek min, air masuk rumah", "media": map[string]any{"id": e.media}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("picked mentioned_comment (-want +got):\n%s", diff)
	}

	// A reply mentions too.
	reply := e.fake.AddComment(instagramfake.Comment{MediaID: e.media, ParentID: e.comment, Text: "sama di Pondok Gede @humaskotabekasi"})
	if status, got := e.get(t, e.humas, "mentioned_comment.comment_id("+reply+"){id}"); status != 200 {
		t.Errorf("reply: status %d: %v", status, got)
	}
}

// shortcode reads a media's permalink through its owner's node, so the
// test does not restate how the fake makes one.
func shortcode(t *testing.T, e *mentionEnv, id string) string {
	t.Helper()
	_, m := e.get(t, id, "permalink")
	p, _ := m["permalink"].(string)
	return strings.TrimSuffix(strings.TrimPrefix(p, "https://www.instagram.com/p/"), "/")
}

func TestMentionedMedia(t *testing.T) {
	e := newMentionEnv(t)
	status, got := e.get(t, e.humas, "mentioned_media.media_id("+e.media+"){id,caption,timestamp,username,permalink,comments_count,media_type}")
	want := map[string]any{
		"id": e.humas,
		"mentioned_media": map[string]any{
			"id": e.media, "caption": "Banjir di Jatiasih pagi ini, cc @humaskotabekasi.", "timestamp": "2026-03-17T06:30:00+0000",
			"username": "infobekasi", "permalink": "https://www.instagram.com/p/" + shortcode(t, e, e.media) + "/",
			"comments_count": 1.0, "media_type": "IMAGE",
		},
	}
	if status != 200 {
		t.Fatalf("status %d: %v", status, got)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mentioned_media (-want +got):\n%s", diff)
	}
}

func TestMentionNotReadable(t *testing.T) {
	e := newMentionEnv(t)
	other := e.fake.AddComment(instagramfake.Comment{MediaID: e.media, Text: "@humaskotabekasi_fans ikut nyimak"})
	ownMention := e.fake.AddComment(instagramfake.Comment{MediaID: e.own, Text: "@humaskotabekasi min ini kapan?"})
	deleted := e.fake.AddComment(instagramfake.Comment{MediaID: e.media, Text: "@humaskotabekasi halo"})
	e.fake.DeleteComment(deleted)
	gone := e.fake.AddMedia(instagramfake.Media{Owner: e.news, Caption: "Update @humaskotabekasi"})
	onGone := e.fake.AddComment(instagramfake.Comment{MediaID: gone, Text: "@humaskotabekasi cek"})
	e.fake.DeleteMedia(gone)

	for _, tc := range []struct {
		name, account, field, id string
	}{
		{"comment without the mention", e.humas, "mentioned_comment.comment_id(%s){id,text}", other},
		{"comment on the account's own media", e.humas, "mentioned_comment.comment_id(%s){id,text}", ownMention},
		{"deleted comment", e.humas, "mentioned_comment.comment_id(%s){id,text}", deleted},
		{"comment on deleted media", e.humas, "mentioned_comment.comment_id(%s){id,text}", onGone},
		{"comment read by another account", e.news, "mentioned_comment.comment_id(%s){id,text}", e.comment},
		{"no such comment", e.humas, "mentioned_comment.comment_id(%s){id,text}", "18099999999999999"},
		{"caption of the account's own media", e.humas, "mentioned_media.media_id(%s){id,caption}", e.own},
		{"deleted media", e.humas, "mentioned_media.media_id(%s){id,caption}", gone},
		{"media id given as a comment", e.humas, "mentioned_media.media_id(%s){id,caption}", e.comment},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, got := e.get(t, tc.account, fmt.Sprintf(tc.field, tc.id))
			if status != 400 {
				t.Fatalf("status %d, want 400: %v", status, got)
			}
			errObj, _ := got["error"].(map[string]any)
			msg, _ := errObj["message"].(string)
			if !strings.HasPrefix(msg, "Unsupported get request. Object with ID '"+tc.id+"' does not exist, cannot be loaded due to missing permissions, or does not support this operation.") ||
				errObj["type"] != "GraphMethodException" || errObj["code"] != 100.0 || errObj["error_subcode"] != 33.0 || errObj["fbtrace_id"] == "" || len(got) != 1 {
				t.Errorf("error = %v, want Graph 100/33 for %s", got, tc.id)
			}
		})
	}
}

// recorder is a webhook callback that answers the nth POST (from 1) with
// status(n), or drops the connection when that is 0.
type recorder struct {
	status func(n int) int
	seen   func(n int) // called with mu held before answering, if set

	mu       sync.Mutex
	attempts []attempt
}

type attempt struct {
	body   string
	header http.Header
	status int
	at     time.Time
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	n := len(rc.attempts) + 1
	st := http.StatusOK
	if rc.status != nil {
		st = rc.status(n)
	}
	rc.attempts = append(rc.attempts, attempt{body: string(body), header: r.Header.Clone(), status: st, at: time.Now()})
	if rc.seen != nil {
		rc.seen(n)
	}
	rc.mu.Unlock()
	if st == 0 {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.WriteHeader(st)
}

func (rc *recorder) all() []attempt {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]attempt(nil), rc.attempts...)
}

func (rc *recorder) accepted() []string {
	var out []string
	for _, a := range rc.all() {
		if a.status == 200 {
			out = append(out, a.body)
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func mentionBody(account, media, comment string) string {
	value := `{"media_id":"` + media + `"}`
	if comment != "" {
		value = `{"media_id":"` + media + `","comment_id":"` + comment + `"}`
	}
	return `{"object":"instagram","entry":[{"id":"` + account + `","time":` + strconv.FormatInt(now.Unix(), 10) +
		`,"changes":[{"field":"mentions","value":` + value + `}]}]}`
}

func TestWebhookDelivery(t *testing.T) {
	rc := &recorder{}
	cb := httptest.NewServer(rc)
	defer cb.Close()
	secret := []byte("app-secret")
	e := newMentionEnv(t, instagramfake.WithWebhook(cb.URL+"/webhooks/instagram", secret))
	// Neither is a mention; a later one shows they were not queued.
	e.fake.AddComment(instagramfake.Comment{MediaID: e.own, Text: "@humaskotabekasi kapan dibuka?"})
	e.fake.AddComment(instagramfake.Comment{MediaID: e.media, Text: "semoga cepat surut"})
	last := e.fake.AddComment(instagramfake.Comment{MediaID: e.media, Text: "@infobekasi @humaskotabekasi mohon info"})

	waitFor(t, "three deliveries", func() bool { return e.fake.Delivered() == 3 })
	want := []string{
		mentionBody(e.humas, e.media, ""),
		mentionBody(e.humas, e.media, e.comment),
		mentionBody(e.humas, e.media, last), // not infobekasi: its own media
	}
	if diff := cmp.Diff(want, rc.accepted()); diff != "" {
		t.Errorf("bodies (-want +got):\n%s", diff)
	}
	for _, a := range rc.all() {
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(a.body))
		sig, ok := strings.CutPrefix(a.header.Get("X-Hub-Signature-256"), "sha256=")
		got, err := hex.DecodeString(sig)
		if !ok || err != nil || sig != strings.ToLower(sig) || !hmac.Equal(got, mac.Sum(nil)) {
			t.Errorf("X-Hub-Signature-256 = %q, not the HMAC-SHA256 of the body", a.header.Get("X-Hub-Signature-256"))
		}
		if ct := a.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
	}
	if n := e.fake.PendingDeliveries(); n != 0 {
		t.Errorf("pending = %d, want 0", n)
	}
}

func TestWebhookRetries(t *testing.T) {
	var fake atomic.Pointer[instagramfake.Server]
	var during []int // delivered and pending when the third attempt arrives; guarded by rc.mu
	rc := &recorder{status: func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}}
	rc.seen = func(n int) {
		if n == 3 {
			during = []int{fake.Load().Delivered(), fake.Load().PendingDeliveries()}
		}
	}
	cb := httptest.NewServer(rc)
	defer cb.Close()
	e := newMentionEnv(t, instagramfake.WithWebhook(cb.URL, []byte("s")))
	fake.Store(e.fake)

	waitFor(t, "two deliveries", func() bool { return e.fake.Delivered() == 2 })
	caption, comment := mentionBody(e.humas, e.media, ""), mentionBody(e.humas, e.media, e.comment)
	var got []string
	all := rc.all()
	for _, a := range all {
		got = append(got, fmt.Sprint(a.status, " ", a.body))
	}
	want := []string{"500 " + caption, "500 " + caption, "200 " + caption, "200 " + comment}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	rc.mu.Lock()
	if diff := cmp.Diff([]int{0, 2}, during); diff != "" {
		t.Errorf("delivered, pending before the first 200 (-want +got):\n%s", diff)
	}
	rc.mu.Unlock()
	if gap := all[1].at.Sub(all[0].at); gap < 90*time.Millisecond {
		t.Errorf("first retry after %v, want a backoff of about 100ms", gap)
	}
	if gap := all[2].at.Sub(all[1].at); gap < 190*time.Millisecond {
		t.Errorf("second retry after %v, want a backoff of about 200ms", gap)
	}
}

func TestWebhookTransportErrorRetried(t *testing.T) {
	rc := &recorder{status: func(n int) int {
		if n <= 2 {
			return 0
		}
		return http.StatusNoContent
	}}
	cb := httptest.NewServer(rc)
	defer cb.Close()
	e := newMentionEnv(t, instagramfake.WithWebhook(cb.URL, []byte("s")))
	waitFor(t, "two deliveries", func() bool { return e.fake.Delivered() == 2 })
	var got []string
	for _, a := range rc.all() {
		if a.status != 0 {
			got = append(got, a.body)
		}
	}
	want := []string{mentionBody(e.humas, e.media, ""), mentionBody(e.humas, e.media, e.comment)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delivered bodies (-want +got):\n%s", diff)
	}
}

func TestCloseStopsRetries(t *testing.T) {
	var mu sync.Mutex
	attempts := 0
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		attempts++
		mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer cb.Close()
	count := func() int { mu.Lock(); defer mu.Unlock(); return attempts }
	e := newMentionEnv(t, instagramfake.WithWebhook(cb.URL, []byte("s")))
	waitFor(t, "a retry", func() bool { return count() >= 2 })
	e.fake.Close()
	n := count()
	time.Sleep(400 * time.Millisecond)
	if got := count(); got != n {
		t.Errorf("%d attempts after Close, want none", got-n)
	}
	if e.fake.Delivered() != 0 || e.fake.PendingDeliveries() != 2 {
		t.Errorf("delivered %d, pending %d; want 0, 2", e.fake.Delivered(), e.fake.PendingDeliveries())
	}
	e.fake.Close() // again

	plain := instagramfake.New()
	plain.Close()
	plain.Close()
	if plain.Delivered() != 0 || plain.PendingDeliveries() != 0 {
		t.Error("a fake without a webhook delivers")
	}
}

func TestWebhookFromLoadDemo(t *testing.T) {
	rc := &recorder{}
	cb := httptest.NewServer(rc)
	defer cb.Close()
	fake := instagramfake.New(instagramfake.WithClock(func() time.Time { return now }), instagramfake.WithWebhook(cb.URL, []byte("s")))
	defer fake.Close()
	ig := tanggap.PlatformInstagram
	ids, err := fake.LoadDemo([]demo.Post{
		{Key: "humas", Platform: ig, Account: "humaskotabekasi", Author: "humaskotabekasi", Text: "Info CFD", MinutesAgo: 300, Official: true},
		{Key: "news", Platform: ig, Account: "infobekasi", Author: "infobekasi", Text: "Banjir Jatiasih", MinutesAgo: 200, Official: true},
		{Key: "c", Platform: ig, Account: "infobekasi", Author: "warga", Text: "@humaskotabekasi tolong min", MinutesAgo: 100},
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	humas, _ := fake.AccountID("humaskotabekasi")
	waitFor(t, "a delivery", func() bool { return fake.Delivered() == 1 })
	if diff := cmp.Diff([]string{mentionBody(humas, ids["news"], ids["c"])}, rc.accepted()); diff != "" {
		t.Errorf("bodies (-want +got):\n%s", diff)
	}
}

func TestVerifyWebhook(t *testing.T) {
	var mu sync.Mutex
	var answer func(challenge string) (int, string)
	var challenges []string
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method != http.MethodGet || q.Get("hub.mode") != "subscribe" || q.Get("hub.verify_token") != "rahasia kota" || q.Get("keep") != "1" {
			http.Error(w, "bad handshake: "+r.URL.RawQuery, http.StatusForbidden)
			return
		}
		ch := q.Get("hub.challenge")
		if _, err := strconv.ParseUint(ch, 10, 64); err != nil {
			http.Error(w, "challenge not digits: "+ch, http.StatusBadRequest)
			return
		}
		mu.Lock()
		challenges = append(challenges, ch)
		status, body := answer(ch)
		mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	defer cb.Close()
	fake := instagramfake.New()
	ctx := context.Background()
	set := func(a func(string) (int, string)) { mu.Lock(); answer = a; mu.Unlock() }

	set(func(ch string) (int, string) { return 200, ch })
	if err := fake.VerifyWebhook(ctx, cb.URL+"?keep=1", "rahasia kota"); err != nil {
		t.Errorf("echoing callback: %v", err)
	}
	if err := fake.VerifyWebhook(ctx, cb.URL+"?keep=1", "salah"); err == nil {
		t.Error("callback refusing the token: no error")
	}
	for _, tc := range []struct {
		name   string
		answer func(string) (int, string)
	}{
		{"trailing newline", func(ch string) (int, string) { return 200, ch + "\n" }},
		{"other body", func(string) (int, string) { return 200, "ok" }},
		{"not 200", func(ch string) (int, string) { return 201, ch }},
	} {
		set(tc.answer)
		if err := fake.VerifyWebhook(ctx, cb.URL+"?keep=1", "rahasia kota"); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(challenges) != 4 || challenges[0] == challenges[1] && challenges[1] == challenges[2] {
		t.Errorf("challenges %v: want four random ones", challenges)
	}
}
