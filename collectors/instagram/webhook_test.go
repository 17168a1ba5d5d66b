package instagram_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/instagram"
)

var appSecret = []byte("app-secret-SECRET")

func sign(body string, secret []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// A notification as Meta sends it: a comment mention, a caption mention
// and a change of another field the app is subscribed to.
const notification = `{"object":"instagram","entry":[
 {"id":"17841405309211844","time":1774951200,"changes":[
   {"field":"mentions","value":{"media_id":"17918195224117851","comment_id":"17894227972186120"}},
   {"field":"comments","value":{"id":"17865799348089039","text":"ok","from":{"id":"1","username":"x"},"media":{"id":"2"}}}]},
 {"id":"17841405309211845","time":1774951201,"changes":[
   {"field":"mentions","value":{"media_id":"17918195224117852"}}]}]}`

func TestParseNotification(t *testing.T) {
	ms, other, err := instagram.ParseNotification([]byte(notification))
	if err != nil {
		t.Fatal(err)
	}
	want := []instagram.Mention{
		{V: 1, AccountID: "17841405309211844", MediaID: "17918195224117851", CommentID: "17894227972186120", Sent: 1774951200},
		{V: 1, AccountID: "17841405309211845", MediaID: "17918195224117852", Sent: 1774951201},
	}
	if d := cmp.Diff(want, ms); d != "" || other != 1 {
		t.Fatalf("mentions (-want +got):\n%s\nother changes %d, want 1", d, other)
	}
	if ms[0].ID() != "17894227972186120" || ms[1].ID() != "17918195224117852" {
		t.Fatalf("ids %q %q: the comment, else the media", ms[0].ID(), ms[1].ID())
	}

	for name, body := range map[string]string{
		"not json":       `{"object":"instagram","entry":[`,
		"other object":   `{"object":"page","entry":[]}`,
		"no ids":         `{"object":"instagram","entry":[{"id":"1","changes":[{"field":"mentions","value":{}}]}]}`,
		"no account":     `{"object":"instagram","entry":[{"changes":[{"field":"mentions","value":{"media_id":"2"}}]}]}`,
		"id breaks path": `{"object":"instagram","entry":[{"id":"1","changes":[{"field":"mentions","value":{"comment_id":"5){id}&x=1"}}]}]}`,
		"id not digits":  `{"object":"instagram","entry":[{"id":"../me","changes":[{"field":"mentions","value":{"media_id":"2"}}]}]}`,
	} {
		if _, _, err := instagram.ParseNotification([]byte(body)); tanggap.ErrorCode(err) != tanggap.EINVALID {
			t.Errorf("%s: err %v, want EINVALID", name, err)
		}
	}
}

func TestValidSignature(t *testing.T) {
	body := []byte(notification)
	good := sign(notification, appSecret)
	if !instagram.ValidSignature(body, good, appSecret) {
		t.Fatal("Meta's signature refused")
	}
	for name, h := range map[string]string{
		"other secret": sign(notification, []byte("other")),
		"sha1 header":  "sha1=" + strings.TrimPrefix(good, "sha256="),
		"not hex":      "sha256=zz",
		"empty":        "",
		"truncated":    good[:len(good)-2],
	} {
		if instagram.ValidSignature(body, h, appSecret) {
			t.Errorf("%s: accepted", name)
		}
	}
	if instagram.ValidSignature(body[1:], good, appSecret) {
		t.Error("a changed body accepted")
	}
	if instagram.ValidSignature(body, sign(notification, nil), nil) {
		t.Error("accepted with no app secret configured")
	}
}

type queue struct {
	got  []instagram.Mention
	fail error
}

func (q *queue) enqueue(_ context.Context, ms []instagram.Mention) error {
	if q.fail != nil {
		return q.fail
	}
	q.got = append(q.got, ms...)
	return nil
}

func TestWebhookHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	q := &queue{}
	h := &instagram.WebhookHandler{AppSecret: appSecret, VerifyToken: "verify-SECRET", Enqueue: q.enqueue,
		Log: slog.New(slog.DiscardHandler), Metrics: instagram.NewWebhookMetrics(reg)}
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(query string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + "?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-SECRET"); code != 200 || body != "1158201444" {
		t.Fatalf("handshake: %d %q, want 200 and the challenge", code, body)
	}
	for _, query := range []string{
		"hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong",
		"hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=verify-SECRET",
		"hub.mode=subscribe&hub.challenge=%3Cscript%3E&hub.verify_token=verify-SECRET",
		"hub.mode=subscribe&hub.challenge=1",
	} {
		if code, body := get(query); code != http.StatusForbidden || strings.Contains(body, "script") {
			t.Errorf("%s: %d %q, want 403", query, code, body)
		}
	}

	post := func(body, sig string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("X-Hub-Signature-256", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(notification, sign(notification, appSecret)); code != 200 || len(q.got) != 2 {
		t.Fatalf("signed notification: %d, %d queued; want 200 and 2", code, len(q.got))
	}
	if code := post(notification, ""); code != http.StatusUnauthorized {
		t.Errorf("unsigned: %d, want 401", code)
	}
	if code := post(notification, sign(notification, []byte("other"))); code != http.StatusUnauthorized {
		t.Errorf("signed with another secret: %d, want 401", code)
	}
	bad := `{"object":"instagram","entry":[{"id":"x","changes":[{"field":"mentions","value":{"media_id":"1"}}]}]}`
	if code := post(bad, sign(bad, appSecret)); code != http.StatusBadRequest {
		t.Errorf("signed but malformed: %d, want 400", code)
	}
	other := `{"object":"instagram","entry":[{"id":"1","changes":[{"field":"story_insights","value":{"media_id":"1"}}]}]}`
	if code := post(other, sign(other, appSecret)); code != 200 {
		t.Errorf("no mentions: %d, want 200", code)
	}
	huge := `{"object":"instagram","entry":[],"pad":"` + strings.Repeat("a", instagram.MaxWebhookBody) + `"}`
	if code := post(huge, sign(huge, appSecret)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("huge body: %d, want 413", code)
	}
	// The queue refuses: Meta must send it again, so no 2xx.
	q.fail = tanggap.WrapCode(tanggap.EUNAVAILABLE, errors.New("broker down"), "kafka")
	if code := post(notification, sign(notification, appSecret)); code != http.StatusServiceUnavailable {
		t.Errorf("queue down: %d, want 503", code)
	}
	if len(q.got) != 2 {
		t.Errorf("%d queued in all, want 2 (only the first notification)", len(q.got))
	}
	req, _ := http.NewRequest(http.MethodPut, srv.URL, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %v %v, want 405", resp, err)
	}

	want := map[string]float64{"verified": 1, "verify_refused": 4, "queued": 1, "bad_signature": 2, "malformed": 1,
		"ignored": 1, "too_large": 1, "unavailable": 1, "method": 1}
	for result, n := range want {
		if got := testutil.ToFloat64(h.Metrics.Requests.WithLabelValues(result)); got != n {
			t.Errorf("requests{result=%q} = %v, want %v", result, got, n)
		}
	}
	if got := testutil.ToFloat64(h.Metrics.Mentions); got != 2 {
		t.Errorf("mentions received = %v, want 2", got)
	}
}
