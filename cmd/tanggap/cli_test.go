package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/internal/testenv"
	"github.com/tanggap/tanggap/notify"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/webhook"
)

func runCLI(t *testing.T, envs map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut strings.Builder
	err := run(context.Background(), args, func(k string) string { return envs[k] }, strings.NewReader(stdin), &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestBrokenConfigExitsNonZero(t *testing.T) {
	p := filepath.Join(t.TempDir(), "kota.yaml")
	os.WriteFile(p, []byte("city:\n  code: bekasi\nopds:\n  - code: dlh\n    name: DLH\naccounts:\n  - {platform: x, handle: a, owner: nobody}\n"), 0o644)
	mr := miniredis.RunT(t)
	for _, cmd := range []string{"serve", "triage", "collect", "dev"} {
		_, err := runCLI(t, map[string]string{"TANGGAP_CONFIG": p, "REDIS_ADDR": mr.Addr(), "TANGGAP_KAFKA_BROKERS": "127.0.0.1:1"}, "", cmd)
		if err == nil || !strings.Contains(err.Error(), p+":7: field $.accounts[0].owner") {
			t.Errorf("%s: %v", cmd, err)
		}
	}
	if _, err := runCLI(t, nil, "", "triage", "--consumers", "0"); err == nil || !strings.Contains(err.Error(), "--consumers") {
		t.Errorf("triage --consumers 0: %v", err)
	}
	if _, err := runCLI(t, nil, "", "nonsense"); err == nil {
		t.Error("unknown command must fail")
	}
}

func TestUserCommands(t *testing.T) {
	mr := miniredis.RunT(t)
	env := map[string]string{"REDIS_ADDR": mr.Addr()}
	if out, err := runCLI(t, env, "kata-sandi-panjang\n", "user", "add", "-login", "Dishub.Admin", "-role", "opd_admin", "-opd", "perhubungan", "-name", "Admin Dishub", "-email", "dishub@example.go.id"); err != nil {
		t.Fatalf("add: %v\n%s", err, out)
	}
	if _, err := runCLI(t, env, "x\n", "user", "add", "-login", "bad", "-role", "opd_admin", "-opd", "nope"); err == nil {
		t.Error("unknown OPD accepted")
	}
	if _, err := runCLI(t, env, "kata-sandi-panjang\n", "user", "add", "-login", "h", "-role", "ppid_utama"); err == nil {
		t.Error("one-letter login accepted")
	}
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	st := store.New(rdb, "bekasi", nil)
	ctx := context.Background()
	if _, err := st.CheckPassword(ctx, "dishub.admin", "kata-sandi-panjang", "t"); err != nil {
		t.Fatalf("sign-in after add: %v", err)
	}
	// The operator typed it: its owner must replace it (as on /pengguna).
	if u, err := st.User(ctx, "dishub.admin"); err != nil || !u.TempPassword {
		t.Errorf("the added password is not temporary: %+v %v", u, err)
	}
	// The account administrators' record names the command as the author.
	if ch, err := st.UserChanges(ctx, 10); err != nil || len(ch) != 1 || ch[0].By != "(cli)" || ch[0].Action != "add" || ch[0].Detail != "opd_admin perhubungan" {
		t.Errorf("the record of the add: %+v %v", ch, err)
	}
	if out, err := runCLI(t, map[string]string{"REDIS_ADDR": mr.Addr(), "TANGGAP_USER_PASSWORD": "kata-sandi-baru-1"}, "", "user", "reset", "-login", "dishub.admin"); err != nil {
		t.Fatalf("reset: %v %s", err, out)
	}
	if _, err := st.CheckPassword(ctx, "dishub.admin", "kata-sandi-baru-1", "t"); err != nil {
		t.Fatalf("sign-in after reset: %v", err)
	}
	if out, err := runCLI(t, map[string]string{"REDIS_ADDR": mr.Addr(), "TANGGAP_USER_PASSWORD": "kata-sandi-baru-2"}, "", "user", "reset", "-login", "dishub.admin", "-permanent"); err != nil {
		t.Fatalf("reset -permanent: %v %s", err, out)
	}
	if u, err := st.User(ctx, "dishub.admin"); err != nil || u.TempPassword {
		t.Errorf("a -permanent password is temporary: %+v %v", u, err)
	}
	if _, err := st.CheckPassword(ctx, "dishub.admin", "kata-sandi-baru-2", "t"); err != nil {
		t.Fatalf("sign-in after reset -permanent: %v", err)
	}
	if _, err := runCLI(t, env, "", "user", "disable", "-login", "dishub.admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CheckPassword(ctx, "dishub.admin", "kata-sandi-baru-2", "t"); err == nil {
		t.Fatal("disabled user signed in")
	}
	// The list names every account and its state.
	if out, err := runCLI(t, env, "", "user", "list"); err != nil || out != "dishub.admin\topd_admin\tperhubungan\tdisabled\tnever\n" {
		t.Errorf("list: %q %v", out, err)
	}
	// The digest finds the OPD admin's address; the unrouted queue goes to the PPID Utama.
	st.SetDisabled(ctx, "dishub.admin", false)
	st.PutUser(ctx, store.User{Login: "humas", Name: "Humas", Role: "ppid_utama", Email: "humas@example.go.id"}, "kata-sandi-panjang", true)
	r := userRecipients{st}
	got, _ := r.Recipients(ctx, "perhubungan", notify.LevelAdmin)
	if len(got) != 1 || got[0].Email != "dishub@example.go.id" {
		t.Errorf("admins of perhubungan: %v", got)
	}
	got, _ = r.Recipients(ctx, store.Unrouted, notify.LevelAdmin)
	if len(got) != 1 || got[0].Email != "humas@example.go.id" {
		t.Errorf("unrouted: %v", got)
	}
	got, _ = r.Recipients(ctx, "perhubungan", notify.LevelUtama)
	if len(got) != 1 || got[0].Email != "humas@example.go.id" {
		t.Errorf("utama: %v", got)
	}
}

// seedPrunable stores two complaints received at created, x:1 closed at
// closed and x:2 open, and returns their posts.
func seedPrunable(t *testing.T, st *store.Store, created, closed time.Time) []tanggap.Post {
	t.Helper()
	ctx := context.Background()
	var posts []tanggap.Post
	for _, id := range []string{"1", "2"} {
		p := tanggap.Post{Platform: tanggap.PlatformX, ID: id, Text: "jalan rusak", Author: "w", CreatedAt: created, CapturedAt: created, ThreadID: id}
		posts = append(posts, p)
		if _, err := st.Ingest(ctx, store.Ingest{Post: p, Kind: tanggap.KindComplaint, OPD: "bina_marga_sda",
			Status: tanggap.StatusAssigned, Queued: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Apply(ctx, store.Change{ID: "x:1", Version: -1, Actor: "t", Action: "close",
		Set: map[string]string{"status": "CLOSED", "closed_ms": strconv.FormatInt(closed.UnixMilli(), 10)}}); err != nil {
		t.Fatal(err)
	}
	return posts
}

// relayOutbox does the event relay's part: it publishes every outbox
// entry with prod (nil: nowhere) and acknowledges it.
func relayOutbox(t *testing.T, st *store.Store, prod *bus.Producer) {
	t.Helper()
	ctx := context.Background()
	for {
		es, err := st.ReadOutbox(ctx, "t", 100, time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			return
		}
		for _, e := range es {
			if prod != nil {
				if err := prod.PublishRawEvents(ctx, []bus.RawEvent{{ItemID: e.ItemID, At: e.At, JSON: e.Event}}); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.AckOutbox(ctx, e.StreamID); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// tanggap prune removes what ended before the day it is given, counts on
// a dry run, and refuses a missing, malformed or too recent day; it writes
// its cutoff to the events topic first, so tanggap rebuild after a lost
// Redis leaves out what it removed.
func TestPruneCommand(t *testing.T) {
	mr := miniredis.RunT(t)
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	brokers := kc.ListenAddrs()
	topics := bus.DefaultTopics
	env := map[string]string{"REDIS_ADDR": mr.Addr(), "TANGGAP_KAFKA_BROKERS": strings.Join(brokers, ",")}
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	ctx := context.Background()
	long := time.Now().Add(-400 * 24 * time.Hour).Truncate(time.Second)
	st := store.New(rdb, "bekasi", func() time.Time { return long })
	posts := seedPrunable(t, st, long.Add(-time.Hour), long)
	if err := bus.EnsureTopics(ctx, brokers, 3, topics.Posts, topics.Events, topics.Dead); err != nil {
		t.Fatal(err)
	}
	prod := bus.NewProducer(brokers, topics, bus.NewProducerMetrics(prometheus.NewRegistry()))
	defer prod.Close()
	if err := prod.Publish(ctx, posts); err != nil { // the collector's part
		t.Fatal(err)
	}
	relayOutbox(t, st, prod) // every event reached Kafka
	day := time.Now().Add(-200 * 24 * time.Hour).Format(time.DateOnly)
	// An earlier prune's mark, before and after this one's: the rebuild
	// takes the latest cutoff, not the first or last mark.
	earlier := func() {
		t.Helper()
		if err := prod.PublishPrune(ctx, time.Now().Add(-300*24*time.Hour), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	earlier()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--dry-run"}, "--ended-before is required"},
		{[]string{"--ended-before", "1/2/2025"}, "want a day as YYYY-MM-DD"},
		{[]string{"--ended-before", time.Now().Add(-10 * 24 * time.Hour).Format(time.DateOnly)}, "less than 90 days ago"},
	} {
		if out, err := runCLI(t, env, "", append([]string{"prune"}, tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("prune %v: %v, want %q\n%s", tc.args, err, tc.want, out)
		}
	}
	for _, tc := range []struct {
		dry        bool
		pruned     int64
		left, open int64
	}{{true, 1, 2, 1}, {false, 1, 1, 1}, {false, 0, 1, 1}} {
		args := []string{"prune", "--ended-before", day}
		if tc.dry {
			args = append(args, "--dry-run")
		}
		out, err := runCLI(t, env, "", args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		var sum pruneSummary
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if sum.DryRun != tc.dry || sum.Pruned != tc.pruned || sum.ItemsLeft != tc.left || sum.Open != tc.open {
			t.Errorf("%v: %s", args, out)
		}
	}
	if _, err := st.Item(ctx, "x:1"); tanggap.ErrorCode(err) != tanggap.ENOTFOUND {
		t.Errorf("x:1 after the prune: %v", err)
	}
	// Without Kafka a prune refuses to start (a dry run needs none).
	if _, err := runCLI(t, map[string]string{"REDIS_ADDR": mr.Addr()}, "", "prune", "--ended-before", day); err == nil || !strings.Contains(err.Error(), "TANGGAP_KAFKA_BROKERS") {
		t.Errorf("a prune without brokers: %v", err)
	}
	// Redis is lost; the rebuild from the topics leaves x:1 out again.
	earlier()
	mr.FlushAll()
	out, err := runCLI(t, env, "", "rebuild")
	if err != nil {
		t.Fatalf("rebuild: %v\n%s", err, out)
	}
	var rs rebuildSummary
	if err := json.NewDecoder(strings.NewReader(out)).Decode(&rs); err != nil { // the log follows
		t.Fatalf("rebuild: %v\n%s", err, out)
	}
	if rs.PrunedBefore == nil || rs.PrunedBefore.Add(7*time.Hour).Format(time.DateOnly) != day || // the day starts in Asia/Jakarta
		rs.ItemsPruned != 1 || rs.Posts != 2 || rs.PostsPruned != 1 || rs.PostsIngested != 0 {
		t.Errorf("rebuild after the prune: %s", out)
	}
	// These topics have the broker's defaults, which delete records after a
	// week: the summary says so, and from when its events start.
	if rs.EventsKept != "no" || !strings.Contains(rs.NotKeptWhy, "retention.ms=604800000") || rs.FirstEventAt == nil {
		t.Errorf("rebuild summary on a topic Kafka does not keep: %s", out)
	}
	if _, err := st.Item(ctx, "x:1"); tanggap.ErrorCode(err) != tanggap.ENOTFOUND {
		t.Errorf("x:1 after the rebuild: %v", err)
	}
	if _, err := st.Item(ctx, "x:2"); err != nil {
		t.Errorf("x:2 after the rebuild: %v", err)
	}
	if p, err := st.PrunedBefore(ctx); err != nil || !p.Equal(*rs.PrunedBefore) {
		t.Errorf("the reports' mark after the rebuild: %v %v, want %v", p, err, rs.PrunedBefore)
	}
}

// tanggap dlq -webhooks lists the deliveries dead-lettered while their
// receiver refused them and, once it accepts, delivers them again with the
// endpoints and secrets of TANGGAP_WEBHOOKS, signed like any delivery.
func TestWebhookDLQCommand(t *testing.T) {
	ctx := context.Background()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	brokers := kc.ListenAddrs()
	const secret = "a-secret-of-thirty-two-characters"
	var refusing atomic.Bool
	refusing.Store(true)
	type got struct {
		id     string
		sigErr error
	}
	deliveries := make(chan got, 10)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		deliveries <- got{r.Header.Get(webhook.HeaderDelivery), webhook.Verify([]byte(secret), r.Header, b, time.Now(), time.Minute)}
		if refusing.Load() {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rc.Close()
	hooks := filepath.Join(t.TempDir(), "webhooks.yaml")
	if err := os.WriteFile(hooks, []byte("allow_loopback: true\nendpoints:\n  - name: lapor\n    url: "+rc.URL+"\n    secret_env: HOOK_SECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TANGGAP_KAFKA_BROKERS": strings.Join(brokers, ","), "TANGGAP_WEBHOOKS": hooks, "HOOK_SECRET": secret}

	// triage's dispatcher dead-letters a resolution the receiver refuses.
	if err := bus.EnsureTopics(ctx, brokers, 1, webhookTopic); err != nil {
		t.Fatal(err)
	}
	cfg, err := webhookConfig(runEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	dead := bus.NewProducer(brokers, bus.Topics{Dead: webhookTopic}, bus.NewProducerMetrics(prometheus.NewRegistry()))
	defer dead.Close()
	d, err := webhook.New(*cfg, webhook.Options{Getenv: runEnv(env).getenv, Dead: dead, Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ev := tanggap.Event{ID: "x:5#4", ItemID: "x:5", At: time.Now(), Actor: "dlh", Action: "resolve",
		FromStatus: tanggap.StatusInProgress, ToStatus: tanggap.StatusResolved, FromOPD: "lingkungan_hidup", ToOPD: "lingkungan_hidup", Version: 4}
	b, err := json.Marshal(bus.Envelope{V: bus.EnvelopeVersion, Type: "event", Event: &ev})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Handle(ctx, kafka.Message{Topic: bus.DefaultTopics.Events, Key: []byte("x:5"), Value: b}); err != nil {
		t.Fatal(err)
	}
	if g := <-deliveries; g.id != "x:5#4" {
		t.Fatalf("first delivery %+v", g)
	}

	out, err := runCLI(t, env, "", "dlq", "list", "-webhooks")
	if err != nil || !strings.Contains(out, `"endpoint":"lapor","event":"item.status_changed","item":"x:5"`) ||
		!strings.Contains(out, "400") || !strings.Contains(out, `{"records":1,"delivered":0,"failed":0,"not_wanted":0,"skipped":0}`) {
		t.Fatalf("dlq list -webhooks: %v\n%s", err, out)
	}
	if len(deliveries) != 0 {
		t.Fatal("listing delivered something")
	}
	refusing.Store(false)
	if out, err := runCLI(t, env, "", "dlq", "replay", "-webhooks", "-endpoint", "dasbor"); err != nil || !strings.Contains(out, `{"records":0,`) {
		t.Errorf("replay for another endpoint: %v\n%s", err, out)
	}
	out, err = runCLI(t, env, "", "dlq", "replay", "-webhooks")
	if err != nil || !strings.Contains(out, `"result":"delivered"`) || !strings.Contains(out, `{"records":1,"delivered":1,"failed":0,"not_wanted":0,"skipped":0}`) {
		t.Fatalf("dlq replay -webhooks: %v\n%s", err, out)
	}
	if g := <-deliveries; g.id != "x:5#4" || g.sigErr != nil {
		t.Errorf("redelivery %+v", g)
	}
	delete(env, "TANGGAP_WEBHOOKS")
	if _, err := runCLI(t, env, "", "dlq", "replay", "-webhooks"); err == nil || !strings.Contains(err.Error(), "TANGGAP_WEBHOOKS") {
		t.Errorf("replay without the webhook config: %v", err)
	}
	if _, err := runCLI(t, env, "", "dlq", "list", "-endpoint", "lapor"); err == nil || !strings.Contains(err.Error(), "-webhooks") {
		t.Errorf("-endpoint without -webhooks: %v", err)
	}
}

func runEnv(m map[string]string) env { return env{getenv: func(k string) string { return m[k] }} }

func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes(" 127.0.0.1, 172.16.0.0/12,::1,, 10.1.2.3/8")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.1/32", "172.16.0.0/12", "::1/128", "10.0.0.0/8"}
	if len(got) != len(want) {
		t.Fatalf("%v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("%d: %s, want %s", i, got[i], want[i])
		}
	}
	if _, err := parsePrefixes("127.0.0.1,proxy.kota"); err == nil || !strings.Contains(err.Error(), `"proxy.kota"`) {
		t.Errorf("a host name: %v", err)
	}
	var out, errb strings.Builder
	e := env{getenv: func(k string) string {
		return map[string]string{"TANGGAP_TRUSTED_PROXIES": "10.0.0.0/33", "REDIS_ADDR": "127.0.0.1:1"}[k]
	}, stdout: &out, stderr: &errb}
	if err := runServe(context.Background(), nil, e); err == nil || !strings.Contains(err.Error(), "TANGGAP_TRUSTED_PROXIES") {
		t.Errorf("serve with a bad TANGGAP_TRUSTED_PROXIES: %v", err)
	}
}

// TestDevKeepsApartOnRealRedis: dev on a real Redis (REDIS_ADDR, which may
// be the city's) writes its demo accounts, whose password the README
// prints, and its demo posts under a city of its own, never the city's.
func TestDevKeepsApartOnRealRedis(t *testing.T) {
	mr := miniredis.RunT(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut testenv.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--addr", "127.0.0.1:0"}, func(k string) string {
			return map[string]string{"REDIS_ADDR": mr.Addr()}[k]
		}, strings.NewReader(""), &out, &errOut)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), "Metrics:") {
		if time.Now().After(deadline) {
			t.Fatalf("dev did not start: %s %s", out.String(), errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "tanggap:{bekasi_dev}:") {
		t.Errorf("dev does not say where its keys are:\n%s", out.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("dev: %v", err)
	}
	var own, city int
	for _, k := range mr.Keys() {
		switch {
		case strings.HasPrefix(k, "tanggap:{bekasi_dev}:"):
			own++
		case strings.HasPrefix(k, "tanggap:{bekasi}:"):
			city++
		}
	}
	if own == 0 || city != 0 {
		t.Errorf("%d keys of dev's own, %d of the city's, want some and none", own, city)
	}
	st := store.New(redis.NewClient(&redis.Options{Addr: mr.Addr()}), "bekasi", nil)
	if _, err := st.CheckPassword(context.Background(), "humas", devPassword, "127.0.0.1"); err == nil {
		t.Error("the demo password signs in as the city's humas")
	}
}

// Help and unknown actions are answered before any config, Redis or Kafka:
// no REDIS_ADDR is set here. -h ends in errUsage, which main does not print
// (no "flag: help requested").
func TestHelpAndMistakesBeforeIO(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		usage    bool   // the error is errUsage
		want     string // in the output, or in the error when not usage
		wantFlag string // a flag the help lists
	}{
		{[]string{"user"}, true, "usage: tanggap user", ""},
		{[]string{"user", "-h"}, true, "usage: tanggap user", "-login"},
		{[]string{"user", "--help"}, true, "usage: tanggap user", "-login"},
		{[]string{"user", "add", "-h"}, true, "", "-permanent"},
		{[]string{"user", "bogus"}, false, `unknown action "bogus"`, ""},
		{[]string{"user", "disable"}, false, "-login is required", ""},
		{[]string{"train", "-h"}, true, "", "-data"},
		{[]string{"eval", "-h"}, true, "", "-model"},
		{[]string{"classify", "-h"}, true, "", "-model"},
		{[]string{"classify", "stray"}, false, "unexpected arguments", ""},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := runCLI(t, nil, "", tc.args...)
			if err == nil {
				t.Fatalf("succeeded:\n%s", out)
			}
			if strings.Contains(out+err.Error(), "REDIS_ADDR") {
				t.Errorf("reached Redis: %v\n%s", err, out)
			}
			if got := errors.Is(err, errUsage); got != tc.usage {
				t.Errorf("error %v: usage %v, want %v", err, got, tc.usage)
			}
			if tc.usage && !strings.Contains(out, tc.want) || !tc.usage && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\n%s\nwant %q", err, out, tc.want)
			}
			if !strings.Contains(out, tc.wantFlag) {
				t.Errorf("help does not list %s:\n%s", tc.wantFlag, out)
			}
		})
	}
	out, _ := runCLI(t, nil, "", "help")
	if !strings.Contains(out, "add, reset, disable, enable, list") {
		t.Errorf("the usage does not mention user list:\n%s", out)
	}
}

// Counts below 1 and durations that are not positive are refused when the
// flags are parsed, before Redis or Kafka (none is set here), rather than
// retried against Kafka or replaced by a default.
func TestNonPositiveFlags(t *testing.T) {
	for _, args := range [][]string{
		{"triage", "--partitions", "0"},
		{"triage", "--partitions", "-2"},
		{"triage", "--consumers", "0"},
		{"collect", "--interval", "-5s"},
		{"collect", "--interval", "0s"},
		{"dev", "--drip", "0s"},
		{"bench", "--interval", "-1ms", "--timeout", "1ns", "--phases", "rate"}, // if it ran, it would stop at once
	} {
		_, err := runCLI(t, nil, "", args...)
		if err == nil || !strings.Contains(err.Error(), args[1]) || strings.Contains(err.Error(), "REDIS_ADDR") {
			t.Errorf("%v: %v, want an error naming %s", args, err, args[1])
		}
	}
}
