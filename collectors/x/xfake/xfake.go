// Package xfake is a fake X (Twitter) API v1.1 for tests and `tanggap dev`.
// It serves statuses/mentions_timeline.json and statuses/user_timeline.json
// in the real v1.1 JSON format from an in-memory list of statuses that can
// grow at runtime, honours since_id, max_id and count (and, when asked,
// X's reach: only the newest ~800 mentions and 3,200 posts), sends the
// x-rate-limit-* headers and enforces per-token windows (429 when spent),
// and injects faults: 429, an empty 503, 500, malformed JSON, slow answers,
// invalid UTF-8 and very large texts, 401.
//
// Serve it with httptest.NewServer(srv) or any http.Server; point the X
// poller at it with x.Options.BaseURL.
package xfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Endpoints served, relative to /1.1/.
const (
	Mentions     = "statuses/mentions_timeline"
	UserTimeline = "statuses/user_timeline"
)

// User is an X account.
type User struct {
	ID         string // decimal id; derived from the screen name when empty
	ScreenName string
	Name       string
}

// Status is one tweet held by the server.
type Status struct {
	ID        string // decimal snowflake id; Append assigns one when empty
	CreatedAt time.Time
	Text      string
	User      User
	// InReplyTo is the parent tweet's id and InReplyToUser its author,
	// when the status is a reply.
	InReplyTo     string
	InReplyToUser User
}

// Options configure a Server. Zero values take the defaults.
type Options struct {
	// Bearer is the app-only token the server accepts (default "xfake-bearer").
	Bearer string
	// Window is the rate-limit window (default 15 minutes).
	Window time.Duration
	// Requests per window: mentions per user token (default 75),
	// user_timeline per user token (default 900) and per app with the
	// bearer token (default 1500), as X documents them.
	MentionsLimit        int
	UserTimelineLimit    int
	AppUserTimelineLimit int
	// LargeTextBytes is the text size of the LargeText fault (default 40,000).
	LargeTextBytes int
	// MentionsReach and TimelineReach are how many of a timeline's newest
	// statuses mentions_timeline and user_timeline serve: X serves about
	// 800 mentions and 3,200 posts, and pages below them come back empty.
	// Zero serves every status (the load generator's fleets hold more).
	MentionsReach int
	TimelineReach int
	Now           func() time.Time
}

// FaultKind is a failure the server can inject.
type FaultKind int

const (
	RateLimited  FaultKind = iota + 1 // 429 with the x-rate-limit-* headers
	Unavailable                       // 503 with an empty body
	ServerError                       // 500 with X's JSON error body
	Malformed                         // 200 with a JSON page cut in the middle
	Slow                              // answers after Fault.Delay (or when the client gives up)
	InvalidUTF8                       // the page's texts carry invalid UTF-8 bytes
	LargeText                         // the page's texts are padded to LargeTextBytes
	Unauthorized                      // 401, X code 89 (invalid or expired token)
)

// Fault is injected into the next requests to an endpoint.
type Fault struct {
	Kind     FaultKind
	Endpoint string        // Mentions, UserTimeline or "" for both
	Times    int           // requests it applies to (default 1)
	Delay    time.Duration // for Slow
}

// Server is the fake X API. It is safe for concurrent use.
type Server struct {
	opts Options

	mu       sync.Mutex
	statuses []stored
	unsorted bool // an appended status had an id not above the one before
	lastID   int64
	users    map[string]User   // lower screen name -> user
	tokens   map[string]string // oauth_token -> lower screen name
	secrets  map[string]string // lower screen name -> token secret
	faults   []Fault
	windows  map[string]*window
	calls    map[string]int
	tokenSeq int
}

type stored struct {
	Status
	id       int64
	author   string   // lower screen name
	mentions []string // lower screen names named in the text
}

type window struct {
	limit, used int
	reset       time.Time
}

