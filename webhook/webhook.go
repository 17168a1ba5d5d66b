// Package webhook delivers Tanggap's status changes to outside systems as
// signed HTTP POSTs. It reads the Kafka events topic as its own consumer
// group ("webhooks"), so deliveries never slow triage or the web UI, and
// a receiver that is down only delays other receivers' copies of the same
// event.
//
// Delivery is at least once: a receiver must dedupe by X-Tanggap-Delivery
// (the event id, stable across retries and redeliveries). Every request is
// signed:
//
//	X-Tanggap-Timestamp: <Unix seconds>
//	X-Tanggap-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// Receivers should check the signature in constant time and refuse a
// timestamp older than a few minutes (Verify does both). Network errors,
// 408, 429 and 5xx are retried with jittered exponential backoff (honouring
// Retry-After); other answers, redirects to another host and refused
// addresses are not. A delivery that cannot succeed is written to the
// dead-letter topic with the reason and the endpoint's name, counted, and
// the partition moves on; Redeliver (tanggap dlq replay -webhooks) delivers
// it again once the receiver is fixed.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/bus"
)

// Group is the Kafka consumer group of the dispatcher.
const Group = "webhooks"

// Headers of every delivery.
const (
	HeaderSignature = "X-Tanggap-Signature"
	HeaderTimestamp = "X-Tanggap-Timestamp"
	HeaderDelivery  = "X-Tanggap-Delivery"
	HeaderEvent     = "X-Tanggap-Event"
)

// Results, the values of the result label of tanggap_webhook_deliveries_total.
const (
	ResultDelivered = "delivered" // a 2xx answer
	ResultFailed    = "failed"    // gave up after retries or time: dead-lettered
	ResultRejected  = "rejected"  // a permanent failure (4xx, redirect, refused address): dead-lettered
)

// DeadLetterer writes a record that cannot be delivered to the dead-letter
// topic (*bus.Producer).
type DeadLetterer interface {
	DeadLetter(ctx context.Context, m kafka.Message, reason string) error
}

// Options are the dispatcher's dependencies.
type Options struct {
	Getenv   func(string) string   // reads the endpoints' secrets (config.Secret); required
	Dead     DeadLetterer          // required
	Registry prometheus.Registerer // required
	Log      *slog.Logger
	// Now, Sleep and Jitter replace the clock, the wait between attempts and
	// the random part of the backoff (tests). Jitter returns a duration in [0, d).
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func(d time.Duration) time.Duration
}

// Payload is the JSON body of a delivery. It carries no citizen text and no
// reporter identity: a receiver that needs more reads the item through the
// API with its own credentials.
type Payload struct {
	ID          string    `json:"id"`    // the event id, "<item id>#<version>"; also X-Tanggap-Delivery
	Event       string    `json:"event"` // item.status_changed, item.created or item.<action>
	Action      string    `json:"action"`
	ItemID      string    `json:"item_id"`
	At          time.Time `json:"at"`
	FromStatus  string    `json:"from_status,omitempty"` // empty for item.created
	ToStatus    string    `json:"to_status"`
	StatusLabel string    `json:"status_label"`       // the Bahasa label of to_status
	OPD         string    `json:"opd,omitempty"`      // the item's OPD after the change
	FromOPD     string    `json:"from_opd,omitempty"` // set when the change moved the item between OPDs
	Version     int64     `json:"version"`            // item version after the change
}

// Dispatcher delivers events to the configured endpoints.
type Dispatcher struct {
	cfg       Config
	endpoints []*endpoint
	actions   map[string]bool
	client    *http.Client
	dead      DeadLetterer
	log       *slog.Logger
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error
	jitter    func(d time.Duration) time.Duration

	deliveries *prometheus.CounterVec
	retries    *prometheus.CounterVec

	mu sync.Mutex
	// pending holds, per record (topic/partition/offset) not yet handled to
	// the end, each endpoint's outcome, so that when the consumer retries
	// the record only unfinished endpoints are tried again.
	pending map[string]map[string]*outcome
}

