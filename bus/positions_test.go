package bus

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/tanggap/tanggap/internal/testenv"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestPlanResume(t *testing.T) {
	parts := []kafka.PartitionOffsets{{Partition: 0, FirstOffset: 0, LastOffset: 50}, {Partition: 1, FirstOffset: 10, LastOffset: 40}}
	none := map[int]int64{}
	for _, tc := range []struct {
		name                string
		committed, recorded map[int]int64
		fromNow             bool
		want                resumePlan
	}{
		{name: "first start from now", committed: none, recorded: none, fromNow: true,
			want: resumePlan{commit: map[int]int64{0: 50, 1: 40}, save: map[int]int64{0: 50, 1: 40}, first: true}},
		{name: "first start from the beginning", committed: none, recorded: none,
			want: resumePlan{commit: map[int]int64{0: 0, 1: 10}, save: map[int]int64{0: 0, 1: 10}, first: true}},
		{name: "normal restart", committed: map[int]int64{0: 30, 1: 20}, recorded: map[int]int64{0: 31, 1: 20}, fromNow: true,
			want: resumePlan{commit: none, save: none}},
		{name: "first start with positions: the committed offsets are recorded", committed: map[int]int64{0: 30, 1: 20}, recorded: none, fromNow: true,
			want: resumePlan{commit: none, save: map[int]int64{0: 30, 1: 20}}},
		// A partition without records since the group started has no committed
		// offset: the group read it from the end, so it is recorded there.
		{name: "first start with positions, a partition never committed", committed: map[int]int64{0: 30}, recorded: none, fromNow: true,
			want: resumePlan{commit: map[int]int64{1: 40}, save: map[int]int64{0: 30, 1: 40}}},
		{name: "offsets expired", committed: none, recorded: map[int]int64{0: 30, 1: 40}, fromNow: true,
			want: resumePlan{commit: map[int]int64{0: 30, 1: 40}, save: none, resumed: 2}},
		{name: "offsets expired, a partition created since", committed: none, recorded: map[int]int64{0: 30}, fromNow: true,
			want: resumePlan{commit: map[int]int64{0: 30, 1: 10}, save: map[int]int64{1: 10}, resumed: 1}},
		{name: "records deleted past the position", committed: none, recorded: map[int]int64{0: 30, 1: 4}, fromNow: true,
			want: resumePlan{commit: map[int]int64{0: 30, 1: 10}, save: map[int]int64{1: 10}, resumed: 1,
				gaps: []resumeGap{{partition: 1, reason: GapExpired, recorded: 4, first: 10, end: 40, start: 10, skipped: 6}}}},
		{name: "position past the end", committed: none, recorded: map[int]int64{0: 70, 1: 40}, fromNow: true,
			want: resumePlan{commit: map[int]int64{0: 50, 1: 40}, save: map[int]int64{0: 50}, resumed: 1,
				gaps: []resumeGap{{partition: 0, reason: GapAhead, recorded: 70, first: 0, end: 50, start: 50, skipped: -1}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := planResume(parts, tc.committed, tc.recorded, tc.fromNow)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(resumePlan{}, resumeGap{})); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

// memPositions is a Positions in memory.
type memPositions struct {
	mu sync.Mutex
	m  map[string]map[int]int64
}

func (p *memPositions) Positions(ctx context.Context, group, topic string) (map[int]int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.m[group+" "+topic]), nil
}

func (p *memPositions) SavePositions(ctx context.Context, group, topic string, next map[int]int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]map[int]int64{}
	}
	if p.m[group+" "+topic] == nil {
		p.m[group+" "+topic] = map[int]int64{}
	}
	maps.Copy(p.m[group+" "+topic], next)
	return nil
}

// got is what a test consumer was handed: each record's value, in the
// order handed, by key.
type got struct {
	mu    sync.Mutex
	byKey map[string][]string
	all   map[string]int
}

func (g *got) add(m kafka.Message) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.byKey[string(m.Key)] = append(g.byKey[string(m.Key)], string(m.Value))
	g.all[string(m.Value)]++
}

func (g *got) has(vs ...string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, v := range vs {
		if g.all[v] == 0 {
			return false
		}
	}
	return true
}

