package xv2_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
	"github.com/tanggap/tanggap/collectors/xv2"
	"github.com/tanggap/tanggap/collectors/xv2/xv2fake"
	"github.com/tanggap/tanggap/config"
)

// Wiring for `tanggap dev`: the fake, loaded with the demo set, behind an
// HTTP server, and a poller pointed at it.
func Example_dev() {
	now := time.Now()
	fake := xv2fake.New()
	posts, _ := demo.Load()
	if _, err := fake.LoadDemo(posts, now); err != nil {
		panic(err)
	}
	srv := httptest.NewServer(fake) // or http.Server{Handler: fake} on a loopback port
	defer srv.Close()
	poller := xv2.New(xv2.StaticToken("dev"), xv2.WithBaseURL(srv.URL), xv2.WithBackfill(7*24*time.Hour))

	b, err := poller.Poll(context.Background(), config.Account{Platform: tanggap.PlatformX, Handle: "humasbekasikota"}, "")
	fmt.Println(err == nil, len(b.Posts) > 0, b.Cursor != "")
	// Output: true true true
}