// New returns an empty Server.
func New(opts Options) *Server {
	if opts.Bearer == "" {
		opts.Bearer = "xfake-bearer"
	}
	if opts.Window <= 0 {
		opts.Window = 15 * time.Minute
	}
	if opts.MentionsLimit <= 0 {
		opts.MentionsLimit = 75
	}
	if opts.UserTimelineLimit <= 0 {
		opts.UserTimelineLimit = 900
	}
	if opts.AppUserTimelineLimit <= 0 {
		opts.AppUserTimelineLimit = 1500
	}
	if opts.LargeTextBytes <= 0 {
		opts.LargeTextBytes = 40_000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{
		opts: opts, users: map[string]User{}, tokens: map[string]string{}, secrets: map[string]string{},
		windows: map[string]*window{}, calls: map[string]int{},
	}
}

// Bearer is the app-only token the server accepts.
func (s *Server) Bearer() string { return s.opts.Bearer }

// Authorize registers an account and returns an OAuth 1.0a access token and
// secret for it: mentions_timeline with this token lists its mentions.
func (s *Server) Authorize(handle string) (token, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := strings.ToLower(strings.TrimPrefix(handle, "@"))
	s.userLocked(User{ScreenName: strings.TrimPrefix(handle, "@")})
	s.tokenSeq++
	token = fmt.Sprintf("%s-%d-xfaketoken", UserID(h), s.tokenSeq)
	secret = "xfake-secret-" + strconv.Itoa(s.tokenSeq)
	s.tokens[token] = h
	s.secrets[h] = secret
	return token, secret
}

// Revoke invalidates every token of an account: its requests get 401.
func (s *Server) Revoke(handle string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := strings.ToLower(strings.TrimPrefix(handle, "@"))
	for t, u := range s.tokens {
		if u == h {
			delete(s.tokens, t)
		}
	}
}

// Inject queues a fault.
func (s *Server) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// Calls returns how many requests an endpoint received.
func (s *Server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[endpoint]
}

// twitterEpochMS is the epoch of X's snowflake ids.
const twitterEpochMS = 1288834974657

// Snowflake returns an id of X's format for a time: milliseconds since
// X's epoch shifted left by 22 bits, plus a sequence.
func Snowflake(t time.Time, seq int64) int64 {
	ms := max(t.UnixMilli()-twitterEpochMS, 1)
	return ms<<22 | (seq & (1<<22 - 1))
}

// UserID derives a stable, realistic user id from a screen name.
func UserID(screenName string) string {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(strings.TrimPrefix(screenName, "@"))))
	return strconv.FormatUint(h.Sum64()%900_000_000_000_000_000+100_000_000_000_000_000, 10)
}

var mentionRE = regexp.MustCompile(`@([A-Za-z0-9_]{1,15})`)

// Append adds statuses (in feed order) and returns them with their ids. A
// status without an ID gets a snowflake from its CreatedAt (now when zero)
// that is larger than every id so far, so that since_id readers see it.
func (s *Server) Append(sts ...Status) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, 0, len(sts))
	for _, st := range sts {
		if st.CreatedAt.IsZero() {
			st.CreatedAt = s.opts.Now()
		}
		st.CreatedAt = st.CreatedAt.UTC().Truncate(time.Second)
		var id int64
		if st.ID != "" {
			id, _ = strconv.ParseInt(st.ID, 10, 64)
		}
		if id <= 0 {
			id = max(Snowflake(st.CreatedAt, 0), s.lastID+1)
			st.ID = strconv.FormatInt(id, 10)
		}
		s.lastID = max(s.lastID, id)
		st.User = s.userLocked(st.User)
		if st.InReplyToUser.ScreenName != "" {
			st.InReplyToUser = s.userLocked(st.InReplyToUser)
		}
		rec := stored{Status: st, id: id, author: strings.ToLower(st.User.ScreenName)}
		for _, m := range mentionRE.FindAllStringSubmatch(st.Text, -1) {
			rec.mentions = append(rec.mentions, strings.ToLower(m[1]))
		}
		if n := len(s.statuses); n > 0 && id <= s.statuses[n-1].id {
			s.unsorted = true
		}
		s.statuses = append(s.statuses, rec)
		out = append(out, st)
	}
	return out
}

// Statuses returns every status held, in the order appended.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, len(s.statuses))
	for i, st := range s.statuses {
		out[i] = st.Status
	}
	return out
}

// userLocked completes a user (id, name) and remembers it.
func (s *Server) userLocked(u User) User {
	k := strings.ToLower(u.ScreenName)
	known, ok := s.users[k]
	if u.ID == "" {
		if ok {
			u.ID = known.ID
		} else {
			u.ID = UserID(u.ScreenName)
		}
	}
	if u.Name == "" {
		u.Name = known.Name
		if u.Name == "" {
			u.Name = u.ScreenName
		}
	}
	if !ok || (known.Name == known.ScreenName && u.Name != u.ScreenName) {
		s.users[k] = u
	}
	return u
}

