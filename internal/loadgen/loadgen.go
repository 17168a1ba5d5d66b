// Package loadgen drives the real collector code with synthetic citizen
// posts: one fake X API (package xfake) per watched account, an X poller and
// a collectors.Runner per account, and a generator that appends complaints,
// praise and official replies to the fake timelines. `tanggap bench` and the
// fault suite (package faults) use it; nothing in production does.
//
// Every text is written here from templates: no citizen text from any data
// set is used.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/x"
	"github.com/tanggap/tanggap/collectors/x/xfake"
	"github.com/tanggap/tanggap/config"
)

// Options configure a Fleet. Zero values take the defaults.
type Options struct {
	// Accounts are the watched X accounts (required). Each gets its own
	// fake API, poller and runner, so that a fake's timeline scan stays
	// short and the accounts are polled in parallel.
	Accounts  []config.Account
	Cursors   collectors.Cursors   // required
	Publisher collectors.Publisher // required: usually a *bus.Producer
	Log       *slog.Logger         // default: discard
	// Registry receives the collector metrics (default: a fresh registry).
	Registry prometheus.Registerer
	// Interval is the collectors' poll interval (default 50 ms); quiet
	// accounts slow down to 4 x Interval.
	Interval time.Duration
	// MaxBackoff caps the collectors' backoff after errors (default 2 s;
	// production uses 5 min).
	MaxBackoff time.Duration
	// ReplyRatio is the share of appended posts that are official replies
	// to earlier complaints (default 0.1; negative: none).
	ReplyRatio float64
	// Seed makes the generated texts reproducible (0: random).
	Seed uint64
	// Keep is how many published posts to keep for Kept (the bench
	// replays them against Kafka and Redis alone).
	Keep int
	// OnPublished, when set, is called with every batch Kafka acknowledged
	// (redeliveries included), from the collectors' goroutines.
	OnPublished func([]tanggap.Post)
}

// Sent is one status appended to a fake API.
type Sent struct {
	ID        string // X id: the item id is "x:" + ID
	Account   string // watched account whose fake holds it
	Author    string
	CreatedAt time.Time // platform time (T0), whole seconds
	ReplyTo   string    // parent X id when this is an official reply
	Official  bool      // written by the watched account itself
}

// ItemID is the store id of the sent post.
func (s Sent) ItemID() string { return tanggap.ItemID(tanggap.PlatformX, s.ID) }

// Fleet is the set of fake accounts with their collectors.
type Fleet struct {
	opts    Options
	accts   []*account
	runners []*collectors.Runner
	pub     *countingPublisher
	failing atomic.Bool

	mu     sync.Mutex // guards everything below and the accounts' state
	rnd    *rand.Rand
	nxt    int   // round-robin account index
	lastID int64 // ids are unique across the fleet's fakes
	t      texts
}

type account struct {
	cfg  config.Account
	fake *xfake.Server
	srv  *http.Server
	// open are complaints of this account without a reply yet (bounded).
	open []xfake.Status
	// newest ids, for the cursor check.
	newestMention, newestOwn string
}

// New starts the fake APIs on loopback ports and builds the collectors.
// Call Run to poll and Close to stop the fakes.
func New(opts Options) (*Fleet, error) {
	switch {
	case len(opts.Accounts) == 0:
		return nil, errors.New("loadgen: no accounts")
	case opts.Cursors == nil || opts.Publisher == nil:
		return nil, errors.New("loadgen: Cursors and Publisher are required")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.Interval <= 0 {
		opts.Interval = 50 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 2 * time.Second
	}
	if opts.ReplyRatio == 0 {
		opts.ReplyRatio = 0.1
	}
	if opts.Seed == 0 {
		opts.Seed = rand.Uint64()
	}
	m, err := collectors.NewMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	f := &Fleet{opts: opts, pub: &countingPublisher{next: opts.Publisher, keep: opts.Keep, notify: opts.OnPublished},
		rnd: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5bd1e995)), t: newTexts()}
	for _, a := range opts.Accounts {
		if a.Platform != tanggap.PlatformX {
			f.Close()
			return nil, fmt.Errorf("loadgen: account %s/%s is not on X", a.Platform, a.Handle)
		}
		fake := xfake.New(xfake.Options{MentionsLimit: 1 << 30, UserTimelineLimit: 1 << 30, AppUserTimelineLimit: 1 << 30})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("loadgen: listen: %w", err)
		}
		srv := &http.Server{Handler: f.failable(fake), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		acc := &account{cfg: a, fake: fake, srv: srv}
		f.accts = append(f.accts, acc)
		tok, sec := fake.Authorize(a.Handle)
		creds := x.Credentials{Bearer: fake.Bearer(), ConsumerKey: "loadgen", ConsumerSecret: "loadgen",
			Users: map[string]x.UserToken{a.Handle: {Token: tok, Secret: sec}}}
		p, err := x.NewPoller(x.Options{Credentials: creds, BaseURL: "http://" + ln.Addr().String(), Logger: opts.Log})
		if err != nil {
			f.Close()
			return nil, err
		}
		r, err := collectors.NewRunner(p, []config.Account{a}, opts.Cursors, f.pub, opts.Log, m, time.Now,
			collectors.RunnerOptions{Interval: opts.Interval, MaxInterval: 4 * opts.Interval, MaxBackoff: opts.MaxBackoff,
				Concurrency: 1, PollTimeout: 10 * time.Second})
		if err != nil {
			f.Close()
			return nil, err
		}
		f.runners = append(f.runners, r)
	}
	return f, nil
}

