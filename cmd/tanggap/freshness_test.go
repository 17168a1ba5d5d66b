package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/facebook"
	"github.com/tanggap/tanggap/collectors/facebook/facebookfake"
	"github.com/tanggap/tanggap/collectors/instagram"
	"github.com/tanggap/tanggap/collectors/instagram/instagramfake"
	"github.com/tanggap/tanggap/collectors/xv2"
	"github.com/tanggap/tanggap/collectors/xv2/xv2fake"
	"github.com/tanggap/tanggap/collectors/youtube"
	"github.com/tanggap/tanggap/collectors/youtube/youtubefake"
	"github.com/tanggap/tanggap/config"
)

// TestFreshnessFigure measures how fresh the collectors keep the posts
// under the platforms' real limits: the fake APIs enforce X mentions 450
// requests per 15 minutes per app, Instagram 200 calls per hour per
// account, YouTube 10,000 units a day (Facebook 200 calls per hour per
// page); 20 watched accounts with 200 active posts; citizen comments
// arriving at a daily rhythm. The real pollers and the production Runner
// configuration (newRunners) run in a synctest bubble, so hours of
// simulated time take seconds, and the HTTP calls go straight to the fake
// handlers. It reports the median and the 95th percentile of the time
// from a post's creation to its publication (the Publisher's return:
// Kafka acknowledged).
//
// It runs only when asked for by name:
//
//	go test -run TestFreshnessFigure -v ./cmd/tanggap/
//
// TANGGAP_FRESHNESS_HOURS sets the simulated time (default 12, from 07:00
// WIB); TANGGAP_FRESHNESS_RATE the citizen posts per hour on average over a
// day (default 25, about 600 a day; the hourly rhythm peaks at 1.8 times it).
func TestFreshnessFigure(t *testing.T) {
	if f := flag.Lookup("test.run"); f == nil || !strings.Contains(f.Value.String(), "Freshness") {
		t.Skip("a simulation for the figure: run it with -run TestFreshnessFigure")
	}
	hours, rate := 12, 25.0
	if v, err := strconv.Atoi(os.Getenv("TANGGAP_FRESHNESS_HOURS")); err == nil && v > 0 {
		hours = v
	}
	if v, err := strconv.ParseFloat(os.Getenv("TANGGAP_FRESHNESS_RATE"), 64); err == nil && v > 0 {
		rate = v
	}
	synctest.Test(t, func(t *testing.T) {
		res := simulateFreshness(t, time.Duration(hours)*time.Hour, rate)
		t.Logf("simulated %dh from %s WIB at %.0f posts/hour on average: %d citizen posts, %d published (%d never)", hours,
			res.start.In(time.FixedZone("WIB", 7*3600)).Format("15:04"), rate, res.created, len(res.latencies), res.created-len(res.latencies))
		for _, p := range res.platforms {
			t.Logf("  %-9s posts %4d  median %6.1fs  p95 %6.1fs  max %6.1fs  polls %5d  refused by the API %d",
				p.name, p.n, p.median.Seconds(), p.p95.Seconds(), p.max.Seconds(), p.polls, p.refused)
		}
		t.Logf("ALL       posts %4d  median %6.1fs  p95 %6.1fs  max %6.1fs", len(res.latencies),
			res.median.Seconds(), res.p95.Seconds(), res.max.Seconds())
		if res.median > time.Minute || res.p95 > 5*time.Minute {
			t.Errorf("median %v, p95 %v: the target is median <= 60s, p95 <= 5m", res.median, res.p95)
		}
		if res.created != len(res.latencies) {
			t.Errorf("%d posts never published", res.created-len(res.latencies))
		}
	})
}

type freshness struct {
	start            time.Time
	created          int
	latencies        []time.Duration
	median, p95, max time.Duration
	platforms        []platformFreshness
}

type platformFreshness struct {
	name             string
	n                int
	median, p95, max time.Duration
	polls, refused   int
}

// handlerTransport serves requests with a handler in the same goroutine:
// no sockets, so the synctest bubble sees every wait.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	res := rec.Result()
	res.Request = req
	return res, nil
}

