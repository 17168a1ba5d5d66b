// Package xv2fake is an in-memory X API v2 for tests and `tanggap dev`:
// users and posts (with replies, edits and deletions) that can be added at
// run time, served as GET /2/users/by/username/:username,
// /2/users/:id/mentions, /2/users/:id/tweets and /2/tweets in X's JSON
// format (fields and expansions, since_id/until_id/start_time,
// pagination_token, problem details, an optional reach: how many of a
// timeline's newest posts are served), with per-app rate windows and their
// x-rate-limit-* headers (mentions 450 requests per 15 minutes), an
// optional usage cap and injectable faults.
package xv2fake

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tanggap/tanggap/collectors/demo"
)

// Endpoint names for rate limits.
const (
	EndpointMentions = "mentions"
	EndpointTweets   = "tweets"
	EndpointLookup   = "lookup"
	EndpointUsers    = "users"
)

const twitterEpoch = 1288834974657

// TimeLayout is X's created_at format.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	now      func() time.Time
	token    string
	limits   map[string]int
	reach    map[string]int
	windows  map[string]*window
	usageCap int
	read     int

	users    map[string]*User
	tweets   map[string]*Tweet
	faults   []*Fault
	seq      uint64
	requests int
	demo     map[string]demo.Post
}

// rateWindow is the length of X's rate-limit windows.
const rateWindow = 15 * time.Minute

type window struct {
	start time.Time
	calls int
}

// User is an X account.
type User struct {
	ID, Username, Name string
}

// Tweet is a post. A reply sets ReplyTo; the conversation and the replied
// user follow from the parent.
type Tweet struct {
	ID              string
	AuthorID        string
	Text            string
	Created         time.Time
	ReplyTo         string
	ConversationID  string
	InReplyToUserID string
	EditHistory     []string // ids of every version, oldest first
	Deleted         bool
	Superseded      bool // an edit replaced it: lookups still find it, timelines do not
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock for ids, default times and rate windows.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithToken accepts only this bearer token (default: any non-empty one).
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithRateLimit sets an endpoint's requests per window for the app
// (defaults: mentions 450, tweets 1500, lookup 3500, users 300); 0 means
// unlimited.
func WithRateLimit(endpoint string, limit int) Option {
	return func(s *Server) { s.limits[endpoint] = limit }
}

// WithReach makes a timeline (EndpointMentions or EndpointTweets) serve
// only its newest n posts, as X does (the most recent 800 mentions and
// 3,200 posts): older ones are in no page, whatever the parameters.
// Default 0: every post is served (the load generator's fleets hold more).
func WithReach(endpoint string, n int) Option {
	return func(s *Server) { s.reach[endpoint] = n }
}

// WithUsageCap makes the project's usage cap n posts read: past it every
// read answers 429 UsageCapExceeded.
func WithUsageCap(n int) Option { return func(s *Server) { s.usageCap = n } }

// New returns an empty fake.
func New(opts ...Option) *Server {
	s := &Server{
		now:     time.Now,
		limits:  map[string]int{EndpointMentions: 450, EndpointTweets: 1500, EndpointLookup: 3500, EndpointUsers: 300},
		reach:   map[string]int{},
		windows: map[string]*window{},
		users:   map[string]*User{},
		tweets:  map[string]*Tweet{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// snowflake makes an id that encodes t and sorts after every earlier id.
func (s *Server) snowflake(t time.Time) string {
	s.seq++
	ms := t.UnixMilli() - twitterEpoch
	if ms < 0 {
		ms = 0
	}
	return strconv.FormatUint(uint64(ms)<<22|(s.seq&0x3FFFFF), 10)
}

// AddUser registers a user and returns its id (generated when empty).
func (s *Server) AddUser(username, name, id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if strings.EqualFold(u.Username, username) {
			return u.ID
		}
	}
	if id == "" {
		s.seq++
		id = strconv.FormatUint(1500000000000000000+s.seq*7919, 10)
	}
	if name == "" {
		name = username
	}
	s.users[id] = &User{ID: id, Username: username, Name: name}
	return id
}

// UserID returns the id of a username.
func (s *Server) UserID(username string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byUsername(strings.TrimPrefix(username, "@"))
	if u == nil {
		return "", false
	}
	return u.ID, true
}

func (s *Server) byUsername(name string) *User {
	for _, u := range s.users {
		if strings.EqualFold(u.Username, name) {
			return u
		}
	}
	return nil
}

// AddTweet adds a post and returns its id.
func (s *Server) AddTweet(t Tweet) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.Created.IsZero() {
		t.Created = s.now()
	}
	if t.ID == "" {
		t.ID = s.snowflake(t.Created)
	}
	if p := s.tweets[t.ReplyTo]; p != nil {
		t.ConversationID = p.ConversationID
		t.InReplyToUserID = p.AuthorID
	}
	if t.ConversationID == "" {
		t.ConversationID = t.ID
	}
	if len(t.EditHistory) == 0 {
		t.EditHistory = []string{t.ID}
	}
	s.tweets[t.ID] = &t
	return t.ID
}

// EditTweet publishes a new version of a post, as X does: a new id whose
// edit history starts at the original. It returns the new id.
func (s *Server) EditTweet(id, text string) string {
	s.mu.Lock()
	old := s.tweets[id]
	if old == nil || old.Deleted || old.Superseded {
		s.mu.Unlock()
		return ""
	}
	nt := *old
	nt.Created = s.now()
	nt.ID = s.snowflake(nt.Created)
	nt.Text = text
	nt.EditHistory = append(append([]string(nil), old.EditHistory...), nt.ID)
	if nt.ConversationID == old.ID {
		nt.ConversationID = old.ID // the conversation keeps the original id
	}
	for _, v := range old.EditHistory {
		if t := s.tweets[v]; t != nil {
			t.Superseded = true
			t.EditHistory = nt.EditHistory
		}
	}
	s.tweets[nt.ID] = &nt
	s.mu.Unlock()
	return nt.ID
}

// DeleteTweet deletes a post (every version).
func (s *Server) DeleteTweet(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tweets[id]
	if t == nil || t.Deleted {
		return false
	}
	for _, v := range t.EditHistory {
		if x := s.tweets[v]; x != nil {
			x.Deleted = true
		}
	}
	t.Deleted = true
	return true
}

// Calls returns the requests spent on an endpoint in its current window.
func (s *Server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.windows[endpoint]; w != nil && s.now().Before(w.start.Add(rateWindow)) {
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

var mentionRE = regexp.MustCompile(`(?i)(^|[^A-Za-z0-9_])@([A-Za-z0-9_]{1,15})`)

func mentions(text, username string) bool {
	for _, m := range mentionRE.FindAllStringSubmatch(text, -1) {
		if strings.EqualFold(m[2], username) {
			return true
		}
	}
	return false
}

func cmpID(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func sortNewest(ts []*Tweet) {
	sort.Slice(ts, func(i, j int) bool { return cmpID(ts[i].ID, ts[j].ID) > 0 })
}

func encodeToken(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("below:" + id))
}

func decodeToken(tok string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(b), "below:") {
		return "", false
	}
	return string(b[6:]), true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
