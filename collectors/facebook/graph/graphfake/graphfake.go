package graphfake

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tanggap/tanggap/collectors/demo"
	"github.com/tanggap/tanggap/collectors/internal/fakeapi"
)

// TimeLayout is the Graph API timestamp format.
const TimeLayout = "2006-01-02T15:04:05-0700"

// Error is a Graph API error object.
type Error struct {
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
	Error  *Error            // Graph error object to answer with
	Body   string            // raw body instead (malformed JSON, invalid UTF-8)
	Header map[string]string // extra response headers (usage at 100%)
	Delay  time.Duration     // hold the response this long, or until the client gives up
	Times  int               // requests it applies to; 0 means 1, negative means forever
}

// Platform is what the shared plumbing says differently per product: the
// business use case throttling error and the type in the usage header.
type Platform struct {
	UsageType       string // "type" in X-Business-Use-Case-Usage: "pages", "instagram"
	BusinessCode    int    // the business use case throttling error: 80001, 80002
	BusinessMessage string // its message
}

// TokenExpired is Graph error 190/463.
func TokenExpired() Fault {
	return Fault{Status: 400, Error: &Error{
		Message: "Error validating access token: Session has expired on Tuesday, 17-Mar-26 01:00:00 PDT.",
		Type:    "OAuthException", Code: 190, Subcode: 463,
	}}
}

// Throttled is a Graph throttling error: 4 (app), 17 (user), 32 (page),
// 613 or the platform's business use case code.
func (p Platform) Throttled(code int) Fault {
	msg := map[int]string{
		4:              "(#4) Application request limit reached",
		17:             "(#17) User request limit reached",
		32:             "(#32) Page request limit reached",
		613:            "(#613) Calls to this api have exceeded the rate limit.",
		p.BusinessCode: p.BusinessMessage,
	}[code]
	return Fault{Status: 400, Error: &Error{Message: msg, Type: "OAuthException", Code: code}}
}

// ServerError is an HTTP 500 with Graph error 2.
func ServerError() Fault {
	return Fault{Status: 500, Error: &Error{Message: "An unexpected error has occurred. Please retry your request later.", Type: "OAuthException", Code: 2}}
}

// Malformed answers 200 with a body that is not JSON.
func Malformed() Fault { return Fault{Status: 200, Body: `{"data":[{"id":"1790000`} }

// Slow holds the response for d.
func Slow(d time.Duration) Fault { return Fault{Delay: d} }

// Server answers Graph GETs: it applies faults, checks the method and
// token, and hands /{id} to Node and /{id}/{edge} to Edge with the lock
// held. Set its fields before serving.
type Server struct {
	Now      func() time.Time
	Token    string        // the only token accepted; "" accepts any non-empty one
	Limit    int           // calls per account per Window; 0 disables the budget
	Window   time.Duration // the budget window
	MaxLimit int           // the largest page a limit parameter gets

	platform Platform
	mu       *sync.Mutex
	node     func(w http.ResponseWriter, r *http.Request, id string, q url.Values)
	edge     func(w http.ResponseWriter, r *http.Request, id, edge string, q url.Values)
	usage    map[string]*window
	faults   []*Fault
	requests int
	demo     map[string]demo.Post // by key, across AddDemo calls
}

type window struct {
	start time.Time
	calls int
}

// New returns a Server with 200 calls per account per hour and pages of at
// most 100. mu guards the platform's data and the Server's own state: the
// Server holds it while node and edge run, and so must the platform when
// it changes its data.
func New(mu *sync.Mutex, p Platform,
	node func(w http.ResponseWriter, r *http.Request, id string, q url.Values),
	edge func(w http.ResponseWriter, r *http.Request, id, edge string, q url.Values)) *Server {
	return &Server{
		Now: time.Now, Limit: 200, Window: time.Hour, MaxLimit: 100,
		platform: p, mu: mu, node: node, edge: edge, usage: map[string]*window{},
	}
}