// failable answers 503 with an empty body (what X's edge sends in an
// outage) while the fleet is failing.
func (f *Fleet) failable(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// SetFailing makes every fake API answer 503 (true) or serve again (false).
func (f *Fleet) SetFailing(on bool) { f.failing.Store(on) }

// Run polls every account until ctx ends.
func (f *Fleet) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, r := range f.runners {
		g.Go(func() error { return r.Run(gctx) })
	}
	return g.Wait()
}

// Close stops the fake APIs.
func (f *Fleet) Close() {
	for _, a := range f.accts {
		a.srv.Close()
	}
}

// Published is how many posts the collectors published (Kafka acked),
// redeliveries included.
func (f *Fleet) Published() int64 { return f.pub.n.Load() }

// Newest returns, per account handle, the cursor a collector that has seen
// everything must hold: the newest mention and the newest own post.
func (f *Fleet) Newest() map[string]x.Cursor {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]x.Cursor, len(f.accts))
	for _, a := range f.accts {
		out[a.cfg.Handle] = x.Cursor{Mentions: a.newestMention, User: a.newestOwn}
	}
	return out
}

// Append generates n posts spread round-robin over the accounts and
// appends them to the fake APIs. Posts are created (platform time) between
// a few seconds and twenty minutes before now; replies are created after
// their parent. It returns what was appended, in order.
func (f *Fleet) Append(n int) []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now().UTC()
	out := make([]Sent, 0, n)
	// Group per account so each fake takes one lock per call.
	batches := make(map[*account][]xfake.Status)
	var order []*account
	for range n {
		a := f.accts[f.nxt%len(f.accts)]
		f.nxt++
		if _, ok := batches[a]; !ok {
			order = append(order, a)
		}
		st := f.statusLocked(a, now)
		// X ids grow in the order posts are indexed; they are unique over
		// every fake (and over fleets made later in the same process).
		f.lastID = max(xfake.Snowflake(now, 0), f.lastID+1)
		st.ID = strconv.FormatInt(f.lastID, 10)
		batches[a] = append(batches[a], st)
	}
	for _, a := range order {
		for _, st := range a.fake.Append(batches[a]...) {
			s := Sent{ID: st.ID, Account: a.cfg.Handle, Author: st.User.ScreenName, CreatedAt: st.CreatedAt,
				ReplyTo: st.InReplyTo, Official: strings.EqualFold(st.User.ScreenName, a.cfg.Handle)}
			if s.Official {
				a.newestOwn = st.ID
			} else {
				a.newestMention = st.ID
				if len(a.open) < 256 && f.rnd.Float64() < 0.5 {
					a.open = append(a.open, st)
				}
			}
			out = append(out, s)
		}
	}
	return out
}

// statusLocked makes one status for account a: an official reply to an
// open complaint of a (ReplyRatio of the time, when one is open) or a
// citizen post mentioning a.
func (f *Fleet) statusLocked(a *account, now time.Time) xfake.Status {
	r, t := f.rnd, &f.t
	if len(a.open) > 0 && r.Float64() < f.opts.ReplyRatio {
		i := r.IntN(len(a.open))
		parent := a.open[i]
		a.open[i] = a.open[len(a.open)-1]
		a.open = a.open[:len(a.open)-1]
		created := parent.CreatedAt.Add(time.Duration(1+r.IntN(5)) * time.Second)
		if created.After(now) {
			created = now
		}
		return xfake.Status{
			CreatedAt: created, User: xfake.User{ScreenName: a.cfg.Handle},
			InReplyTo: parent.ID, InReplyToUser: parent.User,
			Text: "@" + parent.User.ScreenName + " " + pick(r, t.replies),
		}
	}
	user := xfake.User{ScreenName: fmt.Sprintf("warga_bks%04d", r.IntN(5000)), Name: pick(r, t.names)}
	created := now.Add(-time.Duration(5+r.IntN(20*60)) * time.Second)
	var text string
	switch v := r.IntN(20); {
	case v == 0:
		text = fmt.Sprintf(pick(r, t.praise), pick(r, t.places))
	case v == 1:
		text = pick(r, t.questions)
	default:
		text = pick(r, t.problems) + " " + pick(r, t.places)
		if r.IntN(2) == 0 {
			text += fmt.Sprintf(" rt %02d rw %02d", 1+r.IntN(15), 1+r.IntN(20))
		}
		text += " " + pick(r, t.since) + ", " + pick(r, t.pleas)
	}
	return xfake.Status{CreatedAt: created, User: user, Text: "@" + a.cfg.Handle + " " + text}
}

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// texts are the templates, written for this generator.
type texts struct {
	problems, places, since, pleas, praise, questions, replies, names []string
}

