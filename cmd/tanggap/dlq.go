package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/collectors/instagram"
	"github.com/tanggap/tanggap/webhook"
)

// runDLQ lists the dead-letter topic, or replays to the posts topic the
// records that decode now (after a fix), leaving the others listed. With
// -webhooks it lists the webhook deliveries that failed for good, or
// delivers them again to their endpoints (after the endpoint was fixed).
// With -mentions it lists the Instagram mentions that could not be read,
// or queues them again for the collectors (after the account was added to
// the city config, say).
//
//	tanggap dlq list|replay [-partition P -offset N]
//	tanggap dlq list|replay -webhooks [-endpoint NAME] [-partition P -offset N]
//	tanggap dlq list|replay -mentions [-partition P -offset N]
func runDLQ(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay") {
		fmt.Fprintln(e.stderr, "usage: tanggap dlq list|replay [-webhooks [-endpoint NAME] | -mentions] [-partition P -offset N]")
		return errUsage
	}
	fs := flag.NewFlagSet("dlq "+args[0], flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	partition := fs.Int("partition", -1, "only this partition of the dead-letter topic")
	offset := fs.Int64("offset", -1, "only this offset (with -partition)")
	webhooks := fs.Bool("webhooks", false, "the webhook deliveries that failed for good ("+webhookTopic+"), not the posts: replay delivers them again (TANGGAP_WEBHOOKS)")
	endpoint := fs.String("endpoint", "", "with -webhooks: only the deliveries for this endpoint")
	mentions := fs.Bool("mentions", false, "the Instagram mentions that could not be read ("+mentionsDead+"): replay queues them again on "+mentionsTopic)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *mentions && *webhooks {
		return fmt.Errorf("dlq: -mentions or -webhooks, not both")
	}
	brokers, err := brokersFromEnv(e)
	if err != nil {
		return err
	}
	if *webhooks {
		var d *webhook.Dispatcher
		if args[0] == "replay" {
			if d, err = replayDispatcher(e); err != nil {
				return err
			}
		}
		sum, err := webhookDLQ(ctx, brokers, d, *endpoint, *partition, *offset, e)
		if err != nil {
			return err
		}
		return json.NewEncoder(e.stdout).Encode(sum)
	}
	if *endpoint != "" {
		return fmt.Errorf("dlq: -endpoint needs -webhooks")
	}
	topics, decode := bus.DefaultTopics, decodePost
	if *mentions {
		topics, decode = bus.Topics{Posts: mentionsTopic, Dead: mentionsDead}, decodeMention
	}
	var prod *bus.Producer
	if args[0] == "replay" {
		prod = bus.NewProducer(brokers, topics, bus.NewProducerMetrics(prometheus.NewRegistry()))
		defer prod.Close()
	}
	sum, err := dlq(ctx, brokers, topics, decode, prod, *partition, *offset, e)
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

// decodePost and decodeMention say whether a dead letter of the posts or
// the mentions reads now.
func decodePost(b []byte) error {
	_, err := bus.Decode(b)
	return err
}

func decodeMention(b []byte) error {
	var m instagram.Mention
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	return m.Check()
}

// dlq lists (prod nil) or replays to topics.Posts the dead letters of
// topics.Dead. A record is replayed when decode reads it now; replay is
// safe to repeat, as ingest and the mentions are idempotent.
func dlq(ctx context.Context, brokers []string, topics bus.Topics, decode func([]byte) error, prod *bus.Producer, partition int, offset int64, e env) (dlqSummary, error) {
	var sum dlqSummary
	enc := json.NewEncoder(e.stdout)
	err := bus.ReadAll(ctx, brokers, topics.Dead, func(m kafka.Message) error {
		if partition >= 0 && (m.Partition != partition || (offset >= 0 && m.Offset != offset)) {
			return nil
		}
		sum.Records++
		derr := decode(m.Value)
		rec := dlqRecord{Partition: m.Partition, Offset: m.Offset, Reason: bus.HeaderValue(m, "tanggap.dlq.reason"),
			From: bus.HeaderValue(m, "tanggap.dlq.topic") + "/" + bus.HeaderValue(m, "tanggap.dlq.partition") + "@" + bus.HeaderValue(m, "tanggap.dlq.offset"),
			At:   bus.HeaderValue(m, "tanggap.dlq.at"), Key: preview(m.Key, 80), Preview: preview(m.Value, 160), Readable: derr == nil}
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

type webhookDLQRecord struct {
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
	Endpoint  string `json:"endpoint"`
	Event     string `json:"event"`
	Item      string `json:"item"`
	Reason    string `json:"reason"`
	At        string `json:"dead_lettered_at"`
	Result    string `json:"result,omitempty"` // replay: what the new delivery gave
	Why       string `json:"why,omitempty"`
}

type webhookDLQSummary struct {
	Records   int `json:"records"`
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`     // refused or failed again: still on the topic, for the next replay
	NotWanted int `json:"not_wanted"` // the endpoint's events or OPDs no longer include it
	Skipped   int `json:"skipped"`    // its endpoint is not in the config, or it is no delivery
}

// webhookDLQ lists (d nil) or delivers again the webhook dead letters,
// one JSON line per record. A replayed record stays on the topic (Kafka
// keeps it): a later replay delivers it again, which receivers dedupe by
// the event id as they do any redelivery.
func webhookDLQ(ctx context.Context, brokers []string, d *webhook.Dispatcher, endpoint string, partition int, offset int64, e env) (webhookDLQSummary, error) {
	var sum webhookDLQSummary
	enc := json.NewEncoder(e.stdout)
	err := bus.ReadAll(ctx, brokers, webhookTopic, func(m kafka.Message) error {
		if partition >= 0 && (m.Partition != partition || (offset >= 0 && m.Offset != offset)) {
			return nil
		}
		rec := webhookDLQRecord{Partition: m.Partition, Offset: m.Offset, Endpoint: bus.HeaderValue(m, webhook.HeaderDeadEndpoint),
			Event: bus.HeaderValue(m, "tanggap.webhook.event"), Item: preview(m.Key, 80), Reason: bus.HeaderValue(m, "tanggap.dlq.reason"),
			At: bus.HeaderValue(m, "tanggap.dlq.at")}
		if endpoint != "" && rec.Endpoint != endpoint {
			return nil
		}
		sum.Records++
		if d != nil {
			res, why, err := d.Redeliver(ctx, m)
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case err != nil:
				rec.Result, rec.Why = "skipped", err.Error()
				sum.Skipped++
			case res == webhook.ResultDelivered:
				sum.Delivered++
			case res == webhook.ResultNotWanted:
				sum.NotWanted++
			default:
				sum.Failed++
			}
			if err == nil {
				rec.Result, rec.Why = res, why
			}
		}
		return enc.Encode(rec)
	})
	return sum, err
}

// replayDispatcher delivers with the endpoints and secrets tanggap triage
// uses (TANGGAP_WEBHOOKS); it never dead-letters.
func replayDispatcher(e env) (*webhook.Dispatcher, error) {
	cfg, err := webhookConfig(e)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, fmt.Errorf("dlq replay -webhooks: TANGGAP_WEBHOOKS names no webhook config: the endpoints and their secrets come from it")
	}
	return webhook.New(*cfg, webhook.Options{Getenv: e.getenv, Dead: noDeadLetters{}, Registry: prometheus.NewRegistry(),
		Log: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
}

// noDeadLetters refuses: a replay reports each failure instead.
type noDeadLetters struct{}

func (noDeadLetters) DeadLetter(context.Context, kafka.Message, string) error {
	return fmt.Errorf("dlq replay does not dead-letter")
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
