package facebookfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// GraphError is a Graph API error object.
type GraphError struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    int    `json:"code"`
	Subcode int    `json:"error_subcode,omitempty"`
	Trace   string `json:"fbtrace_id"`
}

// Fault makes matching requests fail or stall.
type Fault struct {
	Path   string            // substring of the request path; "" matches every request
	Status int               // HTTP status (default 400 with Error, 500 without)
	Error  *GraphError       // Graph error object to answer with
	Body   string            // raw body instead (malformed JSON, invalid UTF-8)
	Header map[string]string // extra response headers (usage at 100%)
	Delay  time.Duration     // hold the response this long, or until the client gives up
	Times  int               // requests it applies to; 0 means 1, negative means forever
}

// TokenExpired is Graph error 190/463.
func TokenExpired() Fault {
	return Fault{Status: 400, Error: &GraphError{
		Message: "Error validating access token: Session has expired on Tuesday, 17-Mar-26 01:00:00 PDT.",
		Type:    "OAuthException", Code: 190, Subcode: 463,
	}}
}

// Throttled is a Graph throttling error: 4 (app), 17 (user), 32 (page),
// 613 or 80001 (Pages business use case).
func Throttled(code int) Fault {
	msg := map[int]string{
		4:     "(#4) Application request limit reached",
		17:    "(#17) User request limit reached",
		32:    "(#32) Page request limit reached",
		613:   "(#613) Calls to this api have exceeded the rate limit.",
		80001: "(#80001) There have been too many calls to this Page account. Wait a bit and try again.",
	}[code]
	return Fault{Status: 400, Error: &GraphError{Message: msg, Type: "OAuthException", Code: code}}
}

// ServerError is an HTTP 500 with Graph error 2.
func ServerError() Fault {
	return Fault{Status: 500, Error: &GraphError{Message: "An unexpected error has occurred. Please retry your request later.", Type: "OAuthException", Code: 2}}
}

// Malformed answers 200 with a body that is not JSON.
func Malformed() Fault { return Fault{Status: 200, Body: `{"data":[{"id":"1790000`} }

// Slow holds the response for d.
func Slow(d time.Duration) Fault { return Fault{Delay: d} }

// Inject adds a fault; faults match in the order added.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

func (s *Server) takeFault(path string) *Fault {
	for i, f := range s.faults {
		if f.Path != "" && !strings.Contains(path, f.Path) {
			continue
		}
		c := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &c
	}
	return nil
}

