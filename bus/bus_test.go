package bus

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/internal/kafkatest"
)

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, in, reason string
	}{
		{"not json", `{"v":1,`, "not_json"},
		{"future version", `{"v":9,"type":"post","post":{}}`, "bad_envelope"},
		{"no body", `{"v":1,"type":"post"}`, "bad_envelope"},
		{"unknown type", `{"v":1,"type":"x"}`, "bad_envelope"},
		{"prune without a mark", `{"v":1,"type":"prune"}`, "bad_envelope"},
		{"prune without a cutoff", `{"v":1,"type":"prune","prune":{"at":"2026-03-17T08:00:00Z"}}`, "bad_envelope"},
		{"bad post", `{"v":1,"type":"post","post":{"platform":"x","id":"","created_at":"2026-03-17T08:00:00Z"}}`, "bad_post"},
		{"unknown platform", `{"v":1,"type":"post","post":{"platform":"tiktok","id":"1","created_at":"2026-03-17T08:00:00Z"}}`, "bad_post"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.in))
			if tanggap.ErrorCode(err) != tanggap.EINVALID || reasonOf(err) != tc.reason {
				t.Fatalf("got %v (reason %s), want EINVALID %s", err, reasonOf(err), tc.reason)
			}
		})
	}
	big := make([]byte, MaxRecordBytes+1)
	if _, err := Decode(big); reasonOf(err) != "too_large" {
		t.Fatalf("huge record: %v", err)
	}
	ok := `{"v":1,"type":"post","post":{"platform":"x","id":"1790000000000000001","created_at":"2026-03-17T08:00:00Z","text":"jalan rusak"}}`
	e, err := Decode([]byte(ok))
	if err != nil || e.Post.ID != "1790000000000000001" {
		t.Fatalf("good record: %v", err)
	}
	e, err = Decode([]byte(`{"v":1,"type":"prune","prune":{"before":"2025-12-31T17:00:00Z","at":"2026-03-17T08:00:00Z"}}`))
	if err != nil || !e.Prune.Before.Equal(time.Date(2025, 12, 31, 17, 0, 0, 0, time.UTC)) {
		t.Fatalf("prune mark: %+v %v", e, err)
	}
}

func post(id, thread string) tanggap.Post {
	return tanggap.Post{Platform: tanggap.PlatformX, ID: id, ThreadID: thread, Text: "sampah numpuk di kranji",
		CreatedAt: time.Date(2026, 3, 17, 8, 0, 0, 0, time.UTC), Author: "warga"}
}

// testBus is a test's own posts, events and dead-letter topics on the test
// broker (kfake, or the real one in the integration run), a producer for
// them, a consumer group name of its own and a context that ends after a
// minute.
type testBus struct {
	ctx     context.Context
	brokers []string
	group   string
	topics  Topics
	reg     *prometheus.Registry
	pm      *ProducerMetrics
	p       *Producer
}

