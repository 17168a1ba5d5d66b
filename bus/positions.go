package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/tanggap/tanggap"
)

// Positions keeps, outside Kafka, where a consumer group stands in each
// partition of a topic: the offset of the next record to hand over, as a
// committed offset is (store.Store keeps them in Redis). Kafka forgets a
// group's committed offsets once it has had no member for
// offsets.retention.minutes (7 days by default); ConsumerConfig.Positions
// then lets the group start where it had stopped.
type Positions interface {
	// Positions returns the recorded positions by partition (empty when
	// none are).
	Positions(ctx context.Context, group, topic string) (map[int]int64, error)
	// SavePositions records the positions of the partitions in next and
	// leaves the others as they are.
	SavePositions(ctx context.Context, group, topic string, next map[int]int64) error
}

// The reasons of ConsumerMetrics.ResumeGaps.
const (
	GapExpired = "expired" // the topic no longer holds the records after the recorded position
	GapAhead   = "ahead"   // the recorded position is past the end of the topic (recreated, or another cluster)
)

// resumeGap is a partition where a group could not start where it had
// recorded it stopped.
type resumeGap struct {
	partition  int
	reason     string
	recorded   int64
	first, end int64
	start      int64
	skipped    int64 // records never handed over; -1 when unknown (ahead)
}

// resumePlan is what a consumer with Positions does before it joins.
type resumePlan struct {
	commit  map[int]int64 // where the group starts on the partitions it has no committed offset on
	save    map[int]int64 // positions to record: partitions not recorded yet, and those that moved
	gaps    []resumeGap
	first   bool // nothing committed, nothing recorded: the consumer's first start
	resumed int  // partitions started at their recorded position for want of a committed offset
}

// planResume decides, for every partition of a topic (parts: their first
// and end offsets), where a group with the committed offsets committed
// (partitions without one left out) and the recorded positions recorded
// starts:
//
//   - a committed offset is where Kafka starts the group anyway; it is
//     recorded when nothing is (the first start of a version that records
//     positions, or one after the positions were lost), so that a partition
//     without records since keeps its place;
//   - otherwise the recorded position: Kafka expired the group's offsets;
//     one the topic no longer holds (records deleted, or a position past
//     the end) starts at the first record, or the end, and is a gap;
//   - a partition without either while others are recorded was created
//     after the group last started: all its records are new, it starts at
//     its first;
//   - with nothing recorded at all, the group's first start (or the first
//     of a version that records positions): the end with fromNow, else the
//     first record, as the reader would.
func planResume(parts []kafka.PartitionOffsets, committed, recorded map[int]int64, fromNow bool) resumePlan {
	p := resumePlan{commit: map[int]int64{}, save: map[int]int64{}, first: len(committed) == 0 && len(recorded) == 0}
	for _, po := range parts {
		id := po.Partition
		r, known := recorded[id]
		if co, ok := committed[id]; ok {
			if !known {
				p.save[id] = co
			}
			continue
		}
		var start int64
		switch {
		case known && r < po.FirstOffset:
			start = po.FirstOffset
			p.gaps = append(p.gaps, resumeGap{partition: id, reason: GapExpired, recorded: r, first: po.FirstOffset, end: po.LastOffset, start: start, skipped: po.FirstOffset - r})
		case known && r > po.LastOffset:
			start = po.LastOffset
			p.gaps = append(p.gaps, resumeGap{partition: id, reason: GapAhead, recorded: r, first: po.FirstOffset, end: po.LastOffset, start: start, skipped: -1})
		case known:
			start = r
			p.resumed++
		case len(recorded) > 0 || !fromNow:
			start = po.FirstOffset
		default:
			start = po.LastOffset
		}
		p.commit[id] = start
		if !known || start != r {
			p.save[id] = start
		}
	}
	return p
}

