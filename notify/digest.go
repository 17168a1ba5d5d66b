package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/store"
)

// Source is the part of the store the digest reads: an OPD's open items
// (store.Unrouted for the items no OPD was chosen for). *store.Store
// implements it.
type Source interface {
	OpenIDs(ctx context.Context, opd string) ([]string, error)
	ItemsByID(ctx context.Context, ids []string) ([]tanggap.Item, error)
}

// Calendar is the working-day calendar. *calendar.Calendar implements it
// (workflow.Clocks.Calendar()). If it also has String() and
// MissingYearWarning(time.Time) string, the digest prints them.
type Calendar interface {
	Location() *time.Location
	IsWorkingDay(t time.Time) bool
	WorkingDaysBetween(from, to time.Time) float64
}

// OPD is a department that gets a digest. Code is the store's OPD slot
// (store.Unrouted for the unrouted queue); Short is an optional
// abbreviation used in the subject.
type OPD struct {
	Code, Name, Short string
}

// DigestConfig is the digest policy. Zero fields take the defaults.
type DigestConfig struct {
	City    string // shown in the footer, e.g. "Kota Bekasi"
	BaseURL string // the web UI, e.g. "https://tanggap.bekasikota.go.id": links are BASE/item/{id}
	OPDs    []OPD
	Ladder  Ladder // no steps: the steps of DefaultLadder()

	// At is the local time ("HH:MM", calendar time zone) a digest is due
	// on every working day: default "07:00".
	At string
	// CatchUp is how long after At a digest that has not gone out yet (all
	// processes were down, the mail server refused it) is still sent:
	// default 9h. Between 1m and 23h.
	CatchUp time.Duration
	// RetryEvery is how often Run tries again inside that window: default 15m.
	RetryEvery time.Duration
	// Lease is how long one process holds an OPD's digest of the day while
	// building and sending it: default 10m. A send is cut off at half of it;
	// a process that dies while sending frees the digest when it ends.
	Lease time.Duration
	// MaxItems is how many items each section lists (the counts cover all):
	// default 50.
	MaxItems int
	// ExcerptRunes is the length of the one-line excerpt: default 140.
	ExcerptRunes int
}

// Defaults of DigestConfig.
const (
	DefaultAt           = "07:00"
	DefaultCatchUp      = 9 * time.Hour
	DefaultRetryEvery   = 15 * time.Minute
	DefaultLease        = 10 * time.Minute
	DefaultMaxItems     = 50
	DefaultExcerptRunes = 140
)

// Deps are the digest's collaborators.
type Deps struct {
	Source     Source
	Recipients Recipients
	Channel    Channel
	Ledger     Ledger
	Calendar   Calendar
	Registerer prometheus.Registerer // nil: metrics are not registered
	Logger     *slog.Logger          // nil: discard
	Now        func() time.Time      // nil: time.Now (Run only)
}

// Results of one OPD's digest, the values of the result label of
// tanggap_notify_digests_total.
const (
	ResultSent         = "sent"
	ResultEmpty        = "empty"         // nothing overdue or due soon (or only due soon and NoReminders)
	ResultNoRecipients = "no_recipients" // nobody to send it to: fix the recipients
	ResultSkipped      = "skipped"       // already sent today, or being sent by another process
	ResultError        = "error"
)

var results = []string{ResultSent, ResultEmpty, ResultNoRecipients, ResultSkipped, ResultError}

// OPDResult is what happened to one OPD's digest.
type OPDResult struct {
	OPD        string
	Result     string
	Level      Level
	Overdue    int
	DueSoon    int
	Recipients int
	Err        error // with ResultError
}

// Report is the outcome of one SendNow.
type Report struct {
	Day  string // local date of the digest, "2006-01-02"
	OPDs []OPDResult
}

// Count returns how many OPDs ended with result.
func (r Report) Count(result string) int {
	n := 0
	for _, o := range r.OPDs {
		if o.Result == result {
			n++
		}
	}
	return n
}

// Digest sends each OPD's daily digest of overdue and due-soon items to the
// people its escalation level reaches.
type Digest struct {
	cfg    DigestConfig
	ladder Ladder
	base   string
	atMin  int // minutes after local midnight
	src    Source
	rcpt   Recipients
	ch     Channel
	ledger Ledger
	cal    Calendar
	loc    *time.Location
	log    *slog.Logger
	now    func() time.Time
	html   *template.Template
	total  *prometheus.CounterVec
}

// sentKeep is how long the ledger remembers a sent digest; keys carry the
// date, so it only bounds the ledger's size.
const sentKeep = 48 * time.Hour

