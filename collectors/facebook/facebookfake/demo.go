package facebookfake

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
)

// LoadDemo publishes the Facebook posts of the demo set in feed order,
// each created MinutesAgo before now, and returns every key's id. Each
// watched account becomes a page with a post of its own ("kanal aduan")
// older than its demo posts; an official post without a parent becomes a
// page post, a citizen post without a parent a comment on the page's
// newest post older than it, and replies comments with their parent.
// Ids derive from the keys, so replies listed ahead of their parent link up.
func (s *Server) LoadDemo(posts []demo.Post, now time.Time) (map[string]string, error) {
	mine := demo.ForPlatform(posts, tanggap.PlatformFacebook)
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

	at := func(p demo.Post) time.Time { return now.Add(-time.Duration(p.MinutesAgo) * time.Minute) }
	isPost := func(p demo.Post) bool { return p.Official && p.ReplyTo == "" }
	oldest := map[string]int{}
	for _, p := range known {
		a := strings.ToLower(p.Account)
		oldest[a] = max(oldest[a], p.MinutesAgo)
	}
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
		p := known[key]
		if isPost(p) {
			return page(p.Account) + "_" + hashNum(key)
		}
		return hashNum("post:"+key) + "_" + hashNum(key)
	}
	var postFor func(key string, depth int) (string, error)
	postFor = func(key string, depth int) (string, error) {
		p := known[key]
		switch {
		case depth > 100:
			return "", fmt.Errorf("facebookfake: demo post %s: reply chain too long", key)
		case isPost(p):
			return id(key), nil
		case p.ReplyTo != "":
			if _, ok := known[p.ReplyTo]; !ok {
				return "", fmt.Errorf("facebookfake: demo post %s: reply_to %s: no such Facebook post", key, p.ReplyTo)
			}
			return postFor(p.ReplyTo, depth+1)
		}
		best, bestAge := kanal(p.Account), -1
		for k, m := range known {
			if isPost(m) && strings.EqualFold(m.Account, p.Account) && m.MinutesAgo > p.MinutesAgo && (bestAge < 0 || m.MinutesAgo < bestAge) {
				best, bestAge = id(k), m.MinutesAgo
			}
		}
		return best, nil
	}
	out := map[string]string{}
	for _, p := range mine {
		pid := page(p.Account)
		if k := kanal(p.Account); !s.hasPost(k) {
			s.AddPost(Post{ID: k, PageID: pid, Message: "Kanal aduan dan informasi layanan publik. Sampaikan keluhan Anda di kolom komentar.",
				Created: now.Add(-time.Duration(oldest[strings.ToLower(strings.TrimPrefix(p.Account, "@"))]+60) * time.Minute)})
		}
		if isPost(p) {
			out[p.Key] = s.AddPost(Post{ID: id(p.Key), PageID: pid, Message: p.Text, Created: at(p)})
			continue
		}
		post, err := postFor(p.Key, 0)
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
			c.FromID, c.FromName = pid, ""
		}
		if p.ReplyTo != "" && !isPost(known[p.ReplyTo]) {
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