// runResuming runs a FromNow consumer with positions on the posts topic of
// b until the returned stop is called.
func runResuming(t *testing.T, b *testBus, pos Positions, m *ConsumerMetrics, log *slog.Logger) (*got, func()) {
	t.Helper()
	g := &got{byKey: map[string][]string{}, all: map[string]int{}}
	h := func(ctx context.Context, msg kafka.Message) error {
		g.add(msg)
		return nil
	}
	c := NewConsumer(ConsumerConfig{Brokers: b.brokers, Group: b.group, Topic: b.topics.Posts, FromNow: true, Positions: pos}, h, b.p, log, m)
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	return g, func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// waitFor waits until cond holds, or fails the test.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("never: %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// write writes records of value key/i for i in [from, to) under each key.
func write(t *testing.T, b *testBus, keys []string, from, to int) {
	t.Helper()
	var msgs []kafka.Message
	for i := from; i < to; i++ {
		for _, k := range keys {
			msgs = append(msgs, kafka.Message{Key: []byte(k), Value: fmt.Appendf(nil, "%s/%d", k, i)})
		}
	}
	if err := b.p.WriteRaw(b.ctx, b.topics.Posts, msgs...); err != nil {
		t.Fatal(err)
	}
}

func values(keys []string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		for _, k := range keys {
			out = append(out, fmt.Sprintf("%s/%d", k, i))
		}
	}
	return out
}

// deleteOffsets deletes the group's committed offsets on every partition
// of topic, as Kafka does a week after its last member left.
func deleteOffsets(t *testing.T, b *testBus, topic string, partitions int) {
	t.Helper()
	cl := &kafka.Client{Addr: kafka.TCP(b.brokers...), Timeout: 10 * time.Second}
	ids := make([]int, partitions)
	for i := range ids {
		ids[i] = i
	}
	// The group is empty once the last member's leave is through.
	waitFor(t, b.ctx, "offsets deleted", func() bool {
		res, err := cl.OffsetDelete(b.ctx, &kafka.OffsetDeleteRequest{GroupID: b.group, Topics: map[string][]int{topic: ids}})
		if err != nil || res.Error != nil {
			return false
		}
		for _, p := range res.Topics[topic] {
			if p.Error != nil {
				return false
			}
		}
		return true
	})
	committed, err := committedOffsets(b.ctx, cl, b.group, topic, ids)
	if err != nil || len(committed) != 0 {
		t.Fatalf("after the delete, committed %v %v", committed, err)
	}
}

// A group whose committed offsets Kafka forgot while it was stopped starts
// again where it had recorded it stopped, as after a plain restart:
// everything written meanwhile is handed over, in order per key, nothing
// from before its first start.
func TestConsumerResumesAfterExpiry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		expire bool
	}{{"restart", false}, {"offsets expired", true}} {
		t.Run(tc.name, func(t *testing.T) {
			const partitions = 3
			b := newTestBus(t, partitions)
			keys := []string{"a", "b", "c", "d", "e", "f"}
			log := slog.New(slog.DiscardHandler)
			pos := &memPositions{}
			write(t, b, keys, 0, 3) // history

			g, stop := runResuming(t, b, pos, NewConsumerMetrics(prometheus.NewRegistry()), log)
			// The start is recorded, then committed, before the group is joined.
			waitFor(t, b.ctx, "first start recorded", func() bool {
				p, _ := pos.Positions(b.ctx, b.group, b.topics.Posts)
				return len(p) == partitions
			})
			write(t, b, keys, 3, 5)
			waitFor(t, b.ctx, "records after the start", func() bool { return g.has(values(keys, 3, 5)...) })
			stop()
			for _, v := range values(keys, 0, 3) {
				if g.has(v) {
					t.Errorf("first start handed over %s, written before it", v)
				}
			}

			if tc.expire {
				deleteOffsets(t, b, b.topics.Posts, partitions)
			}
			write(t, b, keys, 5, 9) // while stopped
			m := NewConsumerMetrics(prometheus.NewRegistry())
			var logs testenv.Buffer
			g, stop = runResuming(t, b, pos, m, slog.New(slog.NewTextHandler(&logs, nil)))
			defer stop()
			waitFor(t, b.ctx, "records written while stopped", func() bool { return g.has(values(keys, 5, 9)...) })
			write(t, b, keys, 9, 10)
			waitFor(t, b.ctx, "records after the restart", func() bool { return g.has(values(keys, 9, 10)...) })
			g.mu.Lock()
			defer g.mu.Unlock()
			for _, k := range keys {
				if diff := cmp.Diff(values([]string{k}, 5, 10), g.byKey[k]); diff != "" {
					t.Errorf("key %s after the restart (-want +got):\n%s", k, diff)
				}
			}
			for _, r := range []string{GapExpired, GapAhead} {
				if v := testutil.ToFloat64(m.ResumeGaps.WithLabelValues(r)); v != 0 {
					t.Errorf("resume gaps %s: %v", r, v)
				}
			}
			if resumed := strings.Contains(logs.String(), "consumer_resumed_from_positions"); resumed != tc.expire {
				t.Errorf("resumed from the recorded positions: %v, want %v; log:\n%s", resumed, tc.expire, logs.String())
			}
		})
	}
}

