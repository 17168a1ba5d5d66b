package xv2_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
	"github.com/tanggap/tanggap/collectors/xv2"
	"github.com/tanggap/tanggap/collectors/xv2/xv2fake"
	"github.com/tanggap/tanggap/config"
)

// TestDemoThroughTheFake replays the demo set through the fake and polls
// every watched account: each demo post is published, with its parent and
// its conversation, and each official reply reaches its thread.
func TestDemoThroughTheFake(t *testing.T) {
	posts, err := demo.Load()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC)
	fake := xv2fake.New(xv2fake.WithClock(func() time.Time { return now }))
	ids, err := fake.LoadDemo(posts, now)
	if err != nil {
		t.Fatal(err)
	}
	again, err := fake.LoadDemo(nil, now)
	if err != nil || len(again) != 0 {
		t.Fatalf("empty reload: %v %v", again, err)
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	p := xv2.New(xv2.StaticToken("dev"), xv2.WithBaseURL(srv.URL), xv2.WithClock(func() time.Time { return now }), xv2.WithBackfill(7*24*time.Hour))

	accounts := map[string]bool{}
	for _, d := range demo.ForPlatform(posts, tanggap.PlatformX) {
		accounts[d.Account] = true
	}
	got := map[string]tanggap.Post{}
	for handle := range accounts {
		b, err := p.Poll(context.Background(), config.Account{Platform: tanggap.PlatformX, Handle: handle}, "")
		if err != nil {
			t.Fatalf("%s: %v", handle, err)
		}
		for _, post := range b.Posts {
			got[post.ID] = post
		}
	}
	byKey := map[string]demo.Post{}
	for _, d := range posts {
		byKey[d.Key] = d
	}
	for _, d := range demo.ForPlatform(posts, tanggap.PlatformX) {
		post, ok := got[ids[d.Key]]
		if !ok {
			t.Errorf("demo post %s (%s under %s) not published", d.Key, d.Author, d.Account)
			continue
		}
		if post.Author != d.Author || !post.CreatedAt.Equal(now.Add(-time.Duration(d.MinutesAgo)*time.Minute)) {
			t.Errorf("%s: author %q created %v", d.Key, post.Author, post.CreatedAt)
		}
		if d.ReplyTo != "" && post.ParentID != ids[d.ReplyTo] {
			t.Errorf("%s: parent %s, want %s", d.Key, post.ParentID, ids[d.ReplyTo])
		}
		root := d
		for root.ReplyTo != "" {
			root = byKey[root.ReplyTo]
		}
		if post.ThreadID != ids[root.Key] {
			t.Errorf("%s: thread %s, want %s (%s)", d.Key, post.ThreadID, ids[root.Key], root.Key)
		}
	}
}
