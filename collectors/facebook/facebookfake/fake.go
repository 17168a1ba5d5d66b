// Package facebookfake is an in-memory Facebook Pages Graph API for tests
// and `tanggap dev`: pages, their feed (page posts and visitor posts) and
// comments with replies, which can be added, edited, hidden and deleted at
// run time, served in the Graph API's JSON format (fields selection,
// comment summaries, filter=stream, cursor paging, error objects, the
// X-Business-Use-Case-Usage header), with a per-page call budget (200
// calls per hour by default) and injectable faults.
//
// Mount it on an httptest.Server or any mux: it serves /vNN.N/... paths.
package facebookfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tanggap/tanggap/collectors/demo"
)

// TimeLayout is the Graph API timestamp format.
const TimeLayout = "2006-01-02T15:04:05-0700"

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	now      func() time.Time
	token    string
	limit    int
	window   time.Duration
	maxLimit int

	pages    map[string]*Page
	posts    map[string]*Post
	comments map[string]*Comment
	porder   []string
	corder   []string
	usage    map[string]*window
	faults   []*Fault
	seq      int64
	requests int
	demo     map[string]demo.Post
}

type window struct {
	start time.Time
	calls int
}

// Page is a Facebook Page.
type Page struct {
	ID, Username, Name string
}

// Post is a post in a page's feed: by the page, or a visitor post when
// FromID is not the page.
type Post struct {
	ID        string
	PageID    string
	FromID    string // default the page
	FromName  string
	Message   string
	Created   time.Time
	Updated   time.Time // bumped on edits and new comments
	Deleted   bool
	Permalink string
}

// Comment is a comment, or a reply when ParentID is set.
type Comment struct {
	ID       string
	PostID   string
	ParentID string
	Message  string
	FromID   string
	FromName string
	Created  time.Time
	Hidden   bool
	Deleted  bool
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock used for default times and budgets.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithToken accepts only this access token (default: any non-empty one).
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithBudget sets the calls allowed per page per window (default 200 per
// hour). A limit of 0 disables the budget.
func WithBudget(limit int, window time.Duration) Option {
	return func(s *Server) { s.limit, s.window = limit, window }
}

// New returns an empty fake.
func New(opts ...Option) *Server {
	s := &Server{
		now: time.Now, limit: 200, window: time.Hour, maxLimit: 100,
		pages: map[string]*Page{}, posts: map[string]*Post{}, comments: map[string]*Comment{},
		usage: map[string]*window{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Server) nextNum() string {
	s.seq++
	return fmt.Sprintf("%d", 1000000000000000+s.seq)
}

// AddPage registers a page and returns its id (generated when empty).
func (s *Server) AddPage(username, name, id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pages {
		if strings.EqualFold(p.Username, username) {
			return p.ID
		}
	}
	if id == "" {
		id = "10" + s.nextNum()[3:]
	}
	if name == "" {
		name = username
	}
	s.pages[id] = &Page{ID: id, Username: username, Name: name}
	return id
}

// PageID returns the id of a page by username.
func (s *Server) PageID(username string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pages {
		if strings.EqualFold(p.Username, strings.TrimPrefix(username, "@")) {
			return p.ID, true
		}
	}
	return "", false
}

// AddPost adds a feed post and returns its id (pageid_postid).
func (s *Server) AddPost(p Post) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ID == "" {
		p.ID = p.PageID + "_" + s.nextNum()
	}
	if p.Created.IsZero() {
		p.Created = s.now()
	}
	if p.Updated.IsZero() {
		p.Updated = p.Created
	}
	if pg := s.pages[p.PageID]; pg != nil && (p.FromID == "" || p.FromID == pg.ID) {
		p.FromID, p.FromName = pg.ID, pg.Name
	}
	if p.Permalink == "" {
		pid, post, _ := strings.Cut(p.ID, "_")
		p.Permalink = "https://www.facebook.com/" + pid + "/posts/" + post
	}
	s.posts[p.ID] = &p
	s.porder = append(s.porder, p.ID)
	return p.ID
}

// AddComment adds a comment or reply and returns its id (postid_commentid).
// A comment by the page sets FromID to the page id.
func (s *Server) AddComment(c Comment) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.comments[c.ParentID]; p != nil {
		c.PostID = p.PostID
	}
	if c.ID == "" {
		_, post, _ := strings.Cut(c.PostID, "_")
		c.ID = post + "_" + s.nextNum()
	}
	if c.Created.IsZero() {
		c.Created = s.now()
	}
	if c.FromID == "" {
		c.FromID = "2" + s.nextNum()
	}
	if pg := s.pages[c.FromID]; pg != nil && c.FromName == "" {
		c.FromName = pg.Name
	}
	if p := s.posts[c.PostID]; p != nil && c.Created.After(p.Updated) {
		p.Updated = c.Created
	}
	s.comments[c.ID] = &c
	s.corder = append(s.corder, c.ID)
	return c.ID
}

// EditComment changes a comment's message.
func (s *Server) EditComment(id, message string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.comments[id]
	if c == nil || c.Deleted {
		return false
	}
	c.Message = message
	return true
}

// EditPost changes a post's message and bumps updated_time.
func (s *Server) EditPost(id, message string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.posts[id]
	if p == nil || p.Deleted {
		return false
	}
	p.Message, p.Updated = message, s.now()
	return true
}

// HideComment hides or unhides a comment.
func (s *Server) HideComment(id string, hidden bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.comments[id]
	if c == nil || c.Deleted {
		return false
	}
	c.Hidden = hidden
	return true
}

// DeleteComment deletes a comment and its replies.
func (s *Server) DeleteComment(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.comments[id]
	if c == nil || c.Deleted {
		return false
	}
	c.Deleted = true
	for _, r := range s.comments {
		if r.ParentID == id {
			r.Deleted = true
		}
	}
	return true
}

// DeletePost deletes a post.
func (s *Server) DeletePost(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.posts[id]
	if p == nil || p.Deleted {
		return false
	}
	p.Deleted = true
	return true
}

// Calls returns the calls a page spent in its current budget window.
func (s *Server) Calls(pageID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.usage[pageID]; w != nil && s.now().Before(w.start.Add(s.window)) {
		return w.calls
	}
	return 0
}

// Requests returns how many requests the fake answered.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// cursor paging: the cursors are base64 offsets, opaque to clients.
func encodeCursor(off int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(off)))
}