// keepTimeout bounds the ledger write after a send, which runs even when
// ctx was cancelled meanwhile (the message is out: record it).
const keepTimeout = 10 * time.Second

// NewDigest checks the config and returns the digest.
func NewDigest(cfg DigestConfig, deps Deps) (*Digest, error) {
	if deps.Source == nil || deps.Recipients == nil || deps.Channel == nil || deps.Ledger == nil || deps.Calendar == nil {
		return nil, errors.New("notify: digest needs a source, recipients, a channel, a ledger and a calendar")
	}
	d := &Digest{cfg: cfg, src: deps.Source, rcpt: deps.Recipients, ch: deps.Channel, ledger: deps.Ledger,
		cal: deps.Calendar, loc: deps.Calendar.Location(), log: deps.Logger, now: deps.Now}
	if d.log == nil {
		d.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.loc == nil {
		return nil, errors.New("notify: calendar has no time zone")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("notify: base URL %q must be an http(s) URL without query", cfg.BaseURL)
	}
	d.base = strings.TrimRight(cfg.BaseURL, "/")
	if len(cfg.OPDs) == 0 {
		return nil, errors.New("notify: no OPDs to send digests for")
	}
	seen := map[string]bool{}
	for _, o := range cfg.OPDs {
		if o.Code == "" || strings.ContainsAny(o.Code, ": \t\r\n") || seen[o.Code] {
			return nil, fmt.Errorf("notify: OPD code %q is empty, repeated or has ':' or spaces", o.Code)
		}
		seen[o.Code] = true
	}
	d.ladder = cfg.Ladder
	if d.ladder.Steps == nil {
		d.ladder.Steps = DefaultLadder().Steps
	}
	if err := d.ladder.Validate(); err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	if cfg.At == "" {
		d.cfg.At = DefaultAt
	}
	at, err := time.Parse("15:04", d.cfg.At)
	if err != nil {
		return nil, fmt.Errorf("notify: digest time %q is not HH:MM", cfg.At)
	}
	d.atMin = at.Hour()*60 + at.Minute()
	setDefault(&d.cfg.CatchUp, DefaultCatchUp)
	setDefault(&d.cfg.RetryEvery, DefaultRetryEvery)
	setDefault(&d.cfg.Lease, DefaultLease)
	setDefault(&d.cfg.MaxItems, DefaultMaxItems)
	setDefault(&d.cfg.ExcerptRunes, DefaultExcerptRunes)
	if d.cfg.CatchUp < time.Minute || d.cfg.CatchUp > 23*time.Hour {
		return nil, fmt.Errorf("notify: catch-up window %s must be between 1m and 23h", d.cfg.CatchUp)
	}
	if d.cfg.RetryEvery < 0 || d.cfg.Lease < 0 || d.cfg.MaxItems < 0 || d.cfg.ExcerptRunes < 0 {
		return nil, errors.New("notify: retry, lease, max items and excerpt length must not be negative")
	}
	if d.html, err = parseHTML(); err != nil {
		return nil, err
	}
	d.total = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tanggap_notify_digests_total",
		Help: "Daily OPD digests by result: sent, empty, no_recipients, skipped (sent already or by another process), error.",
	}, []string{"result"})
	if deps.Registerer != nil {
		if err := deps.Registerer.Register(d.total); err != nil {
			are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err)
			if !ok {
				return nil, fmt.Errorf("notify: register metrics: %w", err)
			}
			if d.total, ok = are.ExistingCollector.(*prometheus.CounterVec); !ok {
				return nil, fmt.Errorf("notify: register metrics: %w", err)
			}
		}
	}
	for _, r := range results {
		d.total.WithLabelValues(r)
	}
	return d, nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// dayKey is the local date of t.
func (d *Digest) dayKey(t time.Time) string { return t.In(d.loc).Format(time.DateOnly) }

// ledgerKey names an OPD's digest of a day. OPD codes come from the city
// config, never from a post.
func ledgerKey(opd, day string) string { return "digest:" + opd + ":" + day }

// SendNow sends today's digest (the local day of now) of every OPD that has
// not had it yet, as of now. It does not look at the calendar: Run does.
// The error joins the OPDs that failed; the report has every OPD.
func (d *Digest) SendNow(ctx context.Context, now time.Time) (Report, error) {
	return d.send(ctx, now, nil)
}

