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
	"github.com/tanggap/tanggap/internal/kafkatest"
)

// TestBatchConsumer checks the batch contract: a retryable error hands that
// record and the later ones over again, records before it are done (or
// dead-lettered, once), and every offset is committed in the end.
func TestBatchConsumer(t *testing.T) {
	brokers, sfx := kafkatest.Brokers(t)
	topics := Topics{Posts: "posts" + sfx, Events: "events" + sfx, Dead: "dead" + sfx}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := EnsureTopics(ctx, brokers, 1, topics.Posts, topics.Events, topics.Dead); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	p := NewProducer(brokers, topics, NewProducerMetrics(reg))
	defer p.Close()
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
	c := NewBatchConsumer(ConsumerConfig{Brokers: brokers, Group: "g" + sfx, Topic: topics.Posts}, h, p, slog.New(slog.NewTextHandler(io.Discard, nil)), cm)
	cctx, ccancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(cctx) }()
	cl := &kafka.Client{Addr: kafka.TCP(brokers...)}
	for {
		res, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: "g" + sfx, Topics: map[string][]int{topics.Posts: {0}}})
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
