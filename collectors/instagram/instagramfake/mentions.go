package instagramfake

import (
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/tanggap/tanggap/collectors/facebook/graph/graphfake"
)

// mentionedNames lists the usernames text @mentions, lower-cased, in order
// of first appearance. An @ right after a username character (an e-mail
// address) starts no mention, and a trailing dot ends the sentence, not
// the username.
func mentionedNames(text string) []string {
	var out []string
	prev := ' '
	for i, r := range text {
		if r == '@' && !usernameRune(prev) {
			rest := text[i+1:]
			end := strings.IndexFunc(rest, func(r rune) bool { return !usernameRune(r) })
			if end < 0 {
				end = len(rest)
			}
			if name := strings.ToLower(strings.TrimRight(rest[:end], ".")); name != "" && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
		prev = r
	}
	return out
}

func usernameRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_'
}

// mentionedAccounts returns the ids of the registered accounts text
// @mentions, in order, leaving out owner: @-ing an account on its own media
// is not a mention to Instagram. The caller holds the lock.
func (s *Server) mentionedAccounts(text, owner string) []string {
	var ids []string
	for _, name := range mentionedNames(text) {
		for _, a := range s.accounts {
			if strings.EqualFold(a.Username, name) && a.ID != owner {
				ids = append(ids, a.ID)
			}
		}
	}
	return ids
}

// commentMentions says whether a live comment mentions account aid.
func (s *Server) commentMentions(c *Comment, aid string) bool {
	return c != nil && !c.Deleted && s.live(c) && slices.Contains(s.mentionedAccounts(c.Text, s.media[c.MediaID].Owner), aid)
}

// mediaMentions says whether a live media's caption mentions account aid.
func (s *Server) mediaMentions(m *Media, aid string) bool {
	return m != nil && !m.Deleted && slices.Contains(s.mentionedAccounts(m.Caption, m.Owner), aid)
}

// addMentions puts the mentioned_comment and mentioned_media fields an
// account read asks for into obj. Anything that does not mention the
// account reads as an object that does not exist, as on Graph; false means
// that error is written. The caller holds the lock.
func (s *Server) addMentions(w http.ResponseWriter, aid string, obj map[string]any, fields map[string]graphfake.Field) bool {
	if f, ok := fields["mentioned_comment"]; ok {
		cid := f.Mods["comment_id"]
		c := s.comments[cid]
		if !s.commentMentions(c, aid) {
			graphfake.NotFound(w, cid)
			return false
		}
		m := s.media[c.MediaID]
		sub := graphfake.ParseFields(f.Sub)
		// No username or from: Graph does not say who wrote a mentioned comment.
		obj["mentioned_comment"] = graphfake.Pick(map[string]any{
			"id": c.ID, "text": c.Text, "timestamp": c.Timestamp.UTC().Format(TimeLayout), "like_count": 0,
			"media": graphfake.Pick(map[string]any{"id": m.ID, "permalink": m.Permalink, "username": m.Username},
				graphfake.ParseFields(sub["media"].Sub)),
		}, sub)
	}
	if f, ok := fields["mentioned_media"]; ok {
		mid := f.Mods["media_id"]
		m := s.media[mid]
		if !s.mediaMentions(m, aid) {
			graphfake.NotFound(w, mid)
			return false
		}
		mj := s.mediaJSON(m)
		delete(mj, "media_product_type")
		obj["mentioned_media"] = graphfake.Pick(mj, graphfake.ParseFields(f.Sub))
	}
	return true
}

// notifyMentions queues a mentions webhook for each account text mentions.
// The caller holds the lock.
func (s *Server) notifyMentions(text, owner, mediaID, commentID string) {
	if s.hook == nil {
		return
	}
	for _, aid := range s.mentionedAccounts(text, owner) {
		s.hook.enqueue(aid, s.g.Now(), mediaID, commentID)
	}
}
