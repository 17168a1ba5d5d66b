package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/x"
	"github.com/tanggap/tanggap/collectors/x/xfake"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/internal/kafkatest"
	"github.com/tanggap/tanggap/internal/testenv"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/triage"
	"github.com/tanggap/tanggap/workflow"
)

// testRedis is miniredis, or the real redis-server in the integration run.
func testRedis(t *testing.T) redis.UniversalClient {
	t.Helper()
	addr := ""
	if testenv.Integration {
		addr = testenv.RedisAddr(t)
	} else {
		addr = miniredis.RunT(t).Addr()
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// TestPipelineEndToEnd drives the whole mission path on real parts: a fake
// X API serving v1.1 JSON -> the collector -> Kafka -> the triage consumer
// group -> Redis -> the JSON API. In the integration run it runs again on a
// three-node Redis Cluster, connected the way the commands connect
// (REDIS_ADDR with the nodes' addresses).
func TestPipelineEndToEnd(t *testing.T) {
	t.Run("redis", func(t *testing.T) { pipelineEndToEnd(t, testRedis(t)) })
	t.Run("redis-cluster", func(t *testing.T) {
		if !testenv.Integration {
			t.Skip("the Redis Cluster runs in the integration run (scripts/integration.sh)")
		}
		addrs := strings.Join(testenv.RedisCluster(t), ",")
		rdb, err := redisFromEnv(context.Background(), env{getenv: func(k string) string { return map[string]string{"REDIS_ADDR": addrs}[k] }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rdb.Close() })
		if _, ok := rdb.(*redis.ClusterClient); !ok {
			t.Fatalf("REDIS_ADDR=%s gave a %T, not a cluster client", addrs, rdb)
		}
		pipelineEndToEnd(t, rdb)
	})
}

func pipelineEndToEnd(t *testing.T, rdb redis.UniversalClient) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	brokers, sfx := kafkatest.Brokers(t)
	topics := bus.Topics{Posts: "posts" + sfx, Events: "events" + sfx, Dead: "dead" + sfx}
	if err := bus.EnsureTopics(ctx, brokers, 3, topics.Posts); err != nil { // as triage does (ensureBusTopics)
		t.Fatal(err)
	}
	if err := bus.EnsureKeptTopics(ctx, brokers, 3, topics.Events, topics.Dead); err != nil {
		t.Fatal(err)
	}
	city := "e2e" + strings.ReplaceAll(sfx, ".", "")[:12]
	st := store.New(rdb, city, nil)
	clocks, err := workflow.NewClocks(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	reg := newRegistry()
	pipe := newPipeline(cfg, st, clocks, triage.NewKeywords(cfg), brokers, topics, pipelineOptions{group: "triage" + sfx, consumers: 2}, reg, log)

	fx := xfake.New(xfake.Options{MentionsLimit: 1 << 20, UserTimelineLimit: 1 << 20, AppUserTimelineLimit: 1 << 20})
	api := httptest.NewServer(fx)
	defer api.Close()
	now := time.Now().UTC()
	warga := xfake.User{ScreenName: "warga_jatimekar", Name: "Warga Jatimekar"}
	dlh := xfake.User{ScreenName: "dlh_kotabekasi", Name: "DLH Kota Bekasi"}
	const complaint, reply, road = "1862000000000000100", "1862000000000000300", "1862000000000000050"
	// The official reply is visible before the complaint it answers.
	fx.Append(xfake.Status{ID: reply, CreatedAt: now.Add(-10 * time.Minute), User: dlh, InReplyTo: complaint, InReplyToUser: warga,
		Text: "@warga_jatimekar Terima kasih, petugas kami meluncur ke lokasi hari ini."})
	fx.Append(xfake.Status{ID: road, CreatedAt: now.Add(-20 * time.Minute), User: xfake.User{ScreenName: "pengendara_bks"},
		Text: "@humasbekasikota jalan berlubang parah di jl. ahmad yani depan summarecon, tolong ditambal sebelum ada korban"})

	accts := cfg.WatchedAccounts(tanggap.PlatformX)
	creds := x.Credentials{Bearer: fx.Bearer(), ConsumerKey: "k", ConsumerSecret: "s", Users: map[string]x.UserToken{}}
	for _, a := range accts {
		tok, sec := fx.Authorize(a.Handle)
		creds.Users[a.Handle] = x.UserToken{Token: tok, Secret: sec}
	}
	poller, err := x.NewPoller(x.Options{Credentials: creds, BaseURL: api.URL, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	runners, err := newRunners([]platformPoller{{poller: poller, accounts: accts}}, cfg, st, pipe.producer, reg, log,
		collectors.RunnerOptions{Interval: 50 * time.Millisecond, MaxInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newWeb(cfg, st, clocks, reg, log, webSettings{})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(srv)
	defer web.Close()
	if err := st.PutUser(ctx, store.User{Login: "humas", Name: "Humas", Role: "ppid_utama"}, "kata-sandi-uji-1", true); err != nil {
		t.Fatal(err)
	}

	rctx, stop := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(rctx)
	g.Go(func() error { return pipe.run(gctx) })
	startRunners(gctx, g, runners, st, log)

	// The reply arrives first and waits for its parent.
	waitFor(t, ctx, "the reply to wait for its parent", func() bool {
		it, err := st.Item(ctx, "x:"+reply)
		return err == nil && it.ReplyBy == "lingkungan_hidup"
	})
	fx.Append(xfake.Status{ID: complaint, CreatedAt: now.Add(-30 * time.Minute), User: warga,
		Text: "@humasbekasikota sampah numpuk di TPS liar gang mawar jatimekar, bau busuk sampai ke rumah warga"})

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	res, err := client.PostForm(web.URL+"/masuk", url.Values{"login": {"humas"}, "password": {"kata-sandi-uji-1"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	items := func() map[string]map[string]any {
		res, err := client.Get(web.URL + "/api/v1/items?limit=1000")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var list []map[string]any
		if err := json.NewDecoder(res.Body).Decode(&list); err != nil {
			t.Fatal(err)
		}
		out := map[string]map[string]any{}
		for _, it := range list {
			out[it["id"].(string)] = it
		}
		return out
	}
	var got map[string]map[string]any
	waitFor(t, ctx, "both complaints and the reply in the API", func() bool {
		got = items()
		return got["x:"+complaint] != nil && got["x:"+road] != nil && got["x:"+complaint]["first_response_at"] != nil
	})
	c := got["x:"+complaint]
	if c["opd"] != "lingkungan_hidup" || c["status"] != "IN_PROGRESS" || c["answered_by"] != "lingkungan_hidup" {
		t.Errorf("complaint answered by DLH's reply: %v", c)
	}
	r := got["x:"+road]
	if r["opd"] != "bina_marga_sda" || r["status"] != "ASSIGNED" || r["first_response_at"] != nil || r["deadline_state"] != "on_track" {
		t.Errorf("road complaint in DBMSDA's queue, unanswered: %v", r)
	}
	q, err := st.Queue(ctx, "bina_marga_sda", store.QueuePage{Limit: 10})
	if err != nil || q.Open != 1 || q.Items[0].ID != "x:"+road {
		t.Fatalf("DBMSDA queue: %+v %v", q, err)
	}

	// DBMSDA puts the road complaint on hold for a photo; the citizen's
	// answer in the thread, collected like any post, resumes it.
	held, err := st.Item(ctx, "x:"+road)
	if err != nil {
		t.Fatal(err)
	}
	wf := workflow.New(st, cfg, clocks, nil)
	if _, err := wf.Do(ctx, workflow.Actor{Login: "dbm", OPD: "bina_marga_sda"}, workflow.Request{ID: held.ID, Version: held.Version,
		Action: "hold", Reason: "mohon kirim foto lubangnya"}); err != nil {
		t.Fatal(err)
	}
	const photo = "1862000000000000400"
	fx.Append(xfake.Status{ID: photo, CreatedAt: time.Now().Add(2 * time.Second), User: xfake.User{ScreenName: "pengendara_bks"}, InReplyTo: road,
		Text: "@humasbekasikota ini fotonya, lubangnya makin lebar"})
	waitFor(t, ctx, "the held complaint to resume on its citizen's answer", func() bool {
		it, err := st.Item(ctx, "x:"+road)
		return err == nil && it.Status == tanggap.StatusAssigned
	})
	if h, _ := st.History(ctx, "x:"+road); h[len(h)-1].Actor != "system" || !strings.Contains(h[len(h)-1].Reason, "x:"+photo) {
		t.Errorf("resume event: %+v", h[len(h)-1])
	}

	// Redelivery: the same posts published again change nothing.
	before := items()
	dups := testutil.ToFloat64(pipe.metrics.Records.WithLabelValues("duplicate"))
	var again []tanggap.Post
	for _, id := range []string{complaint, road, reply} {
		it, _ := st.Item(ctx, "x:"+id)
		again = append(again, tanggap.Post{Platform: it.Platform, ID: it.PostID, Text: it.Text, Author: it.Author, ThreadID: it.ThreadID,
			ParentID: it.ParentID, CreatedAt: it.CreatedAt, CapturedAt: it.CapturedAt, Account: it.Account, URL: it.URL})
	}
	if err := pipe.producer.Publish(ctx, again); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the redelivered records to be triaged", func() bool {
		return testutil.ToFloat64(pipe.metrics.Records.WithLabelValues("duplicate")) >= dups+3
	})
	after := items()
	if len(after) != len(before) {
		t.Fatalf("redelivery changed the item count: %d -> %d", len(before), len(after))
	}
	for id, it := range before {
		if after[id]["version"] != it["version"] {
			t.Errorf("redelivery changed %s: version %v -> %v", id, it["version"], after[id]["version"])
		}
	}
	// Every change reached the Kafka events topic through the outbox.
	waitFor(t, ctx, "the outbox to drain", func() bool {
		n, _, err := st.OutboxBacklog(ctx)
		return err == nil && n == 0
	})

	// A record that is not ours goes to the dead-letter topic, with its reason.
	if err := pipe.producer.WriteRaw(ctx, topics.Posts, kafka.Message{Key: []byte("x:junk"), Value: []byte("<html>not a post</html>")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the dead letter", func() bool {
		return testutil.ToFloat64(pipe.metrics.Records.WithLabelValues("dead_letter")) >= 1
	})
	stop()
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sum, err := dlq(ctx, brokers, topics, decodePost, nil, -1, -1, env{stdout: &out})
	if err != nil || sum.Records != 1 || sum.Readable != 0 || !strings.Contains(out.String(), `"reason":"not a tanggap envelope`) {
		t.Fatalf("dlq list: %+v %v\n%s", sum, err, out.String())
	}

	// Rebuild: wipe Redis, rebuild from the Kafka topics, compare.
	snap := func() map[string]any {
		m := map[string]any{}
		all, err := st.Items(ctx, store.ItemQuery{Limit: 1000})
		if err != nil || !all.Complete {
			t.Fatalf("items: %v (complete %v)", err, all != nil && all.Complete)
		}
		for _, it := range all.Items {
			h, err := st.History(ctx, it.ID)
			if err != nil {
				t.Fatal(err)
			}
			it.UpdatedAt = time.Time{}
			m[it.ID] = it
			m[it.ID+" history"] = h
		}
		for _, o := range []string{"", "bina_marga_sda", "lingkungan_hidup"} {
			q, err := st.Queue(ctx, o, store.QueuePage{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, it := range q.Items {
				ids = append(ids, it.ID+"@"+it.Deadline.String())
			}
			m["queue "+o] = ids
		}
		return m
	}
	want := snap()
	if err := testenv.DropCity(ctx, rdb, city); err != nil { // a lost Redis
		t.Fatal(err)
	}
	if n, err := st.Items(ctx, store.ItemQuery{}); err != nil || len(n.Items) != 0 {
		t.Fatalf("wipe left items: %v %v", n, err)
	}
	tr := triage.New(cfg, clocks, triage.NewKeywords(cfg), st, triage.NewMetrics(prometheus.NewRegistry()), log, nil)
	rs, err := rebuild(ctx, brokers, topics, st, tr)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Events == 0 || rs.Gaps != 0 || rs.PostsIngested != 0 || rs.EventsKept != "yes" || rs.NotKeptWhy != "" ||
		rs.FirstEventAt == nil || rs.FirstEventAt.After(time.Now()) || time.Since(*rs.FirstEventAt) > time.Hour {
		t.Errorf("rebuild summary: %+v", rs)
	}
	if d := cmp.Diff(want, snap()); d != "" {
		t.Fatalf("rebuilt state differs (-original +rebuilt):\n%s", d)
	}
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
