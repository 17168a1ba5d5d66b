package facebook

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
)

func fuzzRun() *run {
	r := New(StaticToken("t")).newRun(config.Account{Platform: tanggap.PlatformFacebook, Handle: "PemkotBekasi"}, nil, "")
	r.Now, r.pid = time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC), "104938271650123"
	return r
}

func checkPosts(t *testing.T, posts []tanggap.Post) {
	for _, p := range posts {
		if !utf8.ValidString(p.Text) || len(p.Text) > tanggap.MaxTextBytes || !utf8.ValidString(p.Author) {
			t.Fatalf("post %q: not sanitised", p.ID)
		}
		if p.ThreadID == "" || p.Platform != tanggap.PlatformFacebook {
			t.Fatalf("post %q: thread %q", p.ID, p.ThreadID)
		}
	}
}

// FuzzDecodeComments: any comments page fails to decode or becomes
// sanitised posts, and its cursor decodes again.
func FuzzDecodeComments(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var cp commentPage
		if json.Unmarshal(data, &cp) != nil {
			return
		}
		r := fuzzRun()
		fp := fbPost{ID: "104938271650123_1187654321098765"}
		for _, c := range cp.Data {
			r.Observe(r.commentPost(fp, c), c.IsHidden)
		}
		_ = cp.Paging.After()
		checkPosts(t, r.Posts)
		if c := decodeCursor(r.c.encode()); len(c.Entries) != len(r.c.Entries) {
			t.Fatal("cursor round trip lost entries")
		}
	})
}

// FuzzDecodeFeed: any feed page fails to decode or becomes sanitised posts.
func FuzzDecodeFeed(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var fp feedPage
		if json.Unmarshal(data, &fp) != nil {
			return
		}
		r := fuzzRun()
		for _, p := range fp.Data {
			_ = p.count()
			r.Observe(r.feedPost(p), false)
		}
		checkPosts(t, r.Posts)
	})
}
