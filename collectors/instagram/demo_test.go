package instagram_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
	"github.com/tanggap/tanggap/collectors/instagram"
	"github.com/tanggap/tanggap/collectors/instagram/instagramfake"
	"github.com/tanggap/tanggap/config"
)

// TestDemoThroughTheFake replays the demo set through the fake and polls
// every watched account: each demo post is published once, replies under
// their parent, official replies by the account.
func TestDemoThroughTheFake(t *testing.T) {
	posts, err := demo.Load()
	if err != nil {
		t.Fatal(err)
	}
	mine := demo.ForPlatform(posts, tanggap.PlatformInstagram)
	if len(mine) == 0 {
		t.Skip("no Instagram posts in the demo set")
	}
	now := time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC)
	// Comments on others' media (MediaOf) come by the mentions webhook,
	// read through the mentioned account.
	var p *instagram.Poller
	var accounts []config.Account
	var mu sync.Mutex
	mentioned := map[string]tanggap.Post{}
	hook := httptest.NewServer(&instagram.WebhookHandler{AppSecret: appSecret, Log: slog.New(slog.DiscardHandler),
		Enqueue: func(ctx context.Context, ms []instagram.Mention) error {
			for _, m := range ms {
				post, err := p.Mentions(accounts, nil).Resolve(ctx, m)
				if err != nil {
					t.Errorf("mention %+v: %v", m, err)
					continue
				}
				mu.Lock()
				mentioned[post.ID] = post
				mu.Unlock()
			}
			return nil
		}})
	defer hook.Close()
	fake := instagramfake.New(instagramfake.WithClock(func() time.Time { return now }), instagramfake.WithWebhook(hook.URL, appSecret))
	defer fake.Close()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	p = instagram.New(instagram.StaticToken("dev"), instagram.WithBaseURL(srv.URL), instagram.WithClock(func() time.Time { return now }))
	for _, d := range mine {
		accounts = append(accounts, config.Account{Platform: tanggap.PlatformInstagram, Handle: d.Account})
	}
	ids, err := fake.LoadDemo(posts, now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]tanggap.Post{}
	for _, d := range mine {
		b, err := p.Poll(context.Background(), config.Account{Platform: tanggap.PlatformInstagram, Handle: d.Account}, "")
		if err != nil {
			t.Fatalf("%s: %v", d.Account, err)
		}
		for _, post := range b.Posts {
			got[post.ID] = post
		}
	}
	fake.WaitDeliveries(10 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	n := 0
	for _, d := range mine {
		if d.MediaOf == "" {
			continue
		}
		n++
		post, ok := mentioned[ids[d.Key]]
		switch _, polled := got[ids[d.Key]]; {
		case polled:
			t.Errorf("%s: polled, but it is on %s's media", d.Key, d.MediaOf)
		case !ok:
			t.Errorf("%s: no mention received", d.Key)
		case post.Account != d.Account || post.Interaction != tanggap.InteractionMention:
			t.Errorf("%s: mention of %q as %q", d.Key, post.Account, post.Interaction)
		}
		got[ids[d.Key]] = post
	}
	if n == 0 {
		t.Error("no demo post comes by a mention")
	}
	byKey := map[string]demo.Post{}
	for _, d := range mine {
		byKey[d.Key] = d
	}
	// Instagram keeps one level of replies: a reply to a reply hangs under
	// the top-level comment; a comment on an official post has no parent.
	parentOf := func(d demo.Post) string {
		k := d.ReplyTo
		if k == "" || (byKey[k].Official && byKey[k].ReplyTo == "") {
			return ""
		}
		for byKey[k].ReplyTo != "" && !(byKey[byKey[k].ReplyTo].Official && byKey[byKey[k].ReplyTo].ReplyTo == "") {
			k = byKey[k].ReplyTo
		}
		return ids[k]
	}
	for _, d := range mine {
		post, ok := got[ids[d.Key]]
		switch {
		case !ok:
			t.Errorf("demo post %s not published", d.Key)
		case post.Text != d.Text || !post.CreatedAt.Equal(now.Add(-time.Duration(d.MinutesAgo)*time.Minute)):
			t.Errorf("%s: text %q created %v", d.Key, post.Text, post.CreatedAt)
		case post.ParentID != parentOf(d):
			t.Errorf("%s: parent %q, want %q", d.Key, post.ParentID, parentOf(d))
		case d.Official && post.Author != d.Account:
			t.Errorf("%s: official author %q", d.Key, post.Author)
		}
	}
}
