package facebookfake

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
	"github.com/tanggap/tanggap/collectors/facebook/graph/graphfake"
)

// LoadDemo publishes the Facebook posts of the demo set in feed order,
// each created MinutesAgo before now, and returns every key's id. Each
// watched account becomes a page with a post of its own ("kanal aduan")
// older than its demo posts; an official post without a parent becomes a
// page post, a citizen post without a parent a comment on the page's
// newest post older than it, and replies comments with their parent.
// Ids derive from the keys, so replies listed ahead of their parent link up.
func (s *Server) LoadDemo(posts []demo.Post, now time.Time) (map[string]string, error) {
	mine, d := s.g.AddDemo(posts, tanggap.PlatformFacebook, "facebookfake", "Facebook")
	at := func(p demo.Post) time.Time { return now.Add(-time.Duration(p.MinutesAgo) * time.Minute) }
	pages := map[string]string{}
	page := func(handle string) string {
		h := strings.TrimPrefix(handle, "@")
		if id, ok := pages[strings.ToLower(h)]; ok {
			return id
		}
		pid := s.AddPage(h, "", "")
		pages[strings.ToLower(h)] = pid
		return pid
	}
	kanal := func(handle string) string {
		h := strings.ToLower(strings.TrimPrefix(handle, "@"))
		return page(h) + "_" + hashNum("kanal:"+h)
	}
	id := func(key string) string {
		p := d.Known[key]
		if graphfake.IsPost(p) {
			return page(p.Account) + "_" + hashNum(key)
		}
		return hashNum("post:"+key) + "_" + hashNum(key)
	}
	out := map[string]string{}
	for _, p := range mine {
		pid := page(p.Account)
		if k := kanal(p.Account); !s.hasPost(k) {
			s.AddPost(Post{ID: k, PageID: pid, Message: "Kanal aduan dan informasi layanan publik. Sampaikan keluhan Anda di kolom komentar.",
				Created: now.Add(-time.Duration(d.Oldest[strings.ToLower(strings.TrimPrefix(p.Account, "@"))]+60) * time.Minute)})
		}
		if graphfake.IsPost(p) {
			out[p.Key] = s.AddPost(Post{ID: id(p.Key), PageID: pid, Message: p.Text, Created: at(p)})
			continue
		}
		post, err := d.Root(p.Key, id, kanal)
		if err != nil {
			return nil, err
		}
		_, postNum, _ := strings.Cut(post, "_")
		c := Comment{ID: postNum + "_" + hashNum(p.Key), PostID: post, Message: p.Text, FromName: p.AuthorName, Created: at(p),
			FromID: "26" + hashNum("user:" + strings.ToLower(p.Author))[2:]}
		if c.FromName == "" {
			c.FromName = p.Author
		}
		if p.Official {
			c.FromID = pid // Graph names the page by its name, as anyone else
		}
		if p.ReplyTo != "" && !graphfake.IsPost(d.Known[p.ReplyTo]) {
			_, parentNum, _ := strings.Cut(id(p.ReplyTo), "_")
			c.ParentID = postNum + "_" + parentNum
		}
		out[p.Key] = s.AddComment(c)
	}
	return out, nil
}

func (s *Server) hasPost(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts[id] != nil
}

// hashNum is 16 digits derived from key.
func hashNum(key string) string {
	h := fnv.New64a()
	h.Write([]byte(key))
	return fmt.Sprintf("1%015d", h.Sum64()%1000000000000000)
}
