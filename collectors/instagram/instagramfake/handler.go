package instagramfake

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/tanggap/tanggap/collectors/facebook/graph/graphfake"
)

// platform is what the Instagram API says differently from Facebook in
// the shared plumbing.
var platform = graphfake.Platform{
	UsageType:       "instagram",
	BusinessCode:    80002,
	BusinessMessage: "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again.",
}

// Throttled is a Graph throttling fault: 4, 17, 32, 613 or 80002, the
// Instagram business use case. Tests inject it and graphfake's other faults.
func Throttled(code int) graphfake.Fault { return platform.Throttled(code) }

// Inject adds a fault; faults match in the order added.
func (s *Server) Inject(f graphfake.Fault) { s.g.Inject(f) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.g.ServeHTTP(w, r) }

func (s *Server) meAccounts(w http.ResponseWriter, r *http.Request, q url.Values) {
	var data []any
	ids := make([]string, 0, len(s.accounts))
	for id := range s.accounts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		a := s.accounts[id]
		data = append(data, map[string]any{
			"id": "1000" + a.ID, "name": a.Username,
			"instagram_business_account": map[string]any{"id": a.ID, "username": a.Username},
		})
	}
	s.g.Page(w, r, q, data, 25)
}

func (s *Server) node(w http.ResponseWriter, r *http.Request, id string, q url.Values) {
	fields := graphfake.ParseFields(q.Get("fields"))
	switch {
	case s.accounts[id] != nil:
		a := s.accounts[id]
		if !s.g.Spend(w, id) {
			return
		}
		obj := map[string]any{"id": a.ID, "username": a.Username}
		if !s.addMentions(w, id, obj, fields) {
			return
		}
		graphfake.WriteJSON(w, 200, graphfake.Pick(obj, fields))
	case s.media[id] != nil && !s.media[id].Deleted:
		m := s.media[id]
		if !s.g.Spend(w, m.Owner) {
			return
		}
		graphfake.WriteJSON(w, 200, graphfake.Pick(s.mediaJSON(m), fields))
	case s.comments[id] != nil && !s.comments[id].Deleted && s.live(s.comments[id]):
		c := s.comments[id]
		if !s.g.Spend(w, s.media[c.MediaID].Owner) {
			return
		}
		graphfake.WriteJSON(w, 200, s.commentJSON(r, c, fields))
	default:
		graphfake.NotFound(w, id)
	}
}

func (s *Server) live(c *Comment) bool {
	m := s.media[c.MediaID]
	return m != nil && !m.Deleted
}

func (s *Server) edge(w http.ResponseWriter, r *http.Request, id, edge string, q url.Values) {
	if id == "me" && edge == "accounts" {
		s.meAccounts(w, r, q)
		return
	}
	fields := graphfake.ParseFields(q.Get("fields"))
	switch {
	case s.accounts[id] != nil && (edge == "media" || edge == "tags"):
		if !s.g.Spend(w, id) {
			return
		}
		var list []*Media
		if edge == "media" {
			for _, mid := range s.order {
				if m := s.media[mid]; m.Owner == id && !m.Deleted {
					list = append(list, m)
				}
			}
		} else {
			for _, mid := range s.accounts[id].Tags {
				if m := s.media[mid]; m != nil && !m.Deleted {
					list = append(list, m)
				}
			}
		}
		graphfake.SortNewest(list, func(m *Media) time.Time { return m.Timestamp })
		data := make([]any, len(list))
		for i, m := range list {
			data[i] = graphfake.Pick(s.mediaJSON(m), fields)
		}
		s.g.Page(w, r, q, data, 25)
	case s.media[id] != nil && edge == "comments":
		m := s.media[id]
		if m.Deleted {
			graphfake.NotFound(w, id)
			return
		}
		if !s.g.Spend(w, m.Owner) {
			return
		}
		var list []*Comment
		for _, cid := range s.corder {
			if c := s.comments[cid]; c.MediaID == id && c.ParentID == "" && !c.Deleted {
				list = append(list, c)
			}
		}
		graphfake.SortNewest(list, func(c *Comment) time.Time { return c.Timestamp })
		data := make([]any, len(list))
		for i, c := range list {
			data[i] = s.commentJSON(r, c, fields)
		}
		s.g.Page(w, r, q, data, 25)
	case s.comments[id] != nil && edge == "replies":
		c := s.comments[id]
		if c.Deleted || !s.live(c) {
			graphfake.NotFound(w, id)
			return
		}
		if !s.g.Spend(w, s.media[c.MediaID].Owner) {
			return
		}
		replies := s.replies(id)
		data := make([]any, len(replies))
		for i, rc := range replies {
			data[i] = s.commentJSON(r, rc, fields)
		}
		s.g.Page(w, r, q, data, 25)
	default:
		graphfake.NotFound(w, id)
	}
}

func (s *Server) replies(parent string) []*Comment {
	var out []*Comment
	for _, cid := range s.corder {
		if c := s.comments[cid]; c.ParentID == parent && !c.Deleted {
			out = append(out, c)
		}
	}
	return out // oldest first, as Instagram shows replies
}

func (s *Server) mediaJSON(m *Media) map[string]any {
	n := 0
	for _, c := range s.comments {
		if c.MediaID == m.ID && !c.Deleted {
			n++
		}
	}
	return map[string]any{
		"id": m.ID, "caption": m.Caption, "timestamp": m.Timestamp.UTC().Format(TimeLayout),
		"permalink": m.Permalink, "comments_count": n, "username": m.Username,
		"media_type": "IMAGE", "media_product_type": "FEED", "like_count": 0,
	}
}

func (s *Server) commentJSON(r *http.Request, c *Comment, fields map[string]graphfake.Field) map[string]any {
	obj := map[string]any{
		"id": c.ID, "text": c.Text, "timestamp": c.Timestamp.UTC().Format(TimeLayout),
		"username": c.Username, "hidden": c.Hidden, "like_count": 0,
		"from":  map[string]any{"id": c.UserID, "username": c.Username},
		"media": map[string]any{"id": c.MediaID},
	}
	if c.ParentID != "" {
		obj["parent_id"] = c.ParentID
	}
	if f, ok := fields["replies"]; ok && c.ParentID == "" {
		if replies := s.replies(c.ID); len(replies) > 0 {
			sub := graphfake.ParseFields(f.Sub)
			limit := 25
			if l, err := strconv.Atoi(f.Mods["limit"]); err == nil && l > 0 {
				limit = l
			}
			var data []any
			for i, rc := range replies {
				if i == limit {
					break
				}
				data = append(data, s.commentJSON(r, rc, sub))
			}
			rep := map[string]any{"data": data}
			if len(replies) > limit {
				after := graphfake.KeyCursor(replies[limit-1].ID)
				rep["paging"] = map[string]any{
					"cursors": map[string]string{"before": graphfake.KeyCursor(replies[0].ID), "after": after},
					"next":    graphfake.NextURL(r, "/"+c.ID+"/replies", url.Values{"fields": {f.Sub}, "limit": {strconv.Itoa(limit)}}, "after", after),
				}
			}
			obj["replies"] = rep
		}
	}
	if f, ok := fields["from"]; ok && f.Sub != "" {
		obj["from"] = graphfake.Pick(obj["from"].(map[string]any), graphfake.ParseFields(f.Sub))
	}
	return graphfake.Pick(obj, fields)
}
