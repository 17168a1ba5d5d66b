package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/tanggap/tanggap"
)

// ReadAll calls fn for every record of a topic that exists when it starts,
// partition by partition, in offset order (records of one key are in
// order). It is for tools (rebuild, dlq), not for consumption: it joins no
// group and commits nothing.
func ReadAll(ctx context.Context, brokers []string, topic string, fn func(kafka.Message) error) error {
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	parts, err := partitionOffsets(ctx, c, topic)
	if err != nil {
		return err
	}
	for _, po := range parts {
		if po.LastOffset <= po.FirstOffset {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: po.Partition,
			MinBytes: 1, MaxBytes: 4 << 20, MaxWait: 200 * time.Millisecond})
		if err := r.SetOffset(po.FirstOffset); err != nil {
			r.Close()
			return fmt.Errorf("bus: seek %s/%d: %w", topic, po.Partition, err)
		}
		for {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				return fmt.Errorf("bus: read %s/%d: %w", topic, po.Partition, err)
			}
			if err := fn(m); err != nil {
				r.Close()
				return err
			}
			if m.Offset >= po.LastOffset-1 {
				break
			}
		}
		r.Close()
	}
	return nil
}

// partitionOffsets returns the first and end offsets of every partition of
// topic.
func partitionOffsets(ctx context.Context, c *kafka.Client, topic string) ([]kafka.PartitionOffsets, error) {
	md, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("bus: metadata of %s: %w", topic, err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		return nil, fmt.Errorf("bus: topic %s not found", topic)
	}
	var reqs []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		reqs = append(reqs, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
	}
	offs, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("bus: offsets of %s: %w", topic, err)
	}
	for _, po := range offs.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("bus: offsets of %s/%d: %w", topic, po.Partition, po.Error)
		}
	}
	return offs.Topics[topic], nil
}

// Backlog counts the records of topic that consumer group has not
// committed past: on each partition, from the group's committed offset
// (the first offset where it committed none, as a new group starts there)
// to the end. Every member of the group and any other process sees the
// same count, unlike a reader's lag, which counts from what that reader
// fetched: a member whose handler waits on one record has fetched the
// records behind it, and its lag is 0 while they wait.
func Backlog(ctx context.Context, brokers []string, group, topic string) (int64, error) {
	if len(brokers) == 0 {
		return 0, tanggap.Errorf(tanggap.EUNAVAILABLE, "bus: no brokers")
	}
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	parts, err := partitionOffsets(ctx, c, topic)
	if err != nil {
		return 0, tanggap.WrapCode(tanggap.EUNAVAILABLE, err, "bus: backlog of group %s", group)
	}
	ids := make([]int, len(parts))
	for i, po := range parts {
		ids[i] = po.Partition
	}
	committed, err := committedOffsets(ctx, c, group, topic, ids)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, po := range parts {
		from := po.FirstOffset
		if co, ok := committed[po.Partition]; ok && co > from {
			from = co
		}
		n += max(po.LastOffset-from, 0)
	}
	return n, nil
}
