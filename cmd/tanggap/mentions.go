package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
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
// to the posts topic. A mention waits on the topic through a Graph outage
// (retried in place, as every mention waits then). One whose account Graph
// throttles or refuses the token of is parked on mentionsRetry instead, so
// that it holds up no other account's: a second group reads it again once
// its wait is over, and parks it again while the account stays blocked,
// until parking.giveUp. One that can never be read, or was given up, goes
// to mentionsDead with the reason.
const (
	mentionsTopic      = "tanggap.instagram.mentions"
	mentionsRetry      = "tanggap.instagram.mentions.retry"
	mentionsDead       = "tanggap.instagram.mentions.dlq"
	mentionsGroup      = "tanggap-instagram-mentions"
	mentionsRetryGroup = "tanggap-instagram-mentions-retry"

	envInstagramAppSecret   = "TANGGAP_INSTAGRAM_APP_SECRET"
	envInstagramVerifyToken = "TANGGAP_INSTAGRAM_VERIFY_TOKEN"
)

// Headers of a parked mention on mentionsRetry; its key and value are the
// queued mention's.
const (
	hdrNotBefore = "tanggap.mention.not_before" // RFC 3339: not read again before
	hdrAttempts  = "tanggap.mention.attempts"   // reads that found its account blocked
	hdrParkedAt  = "tanggap.mention.parked_at"  // RFC 3339: the first of them
	hdrBlocked   = "tanggap.mention.blocked"    // the last one's error
)

// parking says when a parked mention is read again and when it is given up.
type parking struct {
	first, max time.Duration // the wait before the first retry, doubled at each retry up to max
	giveUp     time.Duration // since first parked: then the dead-letter topic
	watchEvery time.Duration // how often the number of parked mentions is read
	now        func() time.Time
}

// defaultParking is the parking of tanggap collect. A throttle often lifts
// in minutes, hence a first retry after one; the resolver does not call an
// account whose token was refused for 5 minutes anyway, so early retries
// cost no Graph call. The wait stops growing at 30 minutes: once a token is
// renewed, its mentions are read within about that (plus the wait of the
// parked records ahead of them on their partition, each at most as long),
// and a record never holds up those behind it longer. A mention is given
// up after 7 days: Meta keeps nothing (it stops sending a webhook after
// 36 h, and no API lists mentions), so the retry topic is its only copy,
// and a week lets a person renew a token (TanggapCollectorAuthExpired fires
// once the account's polls are refused, TanggapInstagramMentionsParked
// after an hour) even over a long holiday. A mention given up is not lost either: it waits on the
// dead-letter topic, kept, for tanggap dlq replay -mentions; but a week
// old, it is past every clock and wants a person's eyes.
func defaultParking() parking {
	return parking{first: time.Minute, max: 30 * time.Minute, giveUp: 7 * 24 * time.Hour, watchEvery: 30 * time.Second, now: time.Now}
}

// wait is how long a mention that found its account blocked for the
// attempts-th time waits: the backoff, at least until the time a throttle
// ends (but at most max: a record waiting holds up those behind it, and a
// retry before the throttle ends costs no call, the resolver holds it).
func (p parking) wait(attempts int, cause error) time.Duration {
	d := p.first
	for i := 1; i < attempts && d < p.max; i++ {
		d *= 2
	}
	d = min(d, p.max)
	var rl *collectors.RateLimitError
	if errors.As(cause, &rl) {
		d = max(d, min(rl.Until.Sub(p.now()), p.max))
	}
	return d
}

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

// mentionsMetrics count the queued mentions read into posts, and those
// parked.
type mentionsMetrics struct {
	resolved *prometheus.CounterVec
	parked   *prometheus.CounterVec
	retried  prometheus.Counter
}

