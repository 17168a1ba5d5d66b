package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/facebook/graph/graphfake"
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
	prod := startMentions(gctx, g, pp, nil, brokers, pub, bus.NewProducerMetrics(reg), reg, log, defaultParking())
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
		bus.NewProducerMetrics(reg), reg, slog.New(slog.DiscardHandler), defaultParking())
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

// blockedEnv is a mentions pipeline on kfake and the fake Instagram API
// whose @bmsdakotabekasi token Graph refuses (error 190) until it is
// renewed (recover), and whose @humas.kota_bekasi is healthy. The resolver's clock is the
// poller's, which later lets a test pass the 5 minutes it leaves a refused
// account alone.
type blockedEnv struct {
	ctx     context.Context
	kc      *kfake.Cluster
	brokers []string
	fake    *instagramfake.Server
	media   string
	blocked string // ig-user-id of @bmsdakotabekasi
	healthy string // of @humas.kota_bekasi
	renewed atomic.Bool
	down    atomic.Bool  // Graph answers every request with a server error
	skew    atomic.Int64 // added to the poller's clock
	pub     *countingPublisher
	queue   func(context.Context, []instagram.Mention) error
	reg     *prometheus.Registry
	logs    *testenv.Buffer
	stop    func() error
}

func newBlockedEnv(t *testing.T, pk parking) *blockedEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	e := &blockedEnv{ctx: ctx, kc: kc, brokers: kc.ListenAddrs(), logs: &testenv.Buffer{}, reg: prometheus.NewRegistry(),
		pub: &countingPublisher{n: map[string]int{}}}
	log := slog.New(slog.NewTextHandler(e.logs, nil))
	e.fake = instagramfake.New(instagramfake.WithToken("good"), instagramfake.WithBudget(0, 0))
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.down.Load() {
			graphfake.WriteError(w, http.StatusInternalServerError, *graphfake.ServerError().Error)
			return
		}
		e.fake.ServeHTTP(w, r)
	}))
	t.Cleanup(api.Close)
	bad := config.Account{Platform: tanggap.PlatformInstagram, Handle: "bmsdakotabekasi", Owner: "bina_marga_sda"}
	bad.ID = e.fake.AddAccount(bad.Handle, "")
	good := config.Account{Platform: tanggap.PlatformInstagram, Handle: "humas.kota_bekasi", Owner: "humas"}
	good.ID = e.fake.AddAccount(good.Handle, "")
	e.blocked, e.healthy = bad.ID, good.ID
	e.media = e.fake.AddMedia(instagramfake.Media{Owner: e.fake.AddAccount("infobekasi", ""), Caption: "Hujan deras sore ini"})
	tokens := func(_ context.Context, a config.Account) (string, error) {
		if a.ID == bad.ID && !e.renewed.Load() {
			return "expired", nil
		}
		return "good", nil
	}
	now := func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }
	pp := []platformPoller{{poller: instagram.New(tokens, instagram.WithBaseURL(api.URL), instagram.WithClock(now)), accounts: []config.Account{bad, good}}}
	gctx, stop := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(gctx)
	prod := startMentions(gctx, g, pp, nil, e.brokers, e.pub, bus.NewProducerMetrics(e.reg), e.reg, log, pk)
	e.stop = func() error { stop(); return g.Wait() }
	t.Cleanup(func() { e.stop() })
	q := mentionQueue(prod)
	e.queue = func(ctx context.Context, ms []instagram.Mention) error {
		for { // the topics are created in the background
			err := q(ctx, ms)
			if err == nil || ctx.Err() != nil {
				return err
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return e
}

// mention adds a comment on the news account's media that @mentions the
// account and queues its mention, as the receiver does.
func (e *blockedEnv) mention(t *testing.T, account string) string {
	t.Helper()
	handle := "bmsdakotabekasi"
	if account == e.healthy {
		handle = "humas.kota_bekasi"
	}
	c := e.fake.AddComment(instagramfake.Comment{MediaID: e.media, Text: "@" + handle + " got mampet di Jl. Juanda", Username: "warga"})
	if err := e.queue(e.ctx, []instagram.Mention{{V: instagram.MentionVersion, AccountID: account, MediaID: e.media, CommentID: c, Sent: time.Now().Unix()}}); err != nil {
		t.Fatal(err)
	}
	return tanggap.ItemID(tanggap.PlatformInstagram, c)
}

// refused waits until Graph answered a first read (of the blocked
// account): the mentions queued next come after it on any partition.
func (e *blockedEnv) refused(t *testing.T) {
	t.Helper()
	if !e.waitFor(10*time.Second, func() bool { return e.fake.Requests() > 0 }) {
		t.Fatal("the blocked account's mention was not read")
	}
}

// recover renews the refused token, and lets the poller's clock pass the
// time the resolver leaves a refused or throttled account alone.
func (e *blockedEnv) recover() {
	e.renewed.Store(true)
	e.skew.Add(int64(20 * time.Minute))
}

// waitFor polls cond until it holds or d passed.
func (e *blockedEnv) waitFor(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) || e.ctx.Err() != nil {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func (e *blockedEnv) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		sum := 0.0
		for _, m := range mf.GetMetric() {
			ok := true
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || lp.GetName() == labels[i] && lp.GetValue() == labels[i+1]
				}
				ok = ok && found
			}
			if ok {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
		return sum
	}
	return 0
}

// countingPublisher counts each post it was given.
type countingPublisher struct {
	mu sync.Mutex
	n  map[string]int
}

func (p *countingPublisher) Publish(_ context.Context, posts []tanggap.Post) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, x := range posts {
		p.n[x.ItemID()]++
	}
	return nil
}

