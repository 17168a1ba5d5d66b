package instagramfake

import (
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
	"github.com/tanggap/tanggap/collectors/facebook/graph/graphfake"
)

// LoadDemo publishes the Instagram posts of the demo set in feed order,
// each created MinutesAgo before now, and returns every key's id. Each
// watched account gets an account and a media of its own ("kanal aduan")
// older than its demo posts; an official post without a parent becomes a
// media of the account, a citizen post without a parent a comment on the
// account's newest media older than it, and replies comments under their
// parent's comment (Instagram keeps one level of replies); a post with
// MediaOf a comment on a media of that account. Ids derive from
// the keys, so replies listed ahead of their parent link up.
func (s *Server) LoadDemo(posts []demo.Post, now time.Time) (map[string]string, error) {
	mine, d := s.g.AddDemo(posts, tanggap.PlatformInstagram, "instagramfake", "Instagram")
	at := func(p demo.Post) time.Time { return now.Add(-time.Duration(p.MinutesAgo) * time.Minute) }
	id := func(key string) string {
		if graphfake.IsPost(d.Known[key]) {
			return hashID("179", key)
		}
		return hashID("180", key)
	}
	// A comment with no newer media of its account hangs on its "kanal aduan" media.
	kanal := func(account string) string {
		return hashID("179", "kanal:"+strings.ToLower(strings.TrimPrefix(account, "@")))
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
				Timestamp: now.Add(-time.Duration(d.Oldest[strings.ToLower(h)]+60) * time.Minute)})
		}
		return uid
	}
	out := map[string]string{}
	for _, p := range mine {
		uid := account(p.Account)
		if graphfake.IsPost(p) {
			out[p.Key] = s.AddMedia(Media{ID: id(p.Key), Owner: uid, Caption: p.Text, Timestamp: at(p)})
			continue
		}
		media, err := d.Root(p.Key, id, kanal)
		if err != nil {
			return nil, err
		}
		if p.MediaOf != "" {
			media = s.newsMedia(p.MediaOf, at(p).Add(-30*time.Minute))
		}
		c := Comment{ID: id(p.Key), MediaID: media, Text: p.Text, Username: p.Author, Timestamp: at(p),
			UserID: hashID("178414", "user:"+strings.ToLower(p.Author))}
		if p.Official {
			c.UserID = uid
		}
		if p.ReplyTo != "" && !graphfake.IsPost(d.Known[p.ReplyTo]) {
			c.ParentID = id(p.ReplyTo)
			// One level: a reply to a reply hangs under the top comment.
			for k := p.ReplyTo; d.Known[k].ReplyTo != "" && !graphfake.IsPost(d.Known[d.Known[k].ReplyTo]); k = d.Known[k].ReplyTo {
				c.ParentID = id(d.Known[k].ReplyTo)
			}
		}
		out[p.Key] = s.AddComment(c)
	}
	return out, nil
}

// newsMedia is the media of an account the city does not watch that demo
// comments @mentioning a watched account hang on (demo.Post.MediaOf).
func (s *Server) newsMedia(owner string, at time.Time) string {
	uid := s.AddAccount(owner, "")
	mid := hashID("179", "news:"+strings.ToLower(owner))
	s.mu.Lock()
	exists := s.media[mid] != nil
	s.mu.Unlock()
	if !exists {
		s.AddMedia(Media{ID: mid, Owner: uid, Timestamp: at,
			Caption: "Info terkini seputar Bekasi hari ini. Ada keluhan di lingkunganmu? Tulis di komentar dan tag akun dinas terkait."})
	}
	return mid
}

// hashID is prefix followed by digits derived from key, 17 characters.
func hashID(prefix, key string) string {
	h := fnv.New64a()
	h.Write([]byte(key))
	n := h.Sum64() % 100000000000000
	return fmt.Sprintf("%s%0*d", prefix, 17-len(prefix), n)
}
