package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/tanggap/tanggap/bus"
)

// runDLQ lists the dead-letter topic, or replays to the posts topic the
// records that decode now (after a fix), leaving the others listed.
//
//	tanggap dlq list
//	tanggap dlq replay [-partition P -offset N]
func runDLQ(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay") {
		fmt.Fprintln(e.stderr, "usage: tanggap dlq list | tanggap dlq replay [-partition P -offset N]")
		return errUsage
	}
	fs := flag.NewFlagSet("dlq "+args[0], flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	partition := fs.Int("partition", -1, "replay only this partition of the dead-letter topic")
	offset := fs.Int64("offset", -1, "replay only this offset (with -partition)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	brokers, err := brokersFromEnv(e)
	if err != nil {
		return err
	}
	var prod *bus.Producer
	if args[0] == "replay" {
		prod = bus.NewProducer(brokers, bus.DefaultTopics, bus.NewProducerMetrics(prometheus.NewRegistry()))
		defer prod.Close()
	}
	sum, err := dlq(ctx, brokers, bus.DefaultTopics, prod, *partition, *offset, e)
	if err != nil {
		return err
	}
	return json.NewEncoder(e.stdout).Encode(sum)
}

type dlqRecord struct {
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
	Reason    string `json:"reason"`
	From      string `json:"from"`
	At        string `json:"dead_lettered_at"`
	Key       string `json:"key"`
	Preview   string `json:"preview"`
	Readable  bool   `json:"readable_now"`
}

type dlqSummary struct {
	Records  int `json:"records"`
	Readable int `json:"readable_now"`
	Replayed int `json:"replayed"`
}

// dlq lists (prod nil) or replays dead letters. A record is replayed when
// it decodes now; replay is safe to repeat, as ingest is idempotent.
func dlq(ctx context.Context, brokers []string, topics bus.Topics, prod *bus.Producer, partition int, offset int64, e env) (dlqSummary, error) {
	var sum dlqSummary
	enc := json.NewEncoder(e.stdout)
	err := bus.ReadAll(ctx, brokers, topics.Dead, func(m kafka.Message) error {
		if partition >= 0 && (m.Partition != partition || (offset >= 0 && m.Offset != offset)) {
			return nil
		}
		sum.Records++
		_, derr := bus.Decode(m.Value)
		rec := dlqRecord{Partition: m.Partition, Offset: m.Offset, Reason: header(m, "tanggap.dlq.reason"),
			From: header(m, "tanggap.dlq.topic") + "/" + header(m, "tanggap.dlq.partition") + "@" + header(m, "tanggap.dlq.offset"),
			At:   header(m, "tanggap.dlq.at"), Key: preview(m.Key, 80), Preview: preview(m.Value, 160), Readable: derr == nil}
		if derr == nil {
			sum.Readable++
		}
		if prod == nil {
			return enc.Encode(rec)
		}
		if derr != nil {
			return nil
		}
		if err := prod.WriteRaw(ctx, topics.Posts, kafka.Message{Key: m.Key, Value: m.Value,
			Headers: []kafka.Header{{Key: "tanggap.dlq.replayed_from", Value: []byte(strconv.Itoa(m.Partition) + "@" + strconv.FormatInt(m.Offset, 10))}}}); err != nil {
			return err
		}
		sum.Replayed++
		return nil
	})
	return sum, err
}

func header(m kafka.Message, k string) string {
	for _, h := range m.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

// preview shows the start of a record as valid UTF-8 (untrusted bytes).
func preview(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	s := string(b)
	if !utf8.ValidString(s) {
		s = fmt.Sprintf("%q", s)
	}
	return s
}
