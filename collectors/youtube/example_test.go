package youtube_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
	"github.com/tanggap/tanggap/collectors/youtube"
	"github.com/tanggap/tanggap/collectors/youtube/youtubefake"
	"github.com/tanggap/tanggap/config"
)

// Wiring for `tanggap dev`: the fake, loaded with the demo set, behind an
// HTTP server, and a poller pointed at its /youtube/v3 root.
func Example_dev() {
	fake := youtubefake.New()
	posts, _ := demo.Load()
	posts = append(posts, demo.Post{Key: "ex-yt", Platform: tanggap.PlatformYouTube, Account: "pemkotbekasi",
		Author: "warga", Text: "Jalan berlubang", MinutesAgo: 30})
	if _, err := fake.LoadDemo(posts, time.Now()); err != nil {
		panic(err)
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	poller := youtube.New(youtube.StaticToken("dev"), youtube.WithBaseURL(srv.URL+"/youtube/v3"))

	b, err := poller.Poll(context.Background(), config.Account{Platform: tanggap.PlatformYouTube, Handle: "pemkotbekasi"}, "")
	fmt.Println(err == nil, len(b.Posts), b.Calls)
	// Output: true 1 2
}