func (d *Digest) send(ctx context.Context, now time.Time, done map[string]bool) (Report, error) {
	rep := Report{Day: d.dayKey(now)}
	var errs []error
	for _, o := range d.cfg.OPDs {
		if done[o.Code] {
			continue
		}
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("digest %s: %w", o.Code, ctx.Err()))
			break
		}
		r := d.sendOPD(ctx, o, now, rep.Day)
		d.total.WithLabelValues(r.Result).Inc()
		if r.Err != nil {
			r.Err = fmt.Errorf("digest %s: %w", o.Code, r.Err)
			errs = append(errs, r.Err)
		}
		rep.OPDs = append(rep.OPDs, r)
	}
	return rep, errors.Join(errs...)
}

func (d *Digest) sendOPD(ctx context.Context, o OPD, now time.Time, day string) OPDResult {
	res := OPDResult{OPD: o.Code}
	fail := func(err error) OPDResult { res.Result, res.Err = ResultError, err; return res }
	key := ledgerKey(o.Code, day)
	ok, err := d.ledger.Once(ctx, key, d.cfg.Lease)
	if err != nil {
		return fail(fmt.Errorf("ledger: %w", err))
	}
	if !ok {
		res.Result = ResultSkipped
		return res
	}
	// From here on the lease is ours. On an error it simply runs out, and a
	// later try (of any process) starts again.
	v, err := d.build(ctx, o, now)
	if err != nil {
		return fail(err)
	}
	res.Level, res.Overdue, res.DueSoon = v.Level, v.NOverdue, v.NDueSoon
	if v.NOverdue == 0 && (v.NDueSoon == 0 || d.ladder.NoReminders) {
		res.Result = ResultEmpty
		d.keep(ctx, key, o.Code)
		return res
	}
	to, err := d.recipients(ctx, o.Code, v.Level)
	if err != nil {
		return fail(err)
	}
	res.Recipients = len(to)
	if len(to) == 0 {
		res.Result = ResultNoRecipients
		d.log.Warn("digest has no recipients", "opd", o.Code, "level", v.Level.String())
		d.keep(ctx, key, o.Code)
		return res
	}
	html, err := v.html(d.html)
	if err != nil {
		return fail(err)
	}
	m := Message{ID: "digest-" + o.Code + "-" + day, To: to, Subject: v.subject(), Text: v.text(), HTML: html}
	sctx, cancel := context.WithTimeout(ctx, d.cfg.Lease/2)
	defer cancel()
	if err := d.ch.Send(sctx, m); err != nil {
		return fail(fmt.Errorf("send: %w", err))
	}
	res.Result = ResultSent
	d.log.Info("digest sent", "opd", o.Code, "day", day, "level", v.Level.String(),
		"overdue", v.NOverdue, "due_soon", v.NDueSoon, "recipients", len(to))
	d.keep(ctx, key, o.Code)
	return res
}

// keep turns the lease into "done for the day". If that fails the lease
// runs out and the digest may go out a second time: worth an error log,
// not a failure of what was already sent.
func (d *Digest) keep(ctx context.Context, key, opd string) {
	kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), keepTimeout)
	defer cancel()
	if err := d.ledger.Keep(kctx, key, sentKeep); err != nil {
		d.log.Error("digest ledger keep failed", "opd", opd, "err", err)
	}
}

