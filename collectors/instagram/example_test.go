package instagram_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
	"github.com/tanggap/tanggap/collectors/instagram"
	"github.com/tanggap/tanggap/collectors/instagram/instagramfake"
	"github.com/tanggap/tanggap/config"
)

// Wiring for `tanggap dev`: the fake, loaded with the demo set, behind an
// HTTP server, and a poller pointed at it.
func Example_dev() {
	fake := instagramfake.New()
	posts, _ := demo.Load()
	if _, err := fake.LoadDemo(posts, time.Now()); err != nil {
		panic(err)
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	poller := instagram.New(instagram.StaticToken("dev"), instagram.WithBaseURL(srv.URL))

	b, err := poller.Poll(context.Background(), config.Account{Platform: tanggap.PlatformInstagram, Handle: "bmsdakotabekasi"}, "")
	fmt.Println(err == nil, len(b.Posts) > 0)
	// Output: true true
}