func newMentionsMetrics(reg prometheus.Registerer) *mentionsMetrics {
	m := &mentionsMetrics{
		resolved: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tanggap_instagram_mentions_total",
			Help: "Queued Instagram @mentions by result: published (read and sent to the posts topic), gone (Graph says it does not exist: deleted, or no longer visible to the token)."},
			[]string{"result"}),
		parked: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tanggap_instagram_mentions_parked_total",
			Help: "Instagram @mentions parked on " + mentionsRetry + " because Graph refused their account's token (auth_expired) or throttles it (rate_limited): when first read, and again at each retry that found the account still blocked."},
			[]string{"reason"}),
		retried: prometheus.NewCounter(prometheus.CounterOpts{Name: "tanggap_instagram_mentions_retried_total",
			Help: "Parked Instagram @mentions read again once their wait was over (each read: published, gone, parked again or given up)."}),
	}
	reg.MustRegister(m.resolved, m.parked, m.retried)
	return m
}

// mentionsBacklogs are the backlogs of the two mentions groups, from their
// committed offsets. Every collector reports them, whether or not it reads
// the topics: the same numbers, and the only ones when none does.
type mentionsBacklogs struct {
	queued  prometheus.Gauge
	waiting prometheus.Gauge
}

func newMentionsBacklogs(reg prometheus.Registerer) *mentionsBacklogs {
	b := &mentionsBacklogs{
		queued: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tanggap_instagram_mentions_queued",
			Help: "Instagram @mentions on " + mentionsTopic + " not read into posts yet (the mentions group's backlog: every collector reports the same, so take the max)."}),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tanggap_instagram_mentions_waiting",
			Help: "Instagram @mentions parked on " + mentionsRetry + " that wait for their account (the retry group's backlog: every collector reports the same, so take the max)."}),
	}
	reg.MustRegister(b.queued, b.waiting)
	return b
}

// mentionReader reads queued mentions into posts and parks those whose
// account is blocked.
type mentionReader struct {
	res  *instagram.MentionResolver
	pub  collectors.Publisher
	park *bus.Producer // writes mentionsRetry
	pk   parking
	m    *mentionsMetrics
	log  *slog.Logger
}

// blocked reports an error of an account Graph throttles or refuses the
// token of: its mentions wait, parked, without holding up the others'.
func blocked(err error) bool {
	c := tanggap.ErrorCode(err)
	return c == tanggap.EAUTH || c == tanggap.ERATELIMIT
}

// read reads one queued mention into a post and publishes it.
func (r *mentionReader) read(ctx context.Context, rec kafka.Message) (instagram.Mention, error) {
	var mn instagram.Mention
	if err := json.Unmarshal(rec.Value, &mn); err != nil {
		return mn, tanggap.WrapCode(tanggap.EINVALID, bus.DeadReason("malformed"), "instagram mention: %v", err)
	}
	post, err := r.res.Resolve(ctx, mn)
	switch tanggap.ErrorCode(err) {
	case "":
	case tanggap.ENOTFOUND:
		r.m.resolved.WithLabelValues("gone").Inc()
		r.log.Info("instagram_mention_gone", "account_id", mn.AccountID, "id", mn.ID(), "err", err)
		return mn, nil
	default:
		return mn, err
	}
	if err := r.pub.Publish(ctx, []tanggap.Post{post}); err != nil {
		return mn, err
	}
	r.m.resolved.WithLabelValues("published").Inc()
	return mn, nil
}

// handle is the handler of mentionsTopic: a mention of a blocked account is
// parked, and its offset committed once Kafka acknowledged the parked copy.
func (r *mentionReader) handle(ctx context.Context, rec kafka.Message) error {
	mn, err := r.read(ctx, rec)
	if blocked(err) {
		return r.parkMention(ctx, rec, mn, 0, r.pk.now(), err)
	}
	return err
}

