// Package triage turns posts read from Kafka into items in the store: it
// recognises official accounts' replies, asks a Classifier what a citizen
// post is and which OPD must answer it, sets its first-response deadline and
// writes it idempotently. The pure decision (Decide) is separate from the
// consumer wiring (Handle).
package triage

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
)

// Decision is a classifier's verdict on one citizen text.
type Decision struct {
	Kind       tanggap.Kind
	OPD        string // an OPD code, tanggap.OutOfScope, or "" when nothing fits
	Confidence float64
	Features   []string // what explains the decision, for people
	Urgent     bool
	Kecamatan  string
	Kelurahan  string
	OutTarget  string // the agency when OPD is tanggap.OutOfScope
	Topic      string // a short topic for reports (e.g. the strongest keyword)
	// Fingerprint is a near-duplicate signature of the text ("" when the
	// classifier gives none); see Triage.Cluster.
	Fingerprint string
}

// NearFinder is the store side of clustering near-duplicates
// (store.Store.NearCandidates): for each ingest, the recent stored items of
// its OPD and place.
type NearFinder interface {
	NearCandidates(ctx context.Context, ins []store.Ingest) ([][]store.NearCandidate, error)
}

// Cluster turns on near-duplicate clustering: a post whose fingerprint is
// at least threshold similar to a recent post of the same OPD and place
// joins that post's cluster.
func (t *Triage) Cluster(similarity func(a, b string) float64, threshold float64) {
	t.similarity, t.threshold = similarity, threshold
}

// cluster sets the cluster each decided post of a batch joins, if any:
// the most similar candidate at or above the threshold among the stored
// items (one store round trip for the whole batch) and the earlier posts
// of the same batch, which are stored before it.
func (t *Triage) cluster(ctx context.Context, ins []store.Ingest) error {
	nf, ok := t.store.(NearFinder)
	if !ok || t.similarity == nil {
		return nil
	}
	some := false
	for i := range ins {
		some = some || ins[i].NearKey() != ""
	}
	if !some {
		return nil
	}
	cands, err := nf.NearCandidates(ctx, ins)
	if err != nil {
		return err
	}
	earlier := map[string][]int{}   // near key -> indexes of this batch, in order
	ids := make([]string, len(ins)) // item ids of the posts with a near key
	for i := range ins {
		in := &ins[i]
		nk := in.NearKey()
		if nk == "" {
			continue
		}
		ids[i] = in.Post.ItemID()
		best, self := t.threshold, ids[i]
		consider := func(id, cluster, fp string) {
			if id == self {
				return
			}
			if sim := t.similarity(in.Fingerprint, fp); sim >= best {
				best, in.ClusterID = sim, cluster
			}
		}
		// Earlier posts of this batch (stored before this one), newest
		// first, then the stored items, newest first: on a tie the older
		// report wins.
		prev := earlier[nk]
		for k := len(prev) - 1; k >= 0; k-- {
			e := &ins[prev[k]]
			if e.Post.CreatedAt.Sub(in.Post.CreatedAt).Abs() > store.NearWindow {
				continue
			}
			cl := e.ClusterID
			if cl == "" {
				cl = ids[prev[k]]
			}
			consider(ids[prev[k]], cl, e.Fingerprint)
		}
		for _, c := range cands[i] {
			consider(c.ID, c.ClusterID, c.Fingerprint)
		}
		earlier[nk] = append(prev, i)
	}
	return nil
}

// HeldThreads is the store side of resuming held items
// (store.Store.HeldThreads): the item on hold in each citizen's thread.
type HeldThreads interface {
	HeldThreads(ctx context.Context, posts []*tanggap.Post) ([]string, error)
}

// Resumer resumes an item on hold whose citizen wrote again in its thread
// (workflow.Service.CitizenReplied).
type Resumer interface {
	CitizenReplied(ctx context.Context, id string, p tanggap.Post) (bool, error)
}

// ResumeHeld turns on resuming held items: an item put on hold to wait for
// its citizen's details resumes when that citizen posts again in its
// thread. The store must implement HeldThreads.
func (t *Triage) ResumeHeld(r Resumer) { t.resumer = r }