func newTestBus(t *testing.T, partitions int) *testBus {
	t.Helper()
	brokers, sfx := kafkatest.Brokers(t)
	b := &testBus{brokers: brokers, group: "g" + sfx, reg: prometheus.NewRegistry(),
		topics: Topics{Posts: "posts" + sfx, Events: "events" + sfx, Dead: "dead" + sfx}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	b.ctx = ctx
	if err := EnsureTopics(ctx, brokers, partitions, b.topics.Posts, b.topics.Events, b.topics.Dead); err != nil {
		t.Fatal(err)
	}
	b.pm = NewProducerMetrics(b.reg)
	b.p = NewProducer(brokers, b.topics, b.pm)
	t.Cleanup(func() { b.p.Close() })
	return b
}

func TestProduceConsumeDeadLetter(t *testing.T) {
	b := newTestBus(t, 3)
	ctx, brokers, topics, reg, pm, p := b.ctx, b.brokers, b.topics, b.reg, b.pm, b.p
	if err := EnsureTopics(ctx, brokers, 3, topics.Posts); err != nil {
		t.Fatalf("second EnsureTopics must be a no-op: %v", err)
	}

	posts := []tanggap.Post{post("1", "1"), post("2", "1"), post("3", "3")}
	if err := p.Publish(ctx, posts); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteRaw(ctx, topics.Posts, kafka.Message{Key: []byte("junk"), Value: []byte("<html>not ours</html>")}); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(pm.Produced.WithLabelValues(topics.Posts)); got != 4 {
		t.Fatalf("produced counter %v", got)
	}

	var mu sync.Mutex
	seen := map[string]int{}
	keys := map[string]string{}
	failOnce := true
	h := func(ctx context.Context, m kafka.Message) error {
		e, err := Decode(m.Value)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if e.Post.ID == "2" && failOnce {
			failOnce = false
			return tanggap.Errorf(tanggap.EUNAVAILABLE, "redis down for a moment")
		}
		seen[e.Post.ID]++
		keys[e.Post.ID] = string(m.Key)
		return nil
	}
	cm := NewConsumerMetrics(reg)
	c := NewConsumer(ConsumerConfig{Brokers: brokers, Group: b.group, Topic: topics.Posts}, h, p, slog.New(slog.NewTextHandler(io.Discard, nil)), cm)
	cctx, ccancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(cctx) }()

	dead := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topics.Dead, Partition: 0, MaxWait: 100 * time.Millisecond})
	defer dead.Close()
	dm, err := dead.ReadMessage(ctx)
	if err != nil {
		t.Fatalf("dead letter never arrived: %v", err)
	}
	if string(dm.Value) != "<html>not ours</html>" || HeaderValue(dm, "tanggap.dlq.reason") == "" || HeaderValue(dm, "tanggap.dlq.topic") != topics.Posts {
		t.Fatalf("dead letter: %q headers %+v", dm.Value, dm.Headers)
	}
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == 3 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("consumed %v", seen)
		case <-time.After(20 * time.Millisecond):
		}
	}
	ccancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for id, n := range seen {
		if n != 1 {
			t.Errorf("post %s handled %d times", id, n)
		}
	}
	if keys["1"] != "x:1" || keys["2"] != "x:1" || keys["3"] != "x:3" {
		t.Errorf("keys must be the thread root: %v", keys)
	}
	// The counter moves after the dead letter is written: wait for it.
	for testutil.ToFloat64(cm.DeadLetters.WithLabelValues("not_json")) != 1 {
		select {
		case <-ctx.Done():
			t.Fatalf("dead letter counter %v", testutil.ToFloat64(cm.DeadLetters.WithLabelValues("not_json")))
		case <-time.After(10 * time.Millisecond):
		}
	}
	if got := testutil.ToFloat64(cm.Retries); got != 1 {
		t.Errorf("retries %v", got)
	}
}