func (p *countingPublisher) count(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n[id]
}

func testParking() parking {
	return parking{first: 100 * time.Millisecond, max: 400 * time.Millisecond, giveUp: time.Hour, watchEvery: 100 * time.Millisecond, now: time.Now}
}

// The audit's case: Graph refuses one account's token. Its mentions wait,
// parked, while another account's mentions, queued after them, are
// published at once; none is retried in place. Once the token is renewed
// the parked ones are published, each once.
func TestMentionsBlockedAccountWaitsAlone(t *testing.T) {
	// A re-parked mention's copy is on the retry topic before the one it
	// replaces is committed (every 200 ms, later on a loaded host): waits
	// of up to 1.5 s leave the backlog at its true 2 most of the time.
	pk := testParking()
	pk.max = 1500 * time.Millisecond
	e := newBlockedEnv(t, pk)
	b1 := e.mention(t, e.blocked)
	e.refused(t)
	h1 := e.mention(t, e.healthy)
	if !e.waitFor(10*time.Second, func() bool { return e.pub.count(h1) > 0 }) {
		t.Fatalf("the healthy account's mention was not published in 10 s behind the blocked one; log:\n%s", e.logs.String())
	}
	b2 := e.mention(t, e.blocked)
	h2 := e.mention(t, e.healthy)
	if !e.waitFor(10*time.Second, func() bool { return e.pub.count(h2) > 0 }) {
		t.Fatalf("the healthy account's second mention was not published in 10 s; log:\n%s", e.logs.String())
	}
	// Both blocked mentions are parked, and parked again at their retries.
	if !e.waitFor(10*time.Second, func() bool {
		return e.metric(t, "tanggap_instagram_mentions_waiting") == 2 && e.metric(t, "tanggap_instagram_mentions_retried_total") >= 4 &&
			e.metric(t, "tanggap_instagram_mentions_parked_total", "reason", "auth_expired") >= 6
	}) {
		t.Fatalf("waiting %v, retried %v, parked %v: want 2 waiting, parked again at each retry; log:\n%s",
			e.metric(t, "tanggap_instagram_mentions_waiting"), e.metric(t, "tanggap_instagram_mentions_retried_total"),
			e.metric(t, "tanggap_instagram_mentions_parked_total"), e.logs.String())
	}
	// Each is read again no sooner than its not-before: in a second, at
	// most 1 s / testParking().first reads of each.
	before := e.metric(t, "tanggap_instagram_mentions_retried_total")
	time.Sleep(time.Second)
	if n := e.metric(t, "tanggap_instagram_mentions_retried_total") - before; n > 2*10 {
		t.Fatalf("%v reads of 2 parked mentions in a second: their not-before is not kept", n)
	}
	if n := e.pub.count(b1) + e.pub.count(b2); n != 0 {
		t.Fatalf("%d mentions of the refused account published", n)
	}
	if strings.Contains(e.logs.String(), "record_retry") {
		t.Fatalf("a mention was retried in place, holding up the records behind it; log:\n%s", e.logs.String())
	}

	e.recover()
	if !e.waitFor(15*time.Second, func() bool { return e.pub.count(b1) > 0 && e.pub.count(b2) > 0 }) {
		t.Fatalf("the parked mentions were not published after the token was renewed; log:\n%s", e.logs.String())
	}
	if !e.waitFor(10*time.Second, func() bool { return e.metric(t, "tanggap_instagram_mentions_waiting") == 0 }) {
		t.Fatalf("%v mentions still wait after they were published", e.metric(t, "tanggap_instagram_mentions_waiting"))
	}
	time.Sleep(pk.max + 500*time.Millisecond) // longer than a parked mention's wait: a copy left would be read by now
	for _, id := range []string{b1, h1, b2, h2} {
		if n := e.pub.count(id); n != 1 {
			t.Errorf("%s published %d times, want once", id, n)
		}
	}
	if got := e.metric(t, "tanggap_instagram_mentions_total", "result", "published"); got != 4 {
		t.Errorf("published counter %v, want 4", got)
	}
	if got := e.metric(t, "tanggap_instagram_mentions_dead_letters_total"); got != 0 {
		t.Errorf("%v dead letters", got)
	}
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
}