// recordingPublisher notes when each post was first published.
type recordingPublisher struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (p *recordingPublisher) Publish(_ context.Context, posts []tanggap.Post) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	for _, x := range posts {
		if _, ok := p.seen[x.ItemID()]; !ok {
			p.seen[x.ItemID()] = now
		}
	}
	return nil
}

type memCursorStore struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *memCursorStore) Cursor(_ context.Context, p tanggap.Platform, a string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[string(p)+"/"+a], nil
}

func (c *memCursorStore) SetCursor(_ context.Context, p tanggap.Platform, a, cur string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[string(p)+"/"+a] = cur
	return nil
}

// simAccount is one watched account of the simulation and its active posts.
type simAccount struct {
	platform tanggap.Platform
	handle   string
	id       string   // ig-user-id, page id, X user id, channel id
	posts    []string // active posts (media, page posts, tweets, videos), newest first
	comments map[string][]string
}

// simulateFreshness runs the collectors for d with about perHour citizen
// posts an hour on average. Call it inside a synctest bubble.
func simulateFreshness(t *testing.T, d time.Duration, perHour float64) freshness {
	start := time.Now()
	rnd := rand.New(rand.NewPCG(2026, 3))
	ig := instagramfake.New() // 200 calls per hour per account
	fb := facebookfake.New()  // 200 calls per hour per page
	xf := xv2fake.New()       // mentions 450 per 15 minutes per app
	yt := youtubefake.New()   // 10,000 units a day, reset at midnight Pacific
	client := func(h http.Handler) *http.Client { return &http.Client{Transport: handlerTransport{h}} }

	// 20 real Bekasi accounts, busiest first within each platform.
	handles := map[tanggap.Platform][]string{
		tanggap.PlatformInstagram: {"humaskotabekasi", "pemkot_bekasi", "mastriadhianto", "bmsdakotabekasi", "dishubbekasikota",
			"dinaslh_kotabekasi", "TirtaPatriot", "dinkeskotabekasi", "disdukcapilkotabekasi", "disdamkarmatkotabekasi.id"},
		tanggap.PlatformX:        {"humasbekasikota", "pemkotbekasi", "TirtaPatriot", "dlh_kotabekasi", "kotabekasi"},
		tanggap.PlatformFacebook: {"pemkotbekasi", "PerumdaTirtaPatriot", "DinasLingkunganHidupKotaBekasi"},
		tanggap.PlatformYouTube:  {"pemkotbekasi", "@MasTriAdhianto"},
	}
	// 200 active posts: 10 per account, one every ~16 hours over the week.
	var accts []*simAccount
	byPlatform := map[tanggap.Platform][]*simAccount{}
	for _, p := range []tanggap.Platform{tanggap.PlatformInstagram, tanggap.PlatformX, tanggap.PlatformFacebook, tanggap.PlatformYouTube} {
		for _, h := range handles[p] {
			a := &simAccount{platform: p, handle: h, comments: map[string][]string{}}
			switch p {
			case tanggap.PlatformInstagram:
				a.id = ig.AddAccount(h, "")
			case tanggap.PlatformX:
				a.id = xf.AddUser(h, "", "")
			case tanggap.PlatformFacebook:
				a.id = fb.AddPage(h, "", "")
			case tanggap.PlatformYouTube:
				a.id = yt.AddChannel(h, "", "")
			}
			for i := range 10 {
				at := start.Add(-time.Duration(i)*16*time.Hour - time.Duration(rnd.IntN(600))*time.Minute)
				text := fmt.Sprintf("Informasi layanan publik Kota Bekasi nomor %d", i)
				var id string
				switch p {
				case tanggap.PlatformInstagram:
					id = ig.AddMedia(instagramfake.Media{Owner: a.id, Caption: text, Timestamp: at})
				case tanggap.PlatformX:
					id = xf.AddTweet(xv2fake.Tweet{AuthorID: a.id, Text: text, Created: at})
				case tanggap.PlatformFacebook:
					id = fb.AddPost(facebookfake.Post{PageID: a.id, Message: text, Created: at})
				case tanggap.PlatformYouTube:
					id = yt.NewVideoID()
				}
				a.posts = append(a.posts, id)
			}
			accts = append(accts, a)
			byPlatform[p] = append(byPlatform[p], a)
		}
	}
	citizen := 0
	comment := func(a *simAccount, post, parent string, at time.Time) string {
		citizen++
		user := fmt.Sprintf("warga_%d", citizen%400)
		text := fmt.Sprintf("Mohon ditindaklanjuti, laporan warga nomor %d", citizen)
		switch a.platform {
		case tanggap.PlatformInstagram:
			return ig.AddComment(instagramfake.Comment{MediaID: post, ParentID: parent, Text: text, Username: user, Timestamp: at})
		case tanggap.PlatformX:
			author := xf.AddUser(user, "", "")
			reply := post
			if parent != "" {
				reply = parent
			}
			return xf.AddTweet(xv2fake.Tweet{AuthorID: author, Text: "@" + a.handle + " " + text, Created: at, ReplyTo: reply})
		case tanggap.PlatformFacebook:
			return fb.AddComment(facebookfake.Comment{PostID: post, ParentID: parent, Message: text, FromID: "2600" + strconv.Itoa(citizen%400), FromName: user, Created: at})
		default:
			return yt.AddComment(youtubefake.Comment{ChannelID: a.id, VideoID: post, ParentID: parent, Text: text, AuthorName: "@" + user, Published: at})
		}
	}
	// A backlog: comments written before the collectors start.
	for _, a := range accts {
		for _, post := range a.posts[:5] {
			for range 3 {
				id := comment(a, post, "", start.Add(-time.Duration(1+rnd.IntN(600))*time.Minute))
				a.comments[post] = append(a.comments[post], id)
			}
		}
	}

	var pollers []platformPoller
	for _, p := range []tanggap.Platform{tanggap.PlatformInstagram, tanggap.PlatformX, tanggap.PlatformFacebook, tanggap.PlatformYouTube} {
		var cas []config.Account
		for _, a := range byPlatform[p] {
			ca := config.Account{Platform: p, Handle: a.handle, Owner: "city"}
			if p == tanggap.PlatformInstagram {
				ca.ID = a.id
			}
			cas = append(cas, ca)
		}
		var poller collectors.Poller
		switch p {
		case tanggap.PlatformInstagram:
			poller = instagram.New(instagram.StaticToken("sim"), instagram.WithBaseURL("http://graph.fake"), instagram.WithHTTPClient(client(ig)))
		case tanggap.PlatformX:
			poller = xv2.New(xv2.StaticToken("sim"), xv2.WithBaseURL("http://x.fake"), xv2.WithHTTPClient(client(xf)))
		case tanggap.PlatformFacebook:
			poller = facebook.New(facebook.StaticToken("sim"), facebook.WithBaseURL("http://graph.fake"), facebook.WithHTTPClient(client(fb)))
		case tanggap.PlatformYouTube:
			poller = youtube.New(youtube.StaticToken("sim"), youtube.WithBaseURL("http://youtube.fake/youtube/v3"), youtube.WithHTTPClient(client(yt)))
		}
		pollers = append(pollers, platformPoller{poller: poller, accounts: cas})
	}
	pub := &recordingPublisher{seen: map[string]time.Time{}}
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// As `tanggap collect` runs them (its -interval default).
	runners, err := newRunners(pollers, nil, &memCursorStore{m: map[string]string{}}, pub, reg, log, collectors.RunnerOptions{Interval: 30 * time.Second, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
	}

	// Citizen posts: a daily rhythm (Jakarta time), most on Instagram,
	// busy accounts and recent posts first, a quarter of them replies.
	wib := time.FixedZone("WIB", 7*3600)
	rhythm := [24]float64{0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 0.9, 1.6, 1.7, 1.5, 1.2, 1.2, 1.4, 1.3, 1.0, 1.0, 1.1, 1.3, 1.3, 1.7, 1.8, 1.6, 1.1, 0.5}
	share := map[tanggap.Platform]float64{tanggap.PlatformInstagram: 0.6, tanggap.PlatformX: 0.2, tanggap.PlatformFacebook: 0.12, tanggap.PlatformYouTube: 0.08}
	pick := func(weights []float64) int {
		var sum float64
		for _, w := range weights {
			sum += w
		}
		x := rnd.Float64() * sum
		for i, w := range weights {
			if x < w {
				return i
			}
			x -= w
		}
		return len(weights) - 1
	}
	created := map[string]time.Time{}
	end := start.Add(d)
	stopArrivals := end.Add(-20 * time.Minute) // the last posts get time to be collected
	for now := start; ; {
		rate := perHour * rhythm[now.In(wib).Hour()] / 3600 // per second
		now = now.Add(time.Duration(-math.Log(1-rnd.Float64()) / rate * float64(time.Second)))
		if !now.Before(stopArrivals) {
			break
		}
		time.Sleep(time.Until(now))
		var p tanggap.Platform
		switch i := pick([]float64{share[tanggap.PlatformInstagram], share[tanggap.PlatformX], share[tanggap.PlatformFacebook], share[tanggap.PlatformYouTube]}); i {
		case 0:
			p = tanggap.PlatformInstagram
		case 1:
			p = tanggap.PlatformX
		case 2:
			p = tanggap.PlatformFacebook
		default:
			p = tanggap.PlatformYouTube
		}
		as := byPlatform[p]
		aw := make([]float64, len(as))
		for i := range aw {
			aw[i] = 1 / float64(i+1)
		}
		a := as[pick(aw)]
		pw := make([]float64, len(a.posts))
		for i := range pw {
			pw[i] = math.Pow(0.6, float64(i))
		}
		post := a.posts[pick(pw)]
		parent := ""
		if cs := a.comments[post]; len(cs) > 0 && rnd.Float64() < 0.25 {
			parent = cs[rnd.IntN(len(cs))]
		}
		id := comment(a, post, parent, time.Now())
		if parent == "" {
			a.comments[post] = append(a.comments[post], id)
		}
		created[string(p)+":"+id] = time.Now()
	}
	time.Sleep(time.Until(end))
	cancel()
	wg.Wait()

	res := freshness{start: start, created: len(created)}
	perPlatform := map[tanggap.Platform][]time.Duration{}
	pub.mu.Lock()
	for id, at := range created {
		if got, ok := pub.seen[id]; ok {
			l := got.Sub(at)
			res.latencies = append(res.latencies, l)
			p, _, _ := tanggap.SplitItemID(id)
			perPlatform[p] = append(perPlatform[p], l)
		}
	}
	pub.mu.Unlock()
	res.median, res.p95, res.max = quantiles(res.latencies)
	for _, p := range []tanggap.Platform{tanggap.PlatformInstagram, tanggap.PlatformX, tanggap.PlatformFacebook, tanggap.PlatformYouTube} {
		pf := platformFreshness{name: string(p), n: len(perPlatform[p])}
		pf.median, pf.p95, pf.max = quantiles(perPlatform[p])
		for _, a := range byPlatform[p] {
			for _, r := range []string{collectors.ResultOK, collectors.ResultEmpty} {
				pf.polls += int(testutil.ToFloat64(metricPolls(t, reg, string(p), a.handle, r)))
			}
			pf.refused += int(testutil.ToFloat64(metricPolls(t, reg, string(p), a.handle, collectors.ResultRateLimited)))
		}
		res.platforms = append(res.platforms, pf)
	}
	return res
}

func quantiles(ls []time.Duration) (median, p95, max time.Duration) {
	if len(ls) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(ls)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(math.Ceil(q*float64(len(s))))-1)] }
	return at(0.5), at(0.95), s[len(s)-1]
}

// metricPolls reads tanggap_collector_polls_total for one series.
func metricPolls(t *testing.T, reg *prometheus.Registry, platform, account, result string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x"})
	for _, mf := range mfs {
		if mf.GetName() != "tanggap_collector_polls_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["platform"] == platform && labels["account"] == account && labels["result"] == result {
				g.Set(m.GetCounter().GetValue())
			}
		}
	}
	return g
}