// outcome is where one endpoint stands with the current record.
type outcome struct {
	finished   bool
	deadReason string // the delivery failed; the dead letter is still to be written
	result     string
}

// breaker tracks an endpoint that recently gave up.
type breaker struct {
	mu        sync.Mutex
	downUntil time.Time
}

// New validates the config, reads the secrets and registers the metrics.
func New(cfg Config, opt Options) (*Dispatcher, error) {
	switch {
	case opt.Getenv == nil:
		return nil, errors.New("webhook: no Getenv")
	case opt.Dead == nil:
		return nil, errors.New("webhook: no dead-letter producer")
	case opt.Registry == nil:
		return nil, errors.New("webhook: no metrics registry")
	}
	cfg.defaults()
	g := newGuard(cfg.AllowLoopback, cfg.AllowPrivate)
	eps, err := cfg.validate(opt.Getenv, g)
	if err != nil {
		return nil, err
	}
	d := &Dispatcher{cfg: cfg, endpoints: eps, actions: map[string]bool{}, dead: opt.Dead, log: opt.Log,
		now: opt.Now, sleep: opt.Sleep, jitter: opt.Jitter, pending: map[string]map[string]*outcome{}}
	for _, a := range cfg.Actions {
		d.actions[a] = true
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.sleep == nil {
		d.sleep = sleep
	}
	if d.jitter == nil {
		d.jitter = func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return rand.N(d)
		}
	}
	d.client = newClient(g, cfg.Timeout.D())
	d.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tanggap_webhook_deliveries_total",
		Help: "Webhook deliveries by endpoint and final result (delivered, failed, rejected)."}, []string{"endpoint", "result"})
	d.retries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tanggap_webhook_delivery_retries_total",
		Help: "Webhook attempts that failed and were retried, by endpoint."}, []string{"endpoint"})
	if err := opt.Registry.Register(d.deliveries); err != nil {
		return nil, fmt.Errorf("webhook: register metrics: %w", err)
	}
	if err := opt.Registry.Register(d.retries); err != nil {
		return nil, fmt.Errorf("webhook: register metrics: %w", err)
	}
	for _, ep := range eps {
		for _, r := range []string{ResultDelivered, ResultFailed, ResultRejected} {
			d.deliveries.WithLabelValues(ep.name, r)
		}
		d.retries.WithLabelValues(ep.name)
	}
	return d, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// newClient is the HTTP client of every delivery: the SSRF guard on every
// dial, no proxy (a proxy would hide the real destination from the guard),
// a timeout on every phase, and redirects followed only when they keep the
// method and body (307, 308) and stay on the same scheme and host.
func newClient(g *guard, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: min(timeout, 5*time.Second), KeepAlive: 30 * time.Second, Control: g.control}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   min(timeout, 5*time.Second),
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			first := via[0].URL
			code := req.Response.StatusCode
			if len(via) > 3 || (code != http.StatusTemporaryRedirect && code != http.StatusPermanentRedirect) ||
				req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// Sign returns the X-Tanggap-Signature value of a body sent with the
// X-Tanggap-Timestamp value ts.
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery the way a receiver should: the signature in
// constant time, and the timestamp no further than tolerance from now.
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("webhook: missing or malformed " + HeaderTimestamp)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook: timestamp outside tolerance")
	}
	if !hmac.Equal([]byte(h.Get(HeaderSignature)), []byte(Sign(secret, ts, body))) {
		return errors.New("webhook: bad signature")
	}
	return nil
}

// eventName says which webhook event an audit event is, if any.
func (d *Dispatcher) eventName(ev *tanggap.Event) (string, bool) {
	switch {
	case ev.Action == "ingest":
		return EventCreated, true
	case ev.ToStatus != ev.FromStatus:
		return EventStatusChanged, true
	case d.actions[ev.Action]:
		return actionPrefix + ev.Action, true
	}
	return "", false
}

func (ep *endpoint) wants(event, opd, fromOPD string) bool {
	if !ep.events[event] {
		return false
	}
	return ep.opds == nil || ep.opds[opd] || (fromOPD != "" && ep.opds[fromOPD])
}

