package bus

import (
	"context"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/tanggap/tanggap"
)

// TestPublishAfterBrokerRestart restarts an in-process broker on the same
// port between two publishes: the first request on kafka-go's pooled
// connection to the old broker fails with EOF, which kafka-go's Writer does
// not retry (kafka-go issue #1352); Publish must.
func TestPublishAfterBrokerRestart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	topics := Topics{Posts: "posts", Events: "events", Dead: "dead"}
	start := func() *kfake.Cluster {
		t.Helper()
		var c *kfake.Cluster
		var err error
		for range 50 { // the old listener may linger a moment
			if c, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.SeedTopics(3, topics.Posts)); err == nil {
				return c
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("kfake on port %d: %v", port, err)
		return nil
	}
	c := start()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := NewProducerMetrics(prometheus.NewRegistry())
	p := NewProducer(c.ListenAddrs(), topics, m)
	defer p.Close()
	posts := []tanggap.Post{post("1", "1"), post("2", "2"), post("3", "3"), post("4", "4")}
	if err := p.Publish(ctx, posts); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c = start()
	defer c.Close()
	if err := p.Publish(ctx, posts); err != nil {
		t.Fatalf("publish after the broker restarted: %v", err)
	}
	if got := testutil.ToFloat64(m.Produced.WithLabelValues(topics.Posts)); got != 8 {
		t.Errorf("produced counter %v, want 8", got)
	}
}

// flakyWriter fails its first call with the given error.
type flakyWriter struct {
	first error
	calls [][]kafka.Message
}

func (w *flakyWriter) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	w.calls = append(w.calls, append([]kafka.Message(nil), msgs...))
	if len(w.calls) == 1 && w.first != nil {
		return w.first
	}
	return nil
}

func (w *flakyWriter) Close() error { return nil }

func TestWriteRetriesTransientErrors(t *testing.T) {
	msgs := []kafka.Message{{Key: []byte("a")}, {Key: []byte("b")}, {Key: []byte("c")}, {Key: []byte("d")}}
	for _, tc := range []struct {
		name    string
		first   error
		resent  int // messages in the second call; -1: no second call
		wantErr bool
	}{
		{"io.EOF on two partitions (kafka-go #1352)", kafka.WriteErrors{nil, io.EOF, nil, io.EOF}, 2, false},
		{"connection refused before any batch", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, 4, false},
		{"leader not available", kafka.WriteErrors{kafka.LeaderNotAvailable, nil, nil, nil}, 1, false},
		{"message too large is final", kafka.WriteErrors{nil, kafka.MessageSizeTooLarge, nil, nil}, -1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewProducerMetrics(prometheus.NewRegistry())
			w := &flakyWriter{first: tc.first}
			p := &Producer{w: w, produced: m.Produced, errs: m.Errors, topics: Topics{Posts: "posts"}}
			err := p.write(context.Background(), "posts", msgs)
			if (err != nil) != tc.wantErr {
				t.Fatalf("write: %v", err)
			}
			if tc.resent < 0 {
				if len(w.calls) != 1 {
					t.Fatalf("%d calls, want no retry", len(w.calls))
				}
				if got := testutil.ToFloat64(m.Errors.WithLabelValues("posts")); got != 1 {
					t.Errorf("error counter %v, want 1", got)
				}
				return
			}
			if len(w.calls) != 2 || len(w.calls[1]) != tc.resent {
				t.Fatalf("calls %d, second with %d messages; want %d re-sent", len(w.calls), len(w.calls[len(w.calls)-1]), tc.resent)
			}
			if got := testutil.ToFloat64(m.Produced.WithLabelValues("posts")); got != 4 {
				t.Errorf("produced counter %v, want 4", got)
			}
		})
	}
}
