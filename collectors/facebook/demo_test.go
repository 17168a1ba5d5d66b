package facebook_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
	"github.com/tanggap/tanggap/collectors/facebook"
	"github.com/tanggap/tanggap/collectors/facebook/facebookfake"
	"github.com/tanggap/tanggap/config"
)

// TestDemoThroughTheFake replays the demo set through the fake and polls
// every watched page: each demo post is published once, with its parent.
func TestDemoThroughTheFake(t *testing.T) {
	posts, err := demo.Load()
	if err != nil {
		t.Fatal(err)
	}
	// The demo set has little Facebook: add a thread with an official reply
	// and a citizen answer listed ahead of it.
	now := time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC)
	extra := []demo.Post{
		{Key: "t-fb-banjir", Platform: tanggap.PlatformFacebook, Account: "pemkotbekasi", Author: "budi.s", AuthorName: "Budi Santoso", Text: "Banjir di Perumnas 2", MinutesAgo: 90},
		{Key: "t-fb-banjir-warga", Platform: tanggap.PlatformFacebook, Account: "pemkotbekasi", Author: "budi.s", AuthorName: "Budi Santoso", Text: "Terima kasih", MinutesAgo: 30, ReplyTo: "t-fb-banjir-balas"},
		{Key: "t-fb-banjir-balas", Platform: tanggap.PlatformFacebook, Account: "pemkotbekasi", Author: "pemkotbekasi", Text: "Petugas BPBD menuju lokasi", MinutesAgo: 60, ReplyTo: "t-fb-banjir", Official: true},
		{Key: "t-fb-pengumuman", Platform: tanggap.PlatformFacebook, Account: "pemkotbekasi", Author: "pemkotbekasi", Text: "Posko banjir dibuka", MinutesAgo: 200, Official: true},
		// A citizen who named their profile after the page.
		{Key: "t-fb-peniru", Platform: tanggap.PlatformFacebook, Account: "pemkotbekasi", Author: "peniru", AuthorName: "PemkotBekasi", Text: "Air PDAM mati 3 hari", MinutesAgo: 20, ReplyTo: "t-fb-banjir"},
	}
	posts = append(posts, extra...)
	mine := demo.ForPlatform(posts, tanggap.PlatformFacebook)
	fake := facebookfake.New(facebookfake.WithClock(func() time.Time { return now }))
	ids, err := fake.LoadDemo(posts, now)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	p := facebook.New(facebook.StaticToken("dev"), facebook.WithBaseURL(srv.URL), facebook.WithClock(func() time.Time { return now }))
	got := map[string]tanggap.Post{}
	for _, d := range mine {
		b, err := p.Poll(context.Background(), config.Account{Platform: tanggap.PlatformFacebook, Handle: d.Account}, "")
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
	for _, d := range mine {
		post, ok := got[ids[d.Key]]
		wantParent := ""
		if d.ReplyTo != "" && !(byKey[d.ReplyTo].Official && byKey[d.ReplyTo].ReplyTo == "") {
			wantParent = ids[d.ReplyTo]
		}
		switch {
		case !ok:
			t.Errorf("demo post %s not published", d.Key)
		case post.Text != d.Text || !post.CreatedAt.Equal(now.Add(-time.Duration(d.MinutesAgo)*time.Minute)):
			t.Errorf("%s: text %q created %v", d.Key, post.Text, post.CreatedAt)
		case post.ParentID != wantParent:
			t.Errorf("%s: parent %q, want %q", d.Key, post.ParentID, wantParent)
		case d.Official && post.Author != d.Account:
			t.Errorf("%s: official author %q", d.Key, post.Author)
		case post.ByAccount != d.Official:
			t.Errorf("%s by %q (id %s): ByAccount %v, official %v", d.Key, post.Author, post.AuthorID, post.ByAccount, d.Official)
		case !d.Official && post.AuthorName != d.AuthorName:
			t.Errorf("%s: author name %q", d.Key, post.AuthorName)
		}
	}
}