// payload builds the delivery of a record of the events topic; ok is false
// for a record no endpoint gets (not an audit event, or not one of the
// webhook events).
func (d *Dispatcher) payload(m kafka.Message) (p Payload, body []byte, ok bool, err error) {
	env, err := bus.Decode(m.Value)
	if err != nil || env.Type != "event" {
		return p, nil, false, err
	}
	ev := env.Event
	name, ok := d.eventName(ev)
	if !ok {
		return p, nil, false, nil
	}
	p = Payload{ID: ev.ID, Event: name, Action: ev.Action, ItemID: ev.ItemID, At: ev.At.UTC(),
		FromStatus: string(ev.FromStatus), ToStatus: string(ev.ToStatus), StatusLabel: ev.ToStatus.Label("id"),
		OPD: ev.ToOPD, Version: ev.Version}
	if p.OPD == "" {
		p.OPD = ev.FromOPD
	}
	if ev.FromOPD != "" && ev.FromOPD != p.OPD {
		p.FromOPD = ev.FromOPD
	}
	if p.ID == "" {
		p.ID = ev.ItemID + "#" + strconv.FormatInt(ev.Version, 10)
	}
	body, err = json.Marshal(p)
	if err != nil {
		return p, nil, false, tanggap.WrapCode(tanggap.EINVALID, err, "webhook: encode payload")
	}
	return p, body, true, nil
}

// The header that names a dead-lettered delivery's endpoint, and the result
// of Redeliver beside those of a delivery.
const (
	HeaderDeadEndpoint = "tanggap.webhook.endpoint" // on a dead-lettered delivery: the endpoint it was for
	ResultNotWanted    = "not_wanted"               // the endpoint no longer takes this event or OPD
)

// Redeliver delivers a record of the dead-letter topic again to the endpoint
// it was dead-lettered for, with the retries of a first delivery, and never
// dead-letters it again: it returns the result (ResultDelivered,
// ResultFailed, ResultRejected, or ResultNotWanted when the endpoint's
// events or OPDs no longer include it) and the reason of a failure. The
// receiver dedupes by the event id, as for any redelivery. An endpoint the
// config no longer has is ENOTFOUND; a record that is no webhook delivery,
// EINVALID.
func (d *Dispatcher) Redeliver(ctx context.Context, m kafka.Message) (result, reason string, err error) {
	name := bus.HeaderValue(m, HeaderDeadEndpoint)
	var ep *endpoint
	for _, e := range d.endpoints {
		if e.name == name {
			ep = e
		}
	}
	if ep == nil {
		return "", "", tanggap.Errorf(tanggap.ENOTFOUND, "webhook: endpoint %q is not in the config", name)
	}
	p, body, ok, err := d.payload(m)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", tanggap.Errorf(tanggap.EINVALID, "webhook: the record is no webhook event")
	}
	if !ep.wants(p.Event, p.OPD, p.FromOPD) {
		return ResultNotWanted, "", nil
	}
	_, result, reason = d.deliver(ctx, ep, p, body)
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	d.deliveries.WithLabelValues(ep.name, result).Inc()
	return result, reason, nil
}

// Handle delivers one record of the events topic to every endpoint that
// wants it (a bus.Handler). It returns nil once every delivery succeeded or
// was dead-lettered; an error (the context ended, or the dead-letter topic
// could not be written) makes the consumer retry the record later, and then
// only the endpoints that had not finished are tried again.
func (d *Dispatcher) Handle(ctx context.Context, m kafka.Message) error {
	p, body, ok, err := d.payload(m)
	if err != nil || !ok {
		return err // EINVALID: the consumer dead-letters the record itself
	}
	name := p.Event

	key := m.Topic + "/" + strconv.Itoa(m.Partition) + "/" + strconv.FormatInt(m.Offset, 10)
	d.mu.Lock()
	done := d.pending[key]
	if done == nil {
		if len(d.pending) >= 10_000 { // records abandoned at shutdown or rebalance
			clear(d.pending)
		}
		done = map[string]*outcome{}
		d.pending[key] = done
	}
	type job struct {
		ep *endpoint
		o  *outcome
	}
	var jobs []job
	for _, ep := range d.endpoints {
		if !ep.wants(name, p.OPD, p.FromOPD) {
			continue
		}
		o := done[ep.name]
		if o == nil {
			o = &outcome{}
			done[ep.name] = o
		}
		if !o.finished {
			jobs = append(jobs, job{ep, o})
		}
	}
	d.mu.Unlock()

	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { errs[i] = d.run(ctx, m, j.ep, j.o, p, body) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return tanggap.WrapCode(tanggap.EUNAVAILABLE, err, "webhook: event %s", p.ID)
	}
	d.mu.Lock()
	delete(d.pending, key)
	d.mu.Unlock()
	return nil
}