// retry returns the handler of mentionsRetry: it waits until a parked
// mention's not-before, reads it, and parks it again while its account is
// still blocked, or gives it up to the dead-letter topic after giveUp. It
// waits on stop, the consumer's context: the handler's own ends only after
// the drain grace, and a shutdown must not wait for a record's turn.
func (r *mentionReader) retry(stop context.Context) bus.Handler {
	return func(ctx context.Context, rec kafka.Message) error {
		notBefore, attempts, since := parkedHeaders(rec)
		// At most max: a not-before far ahead (another collector's clock
		// is wrong) would hold up the partition.
		if d := min(notBefore.Sub(r.pk.now()), r.pk.max); d > 0 && !sleepCtx(stop, d) {
			return tanggap.Errorf(tanggap.EUNAVAILABLE, "instagram mentions: stopped while a parked mention waited for its retry")
		}
		r.m.retried.Inc()
		mn, err := r.read(ctx, rec)
		if !blocked(err) {
			return err
		}
		if held := r.pk.now().Sub(since); held >= r.pk.giveUp {
			return tanggap.WrapCode(tanggap.EINVALID, bus.DeadReason(tanggap.ErrorCode(err)),
				"instagram mention of %s: given up after %d reads in %s found its account blocked: %v", mn.AccountID, attempts+1, held.Round(time.Minute), err)
		}
		return r.parkMention(ctx, rec, mn, attempts, since, err)
	}
}

// parkedHeaders reads a parked mention's headers. Only this code writes
// them; a record without them is read at once, as first parked when Kafka
// got it.
func parkedHeaders(rec kafka.Message) (notBefore time.Time, attempts int, since time.Time) {
	notBefore, _ = time.Parse(time.RFC3339Nano, bus.HeaderValue(rec, hdrNotBefore))
	attempts, _ = strconv.Atoi(bus.HeaderValue(rec, hdrAttempts))
	since, err := time.Parse(time.RFC3339Nano, bus.HeaderValue(rec, hdrParkedAt))
	if err != nil {
		since = rec.Time
	}
	return notBefore, max(attempts, 0), since
}

// parkMention writes a mention whose account is blocked to mentionsRetry,
// with the time it may be read again, and returns once Kafka acknowledged
// it (an error: the record is retried in place, and not committed).
func (r *mentionReader) parkMention(ctx context.Context, rec kafka.Message, mn instagram.Mention, attempts int, since time.Time, cause error) error {
	attempts++
	notBefore := r.pk.now().Add(r.pk.wait(attempts, cause))
	why := cause.Error()
	if len(why) > 300 {
		why = why[:300]
	}
	p := kafka.Message{Key: rec.Key, Value: rec.Value, Headers: []kafka.Header{
		{Key: hdrNotBefore, Value: []byte(notBefore.UTC().Format(time.RFC3339Nano))},
		{Key: hdrAttempts, Value: []byte(strconv.Itoa(attempts))},
		{Key: hdrParkedAt, Value: []byte(since.UTC().Format(time.RFC3339Nano))},
		{Key: hdrBlocked, Value: []byte(strings.ToValidUTF8(why, "?"))},
	}}
	if err := r.park.WriteRaw(ctx, mentionsRetry, p); err != nil {
		return err
	}
	reason := tanggap.ErrorCode(cause)
	r.m.parked.WithLabelValues(reason).Inc()
	level := slog.LevelInfo
	if attempts == 1 {
		level = slog.LevelWarn
	}
	r.log.Log(ctx, level, "instagram_mention_parked", "account_id", mn.AccountID, "id", mn.ID(), "reason", reason,
		"attempts", attempts, "retry_at", notBefore.UTC(), "err", cause)
	return nil
}

// watchBacklogs sets the queued and waiting gauges to the mentions and
// retry groups' backlogs every pk.watchEvery. The readers' lag cannot
// tell: a member whose handler retries a mention in place (Graph down), or
// waits for a parked one's turn, has fetched the ones behind it, and its
// lag stays 0 until more wait than it fetches ahead (about 1,500).
func watchBacklogs(ctx context.Context, brokers []string, pk parking, b *mentionsBacklogs, log *slog.Logger) {
	for sleepCtx(ctx, pk.watchEvery) {
		for _, w := range []struct {
			group, topic string
			g            prometheus.Gauge
		}{{mentionsGroup, mentionsTopic, b.queued}, {mentionsRetryGroup, mentionsRetry, b.waiting}} {
			n, err := bus.Backlog(ctx, brokers, w.group, w.topic)
			if err != nil {
				log.Debug("instagram_mentions_backlog_unknown", "group", w.group, "err", err)
				continue
			}
			w.g.Set(float64(n))
		}
	}
}

