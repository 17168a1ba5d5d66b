package youtube

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
)

func fuzzRun() *run {
	return &run{
		p:       New(StaticToken("k")),
		acct:    config.Account{Platform: tanggap.PlatformYouTube, Handle: "pemkotbekasi"},
		c:       cursor{V: 1},
		now:     time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC),
		cid:     "UCx3vLzZ0aT1pQ2rS3tU4vWw",
		emitted: map[string]bool{},
	}
}

func checkPosts(t *testing.T, posts []tanggap.Post) {
	for _, p := range posts {
		if !utf8.ValidString(p.Text) || len(p.Text) > tanggap.MaxTextBytes || !utf8.ValidString(p.Author) || p.ThreadID == "" {
			t.Fatalf("post %+v", p)
		}
	}
}

// FuzzDecodeThreads: any commentThreads page fails to decode or becomes
// sanitised posts whose cursor decodes again.
func FuzzDecodeThreads(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var tp threadPage
		if json.Unmarshal(data, &tp) != nil {
			return
		}
		r := fuzzRun()
		for _, th := range tp.Items {
			top := th.Snippet.TopLevelComment
			if top.ID == "" {
				continue
			}
			tid := th.ID
			if tid == "" {
				tid = top.ID
			}
			r.observe(r.commentPost(top, tid, th.Snippet.VideoID), top)
			if th.Replies != nil {
				for _, rc := range th.Replies.Comments {
					if rc.ID != "" {
						r.observe(r.commentPost(rc, tid, th.Snippet.VideoID), rc)
					}
				}
			}
		}
		checkPosts(t, r.posts)
		r.prune()
		if c := decodeCursor(r.c.encode()); len(c.Entries) != len(r.c.Entries) {
			t.Fatal("cursor round trip")
		}
	})
}

// FuzzDecodeComments: any comments.list page fails to decode or becomes
// sanitised replies.
func FuzzDecodeComments(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var cp commentPage
		if json.Unmarshal(data, &cp) != nil {
			return
		}
		r := fuzzRun()
		for _, c := range cp.Items {
			if c.ID != "" {
				r.observe(r.commentPost(c, "UgzKq3bWm1Yx8vN2cD54AaABAg", ""), c)
			}
		}
		checkPosts(t, r.posts)
	})
}