// run delivers to one endpoint, or dead-letters.
func (d *Dispatcher) run(ctx context.Context, m kafka.Message, ep *endpoint, o *outcome, p Payload, body []byte) error {
	attempts := 0
	if o.deadReason == "" {
		var reason, result string
		attempts, result, reason = d.deliver(ctx, ep, p, body)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if result == ResultDelivered {
			d.deliveries.WithLabelValues(ep.name, ResultDelivered).Inc()
			o.finished = true
			return nil
		}
		o.deadReason, o.result = reason, result
	}
	dm := m
	dm.Headers = append(append([]kafka.Header(nil), m.Headers...),
		kafka.Header{Key: HeaderDeadEndpoint, Value: []byte(ep.name)},
		kafka.Header{Key: "tanggap.webhook.event", Value: []byte(p.Event)},
	)
	if attempts > 0 {
		dm.Headers = append(dm.Headers, kafka.Header{Key: "tanggap.webhook.attempts", Value: []byte(strconv.Itoa(attempts))})
	}
	if err := d.dead.DeadLetter(ctx, dm, "webhook "+ep.name+": "+o.deadReason); err != nil {
		return fmt.Errorf("dead-letter for %s: %w", ep.name, err)
	}
	d.deliveries.WithLabelValues(ep.name, o.result).Inc()
	d.log.Warn("webhook_dead_lettered", "endpoint", ep.name, "event_id", p.ID, "result", o.result, "reason", o.deadReason, "attempts", attempts)
	o.finished = true
	return nil
}

// deliver posts body until it succeeds, fails permanently, or runs out of
// attempts or time. It returns the attempts made, the result and, unless
// delivered, the reason.
func (d *Dispatcher) deliver(ctx context.Context, ep *endpoint, p Payload, body []byte) (int, string, string) {
	start := d.now()
	maxAttempts := d.cfg.MaxAttempts
	ep.state.mu.Lock()
	down := start.Before(ep.state.downUntil)
	ep.state.mu.Unlock()
	if down {
		maxAttempts = 1 // the endpoint gave up recently: probe once
	}
	budget := d.cfg.MaxElapsed.D()
	for attempt := 1; ; attempt++ {
		a := d.attempt(ctx, ep, p, body)
		if a.ok {
			ep.state.mu.Lock()
			ep.state.downUntil = time.Time{}
			ep.state.mu.Unlock()
			return attempt, ResultDelivered, ""
		}
		if ctx.Err() != nil {
			return attempt, "", "canceled"
		}
		if !a.retry {
			return attempt, ResultRejected, a.reason
		}
		wait := d.backoff(attempt)
		if a.after > 0 {
			wait = a.after
		}
		elapsed := d.now().Sub(start)
		var why string
		switch {
		case attempt >= maxAttempts && down:
			why = fmt.Sprintf("endpoint down (gave up less than %s ago), 1 attempt", d.cfg.Cooldown.D())
		case attempt >= maxAttempts:
			why = fmt.Sprintf("gave up after %d attempts in %s", attempt, elapsed.Round(time.Millisecond))
		case elapsed+wait > budget && a.after > 0:
			why = fmt.Sprintf("gave up after %d attempts: Retry-After %s goes past the %s budget", attempt, a.after, budget)
		case elapsed+wait > budget:
			why = fmt.Sprintf("gave up after %d attempts in %s (budget %s)", attempt, elapsed.Round(time.Millisecond), budget)
		}
		if why != "" {
			ep.state.mu.Lock()
			if !down {
				d.log.Warn("webhook_endpoint_down", "endpoint", ep.name, "cooldown", d.cfg.Cooldown.D())
			}
			ep.state.downUntil = d.now().Add(d.cfg.Cooldown.D())
			ep.state.mu.Unlock()
			return attempt, ResultFailed, why + ": " + a.reason
		}
		d.retries.WithLabelValues(ep.name).Inc()
		d.log.Debug("webhook_retry", "endpoint", ep.name, "event_id", p.ID, "attempt", attempt, "wait", wait, "reason", a.reason)
		if err := d.sleep(ctx, wait); err != nil {
			return attempt, "", "canceled"
		}
	}
}

