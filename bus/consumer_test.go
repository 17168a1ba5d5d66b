package bus

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/tanggap/tanggap"
)

// TestBatchConsumer checks the batch contract: a retryable error hands that
// record and the later ones over again, records before it are done (or
// dead-lettered, once), and every offset is committed in the end.
func TestBatchConsumer(t *testing.T) {
	b := newTestBus(t, 1)
	ctx, brokers, topics, reg, p := b.ctx, b.brokers, b.topics, b.reg, b.p
	var msgs []kafka.Message
	for _, v := range []string{"a", "junk", "b", "c", "d"} {
		msgs = append(msgs, kafka.Message{Key: []byte("k"), Value: []byte(v)})
	}
	if err := p.WriteRaw(ctx, topics.Posts, msgs...); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	handled := map[string]int{}
	var batches [][]string
	failedB := false
	h := func(ctx context.Context, ms []kafka.Message) []error {
		mu.Lock()
		defer mu.Unlock()
		errs := make([]error, len(ms))
		var vs []string
		for i, m := range ms {
			v := string(m.Value)
			vs = append(vs, v)
			handled[v]++
			switch {
			case v == "junk":
				errs[i] = tanggap.WrapCode(tanggap.EINVALID, DeadReason("not_json"), "junk")
			case v == "b" && !failedB:
				failedB = true
				errs[i] = tanggap.Errorf(tanggap.EUNAVAILABLE, "redis down for a moment")
			}
		}
		batches = append(batches, vs)
		return errs
	}
	cm := NewConsumerMetrics(reg)
	c := NewBatchConsumer(ConsumerConfig{Brokers: brokers, Group: b.group, Topic: topics.Posts}, h, p, slog.New(slog.NewTextHandler(io.Discard, nil)), cm)
	cctx, ccancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(cctx) }()
	cl := &kafka.Client{Addr: kafka.TCP(brokers...)}
	for {
		res, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: b.group, Topics: map[string][]int{topics.Posts: {0}}})
		if err == nil && len(res.Topics[topics.Posts]) == 1 && res.Topics[topics.Posts][0].CommittedOffset == 5 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("offsets never committed: %+v %v (batches %v)", res, err, batches)
		case <-time.After(20 * time.Millisecond):
		}
	}
	ccancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if handled["a"] != 1 || handled["junk"] != 1 || handled["b"] != 2 || handled["d"] < 1 {
		t.Errorf("handled %v (batches %v)", handled, batches)
	}
	if got := testutil.ToFloat64(cm.DeadLetters.WithLabelValues("not_json")); got != 1 {
		t.Errorf("dead letters %v, want 1", got)
	}
	if got := testutil.ToFloat64(cm.Retries); got != 1 {
		t.Errorf("retries %v, want 1", got)
	}
	// After the failure, the consumer resumes at the failed record.
	for i, b := range batches {
		if contains(b, "b") {
			if i+1 >= len(batches) || batches[i+1][0] != "b" {
				t.Errorf("the batch after the failure must start at the failed record: %v", batches)
			}
			break
		}
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// TestEpochReplay: when the store's epoch changes (Redis restarted and may
// have lost writes it acknowledged), the records handled just before are
// handled again with the next batch; without a change nothing is.
func TestEpochReplay(t *testing.T) {
	b := newTestBus(t, 1)
	ctx, brokers, topics, reg, p := b.ctx, b.brokers, b.topics, b.reg, b.p

	var mu sync.Mutex
	stored := map[string]bool{} // the store: what it holds now
	handled := map[string]int{}
	epoch := "run-1"
	h := func(ctx context.Context, ms []kafka.Message) []error {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range ms {
			stored[string(m.Value)] = true
			handled[string(m.Value)]++
		}
		return make([]error, len(ms))
	}
	readEpoch := func(context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		return epoch, nil
	}
	m := NewConsumerMetrics(reg)
	c := NewBatchConsumer(ConsumerConfig{Brokers: brokers, Group: b.group, Topic: topics.Posts, Epoch: readEpoch}, h, p,
		slog.New(slog.NewTextHandler(io.Discard, nil)), m)
	done := make(chan error, 1)
	cctx, stop := context.WithCancel(ctx)
	go func() { done <- c.Run(cctx) }()
	write := func(vs ...string) {
		t.Helper()
		var msgs []kafka.Message
		for _, v := range vs {
			msgs = append(msgs, kafka.Message{Key: []byte(v), Value: []byte(v)})
		}
		if err := p.WriteRaw(ctx, topics.Posts, msgs...); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(v string) {
		t.Helper()
		until(t, ctx, &mu, func() bool { return stored[v] })
	}
	write("a", "b")
	waitFor("a")
	waitFor("b")
	write("c") // same epoch: no replay
	waitFor("c")

	mu.Lock()
	delete(stored, "c") // Redis restarted and lost its last write
	epoch = "run-2"
	mu.Unlock()
	write("d")
	waitFor("d")
	waitFor("c")
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if handled["a"] != 2 || handled["b"] != 2 || handled["c"] != 2 || handled["d"] != 1 {
		t.Errorf("handled %v: want a, b and c twice (replayed after the epoch changed), d once", handled)
	}
	if got := testutil.ToFloat64(m.Replayed); got != 3 {
		t.Errorf("replayed_total %v, want 3", got)
	}
}

// remember keeps ReplayWindow of activity and at most replayCap records.
func TestRememberWindow(t *testing.T) {
	c := &Consumer{epoch: func(context.Context) (string, error) { return "x", nil }}
	old := time.Now().Add(-ReplayWindow - time.Second)
	c.recent = []handled{{old, kafka.Message{Value: []byte("old")}}}
	c.remember([]kafka.Message{{Value: []byte("new")}})
	if len(c.recent) != 1 || string(c.recent[0].m.Value) != "new" {
		t.Errorf("after the window: %v", c.recent)
	}
	c.remember(make([]kafka.Message, replayCap+10))
	if len(c.recent) != replayCap {
		t.Errorf("kept %d records, want the cap %d", len(c.recent), replayCap)
	}
}

// TestEpochReplayDuringOutage: the store restarts while a batch is failing;
// the records handled before the outage are handed over again before that
// batch's next attempt.
func TestEpochReplayDuringOutage(t *testing.T) {
	b := newTestBus(t, 1)
	ctx, brokers, topics, reg, p := b.ctx, b.brokers, b.topics, b.reg, b.p
	var mu sync.Mutex
	stored, handled := map[string]bool{}, map[string]int{}
	epoch, down, failures := "run-1", false, 0
	h := func(ctx context.Context, ms []kafka.Message) []error {
		mu.Lock()
		defer mu.Unlock()
		errs := make([]error, len(ms))
		for i, m := range ms {
			if down {
				errs[i] = tanggap.Errorf(tanggap.EUNAVAILABLE, "redis down")
				failures++
				continue
			}
			stored[string(m.Value)] = true
			handled[string(m.Value)]++
		}
		return errs
	}
	readEpoch := func(context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return "", tanggap.Errorf(tanggap.EUNAVAILABLE, "redis down")
		}
		return epoch, nil
	}
	c := NewBatchConsumer(ConsumerConfig{Brokers: brokers, Group: b.group, Topic: topics.Posts, Epoch: readEpoch}, h, p,
		slog.New(slog.NewTextHandler(io.Discard, nil)), NewConsumerMetrics(reg))
	done := make(chan error, 1)
	cctx, stop := context.WithCancel(ctx)
	go func() { done <- c.Run(cctx) }()
	if err := p.WriteRaw(ctx, topics.Posts, kafka.Message{Value: []byte("a")}, kafka.Message{Value: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, &mu, func() bool { return stored["a"] && stored["b"] })
	mu.Lock()
	down = true
	mu.Unlock()
	if err := p.WriteRaw(ctx, topics.Posts, kafka.Message{Value: []byte("c")}); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, &mu, func() bool { return failures > 0 })
	mu.Lock()
	delete(stored, "b") // the restart lost b's write
	epoch, down = "run-2", false
	mu.Unlock()
	until(t, ctx, &mu, func() bool { return stored["c"] })
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !stored["b"] || handled["a"] != 2 || handled["b"] != 2 || handled["c"] != 1 {
		t.Errorf("stored %v, handled %v: want a and b replayed before c's retry", stored, handled)
	}
}

// until polls cond, under mu, until it holds; it fails the test when ctx
// ends first.
func until(t *testing.T, ctx context.Context, mu *sync.Mutex, cond func() bool) {
	t.Helper()
	for ctx.Err() == nil {
		mu.Lock()
		ok := cond()
		mu.Unlock()
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("timed out waiting for the consumer")
}

// The members of a group in one process share their metrics: the lag is
// the sum of theirs, and a stopped member's leaves it.
func TestConsumerLagSumsMembers(t *testing.T) {
	m := NewConsumerMetrics(prometheus.NewRegistry())
	a, b := &Consumer{}, &Consumer{}
	for _, step := range []struct {
		c    *Consumer
		lag  int64
		want float64
	}{{a, 3, 3}, {b, 4, 7}, {a, 1, 5}, {b, -1, 1}, {a, -1, 0}} {
		m.setLag(step.c, step.lag)
		if got := testutil.ToFloat64(m.Lag); got != step.want {
			t.Fatalf("after %d: lag %v, want %v", step.lag, got, step.want)
		}
	}
}
