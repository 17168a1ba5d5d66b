package facebookfake

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tanggap/tanggap/collectors/facebook/graph/graphfake"
)

// platform is what the Pages API says differently from Instagram in the
// shared plumbing.
var platform = graphfake.Platform{
	UsageType:       "pages",
	BusinessCode:    80001,
	BusinessMessage: "(#80001) There have been too many calls to this Page account. Wait a bit and try again.",
}

// Throttled is a Graph throttling fault: 4, 17, 32, 613 or 80001, the
// Pages business use case. Tests inject it and graphfake's other faults.
func Throttled(code int) graphfake.Fault { return platform.Throttled(code) }

// Inject adds a fault; faults match in the order added.
func (s *Server) Inject(f graphfake.Fault) { s.g.Inject(f) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.g.ServeHTTP(w, r) }

func (s *Server) pageByRef(ref string) *Page {
	if p := s.pages[ref]; p != nil {
		return p
	}
	for _, p := range s.pages {
		if strings.EqualFold(p.Username, ref) {
			return p
		}
	}
	return nil
}

func (s *Server) node(w http.ResponseWriter, r *http.Request, id string, q url.Values) {
	fields := graphfake.ParseFields(q.Get("fields"))
	if pg := s.pageByRef(id); pg != nil {
		if !s.g.Spend(w, pg.ID) {
			return
		}
		graphfake.WriteJSON(w, 200, graphfake.Pick(map[string]any{"id": pg.ID, "name": pg.Name, "username": pg.Username}, fields))
		return
	}
	if p := s.posts[id]; p != nil && !p.Deleted {
		if !s.g.Spend(w, p.PageID) {
			return
		}
		graphfake.WriteJSON(w, 200, s.postJSON(p, fields))
		return
	}
	if c := s.comments[id]; c != nil && !c.Deleted && s.live(c) {
		if !s.g.Spend(w, s.posts[c.PostID].PageID) {
			return
		}
		graphfake.WriteJSON(w, 200, s.commentJSON(c, fields))
		return
	}
	graphfake.NotFound(w, id)
}

func (s *Server) live(c *Comment) bool {
	p := s.posts[c.PostID]
	return p != nil && !p.Deleted
}

func (s *Server) edge(w http.ResponseWriter, r *http.Request, id, edge string, q url.Values) {
	fields := graphfake.ParseFields(q.Get("fields"))
	if pg := s.pageByRef(id); pg != nil && (edge == "feed" || edge == "posts") {
		if !s.g.Spend(w, pg.ID) {
			return
		}
		var list []*Post
		for _, pid := range s.porder {
			p := s.posts[pid]
			if p.PageID != pg.ID || p.Deleted || (edge == "posts" && p.FromID != pg.ID) {
				continue
			}
			list = append(list, p)
		}
		graphfake.SortNewest(list, func(p *Post) time.Time { return p.Created })
		data := make([]any, len(list))
		for i, p := range list {
			data[i] = s.postJSON(p, fields)
		}
		s.g.Page(w, r, q, data, 25)
		return
	}
	if edge != "comments" {
		graphfake.NotFound(w, id)
		return
	}
	var list []*Comment
	var pageID string
	switch {
	case s.posts[id] != nil && !s.posts[id].Deleted:
		pageID = s.posts[id].PageID
		list = s.commentsOf(id, "", q.Get("filter") == "stream")
	case s.comments[id] != nil && !s.comments[id].Deleted && s.live(s.comments[id]):
		pageID = s.posts[s.comments[id].PostID].PageID
		list = s.commentsOf(s.comments[id].PostID, id, false)
	default:
		graphfake.NotFound(w, id)
		return
	}
	if !s.g.Spend(w, pageID) {
		return
	}
	if q.Get("order") == "reverse_chronological" {
		graphfake.SortNewest(list, func(c *Comment) time.Time { return c.Created })
	}
	data := make([]any, len(list))
	for i, c := range list {
		data[i] = s.commentJSON(c, fields)
	}
	s.g.Page(w, r, q, data, 25)
}

// commentsOf lists a post's comments: top level (parent ""), every comment
// and reply (stream), or the replies of one comment; chronological.
func (s *Server) commentsOf(postID, parent string, stream bool) []*Comment {
	var out []*Comment
	for _, cid := range s.corder {
		c := s.comments[cid]
		if c.PostID != postID || c.Deleted {
			continue
		}
		if stream || c.ParentID == parent {
			out = append(out, c)
		}
	}
	return out
}

func (s *Server) postJSON(p *Post, fields map[string]graphfake.Field) map[string]any {
	obj := map[string]any{
		"id": p.ID, "message": p.Message, "created_time": p.Created.UTC().Format(TimeLayout),
		"updated_time": p.Updated.UTC().Format(TimeLayout), "permalink_url": p.Permalink,
		"from": map[string]any{"id": p.FromID, "name": p.FromName},
	}
	if f, ok := fields["comments"]; ok {
		list := s.commentsOf(p.ID, "", f.Mods["filter"] == "stream")
		limit := 25
		if l, err := strconv.Atoi(f.Mods["limit"]); err == nil && l >= 0 {
			limit = l
		}
		data := []any{}
		for i, c := range list {
			if i == limit {
				break
			}
			data = append(data, s.commentJSON(c, graphfake.ParseFields(f.Sub)))
		}
		cm := map[string]any{"data": data}
		if _, ok := f.Mods["summary"]; ok {
			order := "ranked"
			if f.Mods["filter"] == "stream" {
				order = "chronological"
			}
			cm["summary"] = map[string]any{"order": order, "total_count": len(list), "can_comment": true}
		}
		obj["comments"] = cm
	}
	if f, ok := fields["from"]; ok && f.Sub != "" {
		obj["from"] = graphfake.Pick(obj["from"].(map[string]any), graphfake.ParseFields(f.Sub))
	}
	return graphfake.Pick(obj, fields)
}

func (s *Server) commentJSON(c *Comment, fields map[string]graphfake.Field) map[string]any {
	post, cid, _ := strings.Cut(c.ID, "_")
	obj := map[string]any{
		"id": c.ID, "message": c.Message, "created_time": c.Created.UTC().Format(TimeLayout),
		"is_hidden": c.Hidden, "can_hide": true, "like_count": 0,
		"from":          map[string]any{"id": c.FromID, "name": c.FromName},
		"permalink_url": "https://www.facebook.com/" + s.posts[c.PostID].PageID + "/posts/" + post + "?comment_id=" + cid,
	}
	if c.ParentID != "" {
		obj["parent"] = map[string]any{"id": c.ParentID}
		if p := s.comments[c.ParentID]; p != nil {
			obj["parent"] = map[string]any{"id": p.ID, "message": p.Message, "created_time": p.Created.UTC().Format(TimeLayout)}
		}
		if f, ok := fields["parent"]; ok && f.Sub != "" {
			obj["parent"] = graphfake.Pick(obj["parent"].(map[string]any), graphfake.ParseFields(f.Sub))
		}
	}
	if f, ok := fields["from"]; ok && f.Sub != "" {
		obj["from"] = graphfake.Pick(obj["from"].(map[string]any), graphfake.ParseFields(f.Sub))
	}
	return graphfake.Pick(obj, fields)
}
