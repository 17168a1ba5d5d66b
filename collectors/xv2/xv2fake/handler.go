package xv2fake

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tanggap/tanggap/collectors/internal/fakeapi"
)

// Problem is an X API v2 problem-details body.
type Problem struct {
	Title        string `json:"title"`
	Detail       string `json:"detail,omitempty"`
	Type         string `json:"type"`
	Status       int    `json:"status,omitempty"`
	Period       string `json:"period,omitempty"`
	Scope        string `json:"scope,omitempty"`
	AccountID    int64  `json:"account_id,omitempty"`
	ProductName  string `json:"product_name,omitempty"`
	Value        string `json:"value,omitempty"`
	ResourceType string `json:"resource_type,omitempty"`
	Parameter    string `json:"parameter,omitempty"`
	ResourceID   string `json:"resource_id,omitempty"`
}

// Fault makes matching requests fail or stall.
type Fault struct {
	Path    string            // substring of the request path; "" matches every request
	Status  int               // HTTP status (default 500)
	Problem *Problem          // problem body to answer with
	Body    string            // raw body instead (malformed JSON, HTML)
	Header  map[string]string // extra headers (x-rate-limit-reset)
	Delay   time.Duration     // hold the response this long, or until the client gives up
	Times   int               // requests it applies to; 0 means 1, negative means forever
}

// Unauthorized is HTTP 401.
func Unauthorized() Fault {
	return Fault{Status: 401, Problem: &Problem{Title: "Unauthorized", Type: "about:blank", Status: 401, Detail: "Unauthorized"}}
}

// RateLimited is HTTP 429 with the window reopening at reset.
func RateLimited(reset time.Time) Fault {
	return Fault{Status: 429, Problem: &Problem{Title: "Too Many Requests", Detail: "Too Many Requests", Type: "about:blank", Status: 429},
		Header: map[string]string{"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0", "x-rate-limit-reset": strconv.FormatInt(reset.Unix(), 10)}}
}

// UsageCapped is the usage (spend) cap: HTTP 429 UsageCapExceeded.
func UsageCapped(period string) Fault {
	return Fault{Status: 429, Problem: usageCap(period)}
}

func usageCap(period string) *Problem {
	return &Problem{Title: "UsageCapExceeded", Detail: "Usage cap exceeded: " + period + " product cap",
		Type: "https://api.twitter.com/2/problems/usage-capped", Period: period, Scope: "Product",
		AccountID: 1234567890, ProductName: "standard-basic"}
}

// ServerError is HTTP 503.
func ServerError() Fault {
	return Fault{Status: 503, Problem: &Problem{Title: "Service Unavailable", Detail: "Service Unavailable", Type: "about:blank", Status: 503}}
}

// Malformed answers 200 with a body that is not JSON.
func Malformed() Fault { return Fault{Status: 200, Body: `{"data":[{"id":"18990000`} }

// Slow holds the response for d.
func Slow(d time.Duration) Fault { return Fault{Delay: d} }

// Inject adds a fault; faults match in the order added.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = fakeapi.Add(s.faults, f, faultScope)
}

func faultScope(f *Fault) (string, *int) { return f.Path, &f.Times }

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
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(cmp.Or(f.Status, 200))
			_, _ = w.Write([]byte(f.Body))
			return
		case f.Problem != nil:
			writeJSON(w, cmp.Or(f.Status, 500), f.Problem)
			return
		case f.Status != 0:
			w.WriteHeader(f.Status)
			return
		}
	}
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if tok == "" || (s.token != "" && tok != s.token) {
		writeJSON(w, 401, Problem{Title: "Unauthorized", Type: "about:blank", Status: 401, Detail: "Unauthorized"})
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	q := r.URL.Query()
	switch {
	case len(parts) == 5 && parts[0] == "2" && parts[1] == "users" && parts[2] == "by" && parts[3] == "username":
		if !s.spend(w, EndpointUsers) {
			return
		}
		u := s.byUsername(parts[4])
		if u == nil {
			writeJSON(w, 200, map[string]any{"errors": []Problem{{
				Value: parts[4], Detail: "Could not find user with username: [" + parts[4] + "].", Title: "Not Found Error",
				ResourceType: "user", Parameter: "username", ResourceID: parts[4], Type: "https://api.twitter.com/2/problems/resource-not-found",
			}}})
			return
		}
		writeJSON(w, 200, map[string]any{"data": userJSON(u)})
	case len(parts) == 4 && parts[0] == "2" && parts[1] == "users" && (parts[3] == "mentions" || parts[3] == "tweets"):
		endpoint := EndpointMentions
		if parts[3] == "tweets" {
			endpoint = EndpointTweets
		}
		if !s.spend(w, endpoint) {
			return
		}
		s.timeline(w, q, parts[2], endpoint)
	case len(parts) == 2 && parts[0] == "2" && parts[1] == "tweets":
		if !s.spend(w, EndpointLookup) {
			return
		}
		s.lookup(w, q)
	default:
		writeJSON(w, 404, Problem{Title: "Not Found Error", Type: "about:blank", Status: 404, Detail: "Not Found"})
	}
}

