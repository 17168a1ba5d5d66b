// Package facebookfake is an in-memory Facebook Pages Graph API for tests
// and `tanggap dev`: pages, their feed (page posts and visitor posts) and
// comments with replies, which can be added, edited, hidden and deleted at
// run time, served in the Graph API's JSON format (fields selection,
// comment summaries, filter=stream, cursor paging, error objects, the
// X-Business-Use-Case-Usage header), with a per-page call budget (200
// calls per hour by default) and injectable faults.
//
// The Graph plumbing it shares with instagramfake (faults, tokens, the
// budget and its usage header, paging, fields) is in
// collectors/facebook/graph/graphfake; pages, posts and comments are here.
//
// Mount it on an httptest.Server or any mux: it serves /vNN.N/... paths.
package facebookfake

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tanggap/tanggap/collectors/facebook/graph/graphfake"
)

// TimeLayout is the Graph API timestamp format.
const TimeLayout = graphfake.TimeLayout

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	mu sync.Mutex
	g  *graphfake.Server // faults, tokens, budget, paging; guarded by mu

	pages    map[string]*Page
	posts    map[string]*Post
	comments map[string]*Comment
	porder   []string
	corder   []string
	seq      int64
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
func WithClock(now func() time.Time) Option { return func(s *Server) { s.g.Now = now } }

// WithToken accepts only this access token (default: any non-empty one).
func WithToken(token string) Option { return func(s *Server) { s.g.Token = token } }

// WithBudget sets the calls allowed per page per window (default 200 per
// hour). A limit of 0 disables the budget.
func WithBudget(limit int, window time.Duration) Option {
	return func(s *Server) { s.g.Limit, s.g.Window = limit, window }
}

// New returns an empty fake.
func New(opts ...Option) *Server {
	s := &Server{pages: map[string]*Page{}, posts: map[string]*Post{}, comments: map[string]*Comment{}}
	s.g = graphfake.New(&s.mu, platform, s.node, s.edge)
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
		p.Created = s.g.Now()
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
		c.Created = s.g.Now()
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
	p.Message, p.Updated = message, s.g.Now()
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
func (s *Server) Calls(pageID string) int { return s.g.Calls(pageID) }

// Requests returns how many requests the fake answered.
func (s *Server) Requests() int { return s.g.Requests() }