// ServeHTTP serves /1.1/statuses/mentions_timeline.json and
// /1.1/statuses/user_timeline.json.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/1.1/"), ".json")
	if r.Method != http.MethodGet || (ep != Mentions && ep != UserTimeline) {
		writeError(w, http.StatusNotFound, 34, "Sorry, that page does not exist.")
		return
	}
	resp := s.respond(ep, r)
	if resp.delay > 0 {
		t := time.NewTimer(resp.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	for k, v := range resp.header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.status)
	w.Write(resp.body)
}

type response struct {
	status int
	header http.Header
	body   []byte
	delay  time.Duration
}

func errorBody(code int, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"errors": []map[string]any{{"code": code, "message": msg}}})
	return b
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(errorBody(code, msg))
}

func jsonResponse(status int, body []byte) response {
	h := http.Header{}
	h.Set("Content-Type", "application/json;charset=utf-8")
	return response{status: status, header: h, body: body}
}

// respond computes the answer under the lock; ServeHTTP writes it.
func (s *Server) respond(ep string, r *http.Request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[ep]++
	now := s.opts.Now()

	me, app, ok := s.identityLocked(r.Header.Get("Authorization"))
	if !ok {
		return jsonResponse(http.StatusUnauthorized, errorBody(89, "Invalid or expired token."))
	}
	if ep == Mentions && app {
		return jsonResponse(http.StatusForbidden, errorBody(220, "Your credentials do not allow access to this resource."))
	}

	// Rate window of this endpoint and identity.
	key, limit := ep+" "+me, s.opts.UserTimelineLimit
	switch {
	case ep == Mentions:
		limit = s.opts.MentionsLimit
	case app:
		key, limit = ep+" app", s.opts.AppUserTimelineLimit
	}
	win := s.windows[key]
	if win == nil || !now.Before(win.reset) {
		win = &window{limit: limit, reset: now.Add(s.opts.Window)}
		s.windows[key] = win
	}
	f := s.takeFaultLocked(ep)
	fault := f.Kind
	rateHeaders := func(h http.Header) {
		h.Set("x-rate-limit-limit", strconv.Itoa(win.limit))
		h.Set("x-rate-limit-remaining", strconv.Itoa(max(win.limit-win.used, 0)))
		h.Set("x-rate-limit-reset", strconv.FormatInt(win.reset.Unix(), 10))
	}
	if win.used >= win.limit || fault == RateLimited {
		// An injected 429 is a one-off: the window itself is not spent.
		resp := jsonResponse(http.StatusTooManyRequests, errorBody(88, "Rate limit exceeded"))
		rateHeaders(resp.header)
		resp.header.Set("x-rate-limit-remaining", "0")
		return resp
	}
	win.used++

	switch fault {
	case Unavailable:
		return response{status: http.StatusServiceUnavailable, header: http.Header{}}
	case ServerError:
		return jsonResponse(http.StatusInternalServerError, errorBody(131, "Internal error"))
	case Unauthorized:
		return jsonResponse(http.StatusUnauthorized, errorBody(89, "Invalid or expired token."))
	}

	q := r.URL.Query()
	var who string // whose timeline
	if ep == Mentions {
		who = me
	} else {
		var found bool
		who, found = s.lookupUserLocked(q.Get("screen_name"), q.Get("user_id"))
		if !found {
			return jsonResponse(http.StatusNotFound, errorBody(34, "Sorry, that page does not exist."))
		}
	}
	page := s.pageLocked(ep, who, q)
	extended := q.Get("tweet_mode") == "extended"
	tweets := make([]tweetJSON, 0, len(page))
	for _, st := range page {
		text := st.Text
		switch fault {
		case InvalidUTF8:
			text += " " + invalidMarker
		case LargeText:
			text = padText(text, s.opts.LargeTextBytes)
		}
		tweets = append(tweets, s.render(st, text, extended))
	}
	body, err := json.Marshal(tweets)
	if err != nil {
		return jsonResponse(http.StatusInternalServerError, errorBody(131, "Internal error"))
	}
	if fault == InvalidUTF8 {
		body = bytes.ReplaceAll(body, []byte(invalidMarker), []byte{'s', 'a', 'm', 'p', 'a', 'h', ' ', 0xff, 0xfe, 0xc3, 0x28, ' ', 0xe2, 0x82})
	}
	if fault == Malformed {
		body = body[:len(body)/2]
		if len(body) == 0 {
			body = []byte(`[{"id":`)
		}
	}
	resp := jsonResponse(http.StatusOK, body)
	if fault == Slow {
		resp.delay = f.Delay
	}
	rateHeaders(resp.header)
	return resp
}

