// Package instagramfake is an in-memory Instagram Graph API for tests and
// `tanggap dev`: accounts, media, comments and replies that can be added,
// edited, hidden and deleted at run time, served in the Graph API's JSON
// format (fields selection, cursor paging, error objects, the
// X-Business-Use-Case-Usage header), with a per-account call budget
// (200 calls per hour by default) and injectable faults. Comments and
// captions that @mention a registered account on someone else's media are
// mentions: readable through the account's mentioned_comment and
// mentioned_media fields and, with WithWebhook, delivered as Meta's signed
// "mentions" webhooks.
//
// The Graph plumbing it shares with facebookfake (faults, tokens, the
// budget and its usage header, paging, fields) is in
// collectors/facebook/graph/graphfake; accounts, media and comments are
// here.
//
// Mount it on an httptest.Server or any mux: it serves /vNN.N/... paths.
package instagramfake

import (
	"fmt"
	"strconv"
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

	accounts map[string]*account // by id
	media    map[string]*Media
	comments map[string]*Comment
	order    []string // media ids in insertion order
	corder   []string // comment ids in insertion order
	seq      int64
	hook     *webhook // nil without WithWebhook
}

type account struct {
	ID, Username string
	Tags         []string // media ids the account is tagged in
}

// Media is one Instagram media.
type Media struct {
	ID        string
	Owner     string // ig-user-id of the owning account
	Username  string // owner's username (filled from the account when empty)
	Caption   string
	Timestamp time.Time
	Permalink string // filled when empty
	Deleted   bool
}

// Comment is a comment, or a reply when ParentID is set.
type Comment struct {
	ID        string
	MediaID   string
	ParentID  string
	Text      string
	UserID    string
	Username  string
	Timestamp time.Time
	Hidden    bool
	Deleted   bool
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock used for timestamps defaults and budgets.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.g.Now = now } }

// WithToken accepts only this access token (default: any non-empty one).
func WithToken(token string) Option { return func(s *Server) { s.g.Token = token } }

// WithBudget sets the calls allowed per account per window (default 200
// per hour). A limit of 0 disables the budget.
func WithBudget(limit int, window time.Duration) Option {
	return func(s *Server) { s.g.Limit, s.g.Window = limit, window }
}

// New returns an empty fake.
func New(opts ...Option) *Server {
	s := &Server{accounts: map[string]*account{}, media: map[string]*Media{}, comments: map[string]*Comment{}}
	s.g = graphfake.New(&s.mu, platform, s.node, s.edge)
	for _, o := range opts {
		o(s)
	}
	if s.hook != nil {
		go s.deliver()
	}
	return s
}

func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%014d", prefix, s.seq)
}

// AddAccount registers an Instagram professional account and returns its
// ig-user-id (generated when id is empty).
func (s *Server) AddAccount(username, id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		if strings.EqualFold(a.Username, username) {
			return a.ID
		}
	}
	if id == "" {
		id = s.nextID("178414")
	}
	s.accounts[id] = &account{ID: id, Username: username}
	return id
}

// AccountID returns the id of a registered username.
func (s *Server) AccountID(username string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		if strings.EqualFold(a.Username, strings.TrimPrefix(username, "@")) {
			return a.ID, true
		}
	}
	return "", false
}

// AddMedia adds a media and returns its id.
func (s *Server) AddMedia(m Media) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.ID == "" {
		m.ID = s.nextID("179")
	}
	if m.Timestamp.IsZero() {
		m.Timestamp = s.g.Now()
	}
	if a := s.accounts[m.Owner]; a != nil && m.Username == "" {
		m.Username = a.Username
	}
	if m.Permalink == "" {
		m.Permalink = "https://www.instagram.com/p/" + shortcode(m.ID) + "/"
	}
	s.media[m.ID] = &m
	s.order = append(s.order, m.ID)
	if !m.Deleted {
		s.notifyMentions(m.Caption, m.Owner, m.ID, "")
	}
	return m.ID
}

// Tag makes a media (usually someone else's) tag an account.
func (s *Server) Tag(mediaID, accountID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accounts[accountID]; a != nil {
		a.Tags = append(a.Tags, mediaID)
	}
}

// AddComment adds a comment or reply and returns its id. A reply to a
// reply is attached to the top-level comment, as on Instagram.
func (s *Server) AddComment(c Comment) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ID == "" {
		c.ID = s.nextID("180")
	}
	if c.Timestamp.IsZero() {
		c.Timestamp = s.g.Now()
	}
	if p := s.comments[c.ParentID]; p != nil {
		if p.ParentID != "" {
			c.ParentID = p.ParentID
		}
		c.MediaID = p.MediaID
	}
	if c.UserID == "" {
		c.UserID = s.nextID("178")
	}
	s.comments[c.ID] = &c
	s.corder = append(s.corder, c.ID)
	if !c.Deleted && s.live(&c) {
		s.notifyMentions(c.Text, s.media[c.MediaID].Owner, c.MediaID, c.ID)
	}
	return c.ID
}

// EditComment changes a comment's text.
func (s *Server) EditComment(id, text string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.comments[id]
	if c == nil || c.Deleted {
		return false
	}
	c.Text = text
	return true
}

// EditCaption changes a media's caption.
func (s *Server) EditCaption(id, caption string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.media[id]
	if m == nil || m.Deleted {
		return false
	}
	m.Caption = caption
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

// DeleteMedia deletes a media.
func (s *Server) DeleteMedia(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.media[id]
	if m == nil || m.Deleted {
		return false
	}
	m.Deleted = true
	return true
}

// Calls returns the calls an account spent in its current budget window.
func (s *Server) Calls(accountID string) int { return s.g.Calls(accountID) }

// Requests returns how many requests the fake answered.
func (s *Server) Requests() int { return s.g.Requests() }

func shortcode(id string) string {
	n, _ := strconv.ParseUint(strings.TrimLeft(id, "0"), 10, 64)
	return "C" + strings.ToUpper(strconv.FormatUint(n%1e12, 36))
}