// Graph is down: a mention waits on the mentions topic, retried in place.
// The queued gauge counts it at once, from the group's committed offsets,
// in every collector, one that reads no topic too (the reader's lag does
// not: the reader fetched it). Once Graph answers it is published and
// the gauge goes back to 0.
func TestMentionsStuckAreQueued(t *testing.T) {
	e := newBlockedEnv(t, testParking())
	// Another collector, without an Instagram token: it reads no topic.
	other := prometheus.NewRegistry()
	og, octx := errgroup.WithContext(e.ctx)
	octx, stopOther := context.WithCancel(octx)
	startMentions(octx, og, nil, nil, e.brokers, e.pub, bus.NewProducerMetrics(other), other, slog.New(slog.DiscardHandler), testParking())
	t.Cleanup(func() { stopOther(); og.Wait() })
	gauge := func(reg *prometheus.Registry, name string) float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == name {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		return -1
	}

	e.down.Store(true)
	h := e.mention(t, e.healthy)
	if !e.waitFor(10*time.Second, func() bool {
		return strings.Contains(e.logs.String(), "record_retry") &&
			gauge(e.reg, "tanggap_instagram_mentions_queued") == 1 && gauge(other, "tanggap_instagram_mentions_queued") == 1
	}) {
		t.Fatalf("queued %v here, %v in the other collector, want 1 while Graph is down; log:\n%s",
			gauge(e.reg, "tanggap_instagram_mentions_queued"), gauge(other, "tanggap_instagram_mentions_queued"), e.logs.String())
	}
	if e.pub.count(h) != 0 {
		t.Fatal("published while Graph was down")
	}
	e.down.Store(false)
	if !e.waitFor(20*time.Second, func() bool {
		return e.pub.count(h) == 1 && gauge(e.reg, "tanggap_instagram_mentions_queued") == 0 && gauge(other, "tanggap_instagram_mentions_queued") == 0
	}) {
		t.Fatalf("published %d times, queued %v here and %v in the other collector once Graph answered; log:\n%s",
			e.pub.count(h), gauge(e.reg, "tanggap_instagram_mentions_queued"), gauge(other, "tanggap_instagram_mentions_queued"), e.logs.String())
	}
}

// A throttled account's mention is parked (rate_limited) and published
// once Graph's throttle ended, while the others go through.
func TestMentionsThrottledAccountWaitsAlone(t *testing.T) {
	e := newBlockedEnv(t, testParking())
	e.renewed.Store(true)
	throttle := instagramfake.Throttled(80002) // once: then Graph answers again
	throttle.Path = "/" + e.blocked
	e.fake.Inject(throttle)
	b := e.mention(t, e.blocked)
	e.refused(t)
	h := e.mention(t, e.healthy)
	if !e.waitFor(10*time.Second, func() bool {
		return e.pub.count(h) > 0 && e.metric(t, "tanggap_instagram_mentions_parked_total", "reason", "rate_limited") >= 2
	}) {
		t.Fatalf("healthy published %d times, parked %v; log:\n%s", e.pub.count(h),
			e.metric(t, "tanggap_instagram_mentions_parked_total", "reason", "rate_limited"), e.logs.String())
	}
	if e.pub.count(b) != 0 {
		t.Fatal("the throttled account's mention was read before the throttle ended")
	}
	e.recover()
	if !e.waitFor(15*time.Second, func() bool { return e.pub.count(b) > 0 }) {
		t.Fatalf("the throttled account's mention was not published after the throttle; log:\n%s", e.logs.String())
	}
	time.Sleep(500 * time.Millisecond)
	if n := e.pub.count(b); n != 1 {
		t.Errorf("published %d times, want once", n)
	}
}