// spend counts a request against the endpoint's window and writes the
// x-rate-limit-* headers; false means it was refused.
func (s *Server) spend(w http.ResponseWriter, endpoint string) bool {
	limit := s.limits[endpoint]
	if limit <= 0 {
		return true
	}
	now := s.now()
	win := s.windows[endpoint]
	if win == nil || !now.Before(win.start.Add(rateWindow)) {
		win = &window{start: now}
		s.windows[endpoint] = win
	}
	reset := win.start.Add(rateWindow)
	h := w.Header()
	h.Set("x-rate-limit-limit", strconv.Itoa(limit))
	h.Set("x-rate-limit-reset", strconv.FormatInt(reset.Unix(), 10))
	if win.calls >= limit {
		h.Set("x-rate-limit-remaining", "0")
		writeJSON(w, 429, Problem{Title: "Too Many Requests", Detail: "Too Many Requests", Type: "about:blank", Status: 429})
		return false
	}
	win.calls++
	h.Set("x-rate-limit-remaining", strconv.Itoa(limit-win.calls))
	if s.usageCap > 0 && s.read >= s.usageCap {
		writeJSON(w, 429, usageCap("Monthly"))
		return false
	}
	return true
}

func badRequest(w http.ResponseWriter, param, msg string) {
	writeJSON(w, 400, map[string]any{
		"errors": []map[string]any{{"parameters": map[string][]string{param: {}}, "message": msg}},
		"title":  "Invalid Request", "detail": "One or more parameters to your request was invalid.",
		"type": "https://api.twitter.com/2/problems/invalid-request",
	})
}

func (s *Server) timeline(w http.ResponseWriter, q url.Values, uid, endpoint string) {
	u := s.users[uid]
	if u == nil {
		writeJSON(w, 200, map[string]any{"errors": []Problem{{
			Value: uid, Detail: "Could not find user with id: [" + uid + "].", Title: "Not Found Error",
			ResourceType: "user", Parameter: "id", ResourceID: uid, Type: "https://api.twitter.com/2/problems/resource-not-found",
		}}})
		return
	}
	max := 10
	if v := q.Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 100 {
			badRequest(w, "max_results", fmt.Sprintf("The `max_results` query parameter value [%s] is not between 5 and 100", v))
			return
		}
		max = n
	}
	since, until := q.Get("since_id"), q.Get("until_id")
	var start, end time.Time
	if v := q.Get("start_time"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			badRequest(w, "start_time", "Invalid start_time")
			return
		}
		start = t
	}
	if v := q.Get("end_time"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			badRequest(w, "end_time", "Invalid end_time")
			return
		}
		end = t
	}
	below := ""
	if tok := q.Get("pagination_token"); tok != "" {
		id, ok := decodeToken(tok)
		if !ok {
			badRequest(w, "pagination_token", "Invalid pagination_token")
			return
		}
		below = id
	}
	var served []*Tweet
	for _, t := range s.tweets {
		if t.Deleted || t.Superseded {
			continue
		}
		if endpoint == EndpointTweets {
			if t.AuthorID != uid {
				continue
			}
		} else if t.AuthorID == uid || !(mentions(t.Text, u.Username) || t.InReplyToUserID == uid) {
			continue
		}
		served = append(served, t)
	}
	sortNewest(served)
	if n := s.reach[endpoint]; n > 0 && len(served) > n {
		served = served[:n] // older posts are out of reach
	}
	var list []*Tweet
	for _, t := range served {
		switch {
		case since != "" && cmpID(t.ID, since) <= 0,
			until != "" && cmpID(t.ID, until) >= 0,
			below != "" && cmpID(t.ID, below) >= 0,
			!start.IsZero() && t.Created.Before(start),
			!end.IsZero() && !t.Created.Before(end):
			continue
		}
		list = append(list, t)
	}
	more := len(list) > max
	if more {
		list = list[:max]
	}
	meta := map[string]any{"result_count": len(list)}
	if len(list) == 0 {
		writeJSON(w, 200, map[string]any{"meta": meta})
		return
	}
	meta["newest_id"], meta["oldest_id"] = list[0].ID, list[len(list)-1].ID
	if more {
		meta["next_token"] = encodeToken(list[len(list)-1].ID)
	}
	out := map[string]any{"data": s.tweetsJSON(list, q), "meta": meta}
	if inc := s.includes(list, q); inc != nil {
		out["includes"] = inc
	}
	s.read += len(list)
	writeJSON(w, 200, out)
}