// Inject adds a fault; faults match in the order added.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = fakeapi.Add(s.faults, f, faultScope)
}

func faultScope(f *Fault) (string, *int) { return f.Path, &f.Times }

// Calls returns the calls an account spent in its current budget window.
func (s *Server) Calls(accountID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.usage[accountID]; w != nil && s.Now().Before(w.start.Add(s.Window)) {
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

// WriteError answers with a Graph error object.
func WriteError(w http.ResponseWriter, status int, e Error) {
	if e.Trace == "" {
		e.Trace = "AbCdEfGhIjKlMnOpQrStUvW"
	}
	WriteJSON(w, status, map[string]any{"error": e})
}

// NotFound answers Graph error 100/33 for an id that does not exist.
func NotFound(w http.ResponseWriter, id string) {
	WriteError(w, 400, Error{
		Message: fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", id),
		Type:    "GraphMethodException", Code: 100, Subcode: 33,
	})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	f := fakeapi.Take(&s.faults, r.URL.Path, faultScope)
	s.mu.Unlock()
	if f != nil {
		if !fakeapi.Stall(r, f.Delay) {
			return
		}
		for k, v := range f.Header {
			w.Header().Set(k, v)
		}
		switch {
		case f.Body != "":
			w.Header().Set("Content-Type", "application/json; charset=UTF-8")
			w.WriteHeader(cmp.Or(f.Status, 200))
			_, _ = w.Write([]byte(f.Body))
			return
		case f.Error != nil:
			WriteError(w, cmp.Or(f.Status, 400), *f.Error)
			return
		case f.Status != 0:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte("<html><body>Sorry, something went wrong.</body></html>"))
			return
		}
	}
	if r.Method != http.MethodGet {
		WriteError(w, 400, Error{Message: "Unsupported method", Type: "GraphMethodException", Code: 100})
		return
	}
	if !s.authorized(r) {
		WriteError(w, 400, Error{Message: "Invalid OAuth access token - Cannot parse access token", Type: "OAuthException", Code: 190})
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
		WriteError(w, 400, Error{Message: "Unknown path components: /" + strings.Join(parts, "/"), Type: "OAuthException", Code: 2500})
	}
}

func (s *Server) authorized(r *http.Request) bool {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if r.Header.Get("Authorization") == "" {
		tok = r.URL.Query().Get("access_token")
	}
	if tok == "" {
		return false
	}
	return s.Token == "" || tok == s.Token
}

// Spend counts a call against an account's budget and writes the usage
// header; false means the call was refused (the error is written). The
// caller holds the lock.
func (s *Server) Spend(w http.ResponseWriter, accountID string) bool {
	if s.Limit <= 0 || accountID == "" {
		return true
	}
	now := s.Now()
	u := s.usage[accountID]
	if u == nil || !now.Before(u.start.Add(s.Window)) {
		u = &window{start: now}
		s.usage[accountID] = u
	}
	regain := int((u.start.Add(s.Window).Sub(now) + time.Minute - 1) / time.Minute)
	if u.calls >= s.Limit {
		s.usageHeader(w, accountID, 100, regain)
		WriteError(w, 400, Error{Message: s.platform.BusinessMessage, Type: "OAuthException", Code: s.platform.BusinessCode})
		return false
	}
	u.calls++
	pct := u.calls * 100 / s.Limit
	if pct < 100 {
		regain = 0
	}
	s.usageHeader(w, accountID, pct, regain)
	return true
}

func (s *Server) usageHeader(w http.ResponseWriter, id string, pct, regain int) {
	v, _ := json.Marshal(map[string]any{id: []map[string]any{{
		"type": s.platform.UsageType, "call_count": pct, "total_cputime": pct / 4, "total_time": pct / 4,
		"estimated_time_to_regain_access": regain,
	}}})
	w.Header().Set("X-Business-Use-Case-Usage", string(v))
}

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