func newTexts() texts {
	return texts{
		problems: []string{
			"jalan berlubang parah", "aspal rusak dan banyak lubang", "got mampet tiap hujan", "drainase tersumbat, genangan sampai lutut",
			"sampah numpuk berhari-hari", "tps liar bau busuk", "truk sampah tidak datang seminggu", "lampu jalan mati sudah dua minggu",
			"pju padam, jalan gelap gulita", "parkir liar bikin macet", "lampu merah mati, kendaraan semrawut", "air pam mati dari pagi",
			"air keruh dan bau dari pdam", "pipa bocor air terbuang", "e-ktp belum jadi padahal sudah rekam bulan lalu",
			"akta kelahiran anak belum terbit", "pohon tumbang menutup jalan", "pkl jualan di trotoar, pejalan kaki susah",
			"antrian puskesmas lama sekali", "nyamuk banyak, minta fogging dbd", "bansos tidak cair padahal terdaftar dtks",
			"pungli di kantor kelurahan untuk surat pengantar", "kali meluap, rumah warga kebanjiran",
		},
		places: []string{
			"di jl. ahmad yani", "depan pasar baru", "di kranji", "di jatiasih", "di bantargebang", "di pondok gede",
			"di harapan indah", "di jatisampurna", "di mustikajaya", "di rawalumbu", "di bekasi timur", "di medan satria",
			"di pejuang", "di sumur batu", "di jl. kh noer ali", "dekat stasiun bekasi", "di perumnas 3", "di jaka sampurna",
		},
		since: []string{"sejak kemarin", "sudah tiga hari", "dari minggu lalu", "tiap malam", "pagi ini", "sudah sebulan", "setiap hujan", "dari kemarin sore"},
		pleas: []string{
			"mohon ditindaklanjuti", "tolong segera diperbaiki", "sudah lapor tapi belum ada tindakan", "kapan diperbaiki pak?",
			"warga sudah resah", "mohon perhatiannya", "tolong dicek ke lokasi",
		},
		praise: []string{
			"terima kasih pemkot, jalan %s sudah mulus sekarang", "mantap, pelayanan %s cepat dan ramah",
			"salut sama petugas kebersihan %s",
		},
		questions: []string{
			"min, jadwal car free day minggu ini di mana ya?", "info jam buka mal pelayanan publik hari sabtu dong",
			"kapan pendaftaran ppdb dibuka min?",
		},
		replies: []string{
			"Terima kasih laporannya, sudah kami teruskan ke petugas lapangan.",
			"Mohon maaf atas ketidaknyamanannya, tim kami segera ke lokasi hari ini.",
			"Laporan diterima, mohon kirim titik lokasi lewat DM agar kami tindak lanjuti.",
		},
		names: []string{"Warga Bekasi", "Ibu Rumah Tangga", "Pengendara Motor", "Pedagang Pasar", "Karyawan Swasta", "Mahasiswa"},
	}
}

// Kept returns copies of the first Options.Keep posts the collectors
// published, as they were sent to Kafka.
func (f *Fleet) Kept() []tanggap.Post {
	f.pub.mu.Lock()
	defer f.pub.mu.Unlock()
	return append([]tanggap.Post(nil), f.pub.kept...)
}

// countingPublisher counts what Kafka acknowledged and keeps the first
// posts.
type countingPublisher struct {
	next   collectors.Publisher
	n      atomic.Int64
	keep   int
	notify func([]tanggap.Post)

	mu   sync.Mutex
	kept []tanggap.Post
}

func (p *countingPublisher) Publish(ctx context.Context, posts []tanggap.Post) error {
	if err := p.next.Publish(ctx, posts); err != nil {
		return err
	}
	p.n.Add(int64(len(posts)))
	if p.notify != nil {
		p.notify(posts)
	}
	if p.keep > 0 {
		p.mu.Lock()
		if room := p.keep - len(p.kept); room > 0 {
			p.kept = append(p.kept, posts[:min(room, len(posts))]...)
		}
		p.mu.Unlock()
	}
	return nil
}