// A recorded position the topic no longer holds (records deleted after it,
// or past the topic's end) starts at its first record, or its end, and is
// counted and logged with the numbers.
func TestConsumerResumeGaps(t *testing.T) {
	for _, tc := range []struct {
		name     string
		reason   string
		deleteTo int64 // records below are deleted
		recorded int64
		want     []string // handed over, of records 0-9
		log      string
	}{
		{name: "expired", reason: GapExpired, deleteTo: 6, recorded: 2, want: values([]string{"k"}, 6, 12),
			log: "reason=expired recorded=2 first=6 end=10 start=6 skipped=4"},
		{name: "ahead", reason: GapAhead, recorded: 25, want: values([]string{"k"}, 10, 12),
			log: "reason=ahead recorded=25 first=0 end=10 start=10 skipped=-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newTestBus(t, 1)
			write(t, b, []string{"k"}, 0, 10)
			if tc.deleteTo > 0 {
				deleteRecords(t, b, b.topics.Posts, tc.deleteTo)
			}
			pos := &memPositions{}
			pos.SavePositions(b.ctx, b.group, b.topics.Posts, map[int]int64{0: tc.recorded})
			var logs testenv.Buffer
			m := NewConsumerMetrics(prometheus.NewRegistry())
			g, stop := runResuming(t, b, pos, m, slog.New(slog.NewTextHandler(&logs, nil)))
			defer stop()
			waitFor(t, b.ctx, "resumed", func() bool {
				p, _ := pos.Positions(b.ctx, b.group, b.topics.Posts)
				return p[0] != tc.recorded
			})
			write(t, b, []string{"k"}, 10, 12)
			waitFor(t, b.ctx, "records after the restart", func() bool { return g.has(values([]string{"k"}, 10, 12)...) })
			g.mu.Lock()
			if diff := cmp.Diff(tc.want, g.byKey["k"]); diff != "" {
				t.Errorf("handed over (-want +got):\n%s", diff)
			}
			g.mu.Unlock()
			if v := testutil.ToFloat64(m.ResumeGaps.WithLabelValues(tc.reason)); v != 1 {
				t.Errorf("resume gaps %s: %v", tc.reason, v)
			}
			if !strings.Contains(logs.String(), "consumer_resume_gap") || !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log lacks %q:\n%s", tc.log, logs.String())
			}
		})
	}
}

// deleteRecords deletes the records of partition 0 of topic below offset to
// (kafka-go has no DeleteRecords: franz-go's client sends it).
func deleteRecords(t *testing.T, b *testBus, topic string, to int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrDeleteRecordsRequest()
	rt := kmsg.NewDeleteRecordsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewDeleteRecordsRequestTopicPartition()
	rp.Partition, rp.Offset = 0, to
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 10000
	res, err := req.RequestWith(b.ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Topics) != 1 || len(res.Topics[0].Partitions) != 1 || res.Topics[0].Partitions[0].ErrorCode != 0 ||
		res.Topics[0].Partitions[0].LowWatermark != to {
		t.Fatalf("delete records: %+v", res.Topics)
	}
}
