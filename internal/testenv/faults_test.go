//go:build integration && faults

package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
)

// TestServiceRestarts proves the controls the fault suite relies on: redis-server and the
// Kafka broker come back on the same address with their data, after a clean restart and
// after SIGKILL. scripts/integration.sh runs it on a services instance of its own.
func TestServiceRestarts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	rdb := redis.NewClient(&redis.Options{Addr: RedisAddr(t), MaxRetries: 5, MinRetryBackoff: 100 * time.Millisecond})
	defer rdb.Close()
	for _, action := range []string{RestartRedis, KillRestartRedis} {
		key := "tanggap:{faults}:" + action
		if err := rdb.Set(ctx, key, "kept", 0).Err(); err != nil {
			t.Fatalf("set before %s: %v", action, err)
		}
		time.Sleep(1500 * time.Millisecond) // appendfsync everysec: on disk within a second
		Service(t, action)
		if got, err := rdb.Get(ctx, key).Result(); err != nil || got != "kept" {
			t.Errorf("after %s: get %s = %q, %v; want kept", action, key, got, err)
		}
	}

	brokers := KafkaBrokers(t)
	topic := "tanggap-faults-" + time.Now().Format("150405.000")
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond, AllowAutoTopicCreation: true}
	defer w.Close()
	write := func(v string) {
		t.Helper()
		var err error
		for i := 0; i < 60; i++ { // the first writes after a restart meet stale pooled connections
			if err = w.WriteMessages(ctx, kafka.Message{Value: []byte(v)}); err == nil {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Fatalf("write %s: %v", v, err)
	}
	write("before")
	Service(t, RestartKafka)
	write("after-restart")
	Service(t, KillRestartKafka)
	write("after-kill")

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	for _, want := range []string{"before", "after-restart", "after-kill"} {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if string(m.Value) != want {
			t.Errorf("read %q, want %q", m.Value, want)
		}
	}
}
