package instagramfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
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
// 613 or 80002 (Instagram business use case).
func Throttled(code int) Fault {
	msg := map[int]string{
		4:     "(#4) Application request limit reached",
		17:    "(#17) User request limit reached",
		32:    "(#32) Page request limit reached",
		613:   "(#613) Calls to this api have exceeded the rate limit.",
		80002: "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again.",
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
	case len(parts) == 2 && parts[0] == "me" && parts[1] == "accounts":
		s.meAccounts(w, r, q)
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
		graphError(w, 400, GraphError{Message: "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again.", Type: "OAuthException", Code: 80002})
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
		"type": "instagram", "call_count": pct, "total_cputime": pct / 4, "total_time": pct / 4,
		"estimated_time_to_regain_access": regain,
	}}})
	w.Header().Set("X-Business-Use-Case-Usage", string(v))
}

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
	s.page(w, r, q, data, 25)
}

func (s *Server) node(w http.ResponseWriter, r *http.Request, id string, q url.Values) {
	fields := parseFields(q.Get("fields"))
	switch {
	case s.accounts[id] != nil:
		a := s.accounts[id]
		if !s.spend(w, id) {
			return
		}
		writeJSON(w, 200, pick(map[string]any{"id": a.ID, "username": a.Username}, fields))
	case s.media[id] != nil && !s.media[id].Deleted:
		m := s.media[id]
		if !s.spend(w, m.Owner) {
			return
		}
		writeJSON(w, 200, pick(s.mediaJSON(m), fields))
	case s.comments[id] != nil && !s.comments[id].Deleted && s.live(s.comments[id]):
		c := s.comments[id]
		if !s.spend(w, s.media[c.MediaID].Owner) {
			return
		}
		writeJSON(w, 200, s.commentJSON(r, c, fields))
	default:
		notFound(w, id)
	}
}

func (s *Server) live(c *Comment) bool {
	m := s.media[c.MediaID]
	return m != nil && !m.Deleted
}

func (s *Server) edge(w http.ResponseWriter, r *http.Request, id, edge string, q url.Values) {
	fields := parseFields(q.Get("fields"))
	switch {
	case s.accounts[id] != nil && (edge == "media" || edge == "tags"):
		if !s.spend(w, id) {
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
		sortNewest(list, func(m *Media) time.Time { return m.Timestamp })
		data := make([]any, len(list))
		for i, m := range list {
			data[i] = pick(s.mediaJSON(m), fields)
		}
		s.page(w, r, q, data, 25)
	case s.media[id] != nil && edge == "comments":
		m := s.media[id]
		if m.Deleted {
			notFound(w, id)
			return
		}
		if !s.spend(w, m.Owner) {
			return
		}
		var list []*Comment
		for _, cid := range s.corder {
			if c := s.comments[cid]; c.MediaID == id && c.ParentID == "" && !c.Deleted {
				list = append(list, c)
			}
		}
		sortNewest(list, func(c *Comment) time.Time { return c.Timestamp })
		data := make([]any, len(list))
		for i, c := range list {
			data[i] = s.commentJSON(r, c, fields)
		}
		s.page(w, r, q, data, 25)
	case s.comments[id] != nil && edge == "replies":
		c := s.comments[id]
		if c.Deleted || !s.live(c) {
			notFound(w, id)
			return
		}
		if !s.spend(w, s.media[c.MediaID].Owner) {
			return
		}
		replies := s.replies(id)
		data := make([]any, len(replies))
		for i, rc := range replies {
			data[i] = s.commentJSON(r, rc, fields)
		}
		s.page(w, r, q, data, 25)
	default:
		notFound(w, id)
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

func (s *Server) commentJSON(r *http.Request, c *Comment, fields map[string]field) map[string]any {
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
			sub := parseFields(f.sub)
			limit := 25
			if l, err := strconv.Atoi(f.mods["limit"]); err == nil && l > 0 {
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
				rep["paging"] = map[string]any{
					"cursors": map[string]string{"before": encodeCursor(0), "after": encodeCursor(limit)},
					"next":    nextURL(r, "/"+c.ID+"/replies", url.Values{"fields": {f.sub}, "limit": {strconv.Itoa(limit)}}, encodeCursor(limit)),
				}
			}
			obj["replies"] = rep
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
