// Command smoke checks that the servers started by scripts/services.sh work
// with the clients Tanggap uses: it writes and reads a key in redis-server
// (go-redis) and produces to and consumes from the Kafka broker through a
// consumer group that commits (kafka-go). It reads TANGGAP_TEST_REDIS_ADDR and
// TANGGAP_TEST_KAFKA_BROKERS, prints one line per check, and exits non-zero on
// the first failure.
//
//	. "$(scripts/services.sh env)" && go run ./scripts/smoke
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "smoke: FAIL:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	redisAddr := os.Getenv("TANGGAP_TEST_REDIS_ADDR")
	brokers := os.Getenv("TANGGAP_TEST_KAFKA_BROKERS")
	if redisAddr == "" || brokers == "" {
		return errors.New("TANGGAP_TEST_REDIS_ADDR and TANGGAP_TEST_KAFKA_BROKERS must be set (source the env file of scripts/services.sh)")
	}
	if err := checkRedis(ctx, redisAddr); err != nil {
		return fmt.Errorf("redis %s: %w", redisAddr, err)
	}
	if err := checkKafka(ctx, strings.Split(brokers, ",")); err != nil {
		return fmt.Errorf("kafka %s: %w", brokers, err)
	}
	return nil
}

func checkRedis(ctx context.Context, addr string) error {
	start := time.Now()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	key := "tanggap:{smoke}:" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := rdb.Set(ctx, key, "ok", time.Minute).Err(); err != nil {
		return fmt.Errorf("set: %w", err)
	}
	v, err := rdb.Get(ctx, key).Result()
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	if v != "ok" {
		return fmt.Errorf("get %q: got %q", key, v)
	}
	aof, err := rdb.ConfigGet(ctx, "appendonly").Result()
	if err != nil {
		return fmt.Errorf("config get appendonly: %w", err)
	}
	if aof["appendonly"] != "yes" {
		return fmt.Errorf("appendonly is %q, want yes", aof["appendonly"])
	}
	fmt.Printf("smoke: redis %s ok: set/get, appendonly=yes (%v)\n", addr, time.Since(start).Round(time.Millisecond))
	return nil
}

func checkKafka(ctx context.Context, brokers []string) error {
	start := time.Now()
	topic := "tanggap-smoke-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{
		Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: 3, ReplicationFactor: 1}},
	})
	if err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	if err := res.Errors[topic]; err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}

	w := &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     &kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond,
	}
	defer w.Close()
	const n = 10
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte("thread-" + strconv.Itoa(i%3)), Value: []byte(strconv.Itoa(i))}
	}
	if err := writeRetry(ctx, w, msgs); err != nil {
		return fmt.Errorf("produce: %w", err)
	}

	group := topic + "-group"
	got, err := consume(ctx, brokers, topic, group, n)
	if err != nil {
		return fmt.Errorf("consume (group %s): %w", group, err)
	}
	if got != n {
		return fmt.Errorf("consumed %d records, want %d", got, n)
	}
	// The group committed: a new member of the same group sees only what comes after.
	if err := writeRetry(ctx, w, []kafka.Message{{Key: []byte("thread-0"), Value: []byte("after-commit")}}); err != nil {
		return fmt.Errorf("produce after commit: %w", err)
	}
	r := newReader(brokers, topic, group)
	defer r.Close()
	m, err := r.FetchMessage(ctx)
	if err != nil {
		return fmt.Errorf("consume after commit: %w", err)
	}
	if string(m.Value) != "after-commit" {
		return fmt.Errorf("after commit got record %q: offsets were not committed", m.Value)
	}
	if err := r.CommitMessages(ctx, m); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	_, _ = client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	fmt.Printf("smoke: kafka %s ok: create topic, produce %d keyed records (acks=all), consume and commit in group, resume after commit (%v)\n",
		strings.Join(brokers, ","), n+1, time.Since(start).Round(time.Millisecond))
	return nil
}

func newReader(brokers []string, topic, group string) *kafka.Reader {
	return kafka.NewReader(kafka.ReaderConfig{
		Brokers:          brokers,
		Topic:            topic,
		GroupID:          group,
		MinBytes:         1,
		MaxBytes:         1 << 20,
		MaxWait:          100 * time.Millisecond,
		StartOffset:      kafka.FirstOffset,
		ReadBackoffMin:   50 * time.Millisecond,
		ReadBackoffMax:   500 * time.Millisecond,
		RebalanceTimeout: 5 * time.Second,
	})
}

func consume(ctx context.Context, brokers []string, topic, group string, n int) (int, error) {
	r := newReader(brokers, topic, group)
	defer r.Close()
	got := 0
	for got < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return got, err
		}
		if err := r.CommitMessages(ctx, m); err != nil {
			return got, fmt.Errorf("commit: %w", err)
		}
		got++
	}
	return got, nil
}

// writeRetry retries while a just-created topic has no leader yet.
func writeRetry(ctx context.Context, w *kafka.Writer, msgs []kafka.Message) error {
	for {
		err := w.WriteMessages(ctx, msgs...)
		if err == nil {
			return nil
		}
		var ke kafka.Error
		if !errors.As(err, &ke) || !ke.Temporary() {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