func decodeCursor(c string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), "o:") {
		return 0, false
	}
	n, err := strconv.Atoi(string(b[2:]))
	return n, err == nil && n >= 0
}

// field is one entry of a Graph fields parameter: name.mod(arg){sub}.
type field struct {
	sub  string
	mods map[string]string
}

// parseFields splits "id,from{id,username},replies.limit(5){id}" at the
// top level.
func parseFields(s string) map[string]field {
	out := map[string]field{}
	depth, start := 0, 0
	add := func(part string) {
		part = strings.TrimSpace(part)
		if part == "" {
			return
		}
		f := field{mods: map[string]string{}}
		if i := strings.IndexByte(part, '{'); i >= 0 && strings.HasSuffix(part, "}") {
			f.sub = part[i+1 : len(part)-1]
			part = part[:i]
		}
		segs := strings.Split(part, ".")
		for _, m := range segs[1:] {
			if i := strings.IndexByte(m, '('); i > 0 && strings.HasSuffix(m, ")") {
				f.mods[m[:i]] = m[i+1 : len(m)-1]
			}
		}
		out[segs[0]] = f
	}
	for i, r := range s {
		switch r {
		case '{', '(':
			depth++
		case '}', ')':
			depth--
		case ',':
			if depth == 0 {
				add(s[start:i])
				start = i + 1
			}
		}
	}
	add(s[start:])
	return out
}

func pick(obj map[string]any, fields map[string]field) map[string]any {
	if len(fields) == 0 {
		return map[string]any{"id": obj["id"]}
	}
	out := map[string]any{}
	for name := range fields {
		if v, ok := obj[name]; ok && v != nil {
			out[name] = v
		}
	}
	if _, ok := out["id"]; !ok {
		out["id"] = obj["id"]
	}
	return out
}

func sortNewest[T any](xs []T, at func(T) time.Time) {
	sort.SliceStable(xs, func(i, j int) bool { return at(xs[i]).After(at(xs[j])) })
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