// FuzzDecode: any bytes on the posts topic either decode to a valid post
// or are EINVALID with a bounded dead-letter reason; nothing panics.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"v":1,"type":"post","post":{"platform":"x","id":"1790000000000000001","created_at":"2026-03-17T08:00:00Z","text":"jalan rusak"}}`))
	f.Add([]byte(`{"v":1,"type":"event","event":{"item_id":"x:1","version":2}}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte("\xff\xfe{"))
	reasons := map[string]bool{"not_json": true, "bad_envelope": true, "bad_post": true, "too_large": true}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			if tanggap.ErrorCode(err) != tanggap.EINVALID || !reasons[reasonOf(err)] {
				t.Fatalf("error %v (code %s, reason %s)", err, tanggap.ErrorCode(err), reasonOf(err))
			}
			return
		}
		if e.Post != nil && e.Post.Validate() != nil {
			t.Fatalf("accepted an invalid post: %+v", e.Post)
		}
	})
}

// The events and dead-letter topics are created for Kafka to keep every
// record, whatever the broker's default; a topic created with the
// broker's defaults, or that existed before, is reported as not kept, with
// the setting that deletes its records.
func TestKeptTopics(t *testing.T) {
	brokers, sfx := kafkatest.Brokers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	plain, kept := "posts"+sfx, "events"+sfx
	if err := EnsureTopics(ctx, brokers, 1, plain); err != nil {
		t.Fatal(err)
	}
	if err := EnsureKeptTopics(ctx, brokers, 1, kept, plain); err != nil {
		t.Fatal(err)
	}
	if ok, why, err := TopicKept(ctx, brokers, kept); err != nil || !ok || why != "" {
		t.Errorf("kept topic: %v %q %v", ok, why, err)
	}
	// The broker's default deletes records after a while (a week in kfake,
	// a day on the integration broker); an existing topic is not altered.
	if ok, why, err := TopicKept(ctx, brokers, plain); err != nil || ok || !strings.Contains(why, "retention.ms=") {
		t.Errorf("topic with the broker's defaults: %v %q %v", ok, why, err)
	}
	if _, _, err := TopicKept(ctx, nil, kept); err == nil {
		t.Error("no brokers: no error")
	}
}

// A FromNow group starts at the end of the topic the first time it joins:
// records produced before are never handed to it, those after are; a
// group without it starts at the beginning.
func TestConsumerFromNow(t *testing.T) {
	b := newTestBus(t, 2)
	ctx, p := b.ctx, b.p
	if err := p.Publish(ctx, []tanggap.Post{post("old1", "old1"), post("old2", "old2")}); err != nil {
		t.Fatal(err)
	}
	run := func(group string, fromNow bool) (<-chan string, func()) {
		got := make(chan string, 100)
		h := func(ctx context.Context, m kafka.Message) error {
			e, err := Decode(m.Value)
			if err == nil {
				got <- e.Post.ID
			}
			return err
		}
		c := NewConsumer(ConsumerConfig{Brokers: b.brokers, Group: group, Topic: b.topics.Posts, FromNow: fromNow}, h, p,
			slog.New(slog.NewTextHandler(io.Discard, nil)), NewConsumerMetrics(prometheus.NewRegistry()))
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- c.Run(cctx) }()
		return got, func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}
	// Until the new group has joined, what is produced may land before its
	// start: produce one post at a time until it gets one.
	got, stop := run(b.group+"-now", true)
	var first string
	for i := 0; first == ""; i++ {
		if err := p.Publish(ctx, []tanggap.Post{post(fmt.Sprintf("new%d", i), "new")}); err != nil {
			t.Fatal(err)
		}
		select {
		case first = <-got:
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("the FromNow group never got a post")
		}
	}
	// Whatever else it is handed in the next half second is new too.
	handed := []string{first}
	for wait := time.After(500 * time.Millisecond); ; {
		select {
		case id := <-got:
			handed = append(handed, id)
			continue
		case <-wait:
		}
		break
	}
	stop()
	for _, id := range handed {
		if !strings.HasPrefix(id, "new") {
			t.Errorf("the FromNow group was handed %s, produced before it joined (all: %v)", id, handed)
		}
	}
	got, stop = run(b.group+"-all", false)
	defer stop()
	for seen := map[string]bool{}; !seen["old1"] || !seen["old2"]; {
		select {
		case id := <-got:
			seen[id] = true
		case <-ctx.Done():
			t.Fatalf("the group from the start got only %v", seen)
		}
	}
}

// Backlog counts what a group has not committed past: everything for a
// group that never committed, then the record its member waits on.
func TestBacklog(t *testing.T) {
	b := newTestBus(t, 2)
	ctx, p := b.ctx, b.p
	if err := p.Publish(ctx, []tanggap.Post{post("1", "1"), post("2", "2"), post("3", "3"), post("4", "4")}); err != nil {
		t.Fatal(err)
	}
	if n, err := Backlog(ctx, b.brokers, b.group, b.topics.Posts); err != nil || n != 4 {
		t.Fatalf("backlog of a new group: %d, %v; want 4", n, err)
	}
	handled := make(chan string, 10)
	cctx, cancel := context.WithCancel(ctx)
	h := func(ctx context.Context, m kafka.Message) error {
		e, err := Decode(m.Value)
		if err != nil {
			return err
		}
		if e.Post.ID == "stuck" {
			<-cctx.Done() // waits for a parked record's turn, say
			return cctx.Err()
		}
		handled <- e.Post.ID
		return nil
	}
	c := NewConsumer(ConsumerConfig{Brokers: b.brokers, Group: b.group, Topic: b.topics.Posts}, h, p,
		slog.New(slog.NewTextHandler(io.Discard, nil)), NewConsumerMetrics(prometheus.NewRegistry()))
	done := make(chan error, 1)
	go func() { done <- c.Run(cctx) }()
	for range 4 {
		select {
		case <-handled:
		case <-ctx.Done():
			t.Fatal("the posts were not handled")
		}
	}
	if err := p.Publish(ctx, []tanggap.Post{post("stuck", "stuck")}); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := Backlog(ctx, b.brokers, b.group, b.topics.Posts)
		if err == nil && n == 1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("backlog %d, %v; want 1: the record the member waits on", n, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, err := Backlog(ctx, b.brokers, b.group, b.topics.Posts); err != nil || n != 1 {
		t.Errorf("backlog after the member left: %d, %v; want 1", n, err)
	}
	if _, err := Backlog(ctx, nil, b.group, b.topics.Posts); tanggap.ErrorCode(err) != tanggap.EUNAVAILABLE {
		t.Errorf("no brokers: %v", err)
	}
	if _, err := Backlog(ctx, b.brokers, b.group, "missing"+b.topics.Posts); err == nil {
		t.Error("a missing topic has no backlog error")
	}
}