// recipients gathers the people of every level the digest reaches, without
// duplicates, dropping addresses that fail CheckAddress.
func (d *Digest) recipients(ctx context.Context, opd string, lv Level) ([]Address, error) {
	var out []Address
	seen := map[string]bool{}
	for _, l := range d.ladder.levelsFor(lv) {
		as, err := d.rcpt.Recipients(ctx, opd, l)
		if err != nil {
			return nil, fmt.Errorf("recipients %s: %w", l, err)
		}
		for _, a := range as {
			c, err := CheckAddress(a)
			if err != nil {
				d.log.Warn("recipient address invalid", "opd", opd, "level", l.String())
				continue
			}
			if k := strings.ToLower(c.Email); !seen[k] {
				seen[k] = true
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// loadBatch is how many items one ItemsByID call asks for.
const loadBatch = 500

// build reads the OPD's open items and lays out its digest as of now.
func (d *Digest) build(ctx context.Context, o OPD, now time.Time) (*view, error) {
	ids, err := d.src.OpenIDs(ctx, o.Code)
	if err != nil {
		return nil, fmt.Errorf("open items: %w", err)
	}
	v := &view{City: d.cfg.City, OPD: o.Code, OPDName: OneLine(cmp.Or(o.Name, o.Code), 120), Short: OneLine(o.Short, 40),
		Date: tanggalID(now.In(d.loc)), QueueLink: queueLink(d.base, o.Code)}
	for chunk := range slices.Chunk(ids, loadBatch) {
		items, err := d.src.ItemsByID(ctx, chunk)
		if err != nil {
			return nil, fmt.Errorf("load items: %w", err)
		}
		for i := range items {
			it := &items[i]
			if it.OPD != o.Code && (o.Code != store.Unrouted || it.OPD != "") {
				continue // moved to another OPD since OpenIDs
			}
			switch it.StateAt(now) {
			case tanggap.Overdue:
				e := d.entry(it, now)
				e.lateHK = max(d.cal.WorkingDaysBetween(it.Deadline, now), 0)
				e.Late = umurID(now.Sub(it.Deadline)) + " (" + hkID(e.lateHK) + ")"
				e.Level = d.ladder.LevelFor(e.lateHK)
				e.LevelLabel = "eskalasi " + e.Level.Label()
				if e.Level == LevelNone {
					e.LevelLabel = "belum eskalasi"
				}
				v.Level = max(v.Level, e.Level)
				v.Overdue = append(v.Overdue, e)
			case tanggap.DueSoon:
				e := d.entry(it, now)
				e.Left = umurID(it.Deadline.Sub(now))
				v.DueSoon = append(v.DueSoon, e)
			}
		}
	}
	slices.SortFunc(v.Overdue, func(a, b entry) int {
		return cmp.Or(cmp.Compare(b.lateHK, a.lateHK), a.deadline.Compare(b.deadline), cmp.Compare(a.ID, b.ID))
	})
	slices.SortFunc(v.DueSoon, func(a, b entry) int {
		return cmp.Or(a.deadline.Compare(b.deadline), cmp.Compare(a.ID, b.ID))
	})
	v.NOverdue, v.NDueSoon = len(v.Overdue), len(v.DueSoon)
	if n := d.cfg.MaxItems; len(v.Overdue) > n {
		v.MoreOverdue, v.Overdue = len(v.Overdue)-n, v.Overdue[:n]
	}
	if n := d.cfg.MaxItems; len(v.DueSoon) > n {
		v.MoreDueSoon, v.DueSoon = len(v.DueSoon)-n, v.DueSoon[:n]
	}
	v.LevelLabel = v.Level.Label()
	if v.Level == LevelNone {
		v.LevelLabel = "belum ada (pengingat)"
		if v.NOverdue > 0 {
			v.LevelLabel = "belum ada"
		}
	}
	v.LevelNote = d.levelNote(v.Level, v.NOverdue)
	var who []string
	for _, l := range d.ladder.levelsFor(v.Level) {
		who = append(who, l.Label())
	}
	v.Audience = strings.Join(who, ", ")
	if s, ok := d.cal.(fmt.Stringer); ok {
		v.Calendar = OneLine(s.String(), 300)
	}
	if w, ok := d.cal.(interface{ MissingYearWarning(time.Time) string }); ok {
		v.Warning = OneLine(w.MissingYearWarning(now), 300)
	}
	return v, nil
}

// levelNote explains in Indonesian why the digest reached its level.
func (d *Digest) levelNote(lv Level, overdue int) string {
	switch {
	case lv == LevelNone && overdue == 0:
		return "belum ada aduan yang lewat tenggat; ini pengingat aduan yang segera jatuh tempo"
	case lv == LevelNone:
		return "ada aduan yang lewat tenggat, belum sampai ambang eskalasi pertama"
	}
	for _, s := range d.ladder.Steps {
		if s.Level != lv {
			continue
		}
		if s.AfterHK <= 0 {
			return "ada aduan yang lewat tenggat"
		}
		return "ada aduan yang lewat tenggat lebih dari " + hkID(s.AfterHK)
	}
	return ""
}

// entry lays out the common fields of an item line.
func (d *Digest) entry(it *tanggap.Item, now time.Time) entry {
	author := OneLine(it.Author, 60)
	if author != "" && !strings.HasPrefix(author, "@") {
		author = "@" + author
	}
	if name := OneLine(it.AuthorName, 60); name != "" {
		author = strings.TrimSpace(name + " " + author)
	}
	return entry{
		ID:       OneLine(it.ID, 140),
		Link:     itemLink(d.base, it.ID),
		Age:      umurID(now.Sub(it.CreatedAt)),
		Clock:    clockID(it.Clock),
		Deadline: waktuID(it.Deadline.In(d.loc)),
		Author:   author,
		Excerpt:  OneLine(it.Text, d.cfg.ExcerptRunes),
		deadline: it.Deadline,
	}
}
