package xv2fake

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/demo"
)

// LoadDemo publishes the X posts of the demo set in feed order, each
// created MinutesAgo before now, and returns every key's post id. Each
// watched account and author becomes a user; a citizen post that does not
// name its account gets "@account " in front (X lists it as a mention
// only then); replies keep their conversation even when listed ahead of
// their parent. Ids are derived from the keys, so loading the same set
// twice (or in parts) gives the same ids.
func (s *Server) LoadDemo(posts []demo.Post, now time.Time) (map[string]string, error) {
	mine := demo.ForPlatform(posts, tanggap.PlatformX)
	byKey := map[string]demo.Post{}
	for _, p := range mine {
		byKey[p.Key] = p
	}
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

	ids := map[string]string{}
	for k, p := range known {
		ids[k] = demoID(k, now.Add(-time.Duration(p.MinutesAgo)*time.Minute))
	}
	users := map[string]string{}
	user := func(handle, name string) string {
		if id, ok := users[strings.ToLower(handle)]; ok {
			return id
		}
		id := s.AddUser(handle, name, "")
		users[strings.ToLower(handle)] = id
		return id
	}
	root := func(key string) (string, error) {
		for i := 0; i < 100; i++ {
			p := known[key]
			if p.ReplyTo == "" {
				return ids[key], nil
			}
			if _, ok := known[p.ReplyTo]; !ok {
				return "", fmt.Errorf("xv2fake: demo post %s: reply_to %s: no such X post", key, p.ReplyTo)
			}
			key = p.ReplyTo
		}
		return "", fmt.Errorf("xv2fake: demo post %s: reply chain too long", key)
	}
	out := map[string]string{}
	for _, p := range mine {
		account := strings.TrimPrefix(p.Account, "@")
		user(account, "")
		author := user(p.Author, p.AuthorName)
		text := p.Text
		t := Tweet{ID: ids[p.Key], AuthorID: author, Created: now.Add(-time.Duration(p.MinutesAgo) * time.Minute)}
		if p.ReplyTo != "" {
			parent := known[p.ReplyTo]
			conv, err := root(p.Key)
			if err != nil {
				return nil, err
			}
			t.ReplyTo, t.ConversationID = ids[p.ReplyTo], conv
			t.InReplyToUserID = user(parent.Author, parent.AuthorName)
			if !p.Official && !mentions(text, account) && !strings.EqualFold(parent.Author, account) {
				text = "@" + account + " " + text
			}
		} else if !p.Official && !mentions(text, account) {
			text = "@" + account + " " + text
		}
		t.Text = text
		out[p.Key] = s.AddTweet(t)
	}
	return out, nil
}

// demoID is a snowflake of t whose low bits come from the key.
func demoID(key string, t time.Time) string {
	h := fnv.New64a()
	h.Write([]byte(key))
	ms := t.UnixMilli() - twitterEpoch
	if ms < 0 {
		ms = 0
	}
	return strconv.FormatUint(uint64(ms)<<22|(h.Sum64()&0x3FFFFF), 10)
}
