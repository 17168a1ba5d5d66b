package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/instagram"
	"github.com/tanggap/tanggap/config"
)

// Instagram @mentions (collectors/instagram/mentions.go): the webhook
// receiver queues each mention on mentionsTopic before it answers Meta;
// every collector with Instagram credentials reads the topic as one
// consumer group and publishes each mention, read through the Graph API,
// to the posts topic. A mention waits on the topic through a Graph outage,
// a throttled account or an expired token (the topic keeps it), and one
// that can never be read goes to mentionsDead with the reason.
const (
	mentionsTopic = "tanggap.instagram.mentions"
	mentionsDead  = "tanggap.instagram.mentions.dlq"
	mentionsGroup = "tanggap-instagram-mentions"

	envInstagramAppSecret   = "TANGGAP_INSTAGRAM_APP_SECRET"
	envInstagramVerifyToken = "TANGGAP_INSTAGRAM_VERIFY_TOKEN"
)

// mentionsPartitions is small: mentions come by the dozen an hour.
const mentionsPartitions = 3

// webhookSecrets reads the Meta app secret and the verify token. Neither
// set: no receiver. One without the other is a configuration error.
func webhookSecrets(e env) (secret, verify string, err error) {
	if secret, err = config.Secret(e.getenv, envInstagramAppSecret); err != nil {
		return "", "", err
	}
	if verify, err = config.Secret(e.getenv, envInstagramVerifyToken); err != nil {
		return "", "", err
	}
	if (secret == "") != (verify == "") {
		return "", "", errors.New("instagram webhook: set both " + envInstagramAppSecret + " and " + envInstagramVerifyToken + " (or neither: no mentions are received)")
	}
	return secret, verify, nil
}

// mentionQueue writes mentions to the mentions topic, keyed by account so
// one account's mentions keep their order.
func mentionQueue(prod *bus.Producer) func(context.Context, []instagram.Mention) error {
	return func(ctx context.Context, ms []instagram.Mention) error {
		msgs := make([]kafka.Message, len(ms))
		for i, m := range ms {
			b, err := json.Marshal(m)
			if err != nil {
				return err
			}
			msgs[i] = kafka.Message{Key: []byte(m.AccountID), Value: b}
		}
		return prod.WriteRaw(ctx, mentionsTopic, msgs...)
	}
}

// mentionsMetrics count the queued mentions read into posts.
type mentionsMetrics struct {
	resolved *prometheus.CounterVec
}

func newMentionsMetrics(reg prometheus.Registerer) *mentionsMetrics {
	m := &mentionsMetrics{resolved: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tanggap_instagram_mentions_total",
		Help: "Queued Instagram @mentions by result: published (read and sent to the posts topic), gone (Graph says it does not exist: deleted, or no longer visible to the token)."},
		[]string{"result"})}
	reg.MustRegister(m.resolved)
	return m
}

// mentionHandler reads one queued mention into a post and publishes it.
func mentionHandler(res *instagram.MentionResolver, pub collectors.Publisher, m *mentionsMetrics, log *slog.Logger) bus.Handler {
	return func(ctx context.Context, rec kafka.Message) error {
		var mn instagram.Mention
		if err := json.Unmarshal(rec.Value, &mn); err != nil {
			return tanggap.WrapCode(tanggap.EINVALID, bus.DeadReason("malformed"), "instagram mention: %v", err)
		}
		post, err := res.Resolve(ctx, mn)
		switch tanggap.ErrorCode(err) {
		case "":
		case tanggap.ENOTFOUND:
			m.resolved.WithLabelValues("gone").Inc()
			log.Info("instagram_mention_gone", "account_id", mn.AccountID, "id", mn.ID(), "err", err)
			return nil
		default:
			return err
		}
		if err := pub.Publish(ctx, []tanggap.Post{post}); err != nil {
			return err
		}
		m.resolved.WithLabelValues("published").Inc()
		return nil
	}
}

// startMentions creates the topics, then runs the mentions consumer for
// the Instagram poller among pp (none: another collector reads the topic),
// and returns the producer that queues mentions and dead-letters them.
// Kafka may be down when the collector starts, as it may be for its polls:
// the topics are tried again every 10 s meanwhile, and until they exist
// the receiver answers 503 and Meta sends again.
func startMentions(ctx context.Context, g *errgroup.Group, pp []platformPoller, cursors collectors.Cursors, brokers []string, pub collectors.Publisher, pm *bus.ProducerMetrics, reg prometheus.Registerer, log *slog.Logger) *bus.Producer {
	prod := bus.NewProducer(brokers, bus.Topics{Dead: mentionsDead}, pm)
	context.AfterFunc(ctx, func() { prod.Close() })
	var cons *bus.Consumer
	for _, p := range pp {
		if ig, ok := p.poller.(*instagram.Poller); ok && cons == nil {
			cons = bus.NewConsumer(bus.ConsumerConfig{Brokers: brokers, Group: mentionsGroup, Topic: mentionsTopic},
				mentionHandler(ig.Mentions(p.accounts, cursors), pub, newMentionsMetrics(reg), log), prod, log,
				bus.NewConsumerMetricsFor(reg, "instagram_mentions"))
		}
	}
	if cons == nil {
		log.Warn("instagram_mentions_unread", "why", "no Instagram token is set here: another collector must read "+mentionsTopic)
	}
	g.Go(func() error {
		for {
			err := bus.EnsureKeptTopics(ctx, brokers, mentionsPartitions, mentionsTopic, mentionsDead)
			if err == nil {
				break
			}
			log.Warn("instagram_mentions_topics", "err", err, "retry_in", "10s")
			if !sleepCtx(ctx, 10*time.Second) {
				return nil
			}
		}
		if cons == nil {
			return nil
		}
		return cons.Run(ctx)
	})
	return prod
}

// instagramWebhook is the receiver of Meta's webhooks, at webhookPath.
func instagramWebhook(secret, verify string, prod *bus.Producer, reg prometheus.Registerer, log *slog.Logger) http.Handler {
	return &instagram.WebhookHandler{AppSecret: []byte(secret), VerifyToken: verify,
		Enqueue: mentionQueue(prod), Log: log, Metrics: instagram.NewWebhookMetrics(reg)}
}

// webhookPath is where the receiver listens (behind the city's HTTPS proxy).
const webhookPath = "/webhooks/instagram"

// serveMentions wires the mentions of `tanggap collect`: the consumer when
// this collector has an Instagram token, the receiver on addr when the
// webhook secrets are set.
func serveMentions(ctx context.Context, g *errgroup.Group, e env, pp []platformPoller, cursors collectors.Cursors, brokers []string, pub collectors.Publisher, pm *bus.ProducerMetrics, reg prometheus.Registerer, log *slog.Logger, addr string) error {
	secret, verify, err := webhookSecrets(e)
	if err != nil {
		return err
	}
	prod := startMentions(ctx, g, pp, cursors, brokers, pub, pm, reg, log)
	if secret == "" {
		log.Warn("instagram_mentions_not_received", "why", "no "+envInstagramAppSecret+": @mentions in comments and captions on other accounts' media are not collected")
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return errors.New("instagram webhook: " + err.Error())
	}
	mux := http.NewServeMux()
	mux.Handle(webhookPath, instagramWebhook(secret, verify, prod, reg, log))
	log.Info("instagram_webhook_listening", "addr", ln.Addr().String(), "path", webhookPath)
	g.Go(func() error { return serveHTTP(ctx, ln, mux, log) })
	return nil
}
