package instagram

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
)

func fuzzRun() *run {
	r := New(StaticToken("t")).newRun(config.Account{Platform: tanggap.PlatformInstagram, Handle: "humaskotabekasi"}, nil, "")
	r.Now, r.uid = time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC), "17841400000000001"
	return r
}

func checkPosts(t *testing.T, posts []tanggap.Post) {
	for _, p := range posts {
		if !utf8.ValidString(p.Text) || len(p.Text) > tanggap.MaxTextBytes {
			t.Fatalf("post %q: text not sanitised", p.ID)
		}
		if p.ThreadID == "" || p.Platform != tanggap.PlatformInstagram {
			t.Fatalf("post %q: thread %q platform %q", p.ID, p.ThreadID, p.Platform)
		}
	}
}

// FuzzDecodeComments: any comments page either fails to decode or
// becomes sanitised posts, and the cursor it leaves decodes again.
func FuzzDecodeComments(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var cp commentPage
		if json.Unmarshal(data, &cp) != nil {
			return
		}
		r := fuzzRun()
		m := igMedia{ID: "17986543210012345", Permalink: "https://www.instagram.com/p/DHa1b2C3d4E/"}
		for _, c := range cp.Data {
			r.Observe(r.commentPost(m, c, ""), c.Hidden)
			if c.Replies != nil {
				for _, rc := range c.Replies.Data {
					r.Observe(r.commentPost(m, rc, c.ID), rc.Hidden)
				}
				_ = c.Replies.Paging.After()
			}
		}
		_ = cp.Paging.After()
		checkPosts(t, r.Posts)
		c := decodeCursor(r.c.encode())
		if len(c.Entries) != len(r.c.Entries) {
			t.Fatalf("cursor round trip lost entries: %d != %d", len(c.Entries), len(r.c.Entries))
		}
	})
}

// FuzzDecodeMedia: any media page either fails to decode or becomes
// sanitised posts.
func FuzzDecodeMedia(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var mp mediaPage
		if json.Unmarshal(data, &mp) != nil {
			return
		}
		r := fuzzRun()
		for _, m := range mp.Data {
			r.Observe(r.mediaPost(m, tanggap.InteractionPost), false)
			_ = commentURL(m.Permalink, m.ID)
		}
		checkPosts(t, r.Posts)
	})
}