// resumeHeld resumes the held items whose citizens wrote the stored posts
// of a batch in their threads (one store round trip finds them). The posts
// are stored already: a failure here is logged and counted, and the item
// stays on hold for a person to resume.
func (t *Triage) resumeHeld(ctx context.Context, ins []store.Ingest, errs []error) {
	ht, ok := t.store.(HeldThreads)
	if !ok || t.resumer == nil {
		return
	}
	var posts []*tanggap.Post
	for j := range ins {
		p := &ins[j].Post
		if errs[j] != nil || ins[j].ReplyBy != "" || store.HeldThreadKey(p) == "" {
			continue
		}
		posts = append(posts, p)
	}
	if len(posts) == 0 {
		return
	}
	ids, err := ht.HeldThreads(ctx, posts)
	if err != nil {
		t.m.Resumed.WithLabelValues("failed").Inc()
		t.log.Warn("held threads lookup failed", "err", err)
		return
	}
	for i, id := range ids {
		if id == "" || id == tanggap.ItemID(posts[i].Platform, posts[i].ID) {
			continue
		}
		switch ok, err := t.resumer.CitizenReplied(ctx, id, *posts[i]); {
		case err != nil:
			t.m.Resumed.WithLabelValues("failed").Inc()
			t.log.Warn("resuming a held item failed", "item", id, "err", err)
		case ok:
			t.m.Resumed.WithLabelValues("resumed").Inc()
		}
	}
}

// Classifier is the seam for the routing model: the keyword classifier of
// the first version and the trained model both fit it.
type Classifier interface {
	Classify(text string) Decision
}

// Ingester is the part of the store triage writes to.
type Ingester interface {
	Ingest(ctx context.Context, in store.Ingest) (store.IngestResult, error)
}

// Metrics are triage's Prometheus metrics.
type Metrics struct {
	Records   *prometheus.CounterVec
	Latency   prometheus.Histogram
	Sanitized *prometheus.CounterVec
	Resumed   *prometheus.CounterVec
}

// NewMetrics registers triage metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tanggap_triage_records_total", Help: "Records triaged, by result."}, []string{"result"}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tanggap_triage_latency_seconds", Help: "From the Kafka record's timestamp (publish) to the item being stored.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}),
	}
	m.Sanitized = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tanggap_triage_sanitized_total", Help: "Posts stored after cutting an oversize text or replacing invalid UTF-8, by reason."}, []string{"reason"})
	m.Resumed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tanggap_triage_held_resumed_total", Help: "Items on hold resumed because their citizen wrote again in the thread, by result (resumed, failed)."}, []string{"result"})
	reg.MustRegister(m.Records, m.Latency, m.Sanitized, m.Resumed)
	m.Resumed.WithLabelValues("resumed")
	m.Resumed.WithLabelValues("failed")
	// Every result exists from the start at 0, so rate() and "stalled"
	// alerts see a series before the first record.
	for _, r := range []string{"stored", "duplicate", "official_reply", "updated", "dead_letter", "retry"} {
		m.Records.WithLabelValues(r)
	}
	return m
}

// Deadliner computes an item's clocks (workflow.Clocks).
type Deadliner interface {
	Deadlines(t0 time.Time, kind tanggap.Kind, opd string, urgent bool) tanggap.Deadlines
}

// Triage decides and stores.
type Triage struct {
	similarity func(a, b string) float64
	threshold  float64
	cfg        *config.Config
	clocks     Deadliner
	cls        Classifier
	store      Ingester
	m          *Metrics
	log        *slog.Logger
	now        func() time.Time
	resumer    Resumer
}

// New returns a Triage. now nil means time.Now.
func New(cfg *config.Config, clocks Deadliner, cls Classifier, st Ingester, m *Metrics, log *slog.Logger, now func() time.Time) *Triage {
	if now == nil {
		now = time.Now
	}
	return &Triage{cfg: cfg, clocks: clocks, cls: cls, store: st, m: m, log: log, now: now}
}

// Decide is the pure part: what to store for a post.
func (t *Triage) Decide(p tanggap.Post) store.Ingest {
	in := store.Ingest{Post: p}
	if acc, ok := t.cfg.Official(&p); ok {
		in.Kind = tanggap.KindOfficial
		in.ReplyBy = acc.Owner
		in.Status = tanggap.StatusNotComplaint
		if _, isOPD := t.cfg.OPD(acc.Owner); isOPD {
			in.OPD = acc.Owner
		}
		return in
	}
	d := t.cls.Classify(p.Text)
	in.Kind, in.Confidence, in.Features, in.Urgent = d.Kind, d.Confidence, d.Features, d.Urgent
	in.Kecamatan, in.Kelurahan, in.OutTarget, in.Topic = d.Kecamatan, d.Kelurahan, d.OutTarget, d.Topic
	in.ClassifierOPD = d.OPD
	in.Fingerprint = d.Fingerprint
	switch {
	case !d.Kind.Actionable():
		in.Status = tanggap.StatusNotComplaint
		return in
	case d.OPD == tanggap.OutOfScope && d.Confidence >= t.cfg.Triage.MinConfidence:
		in.Status = tanggap.StatusOutOfScope
		in.OPD = ""
		return in
	}
	in.Queued = true
	if _, known := t.cfg.OPD(d.OPD); known && d.Confidence >= t.cfg.Triage.MinConfidence {
		in.OPD = d.OPD
		in.Status = tanggap.StatusAssigned
	} else {
		in.Status = tanggap.StatusNew // a person routes it
		if known {
			in.Features = append(in.Features, "saran: "+d.OPD)
		}
	}
	in.Deadlines = t.clocks.Deadlines(p.CreatedAt, d.Kind, in.OPD, d.Urgent)
	return in
}