func (s *Server) lookup(w http.ResponseWriter, q url.Values) {
	ids := strings.Split(q.Get("ids"), ",")
	if q.Get("ids") == "" || len(ids) > 100 {
		badRequest(w, "ids", "ids must name 1 to 100 posts")
		return
	}
	var found []*Tweet
	var errs []Problem
	for _, id := range ids {
		if t := s.tweets[id]; t != nil && !t.Deleted {
			found = append(found, t)
			continue
		}
		errs = append(errs, Problem{Value: id, Detail: "Could not find tweet with ids: [" + id + "].", Title: "Not Found Error",
			ResourceType: "tweet", Parameter: "ids", ResourceID: id, Type: "https://api.twitter.com/2/problems/resource-not-found"})
	}
	out := map[string]any{}
	if len(found) > 0 {
		out["data"] = s.tweetsJSON(found, q)
		if inc := s.includes(found, q); inc != nil {
			out["includes"] = inc
		}
	}
	if len(errs) > 0 {
		out["errors"] = errs
	}
	s.read += len(found)
	writeJSON(w, 200, out)
}

func fieldSet(q url.Values, name string) map[string]bool {
	out := map[string]bool{}
	for _, f := range strings.Split(q.Get(name), ",") {
		if f != "" {
			out[f] = true
		}
	}
	return out
}

func (s *Server) tweetsJSON(list []*Tweet, q url.Values) []any {
	fields := fieldSet(q, "tweet.fields")
	out := make([]any, len(list))
	for i, t := range list {
		obj := map[string]any{"id": t.ID, "text": t.Text, "edit_history_tweet_ids": t.EditHistory}
		if utf8.RuneCountInString(t.Text) > 280 {
			rs := []rune(t.Text)
			obj["text"] = string(rs[:279]) + "…"
			if fields["note_tweet"] {
				obj["note_tweet"] = map[string]any{"text": t.Text}
			}
		}
		if fields["created_at"] {
			obj["created_at"] = t.Created.UTC().Format(TimeLayout)
		}
		if fields["author_id"] {
			obj["author_id"] = t.AuthorID
		}
		if fields["conversation_id"] {
			obj["conversation_id"] = t.ConversationID
		}
		if fields["in_reply_to_user_id"] && t.InReplyToUserID != "" {
			obj["in_reply_to_user_id"] = t.InReplyToUserID
		}
		if fields["referenced_tweets"] && t.ReplyTo != "" {
			obj["referenced_tweets"] = []map[string]string{{"type": "replied_to", "id": t.ReplyTo}}
		}
		out[i] = obj
	}
	return out
}

func (s *Server) includes(list []*Tweet, q url.Values) map[string]any {
	if !fieldSet(q, "expansions")["author_id"] {
		return nil
	}
	seen := map[string]bool{}
	var users []any
	for _, t := range list {
		if u := s.users[t.AuthorID]; u != nil && !seen[u.ID] {
			seen[u.ID] = true
			users = append(users, userJSON(u))
		}
	}
	if len(users) == 0 {
		return nil
	}
	return map[string]any{"users": users}
}

func userJSON(u *User) map[string]any {
	return map[string]any{"id": u.ID, "name": u.Name, "username": u.Username}
}