// startMentions creates the topics, then runs the watch of their backlogs
// and the mentions consumers (of the mentions topic and of the parked
// mentions) for the Instagram poller among pp (none: another collector
// reads the topics), and returns the producer that queues mentions and
// dead-letters them. Kafka may be down when the collector starts, as it
// may be for its polls: the topics are tried again every 10 s meanwhile,
// and until they exist the receiver answers 503 and Meta sends again.
func startMentions(ctx context.Context, g *errgroup.Group, pp []platformPoller, cursors collectors.Cursors, brokers []string, pub collectors.Publisher, pm *bus.ProducerMetrics, reg prometheus.Registerer, log *slog.Logger, pk parking) *bus.Producer {
	prod := bus.NewProducer(brokers, bus.Topics{Dead: mentionsDead}, pm)
	context.AfterFunc(ctx, func() { prod.Close() })
	backlogs := newMentionsBacklogs(reg)
	var cons, retry *bus.Consumer
	for _, p := range pp {
		if ig, ok := p.poller.(*instagram.Poller); ok && cons == nil {
			m := newMentionsMetrics(reg)
			r := &mentionReader{res: ig.Mentions(p.accounts, cursors), pub: pub, park: prod, pk: pk, m: m, log: log}
			cm := bus.NewConsumerMetricsFor(reg, "instagram_mentions")
			cons = bus.NewConsumer(bus.ConsumerConfig{Brokers: brokers, Group: mentionsGroup, Topic: mentionsTopic}, r.handle, prod, log, cm)
			// The retry group counts its dead letters (the mentions given
			// up) and retries with the mentions group's, on the dashboard;
			// its lag is not exported: the waiting gauge counts instead (and
			// the queued gauge for the mentions group, whose lag says little).
			rm := &bus.ConsumerMetrics{Lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tanggap_instagram_mentions_retry_consumer_lag"}),
				DeadLetters: cm.DeadLetters, Retries: cm.Retries, Replayed: cm.Replayed}
			// One parked mention a batch: its handler sleeps until the
			// mention's turn, and a batch commits when its last record is
			// done, so a mention parked again before another's sleep would
			// stay uncommitted through it (counted as waiting, and parked
			// twice if the collector stopped meanwhile).
			retry = bus.NewConsumer(bus.ConsumerConfig{Brokers: brokers, Group: mentionsRetryGroup, Topic: mentionsRetry, MaxBatch: 1}, r.retry(ctx), prod, log, rm)
		}
	}
	if cons == nil {
		log.Warn("instagram_mentions_unread", "why", "no Instagram token is set here: another collector must read "+mentionsTopic+" and "+mentionsRetry)
	}
	g.Go(func() error {
		for {
			err := bus.EnsureKeptTopics(ctx, brokers, mentionsPartitions, mentionsTopic, mentionsRetry, mentionsDead)
			if err == nil {
				break
			}
			log.Warn("instagram_mentions_topics", "err", err, "retry_in", "10s")
			if !sleepCtx(ctx, 10*time.Second) {
				return nil
			}
		}
		var run errgroup.Group
		run.Go(func() error { watchBacklogs(ctx, brokers, pk, backlogs, log); return nil })
		if cons != nil {
			run.Go(func() error { return cons.Run(ctx) })
			run.Go(func() error { return retry.Run(ctx) })
		}
		return run.Wait()
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
	prod := startMentions(ctx, g, pp, cursors, brokers, pub, pm, reg, log, defaultParking())
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
