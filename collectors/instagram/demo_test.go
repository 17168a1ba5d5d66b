package instagram_test

import (
	"context"
	"net/http/httptest"
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
	fake := instagramfake.New(instagramfake.WithClock(func() time.Time { return now }))
	ids, err := fake.LoadDemo(posts, now)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	p := instagram.New(instagram.StaticToken("dev"), instagram.WithBaseURL(srv.URL), instagram.WithClock(func() time.Time { return now }))
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
