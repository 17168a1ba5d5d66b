package youtubefake

import (
	"fmt"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
)

// LoadDemo publishes the YouTube posts of the demo set in feed order,
// each created MinutesAgo before now, and returns every key's comment id.
// Each watched account becomes a channel with one video; a post without a
// parent starts a thread on it (an official one is the channel's own
// comment), a reply joins its parent's thread (YouTube keeps one level).
// Ids derive from the keys, so replies listed ahead of their parent link up.
func (s *Server) LoadDemo(posts []demo.Post, now time.Time) (map[string]string, error) {
	mine := demo.ForPlatform(posts, tanggap.PlatformYouTube)
	s.mu.Lock()
	if s.demo == nil {
		s.demo = map[string]demo.Post{}
	}
	for _, p := range mine {
		s.demo[p.Key] = p
	}
	known := make(map[string]demo.Post, len(s.demo))
	for k, p := range s.demo {
		known[k] = p
	}
	s.mu.Unlock()

	// thread is the key of the top-level comment of key's thread.
	thread := func(key string) (string, error) {
		for i := 0; i < 100; i++ {
			p := known[key]
			if p.ReplyTo == "" {
				return key, nil
			}
			if _, ok := known[p.ReplyTo]; !ok {
				return "", fmt.Errorf("youtubefake: demo post %s: reply_to %s: no such YouTube post", key, p.ReplyTo)
			}
			key = p.ReplyTo
		}
		return "", fmt.Errorf("youtubefake: demo post %s: reply chain too long", key)
	}
	topID := func(key string) string { return makeID("Ugz", 19, "demo:"+key) + "4AaABAg" }
	out := map[string]string{}
	for _, p := range mine {
		handle := "@" + strings.TrimPrefix(p.Account, "@")
		cid := p.Account
		if !(len(cid) == 24 && strings.HasPrefix(cid, "UC")) {
			cid = s.AddChannel(handle, "", "")
		} else {
			s.AddChannel("@"+strings.ToLower(cid), "", cid)
		}
		video := makeID("", 11, "demo-video:"+strings.ToLower(cid))
		top, err := thread(p.Key)
		if err != nil {
			return nil, err
		}
		c := Comment{ChannelID: cid, VideoID: video, Text: p.Text, AuthorName: "@" + strings.TrimPrefix(p.Author, "@"),
			AuthorChannelID: makeID("UC", 24, "demo-author:"+strings.ToLower(p.Author)),
			Published:       now.Add(-time.Duration(p.MinutesAgo) * time.Minute)}
		if p.Official {
			c.AuthorChannelID, c.AuthorName = cid, handle
		}
		if top == p.Key {
			c.ID = topID(p.Key)
		} else {
			c.ParentID = topID(top)
			c.ID = c.ParentID + "." + makeID("A", 22, "demo-reply:"+p.Key)
		}
		out[p.Key] = s.AddComment(c)
	}
	return out, nil
}
