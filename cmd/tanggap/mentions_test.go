package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/collectors/instagram"
	"github.com/tanggap/tanggap/collectors/instagram/instagramfake"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/internal/testenv"
)

// TestMentionsThroughKafka: the fake Instagram API sends signed mentions
// webhooks to the receiver `tanggap collect` serves; each is queued on the
// mentions topic, read by the consumer through the mentioned account and
// published as a post. One of an account the city does not watch goes to
// the mentions dead-letter topic.
func TestMentionsThroughKafka(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	brokers := kc.ListenAddrs()
	logs := &testenv.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	reg := prometheus.NewRegistry()

	secret, verify := "app-secret-SECRET", "verify-SECRET"
	// The receiver needs the producer, made below; until then it answers
	// 503, and the fake API sends again, as Meta does.
	var handler atomic.Pointer[http.Handler]
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "not yet", http.StatusServiceUnavailable)
	}))
	defer recv.Close()
	hookURL := recv.URL + webhookPath

	fake := instagramfake.New(instagramfake.WithWebhook(hookURL, []byte(secret)))
	defer fake.Close()
	api := httptest.NewServer(fake)
	defer api.Close()
	acct := config.Account{Platform: tanggap.PlatformInstagram, Handle: "bmsdakotabekasi", Owner: "bina_marga_sda"}
	acct.ID = fake.AddAccount(acct.Handle, "")
	stranger := fake.AddAccount("tokoroti", "") // registered with Meta, not watched
	news := fake.AddAccount("infobekasi", "")
	media := fake.AddMedia(instagramfake.Media{Owner: news, Caption: "Hujan deras sore ini", Timestamp: time.Now().Add(-time.Hour)})

	pub := &recordingPublisher{seen: map[string]time.Time{}}
	pp := []platformPoller{{poller: instagram.New(instagram.StaticToken("dev"), instagram.WithBaseURL(api.URL)), accounts: []config.Account{acct}}}
	g, gctx := errgroup.WithContext(ctx)
	prod := startMentions(gctx, g, pp, nil, brokers, pub, bus.NewProducerMetrics(reg), reg, log)
	// Deleted before anyone read it: gone, counted, not retried.
	gone := fake.AddComment(instagramfake.Comment{MediaID: media, Text: "@bmsdakotabekasi salah kirim", Username: "w0"})
	fake.DeleteComment(gone)
	var mux http.Handler = func() *http.ServeMux {
		m := http.NewServeMux()
		m.Handle(webhookPath, instagramWebhook(secret, verify, prod, reg, log))
		return m
	}()
	handler.Store(&mux)

	if err := fake.VerifyWebhook(ctx, hookURL, verify); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	if err := fake.VerifyWebhook(ctx, hookURL, "wrong"); err == nil {
		t.Fatal("handshake with a wrong verify token passed")
	}
	c1 := fake.AddComment(instagramfake.Comment{MediaID: media, Text: "@bmsdakotabekasi got depan rumah mampet, banjir lagi", Username: "w1"})
	c2 := fake.AddComment(instagramfake.Comment{MediaID: media, Text: "promo roti @tokoroti", Username: "w2"})
	cap1 := fake.AddMedia(instagramfake.Media{Owner: news, Caption: "Jalan Juanda berlubang, cc @bmsdakotabekasi"})

	want := []string{tanggap.ItemID(tanggap.PlatformInstagram, c1), tanggap.ItemID(tanggap.PlatformInstagram, cap1)}
	for {
		pub.mu.Lock()
		n := 0
		for _, id := range want {
			if _, ok := pub.seen[id]; ok {
				n++
			}
		}
		pub.mu.Unlock()
		if n == len(want) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("mentions not published: %v; log:\n%s", want, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	// deadLetters reads the mentions dead-letter topic until it holds n.
	deadLetters := func(n int) []kafka.Message {
		var dead []kafka.Message
		for len(dead) < n && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
			dead = dead[:0]
			_ = bus.ReadAll(ctx, brokers, mentionsDead, func(m kafka.Message) error { dead = append(dead, m); return nil })
		}
		return dead
	}
	dead := deadLetters(1)
	if len(dead) != 1 || !strings.Contains(string(dead[0].Value), c2) || !strings.Contains(bus.HeaderValue(dead[0], "tanggap.dlq.reason"), "does not watch") {
		t.Fatalf("dead letters %d (%v), want the mention of @tokoroti (%s) with its reason", len(dead), dead, stranger)
	}
	// tanggap dlq lists it with its reason and, after the account was fixed,
	// queues it again: the consumer reads it once more.
	denv := map[string]string{"TANGGAP_KAFKA_BROKERS": strings.Join(brokers, ",")}
	out, err := runCLI(t, denv, "", "dlq", "list", "-mentions")
	if err != nil || !strings.Contains(out, `"readable_now":true`) || !strings.Contains(out, "does not watch") ||
		!strings.Contains(out, `{"records":1,"readable_now":1,"replayed":0}`) {
		t.Fatalf("dlq list -mentions: %v\n%s", err, out)
	}
	if out, err := runCLI(t, denv, "", "dlq", "replay", "-mentions"); err != nil || !strings.Contains(out, `"replayed":1`) {
		t.Fatalf("dlq replay -mentions: %v\n%s", err, out)
	}
	dead = deadLetters(2) // still not watched: dead-lettered again
	if len(dead) != 2 || string(dead[1].Value) != string(dead[0].Value) {
		t.Fatalf("after the replay %d dead letters, want the same mention twice", len(dead))
	}
	if _, err := runCLI(t, denv, "", "dlq", "list", "-mentions", "-webhooks"); err == nil {
		t.Error("dlq -mentions -webhooks accepted")
	}
	fake.WaitDeliveries(10 * time.Second)
	pub.mu.Lock()
	if _, ok := pub.seen[tanggap.ItemID(tanggap.PlatformInstagram, gone)]; ok {
		t.Error("a deleted mention was published")
	}
	pub.mu.Unlock()
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP tanggap_instagram_mentions_total Queued Instagram @mentions by result: published (read and sent to the posts topic), gone (Graph says it does not exist: deleted, or no longer visible to the token).
# TYPE tanggap_instagram_mentions_total counter
tanggap_instagram_mentions_total{result="gone"} 1
tanggap_instagram_mentions_total{result="published"} 2
`), "tanggap_instagram_mentions_total"); err != nil {
		t.Error(err)
	}
	cancel()
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// The receiver needs both secrets; one alone is a configuration error that
// names the other, not a receiver that refuses every request.
func TestWebhookSecrets(t *testing.T) {
	file := t.TempDir() + "/missing"
	for name, c := range map[string]struct {
		env  map[string]string
		want string // "" means no error
		on   bool
	}{
		"neither":        {env: map[string]string{}},
		"both":           {env: map[string]string{envInstagramAppSecret: "s", envInstagramVerifyToken: "v"}, on: true},
		"both from file": {env: map[string]string{envInstagramAppSecret + "_FILE": writeSecret(t, "s\n"), envInstagramVerifyToken: "v"}, on: true},
		"secret alone":   {env: map[string]string{envInstagramAppSecret: "s"}, want: envInstagramVerifyToken},
		"token alone":    {env: map[string]string{envInstagramVerifyToken: "v"}, want: envInstagramAppSecret},
		"unreadable":     {env: map[string]string{envInstagramAppSecret + "_FILE": file}, want: envInstagramAppSecret + "_FILE"},
	} {
		secret, verify, err := webhookSecrets(env{getenv: func(k string) string { return c.env[k] }})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: err %v, want one naming %s", name, err, c.want)
		case c.want == "" && (secret != "" && verify != "") != c.on:
			t.Errorf("%s: secret %q verify %q", name, secret, verify)
		case strings.Contains(fmt.Sprint(err), "s\n"):
			t.Errorf("%s: the error shows the secret", name)
		}
	}
}

func writeSecret(t *testing.T, v string) string {
	p := t.TempDir() + "/secret"
	if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A collector starts while Kafka is down, as it may for its polls: the
// mentions topics are tried in the background, and stopping ends the tries.
func TestMentionsWithoutKafka(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	g, gctx := errgroup.WithContext(ctx)
	reg := prometheus.NewRegistry()
	start := time.Now()
	prod := startMentions(gctx, g, nil, nil, []string{"127.0.0.1:1"}, &recordingPublisher{seen: map[string]time.Time{}},
		bus.NewProducerMetrics(reg), reg, slog.New(slog.DiscardHandler))
	if prod == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("producer %v after %v: the collector waited for Kafka", prod, time.Since(start))
	}
	time.Sleep(300 * time.Millisecond) // the topics are being tried
	cancel()
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the topic tries did not stop with the collector")
	}
}
