package graphfake

import (
	"fmt"
	"strings"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
)

// Demo is every demo post loaded into a fake so far, by key, for placing
// the comments of a LoadDemo call: a reply loaded after its parent, in an
// earlier call, still finds it.
type Demo struct {
	Known  map[string]demo.Post
	Oldest map[string]int // per lower-cased account: the oldest post's MinutesAgo

	fake, platform string // for errors: "facebookfake", "Facebook"
}

// AddDemo adds the demo posts of platform to those loaded before and
// returns them, and all loaded so far. fake and title name the fake and
// the platform in errors.
func (s *Server) AddDemo(posts []demo.Post, platform tanggap.Platform, fake, title string) ([]demo.Post, Demo) {
	mine := demo.ForPlatform(posts, platform)
	s.mu.Lock()
	if s.demo == nil {
		s.demo = map[string]demo.Post{}
	}
	for _, p := range mine {
		s.demo[p.Key] = p
	}
	d := Demo{Known: make(map[string]demo.Post, len(s.demo)), Oldest: map[string]int{}, fake: fake, platform: title}
	for k, p := range s.demo {
		d.Known[k] = p
	}
	s.mu.Unlock()
	for _, p := range d.Known {
		a := strings.ToLower(p.Account)
		d.Oldest[a] = max(d.Oldest[a], p.MinutesAgo)
	}
	return mine, d
}

// IsPost says whether a demo post is a post of the account (a page post,
// a media): an official one without a parent. Every other is a comment.
func IsPost(p demo.Post) bool { return p.Official && p.ReplyTo == "" }

// Root is the id of the post the comment key hangs on: the post its reply
// chain ends in, else the newest post of its account older than it, else
// kanal(account), the account's own post for comments. id gives a post's
// id by key.
func (d Demo) Root(key string, id func(key string) string, kanal func(account string) string) (string, error) {
	return d.root(key, 0, id, kanal)
}

func (d Demo) root(key string, depth int, id func(string) string, kanal func(string) string) (string, error) {
	p := d.Known[key]
	switch {
	case depth > 100:
		return "", fmt.Errorf("%s: demo post %s: reply chain too long", d.fake, key)
	case IsPost(p):
		return id(key), nil
	case p.ReplyTo != "":
		if _, ok := d.Known[p.ReplyTo]; !ok {
			return "", fmt.Errorf("%s: demo post %s: reply_to %s: no such %s post", d.fake, key, p.ReplyTo, d.platform)
		}
		return d.root(p.ReplyTo, depth+1, id, kanal)
	}
	best, bestAge := kanal(p.Account), -1
	for k, m := range d.Known {
		if IsPost(m) && strings.EqualFold(m.Account, p.Account) && m.MinutesAgo > p.MinutesAgo && (bestAge < 0 || m.MinutesAgo < bestAge) {
			best, bestAge = id(k), m.MinutesAgo
		}
	}
	return best, nil
}