// invalidMarker is replaced by invalid UTF-8 bytes after marshalling
// (encoding/json would otherwise repair them).
const invalidMarker = "XFAKE-INVALID-UTF8-XFAKE"

func padText(text string, n int) string {
	var b strings.Builder
	b.WriteString(text)
	for b.Len() < n {
		b.WriteString(" jalan berlubang lagi")
	}
	return b.String()
}

// identityLocked resolves the Authorization header: the lower screen name of
// a user token, or app for the bearer token.
func (s *Server) identityLocked(auth string) (me string, app, ok bool) {
	if tok, found := strings.CutPrefix(auth, "Bearer "); found {
		return "", true, tok == s.opts.Bearer
	}
	params, found := strings.CutPrefix(auth, "OAuth ")
	if !found {
		return "", false, false
	}
	var token, sig, consumer string
	for _, part := range strings.Split(params, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		v, _ = url.PathUnescape(strings.Trim(v, `"`))
		switch k {
		case "oauth_token":
			token = v
		case "oauth_signature":
			sig = v
		case "oauth_consumer_key":
			consumer = v
		}
	}
	me, known := s.tokens[token]
	return me, false, known && sig != "" && consumer != ""
}

func (s *Server) lookupUserLocked(screenName, userID string) (string, bool) {
	if screenName != "" {
		k := strings.ToLower(strings.TrimPrefix(screenName, "@"))
		_, ok := s.users[k]
		return k, ok
	}
	for k, u := range s.users {
		if u.ID == userID {
			return k, true
		}
	}
	return "", false
}

// takeFaultLocked returns the first queued fault for the endpoint, if any.
func (s *Server) takeFaultLocked(ep string) Fault {
	for i := range s.faults {
		f := &s.faults[i]
		if f.Endpoint != "" && f.Endpoint != ep {
			continue
		}
		f.Times--
		out := *f
		if f.Times <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return out
	}
	return Fault{}
}

// pageLocked selects a timeline page: newest first, id > since_id,
// id <= max_id, at most count (default 20, at most 200).
func (s *Server) pageLocked(ep, who string, q url.Values) []stored {
	count, err := strconv.Atoi(q.Get("count"))
	if err != nil || count <= 0 {
		count = 20
	}
	count = min(count, 200)
	since, _ := strconv.ParseInt(q.Get("since_id"), 10, 64)
	maxID, _ := strconv.ParseInt(q.Get("max_id"), 10, 64)
	on := func(st *stored) bool {
		if ep == UserTimeline {
			return st.author == who
		}
		return st.author != who && contains(st.mentions, who)
	}
	reach := s.opts.TimelineReach
	if ep == Mentions {
		reach = s.opts.MentionsReach
	}
	if reach > 0 {
		// Statuses below the reach-th newest are no longer served.
		var ids []int64
		for i := range s.statuses {
			if on(&s.statuses[i]) {
				ids = append(ids, s.statuses[i].id)
			}
		}
		if len(ids) > reach {
			sort.Slice(ids, func(i, j int) bool { return ids[i] > ids[j] })
			since = max(since, ids[reach]) // the newest one out of reach
		}
	}
	match := func(st *stored) bool {
		return st.id > since && (maxID <= 0 || st.id <= maxID) && on(st)
	}
	var out []stored
	if !s.unsorted {
		// Ids ascend: walk back from max_id until the page is full or
		// since_id is reached, as a poll near the head reads little.
		hi := len(s.statuses)
		if maxID > 0 {
			hi = sort.Search(hi, func(i int) bool { return s.statuses[i].id > maxID })
		}
		for i := hi - 1; i >= 0 && len(out) < count && s.statuses[i].id > since; i-- {
			if match(&s.statuses[i]) {
				out = append(out, s.statuses[i])
			}
		}
		return out
	}
	for i := range s.statuses {
		if match(&s.statuses[i]) {
			out = append(out, s.statuses[i])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id > out[j].id })
	if len(out) > count {
		out = out[:count]
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
