package instagramfake

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
)

// LoadDemo publishes the Instagram posts of the demo set in feed order,
// each created MinutesAgo before now, and returns every key's id. Each
// watched account gets an account and a media of its own ("kanal aduan")
// older than its demo posts; an official post without a parent becomes a
// media of the account, a citizen post without a parent a comment on the
// account's newest media older than it, and replies comments under their
// parent's comment (Instagram keeps one level of replies). Ids derive from
// the keys, so replies listed ahead of their parent link up.
func (s *Server) LoadDemo(posts []demo.Post, now time.Time) (map[string]string, error) {
	mine := demo.ForPlatform(posts, tanggap.PlatformInstagram)
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
	isMedia := func(p demo.Post) bool { return p.Official && p.ReplyTo == "" }
	id := func(key string) string {
		if isMedia(known[key]) {
			return hashID("179", key)
		}
		return hashID("180", key)
	}
	// Each account's own "kanal aduan" media, older than its oldest post.
	oldest := map[string]int{}
	for _, p := range known {
		a := strings.ToLower(p.Account)
		oldest[a] = max(oldest[a], p.MinutesAgo)
	}
	accounts := map[string]string{}
	account := func(handle string) string {
		h := strings.TrimPrefix(handle, "@")
		if id, ok := accounts[strings.ToLower(h)]; ok {
			return id
		}
		uid := s.AddAccount(h, "")
		accounts[strings.ToLower(h)] = uid
		mid := hashID("179", "kanal:"+strings.ToLower(h))
		s.mu.Lock()
		exists := s.media[mid] != nil
		s.mu.Unlock()
		if !exists {
			s.AddMedia(Media{ID: mid, Owner: uid, Caption: "Kanal aduan dan informasi layanan publik @" + h + ". Sampaikan keluhan Anda di kolom komentar.",
				Timestamp: now.Add(-time.Duration(oldest[strings.ToLower(h)]+60) * time.Minute)})
		}
		return uid
	}
	// mediaFor is the media a comment hangs on; parentFor its parent comment.
	var mediaFor func(key string, depth int) (string, error)
	mediaFor = func(key string, depth int) (string, error) {
		p := known[key]
		switch {
		case depth > 100:
			return "", fmt.Errorf("instagramfake: demo post %s: reply chain too long", key)
		case isMedia(p):
			return id(key), nil
		case p.ReplyTo != "":
			if _, ok := known[p.ReplyTo]; !ok {
				return "", fmt.Errorf("instagramfake: demo post %s: reply_to %s: no such Instagram post", key, p.ReplyTo)
			}
			return mediaFor(p.ReplyTo, depth+1)
		}
		// The account's newest official media older than the comment.
		best, bestAge := hashID("179", "kanal:"+strings.ToLower(strings.TrimPrefix(p.Account, "@"))), -1
		for k, m := range known {
			if isMedia(m) && strings.EqualFold(m.Account, p.Account) && m.MinutesAgo > p.MinutesAgo && (bestAge < 0 || m.MinutesAgo < bestAge) {
				best, bestAge = id(k), m.MinutesAgo
			}
		}
		return best, nil
	}
	out := map[string]string{}
	for _, p := range mine {
		uid := account(p.Account)
		if isMedia(p) {
			out[p.Key] = s.AddMedia(Media{ID: id(p.Key), Owner: uid, Caption: p.Text, Timestamp: at(p)})
			continue
		}
		media, err := mediaFor(p.Key, 0)
		if err != nil {
			return nil, err
		}
		c := Comment{ID: id(p.Key), MediaID: media, Text: p.Text, Username: p.Author, Timestamp: at(p),
			UserID: hashID("178414", "user:"+strings.ToLower(p.Author))}
		if p.Official {
			c.UserID = uid
		}
		if p.ReplyTo != "" && !isMedia(known[p.ReplyTo]) {
			c.ParentID = id(p.ReplyTo)
			// One level: a reply to a reply hangs under the top comment.
			for k := p.ReplyTo; known[k].ReplyTo != "" && !isMedia(known[known[k].ReplyTo]); k = known[k].ReplyTo {
				c.ParentID = id(known[k].ReplyTo)
			}
		}
		out[p.Key] = s.AddComment(c)
	}
	return out, nil
}

// hashID is prefix followed by digits derived from key, 17 characters.
func hashID(prefix, key string) string {
	h := fnv.New64a()
	h.Write([]byte(key))
	n := h.Sum64() % 100000000000000
	return fmt.Sprintf("%s%0*d", prefix, 17-len(prefix), n)
}
