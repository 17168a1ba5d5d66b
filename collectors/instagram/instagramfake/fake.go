// Package instagramfake is an in-memory Instagram Graph API for tests and
// `tanggap dev`: accounts, media, comments and replies that can be added,
// edited, hidden and deleted at run time, served in the Graph API's JSON
// format (fields selection, cursor paging, error objects, the
// X-Business-Use-Case-Usage header), with a per-account call budget
// (200 calls per hour by default) and injectable faults.
//
// Mount it on an httptest.Server or any mux: it serves /vNN.N/... paths.
package instagramfake

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

	accounts map[string]*account // by id
	media    map[string]*Media
	comments map[string]*Comment
	order    []string // media ids in insertion order
	corder   []string // comment ids in insertion order
	usage    map[string]*window
	faults   []*Fault
	seq      int64
	requests int
	demo     map[string]demo.Post
}

type account struct {
	ID, Username string
	Tags         []string // media ids the account is tagged in
}

type window struct {
	start time.Time
	calls int
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
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithToken accepts only this access token (default: any non-empty one).
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithBudget sets the calls allowed per account per window (default 200
// per hour). A limit of 0 disables the budget.
func WithBudget(limit int, window time.Duration) Option {
	return func(s *Server) { s.limit, s.window = limit, window }
}

// New returns an empty fake.
func New(opts ...Option) *Server {
	s := &Server{
		now:      time.Now,
		limit:    200,
		window:   time.Hour,
		maxLimit: 100,
		accounts: map[string]*account{},
		media:    map[string]*Media{},
		comments: map[string]*Comment{},
		usage:    map[string]*window{},
	}
	for _, o := range opts {
		o(s)
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
		m.Timestamp = s.now()
	}
	if a := s.accounts[m.Owner]; a != nil && m.Username == "" {
		m.Username = a.Username
	}
	if m.Permalink == "" {
		m.Permalink = "https://www.instagram.com/p/" + shortcode(m.ID) + "/"
	}
	s.media[m.ID] = &m
	s.order = append(s.order, m.ID)
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
		c.Timestamp = s.now()
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
func (s *Server) Calls(accountID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.usage[accountID]; w != nil && s.now().Before(w.start.Add(s.window)) {
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

func shortcode(id string) string {
	n, _ := strconv.ParseUint(strings.TrimLeft(id, "0"), 10, 64)
	return "C" + strings.ToUpper(strconv.FormatUint(n%1e12, 36))
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
