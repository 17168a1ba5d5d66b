package youtube_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
	"github.com/tanggap/tanggap/collectors/youtube"
	"github.com/tanggap/tanggap/collectors/youtube/youtubefake"
	"github.com/tanggap/tanggap/config"
)

// TestDemoThroughTheFake replays the demo set (plus a YouTube thread: the
// set has none yet) through the fake and polls every watched channel.
func TestDemoThroughTheFake(t *testing.T) {
	posts, err := demo.Load()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC)
	posts = append(posts,
		demo.Post{Key: "t-yt-jalan", Platform: tanggap.PlatformYouTube, Account: "pemkotbekasi", Author: "warga_rawalumbu", Text: "Jalan Siliwangi berlubang", MinutesAgo: 120},
		demo.Post{Key: "t-yt-jalan-warga", Platform: tanggap.PlatformYouTube, Account: "pemkotbekasi", Author: "warga_rawalumbu", Text: "Terima kasih", MinutesAgo: 20, ReplyTo: "t-yt-jalan-balas"},
		demo.Post{Key: "t-yt-jalan-balas", Platform: tanggap.PlatformYouTube, Account: "pemkotbekasi", Author: "pemkotbekasi", Text: "Sudah diteruskan ke DBMSDA", MinutesAgo: 60, ReplyTo: "t-yt-jalan", Official: true},
		demo.Post{Key: "t-yt-dukcapil", Platform: tanggap.PlatformYouTube, Account: "UCPsvy0fMeCtkgrkZYD9_juQ", Author: "ibu_ani", Text: "Cetak KTP lama sekali", MinutesAgo: 45},
	)
	mine := demo.ForPlatform(posts, tanggap.PlatformYouTube)
	fake := youtubefake.New(youtubefake.WithClock(func() time.Time { return now }))
	ids, err := fake.LoadDemo(posts, now)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	p := youtube.New(youtube.StaticToken("dev"), youtube.WithBaseURL(srv.URL+"/youtube/v3"), youtube.WithClock(func() time.Time { return now }))
	got := map[string]tanggap.Post{}
	for _, d := range mine {
		b, err := p.Poll(context.Background(), config.Account{Platform: tanggap.PlatformYouTube, Handle: d.Account}, "")
		if err != nil {
			t.Fatalf("%s: %v", d.Account, err)
		}
		for _, post := range b.Posts {
			got[post.ID] = post
		}
	}
	want := map[string]struct{ parent, thread string }{
		"t-yt-jalan":       {"", ids["t-yt-jalan"]},
		"t-yt-jalan-balas": {ids["t-yt-jalan"], ids["t-yt-jalan"]},
		"t-yt-jalan-warga": {ids["t-yt-jalan"], ids["t-yt-jalan"]}, // one level of replies
		"t-yt-dukcapil":    {"", ids["t-yt-dukcapil"]},
	}
	byKey := map[string]demo.Post{}
	for _, d := range mine {
		byKey[d.Key] = d
	}
	for _, d := range mine {
		post, ok := got[ids[d.Key]]
		w, listed := want[d.Key]
		if !listed { // the demo set's own threads: one level of replies
			top := d.Key
			for byKey[top].ReplyTo != "" {
				top = byKey[top].ReplyTo
			}
			w.thread = ids[top]
			if top != d.Key {
				w.parent = ids[top]
			}
		}
		switch {
		case !ok:
			t.Errorf("demo post %s not published", d.Key)
		case post.Text != d.Text || !post.CreatedAt.Equal(now.Add(-time.Duration(d.MinutesAgo)*time.Minute)):
			t.Errorf("%s: text %q created %v", d.Key, post.Text, post.CreatedAt)
		case post.ParentID != w.parent || post.ThreadID != w.thread:
			t.Errorf("%s: parent %q thread %q, want %q %q", d.Key, post.ParentID, post.ThreadID, w.parent, w.thread)
		case d.Official && post.Author != d.Account:
			t.Errorf("%s: official author %q", d.Key, post.Author)
		case post.ByAccount != d.Official:
			t.Errorf("%s by %q (id %s): ByAccount %v, official %v", d.Key, post.Author, post.AuthorID, post.ByAccount, d.Official)
		}
	}
}