func graphError(w http.ResponseWriter, status int, e GraphError) {
	if e.Trace == "" {
		e.Trace = "AbCdEfGhIjKlMnOpQrStUvW"
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func notFound(w http.ResponseWriter, id string) {
	graphError(w, 400, GraphError{
		Message: fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", id),
		Type:    "GraphMethodException", Code: 100, Subcode: 33,
	})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	f := s.takeFault(r.URL.Path)
	s.mu.Unlock()
	if f != nil {
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		for k, v := range f.Header {
			w.Header().Set(k, v)
		}
		switch {
		case f.Body != "":
			w.Header().Set("Content-Type", "application/json; charset=UTF-8")
			w.WriteHeader(orDefault(f.Status, 200))
			_, _ = w.Write([]byte(f.Body))
			return
		case f.Error != nil:
			graphError(w, orDefault(f.Status, 400), *f.Error)
			return
		case f.Status != 0:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte("<html><body>Sorry, something went wrong.</body></html>"))
			return
		}
	}
	if r.Method != http.MethodGet {
		graphError(w, 400, GraphError{Message: "Unsupported method", Type: "GraphMethodException", Code: 100})
		return
	}
	if !s.authorized(r) {
		graphError(w, 400, GraphError{Message: "Invalid OAuth access token - Cannot parse access token", Type: "OAuthException", Code: 190})
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) > 0 && strings.HasPrefix(parts[0], "v") && strings.Contains(parts[0], ".") {
		parts = parts[1:]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := r.URL.Query()
	switch {
	case len(parts) == 1:
		s.node(w, r, parts[0], q)
	case len(parts) == 2:
		s.edge(w, r, parts[0], parts[1], q)
	default:
		graphError(w, 400, GraphError{Message: "Unknown path components: /" + strings.Join(parts, "/"), Type: "OAuthException", Code: 2500})
	}
}

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

func (s *Server) authorized(r *http.Request) bool {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if r.Header.Get("Authorization") == "" {
		tok = r.URL.Query().Get("access_token")
	}
	if tok == "" {
		return false
	}
	return s.token == "" || tok == s.token
}

// spend counts a call against an account's budget and writes the usage
// header; false means the call was refused (the error is written).
func (s *Server) spend(w http.ResponseWriter, accountID string) bool {
	if s.limit <= 0 || accountID == "" {
		return true
	}
	now := s.now()
	u := s.usage[accountID]
	if u == nil || !now.Before(u.start.Add(s.window)) {
		u = &window{start: now}
		s.usage[accountID] = u
	}
	regain := int((u.start.Add(s.window).Sub(now) + time.Minute - 1) / time.Minute)
	if u.calls >= s.limit {
		s.usageHeader(w, accountID, 100, regain)
		graphError(w, 400, GraphError{Message: "(#80001) There have been too many calls to this Page account. Wait a bit and try again.", Type: "OAuthException", Code: 80001})
		return false
	}
	u.calls++
	pct := u.calls * 100 / s.limit
	if pct < 100 {
		regain = 0
	}
	s.usageHeader(w, accountID, pct, regain)
	return true
}

func (s *Server) usageHeader(w http.ResponseWriter, id string, pct, regain int) {
	v, _ := json.Marshal(map[string]any{id: []map[string]any{{
		"type": "pages", "call_count": pct, "total_cputime": pct / 4, "total_time": pct / 4,
		"estimated_time_to_regain_access": regain,
	}}})
	w.Header().Set("X-Business-Use-Case-Usage", string(v))
}

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
	fields := parseFields(q.Get("fields"))
	if pg := s.pageByRef(id); pg != nil {
		if !s.spend(w, pg.ID) {
			return
		}
		writeJSON(w, 200, pick(map[string]any{"id": pg.ID, "name": pg.Name, "username": pg.Username}, fields))
		return
	}
	if p := s.posts[id]; p != nil && !p.Deleted {
		if !s.spend(w, p.PageID) {
			return
		}
		writeJSON(w, 200, s.postJSON(p, fields))
		return
	}
	if c := s.comments[id]; c != nil && !c.Deleted && s.live(c) {
		if !s.spend(w, s.posts[c.PostID].PageID) {
			return
		}
		writeJSON(w, 200, s.commentJSON(c, fields))
		return
	}
	notFound(w, id)
}

func (s *Server) live(c *Comment) bool {
	p := s.posts[c.PostID]
	return p != nil && !p.Deleted
}

func (s *Server) edge(w http.ResponseWriter, r *http.Request, id, edge string, q url.Values) {
	fields := parseFields(q.Get("fields"))
	if pg := s.pageByRef(id); pg != nil && (edge == "feed" || edge == "posts") {
		if !s.spend(w, pg.ID) {
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
		sortNewest(list, func(p *Post) time.Time { return p.Created })
		data := make([]any, len(list))
		for i, p := range list {
			data[i] = s.postJSON(p, fields)
		}
		s.page(w, r, q, data, 25)
		return
	}
	if edge != "comments" {
		notFound(w, id)
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
		notFound(w, id)
		return
	}
	if !s.spend(w, pageID) {
		return
	}
	if q.Get("order") == "reverse_chronological" {
		sortNewest(list, func(c *Comment) time.Time { return c.Created })
	}
	data := make([]any, len(list))
	for i, c := range list {
		data[i] = s.commentJSON(c, fields)
	}
	s.page(w, r, q, data, 25)
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

func (s *Server) postJSON(p *Post, fields map[string]field) map[string]any {
	obj := map[string]any{
		"id": p.ID, "message": p.Message, "created_time": p.Created.UTC().Format(TimeLayout),
		"updated_time": p.Updated.UTC().Format(TimeLayout), "permalink_url": p.Permalink,
		"from": map[string]any{"id": p.FromID, "name": p.FromName},
	}
	if f, ok := fields["comments"]; ok {
		list := s.commentsOf(p.ID, "", f.mods["filter"] == "stream")
		limit := 25
		if l, err := strconv.Atoi(f.mods["limit"]); err == nil && l >= 0 {
			limit = l
		}
		data := []any{}
		for i, c := range list {
			if i == limit {
				break
			}
			data = append(data, s.commentJSON(c, parseFields(f.sub)))
		}
		cm := map[string]any{"data": data}
		if _, ok := f.mods["summary"]; ok {
			order := "ranked"
			if f.mods["filter"] == "stream" {
				order = "chronological"
			}
			cm["summary"] = map[string]any{"order": order, "total_count": len(list), "can_comment": true}
		}
		obj["comments"] = cm
	}
	if f, ok := fields["from"]; ok && f.sub != "" {
		obj["from"] = pick(obj["from"].(map[string]any), parseFields(f.sub))
	}
	return pick(obj, fields)
}

func (s *Server) commentJSON(c *Comment, fields map[string]field) map[string]any {
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
		if f, ok := fields["parent"]; ok && f.sub != "" {
			obj["parent"] = pick(obj["parent"].(map[string]any), parseFields(f.sub))
		}
	}
	if f, ok := fields["from"]; ok && f.sub != "" {
		obj["from"] = pick(obj["from"].(map[string]any), parseFields(f.sub))
	}
	return pick(obj, fields)
}

// page writes one page of data with Graph cursor paging.
func (s *Server) page(w http.ResponseWriter, r *http.Request, q url.Values, data []any, def int) {
	limit := def
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 {
		limit = min(l, s.maxLimit)
	}
	off := 0
	if a := q.Get("after"); a != "" {
		n, ok := decodeCursor(a)
		if !ok {
			graphError(w, 400, GraphError{Message: "Invalid cursor", Type: "OAuthException", Code: 100})
			return
		}
		off = n
	}
	end := min(off+limit, len(data))
	if off > len(data) {
		off = len(data)
	}
	out := map[string]any{"data": nonNil(data[off:end])}
	if end > off {
		paging := map[string]any{"cursors": map[string]string{"before": encodeCursor(off), "after": encodeCursor(end)}}
		if end < len(data) {
			paging["next"] = nextURL(r, "", q, encodeCursor(end))
		}
		if off > 0 {
			paging["previous"] = nextURL(r, "", q, encodeCursor(max(0, off-limit)))
		}
		out["paging"] = paging
	}
	writeJSON(w, 200, out)
}

func nonNil(d []any) []any {
	if d == nil {
		return []any{}
	}
	return d
}

func nextURL(r *http.Request, path string, q url.Values, after string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	p := r.URL.Path
	if path != "" {
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
		p = "/" + parts[0] + path
	}
	v := url.Values{}
	for k, vs := range q {
		if k != "access_token" && k != "before" {
			v[k] = vs
		}
	}
	v.Set("after", after)
	return scheme + "://" + r.Host + p + "?" + v.Encode()
}