// A mention is committed past only once Kafka took its parked copy: while
// Kafka refuses writes to the retry topic, it is retried in place, and it
// is published once its account recovered.
func TestMentionsParkedOnceKafkaTookIt(t *testing.T) {
	e := newBlockedEnv(t, testParking())
	var refuse atomic.Bool
	refuse.Store(true)
	var refused atomic.Int64
	e.kc.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		e.kc.KeepControl()
		req := kreq.(*kmsg.ProduceRequest)
		if !refuse.Load() || !slices.ContainsFunc(req.Topics, func(t kmsg.ProduceRequestTopic) bool { return t.Topic == mentionsRetry }) {
			return nil, nil, false
		}
		refused.Add(1)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			t := kmsg.NewProduceResponseTopic()
			t.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				p := kmsg.NewProduceResponseTopicPartition()
				p.Partition, p.ErrorCode = rp.Partition, kerr.TopicAuthorizationFailed.Code
				t.Partitions = append(t.Partitions, p)
			}
			resp.Topics = append(resp.Topics, t)
		}
		return resp, nil, true
	})
	b := e.mention(t, e.blocked)
	if !e.waitFor(10*time.Second, func() bool { return refused.Load() >= 2 }) {
		t.Fatalf("the parked copy was not written; log:\n%s", e.logs.String())
	}
	refuse.Store(false)
	if !e.waitFor(10*time.Second, func() bool {
		return e.metric(t, "tanggap_instagram_mentions_parked_total", "reason", "auth_expired") >= 1
	}) {
		t.Fatalf("not parked once Kafka took writes again; log:\n%s", e.logs.String())
	}
	e.recover()
	if !e.waitFor(15*time.Second, func() bool { return e.pub.count(b) > 0 }) {
		t.Fatalf("the mention was lost; log:\n%s", e.logs.String())
	}
	time.Sleep(500 * time.Millisecond)
	if n := e.pub.count(b); n != 1 {
		t.Errorf("published %d times, want once", n)
	}
}

// A mention whose account stays blocked is given up after parking.giveUp
// to the dead-letter topic with the reason; tanggap dlq lists it, and its
// replay, once the token is renewed, publishes it.
func TestMentionsBlockedGivenUp(t *testing.T) {
	pk := testParking()
	pk.giveUp = time.Second
	e := newBlockedEnv(t, pk)
	b := e.mention(t, e.blocked)
	if !e.waitFor(20*time.Second, func() bool {
		return e.metric(t, "tanggap_instagram_mentions_dead_letters_total", "reason", "auth_expired") == 1
	}) {
		t.Fatalf("not given up; log:\n%s", e.logs.String())
	}
	var dead []kafka.Message
	if err := bus.ReadAll(e.ctx, e.brokers, mentionsDead, func(m kafka.Message) error { dead = append(dead, m); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || bus.HeaderValue(dead[0], "tanggap.dlq.topic") != mentionsRetry ||
		!strings.Contains(bus.HeaderValue(dead[0], "tanggap.dlq.reason"), "given up") {
		t.Fatalf("dead letters %v, want the mention given up on %s", dead, mentionsRetry)
	}
	denv := map[string]string{"TANGGAP_KAFKA_BROKERS": strings.Join(e.brokers, ",")}
	out, err := runCLI(t, denv, "", "dlq", "list", "-mentions")
	if err != nil || !strings.Contains(out, "given up") || !strings.Contains(out, `{"records":1,"readable_now":1,"replayed":0}`) {
		t.Fatalf("dlq list -mentions: %v\n%s", err, out)
	}
	e.recover()
	if out, err := runCLI(t, denv, "", "dlq", "replay", "-mentions"); err != nil || !strings.Contains(out, `"replayed":1`) {
		t.Fatalf("dlq replay -mentions: %v\n%s", err, out)
	}
	if !e.waitFor(15*time.Second, func() bool { return e.pub.count(b) > 0 }) {
		t.Fatalf("the replayed mention was not published; log:\n%s", e.logs.String())
	}
	time.Sleep(500 * time.Millisecond)
	if n := e.pub.count(b); n != 1 {
		t.Errorf("published %d times, want once", n)
	}
}

func TestParkingWait(t *testing.T) {
	now := time.Date(2026, 3, 17, 8, 0, 0, 0, time.UTC)
	pk := defaultParking()
	pk.now = func() time.Time { return now }
	throttled := func(d time.Duration) error {
		return tanggap.WrapCode(tanggap.ERATELIMIT, &collectors.RateLimitError{Until: now.Add(d)}, "instagram @x: GET node: Graph error 80002")
	}
	expired := tanggap.Errorf(tanggap.EAUTH, "instagram @x: renew the token")
	for _, tc := range []struct {
		attempts int
		cause    error
		want     time.Duration
	}{
		{1, expired, time.Minute},
		{2, expired, 2 * time.Minute},
		{5, expired, 16 * time.Minute},
		{6, expired, 30 * time.Minute},
		{300, expired, 30 * time.Minute}, // a week of retries: no overflow
		{1, throttled(10 * time.Minute), 10 * time.Minute},
		{1, throttled(time.Second), time.Minute},
		{1, throttled(24 * time.Hour), 30 * time.Minute}, // a record waits at most max: others wait behind it
		{1, throttled(-time.Hour), time.Minute},
	} {
		if got := pk.wait(tc.attempts, tc.cause); got != tc.want {
			t.Errorf("wait(%d, %v) = %v, want %v", tc.attempts, tc.cause, got, tc.want)
		}
	}
}
