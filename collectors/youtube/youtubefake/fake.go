// Package youtubefake is an in-memory YouTube Data API v3 for tests and
// `tanggap dev`: channels, videos and comment threads with replies that
// can be added, edited and deleted at run time, served as channels.list,
// commentThreads.list and comments.list in the API's JSON format (kinds,
// etags, pageInfo, nextPageToken, Google error bodies), with the daily
// quota (10,000 units, reset at midnight Pacific time; 1 unit per list
// call) and injectable faults.
//
// Threads are ordered newest top-level comment first; replies oldest first.
package youtubefake

import (
	"crypto/sha1"
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

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	now      func() time.Time
	key      string
	quota    int
	pacific  *time.Location
	day      string
	used     int
	channels map[string]*Channel
	comments map[string]*Comment
	order    []string
	faults   []*Fault
	seq      int
	requests int
	demo     map[string]demo.Post
}

// Channel is a YouTube channel.
type Channel struct {
	ID, Handle, Title string
}

// Comment is a top-level comment (a thread) or, with ParentID, a reply.
type Comment struct {
	ID              string
	ChannelID       string // the channel the thread belongs to
	VideoID         string
	ParentID        string
	Text            string
	AuthorName      string // display name, "@handle" for most channels
	AuthorChannelID string
	Published       time.Time
	Updated         time.Time
	Deleted         bool
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock for default times and the quota day.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithKey accepts only this API key or bearer token (default: any non-empty one).
func WithKey(key string) Option { return func(s *Server) { s.key = key } }

// WithQuota sets the daily quota in units (default 10,000); 0 means unlimited.
func WithQuota(units int) Option { return func(s *Server) { s.quota = units } }

// New returns an empty fake.
func New(opts ...Option) *Server {
	s := &Server{now: time.Now, quota: 10000, channels: map[string]*Channel{}, comments: map[string]*Comment{}}
	if loc, err := time.LoadLocation("America/Los_Angeles"); err == nil {
		s.pacific = loc
	} else {
		s.pacific = time.FixedZone("PST", -8*3600)
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

const idChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// makeID derives a YouTube-looking id of n characters from a seed.
func makeID(prefix string, n int, seed string) string {
	var b strings.Builder
	b.WriteString(prefix)
	h := sha1.Sum([]byte(seed))
	for i := 0; b.Len() < n; i++ {
		b.WriteByte(idChars[int(h[i%len(h)]+byte(i/len(h)*7))%len(idChars)])
	}
	return b.String()
}

func (s *Server) next() string { s.seq++; return strconv.Itoa(s.seq) }

// AddChannel registers a channel and returns its id (UC + 22 characters,
// generated when id is empty). handle is "@name".
func (s *Server) AddChannel(handle, title, id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.HasPrefix(handle, "@") {
		handle = "@" + handle
	}
	for _, c := range s.channels {
		if strings.EqualFold(c.Handle, handle) {
			return c.ID
		}
	}
	if id == "" {
		id = makeID("UC", 24, "channel"+handle)
	}
	if title == "" {
		title = strings.TrimPrefix(handle, "@")
	}
	s.channels[id] = &Channel{ID: id, Handle: handle, Title: title}
	return id
}

// ChannelID returns the id of a handle.
func (s *Server) ChannelID(handle string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := "@" + strings.TrimPrefix(handle, "@")
	for _, c := range s.channels {
		if strings.EqualFold(c.Handle, h) || c.ID == handle {
			return c.ID, true
		}
	}
	return "", false
}

// NewVideoID returns a fresh 11-character video id.
func (s *Server) NewVideoID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return makeID("", 11, "video"+s.next())
}

// AddComment adds a top-level comment (a new thread) or a reply and
// returns its id. A reply to a reply joins the same thread, as on YouTube.
func (s *Server) AddComment(c Comment) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Published.IsZero() {
		c.Published = s.now()
	}
	if c.Updated.IsZero() {
		c.Updated = c.Published
	}
	if p := s.comments[c.ParentID]; p != nil {
		if p.ParentID != "" {
			c.ParentID = p.ParentID
			p = s.comments[p.ParentID]
		}
		c.ChannelID, c.VideoID = p.ChannelID, p.VideoID
	}
	if c.ID == "" {
		top := makeID("Ugz", 26, "comment"+s.next())
		if c.ParentID != "" {
			c.ID = c.ParentID + "." + makeID("A", 22, "reply"+s.next())
		} else {
			c.ID = top
		}
	}
	if c.AuthorChannelID == "" {
		c.AuthorChannelID = makeID("UC", 24, "author"+c.AuthorName)
	}
	if ch := s.channels[c.AuthorChannelID]; ch != nil && c.AuthorName == "" {
		c.AuthorName = ch.Handle
	}
	s.comments[c.ID] = &c
	s.order = append(s.order, c.ID)
	return c.ID
}

// EditComment changes a comment's text and its updatedAt.
func (s *Server) EditComment(id, text string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.comments[id]
	if c == nil || c.Deleted {
		return false
	}
	c.Text, c.Updated = text, s.now()
	return true
}

// DeleteComment deletes a comment; deleting a top-level one removes its
// thread.
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

// UnitsUsed returns the quota units spent today (Pacific time).
func (s *Server) UnitsUsed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.now().In(s.pacific).Format("2006-01-02") != s.day {
		return 0
	}
	return s.used
}

// Requests returns how many requests the fake answered.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *Server) replies(parent string) []*Comment {
	var out []*Comment
	for _, id := range s.order {
		if c := s.comments[id]; c.ParentID == parent && !c.Deleted {
			out = append(out, c)
		}
	}
	return out
}

func etag(v any) string {
	b, _ := json.Marshal(v)
	h := sha1.Sum(b)
	return base64.RawURLEncoding.EncodeToString(h[:])[:27]
}

func encodePageToken(off int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("off:%d", off)))
}

func decodePageToken(t string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || !strings.HasPrefix(string(b), "off:") {
		return 0, false
	}
	n, err := strconv.Atoi(string(b[4:]))
	return n, err == nil && n >= 0
}

func sortThreads(cs []*Comment) {
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Published.After(cs[j].Published) })
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