// backoff is the wait after the n-th failed attempt: exponential from
// BackoffBase, capped at BackoffMax, with the upper half jittered.
func (d *Dispatcher) backoff(n int) time.Duration {
	w := d.cfg.BackoffBase.D()
	for i := 1; i < n && w < d.cfg.BackoffMax.D(); i++ {
		w *= 2
	}
	w = min(w, d.cfg.BackoffMax.D())
	return w/2 + d.jitter(w/2+1)
}

// attemptResult is what one POST gave.
type attemptResult struct {
	ok     bool
	retry  bool
	after  time.Duration // the receiver's Retry-After
	reason string
}

func (d *Dispatcher) attempt(ctx context.Context, ep *endpoint, p Payload, body []byte) attemptResult {
	actx, cancel := context.WithTimeout(ctx, d.cfg.Timeout.D())
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, ep.url, bytes.NewReader(body))
	if err != nil {
		return attemptResult{reason: "bad request: " + err.Error()}
	}
	ts := strconv.FormatInt(d.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Tanggap-Webhook/1")
	req.Header.Set(HeaderDelivery, p.ID)
	req.Header.Set(HeaderEvent, p.Event)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(ep.secret, ts, body))
	res, err := d.client.Do(req)
	if err != nil {
		var be *BlockedError
		if errors.As(err, &be) {
			return attemptResult{reason: be.Error()}
		}
		// *url.Error repeats the URL, which may carry a token: keep its cause only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return attemptResult{retry: true, reason: "network: " + err.Error()}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	code := res.StatusCode
	switch {
	case code >= 200 && code < 300:
		return attemptResult{ok: true}
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		return attemptResult{retry: true, after: retryAfter(res.Header.Get("Retry-After"), d.now()), reason: "HTTP " + strconv.Itoa(code)}
	case code >= 300 && code < 400:
		return attemptResult{reason: "HTTP " + strconv.Itoa(code) + ": redirect not followed (only 307/308 on the same host)"}
	}
	return attemptResult{reason: "HTTP " + strconv.Itoa(code)}
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// NewConsumer returns the consumer that feeds d from the events topic as
// the "webhooks" group. dead receives records that are not Tanggap
// envelopes; d's own Options.Dead receives deliveries that failed. The
// group starts at the end of the topic the first time: the events topic
// holds the city's whole history, which turning webhooks on must not post
// to the receivers. pos (store.Store: Redis) records where the group
// stands in each partition after every batch, because Kafka expires a
// group's offsets once it has had no member for a week
// (offsets.retention.minutes): webhooks stopped longer resume where they
// stopped, not at the end, so the receivers get every event of the
// meanwhile, in order per item, some perhaps twice (they dedupe by the
// event id). A recorded position the topic no longer holds is counted in
// tanggap_webhook_resume_gaps_total and logged (consumer_resume_gap).
func NewConsumer(brokers []string, topics bus.Topics, d *Dispatcher, pos bus.Positions, dead *bus.Producer, log *slog.Logger, m *bus.ConsumerMetrics) *bus.Consumer {
	return bus.NewConsumer(bus.ConsumerConfig{Brokers: brokers, Group: Group, Topic: topics.Events, FromNow: true, Positions: pos}, d.Handle, dead, log, m)
}
