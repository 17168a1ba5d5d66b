package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
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

// devFakes are the fake platform APIs of `tanggap dev`, one per platform,
// each on a loopback port with the real rate budgets of its platform
// (Instagram 200 calls an hour per account, X 450 mentions requests per
// 15 minutes per app, YouTube 10,000 units a day), so the dev mode shows
// the scheduler spending them. Every watched account of the city config
// exists in its fake; the demo posts are loaded except the youngest fifth
// of each platform, which Drip publishes over time.
type devFakes struct {
	instagram *instagramfake.Server
	facebook  *facebookfake.Server
	x         *xv2fake.Server
	youtube   *youtubefake.Server
	pollers   []platformPoller
	start     time.Time         // the demo set's "now": every load uses it, so ids stay stable
	held      []demo.Post       // held back for Drip, in feed order
	ids       map[string]string // demo key -> item id (platform:post id) of what is loaded
	servers   []*http.Server
}

// startDevFakes starts the fakes with the demo posts created relative to now.
func startDevFakes(cfg *config.Config, posts []demo.Post, now time.Time, igOpts ...instagramfake.Option) (*devFakes, error) {
	f := &devFakes{
		instagram: instagramfake.New(igOpts...),
		facebook:  facebookfake.New(),
		x:         xv2fake.New(),
		youtube:   youtubefake.New(),
		start:     now,
		ids:       map[string]string{},
	}
	serve := func(h http.Handler) (string, error) {
		srv, url, err := serveLocal(h)
		if err != nil {
			return "", fmt.Errorf("dev: fake API: %w", err)
		}
		f.servers = append(f.servers, srv)
		return url, nil
	}
	igURL, err := serve(f.instagram)
	if err != nil {
		f.close()
		return nil, err
	}
	fbURL, err := serve(f.facebook)
	if err != nil {
		f.close()
		return nil, err
	}
	xURL, err := serve(f.x)
	if err != nil {
		f.close()
		return nil, err
	}
	ytURL, err := serve(f.youtube)
	if err != nil {
		f.close()
		return nil, err
	}

	// Every watched account exists, with or without demo posts: a poll of
	// an unknown account would be a coverage gap.
	// Instagram accounts get their ig-user-id: the poller's look-up
	// (me/accounts) reads one page of 100 accounts, and the city watches more.
	igAccts := cfg.WatchedAccounts(tanggap.PlatformInstagram)
	for i, a := range igAccts {
		igAccts[i].ID = f.instagram.AddAccount(strings.TrimPrefix(a.Handle, "@"), a.ID)
	}
	for _, a := range cfg.WatchedAccounts(tanggap.PlatformFacebook) {
		f.facebook.AddPage(strings.TrimPrefix(a.Handle, "@"), "", a.ID)
	}
	for _, a := range cfg.WatchedAccounts(tanggap.PlatformX) {
		f.x.AddUser(strings.TrimPrefix(a.Handle, "@"), "", a.ID)
	}
	for _, a := range cfg.WatchedAccounts(tanggap.PlatformYouTube) {
		h := strings.TrimPrefix(a.Handle, "@")
		if len(h) == 24 && strings.HasPrefix(h, "UC") {
			f.youtube.AddChannel("@"+strings.ToLower(h), "", h) // as youtubefake.LoadDemo names channels given by id
			continue
		}
		f.youtube.AddChannel("@"+h, "", a.ID)
	}

	backlog, held := splitDemo(posts)
	f.held = held
	if err := f.load(backlog); err != nil {
		f.close()
		return nil, err
	}

	f.pollers = []platformPoller{
		{poller: instagram.New(instagram.StaticToken("dev"), instagram.WithBaseURL(igURL)), accounts: igAccts},
		{poller: facebook.New(facebook.StaticToken("dev"), facebook.WithBaseURL(fbURL)), accounts: cfg.WatchedAccounts(tanggap.PlatformFacebook)},
		{poller: xv2.New(xv2.StaticToken("dev"), xv2.WithBaseURL(xURL), xv2.WithBackfill(7*24*time.Hour)), accounts: cfg.WatchedAccounts(tanggap.PlatformX)},
		{poller: youtube.New(youtube.StaticToken("dev"), youtube.WithBaseURL(ytURL+"/youtube/v3")), accounts: cfg.WatchedAccounts(tanggap.PlatformYouTube)},
	}
	return f, nil
}

// splitDemo holds back the youngest fifth of each platform's posts (at
// least one), keeping feed order in both parts. A reply is younger than its
// parent, so a held-back post's replies are held back too.
func splitDemo(posts []demo.Post) (backlog, held []demo.Post) {
	hold := map[string]bool{}
	for _, p := range []tanggap.Platform{tanggap.PlatformInstagram, tanggap.PlatformFacebook, tanggap.PlatformX, tanggap.PlatformYouTube} {
		mine := demo.ForPlatform(posts, p)
		if len(mine) < 2 {
			continue
		}
		sort.SliceStable(mine, func(i, j int) bool { return mine[i].MinutesAgo < mine[j].MinutesAgo })
		for _, d := range mine[:max(1, len(mine)/5)] {
			hold[d.Key] = true
		}
	}
	for _, p := range posts {
		if hold[p.Key] {
			held = append(held, p)
		} else {
			backlog = append(backlog, p)
		}
	}
	return backlog, held
}

// load publishes demo posts in their fakes.
func (f *devFakes) load(posts []demo.Post) error {
	for _, l := range []struct {
		p    tanggap.Platform
		load func([]demo.Post, time.Time) (map[string]string, error)
	}{
		{tanggap.PlatformInstagram, f.instagram.LoadDemo},
		{tanggap.PlatformFacebook, f.facebook.LoadDemo},
		{tanggap.PlatformX, f.x.LoadDemo},
		{tanggap.PlatformYouTube, f.youtube.LoadDemo},
	} {
		ids, err := l.load(posts, f.start)
		if err != nil {
			return err
		}
		for k, id := range ids {
			f.ids[k] = tanggap.ItemID(l.p, id)
		}
	}
	return nil
}

// drip publishes the held-back posts one at a time, one every interval,
// until all are in (then it returns nil) or ctx ends (nil too: stopping
// the demo is not an error).
func (f *devFakes) drip(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for _, p := range f.held {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := f.load([]demo.Post{p}); err != nil {
			return err
		}
	}
	return nil
}

func (f *devFakes) close() {
	f.instagram.Close()
	for _, s := range f.servers {
		s.Close()
	}
}