// BatchIngester is a store that takes many posts in one round trip
// (store.Store.IngestBatch).
type BatchIngester interface {
	IngestBatch(ctx context.Context, ins []store.Ingest) ([]store.IngestResult, []error)
}

// Handle is the bus.Handler for the posts topic. It returns an EINVALID
// error for records that can never be processed (they are dead-lettered)
// and EUNAVAILABLE when the store is down (the record is retried).
func (t *Triage) Handle(ctx context.Context, m kafka.Message) error {
	return t.HandleBatch(ctx, []kafka.Message{m})[0]
}

// HandleBatch is the bus.BatchHandler for the posts topic: it decides every
// record, then stores them in order in one round trip when the store is a
// BatchIngester (else one after the other, stopping at the first failure).
// Errors are those of Handle, one per record.
func (t *Triage) HandleBatch(ctx context.Context, msgs []kafka.Message) []error {
	errs := make([]error, len(msgs))
	ins := make([]store.Ingest, 0, len(msgs))
	idx := make([]int, 0, len(msgs))
	for i, m := range msgs {
		p, err := t.post(m)
		if err != nil {
			errs[i] = err
			continue
		}
		ins = append(ins, t.Decide(*p))
		idx = append(idx, i)
	}
	if len(ins) == 0 {
		return errs
	}
	if err := t.cluster(ctx, ins); err != nil {
		// The store is failing: nothing was written, every record is
		// retried.
		for _, i := range idx {
			t.m.Records.WithLabelValues("retry").Inc()
			errs[i] = fmt.Errorf("triage: near-duplicate lookup: %w", err)
		}
		return errs
	}
	var (
		res   []store.IngestResult
		ierrs []error
	)
	if b, ok := t.store.(BatchIngester); ok {
		res, ierrs = b.IngestBatch(ctx, ins)
	} else {
		res, ierrs = make([]store.IngestResult, len(ins)), make([]error, len(ins))
		for j := range ins {
			res[j], ierrs[j] = t.store.Ingest(ctx, ins[j])
			if ierrs[j] != nil && tanggap.ErrorCode(ierrs[j]) != tanggap.EINVALID {
				for k := j + 1; k < len(ins); k++ {
					ierrs[k] = tanggap.Errorf(tanggap.EUNAVAILABLE, "not tried: an earlier record failed")
				}
				break
			}
		}
	}
	now := t.now()
	for j, i := range idx {
		errs[i] = t.stored(msgs[i], &ins[j].Post, res[j], ierrs[j], now)
	}
	t.resumeHeld(ctx, ins, ierrs)
	return errs
}

// post decodes and sanitizes a record of the posts topic.
func (t *Triage) post(m kafka.Message) (*tanggap.Post, error) {
	env, err := bus.Decode(m.Value)
	if err != nil {
		t.m.Records.WithLabelValues("dead_letter").Inc()
		return nil, err
	}
	if env.Type != "post" {
		t.m.Records.WithLabelValues("dead_letter").Inc()
		return nil, tanggap.WrapCode(tanggap.EINVALID, bus.DeadReason("wrong_topic"), "a %s record on the posts topic", env.Type)
	}
	p := env.Post
	p.Sanitize()
	if p.Truncated {
		t.m.Sanitized.WithLabelValues("truncated").Inc()
	}
	if p.InvalidUTF8 {
		t.m.Sanitized.WithLabelValues("invalid_utf8").Inc()
	}
	if p.BadURL {
		t.m.Sanitized.WithLabelValues("bad_url").Inc()
	}
	return p, nil
}

// stored counts the outcome of one ingest and maps its error.
func (t *Triage) stored(m kafka.Message, p *tanggap.Post, res store.IngestResult, err error, now time.Time) error {
	if err != nil {
		if tanggap.ErrorCode(err) == tanggap.EINVALID {
			t.m.Records.WithLabelValues("dead_letter").Inc()
			return err
		}
		t.m.Records.WithLabelValues("retry").Inc()
		return fmt.Errorf("triage %s: %w", p.ItemID(), err)
	}
	result := "stored"
	switch res {
	case store.Duplicate:
		result = "duplicate"
	case store.OfficialReply, store.OfficialReplyPending:
		result = "official_reply"
	case store.Edited, store.Deleted:
		result = "updated"
	}
	t.m.Records.WithLabelValues(result).Inc()
	if !m.Time.IsZero() {
		t.m.Latency.Observe(now.Sub(m.Time).Seconds())
	}
	return nil
}
