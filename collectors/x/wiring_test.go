package x_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/demo"
	"github.com/tanggap/tanggap/collectors/x"
	"github.com/tanggap/tanggap/collectors/x/xfake"
	"github.com/tanggap/tanggap/config"
)

type memPublisher struct {
	mu    sync.Mutex
	posts map[string]tanggap.Post
	n     int
}

func (p *memPublisher) Publish(_ context.Context, posts []tanggap.Post) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, post := range posts {
		p.posts[post.ID] = post
		p.n++
	}
	return nil
}

func (p *memPublisher) count() (distinct, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.posts), p.n
}

type memCursors struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *memCursors) Cursor(_ context.Context, p tanggap.Platform, a string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[string(p)+"/"+a], nil
}

func (c *memCursors) SetCursor(_ context.Context, p tanggap.Platform, a, cur string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[string(p)+"/"+a] = cur
	return nil
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDevWiring runs what `tanggap dev` runs for X: the demo set in the
// fake X API, the go-twitter poller and the Runner, then a revoked token.
func TestDevWiring(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	posts, err := demo.Load()
	if err != nil {
		t.Fatal(err)
	}

	// Dev mode polls every ~100 ms: give the fake generous windows, or the
	// Runner (rightly) spreads X's real 75 mentions per 15 minutes.
	fake := xfake.New(xfake.Options{MentionsLimit: 1 << 30, UserTimelineLimit: 1 << 30, AppUserTimelineLimit: 1 << 30})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	if _, err := fake.LoadDemo(posts, time.Now()); err != nil {
		t.Fatal(err)
	}
	accts := cfg.WatchedAccounts(tanggap.PlatformX)
	creds := x.Credentials{Bearer: fake.Bearer(), ConsumerKey: "dev", ConsumerSecret: "dev", Users: map[string]x.UserToken{}}
	for _, a := range accts {
		tok, sec := fake.Authorize(a.Handle)
		creds.Users[a.Handle] = x.UserToken{Token: tok, Secret: sec}
	}
	poller, err := x.NewPoller(x.Options{Credentials: creds, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	m, err := collectors.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	pub := &memPublisher{posts: map[string]tanggap.Post{}}
	runner, err := collectors.NewRunner(poller, accts, &memCursors{m: map[string]string{}}, pub,
		slog.New(slog.DiscardHandler), m, time.Now, collectors.RunnerOptions{Interval: 20 * time.Millisecond, AuthRetry: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()

	want := len(demo.ForPlatform(posts, tanggap.PlatformX))
	eventually(t, "every demo X post published", func() bool { d, _ := pub.count(); return d == want })

	// A new complaint dripped in later is picked up.
	fake.Append(xfake.Status{Text: "@TirtaPatriot air mati lagi di Jatimekar", User: xfake.User{ScreenName: "warga_baru"}})
	eventually(t, "a new post published", func() bool { d, _ := pub.count(); return d == want+1 })

	// A revoked token shows as a coverage gap.
	fake.Revoke("kotabekasi")
	fake.Append(xfake.Status{Text: "@kotabekasi halo", User: xfake.User{ScreenName: "warga_baru"}})
	eventually(t, "the gap of a revoked token", func() bool {
		for _, c := range runner.Coverage() {
			if c.Account == "kotabekasi" {
				return c.GapReason == collectors.GapTokenExpired
			}
		}
		return false
	})

	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, c := range runner.Coverage() {
		if c.Account != "kotabekasi" && (c.GapReason != "" || c.LastSuccess.IsZero()) {
			t.Errorf("coverage of %s: %+v", c.Account, c)
		}
	}
}
