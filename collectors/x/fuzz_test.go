package x

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tanggap/tanggap"
)

// FuzzDecodeTweets decodes a v1.1 timeline page and normalises its tweets:
// whatever the page holds, nothing panics and every post that comes out can
// be stored (valid id, UTF-8 text within the limits, a time, a thread).
// Seeds: the fixtures and testdata/fuzz/FuzzDecodeTweets.
func FuzzDecodeTweets(f *testing.F) {
	for _, name := range []string{"mentions_timeline.json", "user_timeline.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tweets, err := decodePage(b)
		if err != nil {
			return
		}
		var posts []tanggap.Post
		for i := range tweets {
			for _, tl := range []timeline{mentionsTimeline, userTimeline} {
				p, ok := normalize(&tweets[i], "humasbekasikota", tl, captured)
				if !ok {
					continue
				}
				if err := p.Validate(); err != nil {
					t.Fatalf("post cannot be stored: %v (%+v)", err, p)
				}
				if !validID(p.ID) || (p.ParentID != "" && !validID(p.ParentID)) {
					t.Fatalf("bad ids %q parent %q", p.ID, p.ParentID)
				}
				if !utf8.ValidString(p.Text) || !utf8.ValidString(p.Author) || !utf8.ValidString(p.AuthorName) || len(p.Text) > tanggap.MaxTextBytes {
					t.Fatalf("text not sanitised: %+v", p)
				}
				if !strings.HasPrefix(p.URL, "https://x.com/") || strings.ContainsAny(p.URL, " \"<>") {
					t.Fatalf("url %q", p.URL)
				}
				posts = append(posts, p)
			}
		}
		newThreads(8).resolve(posts)
		for _, p := range posts {
			if p.ThreadID == "" || (p.ThreadID != p.ID && !validID(p.ThreadID)) {
				t.Fatalf("thread %q of %s", p.ThreadID, p.ID)
			}
		}
	})
}
