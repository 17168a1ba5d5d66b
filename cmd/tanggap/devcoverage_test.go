package main

import (
	"context"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/demo"
	"github.com/tanggap/tanggap/collectors/instagram"
	"github.com/tanggap/tanggap/collectors/instagram/instagramfake"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/workflow"
)

// TestDevFakesServeEveryDemoPost runs the dev fakes with the real pollers:
// every demo post of the four platforms is published, those held back
// once the drip has run; no watched account is a gap.
func TestDevFakesServeEveryDemoPost(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	posts, err := demo.Load()
	if err != nil {
		t.Fatal(err)
	}
	// The posts on media of accounts the city does not watch come by the
	// mentions webhook, read through the mentioned account.
	// The fakes send webhooks while they load, before startDevFakes has
	// returned their poller: until then the receiver answers 503, and the
	// fake sends again, as Meta does.
	pub := &recordingPublisher{seen: map[string]time.Time{}}
	var igPoller atomic.Pointer[platformPoller]
	secret := []byte("dev-test-secret")
	hook := httptest.NewServer(&instagram.WebhookHandler{AppSecret: secret, Log: slog.New(slog.DiscardHandler),
		Enqueue: func(ctx context.Context, ms []instagram.Mention) error {
			ig := igPoller.Load()
			if ig == nil {
				return errors.New("not ready")
			}
			for _, m := range ms {
				post, err := ig.poller.(*instagram.Poller).Mentions(ig.accounts, nil).Resolve(ctx, m)
				if err != nil {
					return err
				}
				if err := pub.Publish(ctx, []tanggap.Post{post}); err != nil {
					return err
				}
			}
			return nil
		}})
	defer hook.Close()
	f, err := startDevFakes(cfg, posts, time.Now(), instagramfake.WithWebhook(hook.URL, secret))
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	igPoller.Store(&f.pollers[0])
	if len(f.held) == 0 || len(f.held) > len(posts)/4 {
		t.Errorf("%d of %d posts held back for the drip", len(f.held), len(posts))
	}
	for _, p := range []tanggap.Platform{tanggap.PlatformInstagram, tanggap.PlatformX, tanggap.PlatformFacebook, tanggap.PlatformYouTube} {
		if len(demo.ForPlatform(f.held, p)) == 0 {
			t.Errorf("nothing of %s dripped", p)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.drip(ctx, time.Millisecond); err != nil {
		t.Fatal(err)
	}

	// One poll of every account that has demo posts (the others once too:
	// they must answer, empty).
	for _, pp := range f.pollers {
		for _, a := range pp.accounts {
			b, err := pp.poller.Poll(ctx, a, "")
			if err != nil {
				t.Errorf("%s/%s: %v", a.Platform, a.Handle, err)
				continue
			}
			if err := pub.Publish(ctx, b.Posts); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.instagram.WaitDeliveries(10 * time.Second)
	pub.mu.Lock()
	defer pub.mu.Unlock()
	for _, p := range posts {
		if id := f.ids[p.Key]; id == "" {
			t.Errorf("demo post %s (%s) not loaded", p.Key, p.Platform)
		} else if _, ok := pub.seen[id]; !ok {
			t.Errorf("demo post %s (%s under %s) not published", p.Key, p.Platform, p.Account)
		}
	}
}

// TestDevShowsCoverageGap: in `tanggap dev`, a fault the fake Instagram
// API injects (the account's call budget exhausted) reaches the web
// banner, "Instagram @humaskotabekasi belum terpantau ...: batas API",
// through the Runner's Coverage, reportCoverage and Redis.
func TestDevShowsCoverageGap(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	posts, err := demo.Load()
	if err != nil {
		t.Fatal(err)
	}
	f, err := startDevFakes(cfg, posts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	uid, ok := f.instagram.AccountID("humaskotabekasi")
	if !ok {
		t.Fatal("no humaskotabekasi in the fake")
	}
	fault := instagramfake.Throttled(80002)
	fault.Path, fault.Times = "/"+uid+"/", -1
	f.instagram.Inject(fault)

	var ig platformPoller
	for _, pp := range f.pollers {
		if pp.poller.Platform() == tanggap.PlatformInstagram {
			ig.poller = pp.poller
			for _, a := range pp.accounts {
				if a.Handle == "humaskotabekasi" || a.Handle == "bmsdakotabekasi" {
					ig.accounts = append(ig.accounts, a)
				}
			}
		}
	}
	st := store.New(testRedis(t), "devgap"+strconv.FormatInt(time.Now().UnixNano()%1e9, 10), nil)
	reg := newRegistry()
	runners, err := newRunners([]platformPoller{ig}, cfg, st, &recordingPublisher{seen: map[string]time.Time{}}, reg, log,
		collectors.RunnerOptions{Interval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	clocks, err := workflow.NewClocks(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newWeb(cfg, st, clocks, reg, log, webSettings{})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(srv)
	defer web.Close()
	if err := st.PutUser(ctx, store.User{Login: "humas", Name: "Humas", Role: "ppid_utama"}, "kata-sandi-uji-1", true); err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(rctx)
	startRunners(gctx, g, runners, st, log)

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	res, err := client.PostForm(web.URL+"/masuk", url.Values{"login": {"humas"}, "password": {"kata-sandi-uji-1"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	banner := regexp.MustCompile(`<div class="banner gap"[^>]*>([^<]*)</div>`)
	var gaps []string
	waitFor(t, ctx, "the banner of the throttled account (coverage is reported every 10s)", func() bool {
		res, err := client.Get(web.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		gaps = gaps[:0]
		for _, m := range banner.FindAllStringSubmatch(string(body), -1) {
			if g := html.UnescapeString(m[1]); strings.Contains(g, "terpantau") { // not the holiday table's warning
				gaps = append(gaps, g)
			}
		}
		return len(gaps) > 0
	})
	if len(gaps) != 1 || !strings.HasPrefix(gaps[0], "Instagram @humaskotabekasi belum terpantau ") || !strings.HasSuffix(gaps[0], ": batas API") {
		t.Errorf("banners %q, want one for @humaskotabekasi: batas API", gaps)
	}
	t.Logf("banner: %s", gaps[0])
	stop()
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}