// resume prepares the group's start before the consumer joins: it reads
// the topic's partitions, the group's committed offsets and the recorded
// positions, records what planResume says to, counts and logs the gaps,
// and commits where the group starts on each partition it has no committed
// offset on (a commit outside any generation, which Kafka accepts only
// while the group has no member: when it has one, that member's offsets
// are the group's and the consumer joins it as is). The positions are
// saved before the commit: once the commit is made a partition's place
// must be known in Redis too, or a later expiry would take it for a new
// partition.
func (c *Consumer) resume(ctx context.Context) error {
	group, topic := c.rcfg.GroupID, c.rcfg.Topic
	cl := &kafka.Client{Addr: kafka.TCP(c.rcfg.Brokers...), Timeout: 10 * time.Second}
	parts, err := partitionOffsets(ctx, cl, topic)
	if err != nil {
		return err
	}
	ids := make([]int, len(parts))
	for i, po := range parts {
		ids[i] = po.Partition
	}
	committed, err := committedOffsets(ctx, cl, group, topic, ids)
	if err != nil {
		return err
	}
	recorded, err := c.positions.Positions(ctx, group, topic)
	if err != nil {
		return fmt.Errorf("bus: recorded positions of group %s on %s: %w", group, topic, err)
	}
	plan := planResume(parts, committed, recorded, c.fromNow)
	if len(plan.save) > 0 {
		if err := c.positions.SavePositions(ctx, group, topic, plan.save); err != nil {
			return fmt.Errorf("bus: record positions of group %s on %s: %w", group, topic, err)
		}
	}
	for _, g := range plan.gaps {
		if c.m.ResumeGaps != nil {
			c.m.ResumeGaps.WithLabelValues(g.reason).Inc()
		}
		c.log.Error("consumer_resume_gap", "group", group, "topic", topic, "partition", g.partition, "reason", g.reason,
			"recorded", g.recorded, "first", g.first, "end", g.end, "start", g.start, "skipped", g.skipped)
	}
	if len(plan.commit) == 0 {
		return nil
	}
	req := &kafka.OffsetCommitRequest{GroupID: group, GenerationID: -1, Topics: map[string][]kafka.OffsetCommit{}}
	for _, id := range ids {
		if o, ok := plan.commit[id]; ok {
			req.Topics[topic] = append(req.Topics[topic], kafka.OffsetCommit{Partition: id, Offset: o})
		}
	}
	res, err := cl.OffsetCommit(ctx, req)
	if err != nil {
		return fmt.Errorf("bus: commit the start of group %s on %s: %w", group, topic, err)
	}
	active := false
	for _, p := range res.Topics[topic] {
		switch {
		case p.Error == nil:
		case errors.Is(p.Error, kafka.UnknownMemberId), errors.Is(p.Error, kafka.IllegalGeneration), errors.Is(p.Error, kafka.RebalanceInProgress):
			active = true
		default:
			return fmt.Errorf("bus: commit the start of group %s on %s/%d: %w", group, topic, p.Partition, p.Error)
		}
	}
	switch {
	case active:
		c.log.Info("consumer_group_active", "group", group, "topic", topic, "uncommitted", len(plan.commit))
	case plan.first:
		c.log.Info("consumer_first_start", "group", group, "topic", topic, "start", plan.commit, "from_now", c.fromNow)
	case plan.resumed > 0:
		c.log.Warn("consumer_resumed_from_positions", "group", group, "topic", topic, "partitions", plan.resumed, "start", plan.commit)
	}
	return nil
}

// committedOffsets returns the offsets group committed on the partitions
// ids of topic, leaving out those it committed none on.
func committedOffsets(ctx context.Context, c *kafka.Client, group, topic string, ids []int) (map[int]int64, error) {
	res, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ids}})
	if err == nil {
		err = res.Error
	}
	committed := map[int]int64{}
	switch {
	case errors.Is(err, kafka.GroupIdNotFound): // a group that never joined (Kafka itself answers offsets -1)
		return committed, nil
	case err != nil:
		return nil, tanggap.WrapCode(tanggap.EUNAVAILABLE, err, "bus: committed offsets of group %s on %s", group, topic)
	}
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return nil, tanggap.WrapCode(tanggap.EUNAVAILABLE, p.Error, "bus: committed offset of group %s on %s/%d", group, topic, p.Partition)
		}
		if p.CommittedOffset >= 0 {
			committed[p.Partition] = p.CommittedOffset
		}
	}
	return committed, nil
}

// record saves, outside Kafka, where the group stands in the partitions of
// a finished batch. A failure costs nothing while Kafka keeps the group's
// offsets, and redeliveries after they expired: it is logged, not retried.
func (c *Consumer) record(ctx context.Context, batch []kafka.Message) {
	if c.positions == nil || len(batch) == 0 {
		return
	}
	next := map[int]int64{}
	for _, m := range batch {
		next[m.Partition] = max(next[m.Partition], m.Offset+1)
	}
	if err := c.positions.SavePositions(ctx, c.rcfg.GroupID, c.rcfg.Topic, next); err != nil && ctx.Err() == nil {
		c.log.Warn("consumer_positions_not_saved", "err", err, "group", c.rcfg.GroupID, "topic", c.rcfg.Topic)
	}
}
