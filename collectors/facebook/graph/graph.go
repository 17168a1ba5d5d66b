// Package graph is the small Meta Graph API transport shared by the
// Instagram and Facebook collectors: authenticated GETs, the Graph error
// object and its codes, the usage headers, cursor paging and timestamps;
// and the bookkeeping of one poll that both collectors do alike (Run:
// which posts to publish again as edited or deleted, which comments to
// look up, the Batch and its cursor).
//
// It is plain net/http on purpose: see the package comment of
// collectors/facebook for why not github.com/huandu/facebook/v2.
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
)

// Defaults for a Client.
const (
	DefaultBaseURL = "https://graph.facebook.com"
	DefaultVersion = "v23.0"
	// DefaultMaxBody caps one response body.
	DefaultMaxBody = 32 << 20
	// DefaultRegain is how long a throttled app or account waits when Meta
	// gave no estimated_time_to_regain_access.
	DefaultRegain = 15 * time.Minute
	// UsageWindow is the length of Meta's rolling usage window.
	UsageWindow = time.Hour
)

// Client sends Graph API GETs. The zero value is not usable: fill BaseURL,
// Version and HTTP, or use NewClient.
type Client struct {
	BaseURL string // scheme and host, no version: https://graph.facebook.com
	Version string // v23.0
	HTTP    *http.Client
	Now     func() time.Time
	MaxBody int64
}

// NewClient returns a Client with the defaults filled in for the empty
// arguments.
func NewClient(baseURL string, hc *http.Client, now func() time.Time) *Client {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if hc == nil {
		hc = &http.Client{}
	}
	if now == nil {
		now = time.Now
	}
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Version: DefaultVersion, HTTP: hc, Now: now, MaxBody: DefaultMaxBody}
}

// Call is the requests of one poll of one account. It is not safe for
// concurrent use; a Client is.
type Call struct {
	c     *Client
	token string
	label string // "instagram @handle": names the account in errors

	// Calls counts the requests that reached the API.
	Calls int
	// Usage is the highest usage reported during this call.
	Usage Usage
	// Stop is set when a successful response reported usage at or above
	// 100%: the caller finishes with what it has and returns Stop.
	Stop error
}

// Begin starts the calls of one poll. label names the account in errors
// ("instagram @humaskotabekasi"); the token never appears in one.
func (c *Client) Begin(token, label string) *Call {
	return &Call{c: c, token: token, label: label}
}

// Label is the account label given to Begin.
func (cl *Call) Label() string { return cl.label }

// Get requests path (node ids and edges, joined with "/") with query q
// and decodes the JSON response into v. Errors carry a tanggap code:
// EAUTH, ERATELIMIT (with a *collectors.RateLimitError), ENOTFOUND (Graph
// error 100 "does not exist", with an *APIError), EUNAVAILABLE, EINVALID.
func (cl *Call) Get(ctx context.Context, path string, q url.Values, v any) error {
	if cl.Stop != nil {
		return cl.Stop
	}
	op := opName(path)
	u := cl.c.BaseURL + "/" + url.PathEscape(cl.c.Version) + "/" + escapePath(path)
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return tanggap.WrapCode(tanggap.EINVALID, err, "%s: GET %s", cl.label, op)
	}
	req.Header.Set("Authorization", "Bearer "+cl.token)
	req.Header.Set("Accept", "application/json")
	resp, err := cl.c.HTTP.Do(req)
	if err != nil {
		return tanggap.WrapCode(tanggap.EUNAVAILABLE, TransportCause(err), "%s: GET %s", cl.label, op)
	}
	defer resp.Body.Close()
	cl.Calls++
	max := cl.c.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return tanggap.WrapCode(tanggap.EUNAVAILABLE, TransportCause(err), "%s: GET %s: reading response", cl.label, op)
	}
	if int64(len(body)) > max {
		return tanggap.Errorf(tanggap.EINVALID, "%s: GET %s: response larger than %d bytes", cl.label, op, max)
	}
	now := cl.c.Now()
	usage := ParseUsage(resp.Header)
	cl.Usage = cl.Usage.Max(usage)

	if resp.StatusCode >= 300 || bytes.Contains(body[:min(len(body), 64)], []byte(`"error"`)) {
		if e := classify(resp.StatusCode, body, usage, now, cl.label, op); e != nil {
			return e
		}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return tanggap.WrapCode(tanggap.EINVALID, err, "%s: GET %s: malformed JSON", cl.label, op)
	}
	if usage.Known && usage.Percent >= 100 {
		cl.Stop = tanggap.WrapCode(tanggap.ERATELIMIT, &collectors.RateLimitError{
			Until: now.Add(usage.regain()), Reason: "app_usage", Scope: usage.Scope,
		}, "%s: API usage at %d%%", cl.label, usage.Percent)
	}
	return nil
}

// Budget converts the usage seen so far into a collectors.Budget in
// percent: Limit 100, Remaining the percent left.
func (cl *Call) Budget() collectors.Budget {
	return cl.Usage.Budget(cl.c.Now())
}

// classify turns an error response into a coded error, or nil when the
// body is not an error after all (a 2xx whose data merely mentions "error").
func classify(status int, body []byte, usage Usage, now time.Time, label, op string) error {
	var env struct {
		Error *APIError `json:"error"`
	}
	apiErr := (*APIError)(nil)
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		apiErr = env.Error
		apiErr.Status = status
	}
	if apiErr == nil {
		switch {
		case status < 300:
			return nil
		case status == http.StatusUnauthorized:
			return tanggap.Errorf(tanggap.EAUTH, "%s: GET %s: HTTP 401: access token rejected; renew the token", label, op)
		case status == http.StatusTooManyRequests:
			return rateLimited(label, op, "HTTP 429", usage, now, usage.Scope)
		case status >= 500:
			return tanggap.Errorf(tanggap.EUNAVAILABLE, "%s: GET %s: HTTP %d", label, op, status)
		default:
			return tanggap.Errorf(tanggap.EINVALID, "%s: GET %s: HTTP %d without a Graph error", label, op, status)
		}
	}
	switch {
	case apiErr.IsAuth() || status == http.StatusUnauthorized:
		return tanggap.WrapCode(tanggap.EAUTH, apiErr, "%s: GET %s: access token expired, revoked or missing a permission; renew it", label, op)
	case apiErr.IsRateLimit() || status == http.StatusTooManyRequests:
		scope := usage.Scope
		if apiErr.Code == 4 {
			scope = AppScope // the app's own limit, shared by every account
		}
		return rateLimited(label, op, fmt.Sprintf("Graph error %d", apiErr.Code), usage, now, scope)
	case apiErr.IsNotFound():
		return tanggap.WrapCode(tanggap.ENOTFOUND, apiErr, "%s: GET %s", label, op)
	case apiErr.IsTransient() || status >= 500:
		return tanggap.WrapCode(tanggap.EUNAVAILABLE, apiErr, "%s: GET %s", label, op)
	}
	return tanggap.WrapCode(tanggap.EINVALID, apiErr, "%s: GET %s", label, op)
}

func rateLimited(label, op, what string, usage Usage, now time.Time, scope string) error {
	return tanggap.WrapCode(tanggap.ERATELIMIT, &collectors.RateLimitError{Until: now.Add(usage.regain()), Reason: "rate_limit", Scope: scope},
		"%s: GET %s: %s", label, op, what)
}

// TransportCause strips the request URL from a net/http client error, so
// no query string ends up in a log line, and keeps the cause (a timeout,
// context.DeadlineExceeded, a refused connection) for errors.Is.
func TransportCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func escapePath(p string) string {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// opName names a request in errors without its ids: "media", "comments".
func opName(p string) string {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) >= 2 {
		return parts[len(parts)-1]
	}
	return "node"
}

// APIError is the Graph API error object.
type APIError struct {
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode"`
	Transient bool   `json:"is_transient"`
	UserTitle string `json:"error_user_title"`
	FBTraceID string `json:"fbtrace_id"`
	Status    int    `json:"-"` // HTTP status it came with
}

func (e *APIError) Error() string {
	msg := e.Message
	if len(msg) > 200 {
		msg = msg[:200]
	}
	s := fmt.Sprintf("graph error %d", e.Code)
	if e.Subcode != 0 {
		s += "/" + strconv.Itoa(e.Subcode)
	}
	if e.Type != "" {
		s += " " + e.Type
	}
	return s + ": " + strings.ToValidUTF8(msg, "?")
}

// IsAuth: the token expired, was revoked or lacks a permission (190, 102,
// 10, 200-299, 3).
func (e *APIError) IsAuth() bool {
	return e.Code == 190 || e.Code == 102 || e.Code == 10 || e.Code == 3 || (e.Code >= 200 && e.Code <= 299)
}

// IsRateLimit: app (4), user (17), page (32), per-api (613) and business
// use case (80000-80014) throttling.
func (e *APIError) IsRateLimit() bool {
	switch e.Code {
	case 4, 17, 32, 613:
		return true
	}
	return e.Code >= 80000 && e.Code <= 80014
}

// IsNotFound: the object does not exist (deleted, or never visible to
// this token): error 100 with subcode 33, or 803.
func (e *APIError) IsNotFound() bool {
	if e.Code == 100 && (e.Subcode == 33 || strings.Contains(e.Message, "does not exist")) {
		return true
	}
	return e.Code == 803 || e.Status == http.StatusNotFound
}

// IsTransient: unknown (1) and service (2) errors and those Meta marks
// transient.
func (e *APIError) IsTransient() bool { return e.Transient || e.Code == 1 || e.Code == 2 }

// IsNotFound reports whether err is a Graph "does not exist" error.
func IsNotFound(err error) bool { return tanggap.ErrorCode(err) == tanggap.ENOTFOUND }

// Usage is what the X-App-Usage, X-Page-Usage and
// X-Business-Use-Case-Usage headers reported.
type Usage struct {
	Known    bool
	Percent  int           // the highest of call_count, total_time, total_cputime
	RegainIn time.Duration // estimated_time_to_regain_access, when throttled
	Scope    string        // AppScope when the highest figure is the app's, "" for the account's own
}

// AppScope is the collectors.Budget Scope of Meta's per-app window
// (X-App-Usage, error 4): every account polled with the app shares it.
const AppScope = "meta:app"

// Max keeps the higher usage of two reports.
func (u Usage) Max(o Usage) Usage {
	if !o.Known {
		return u
	}
	if !u.Known {
		return o
	}
	if o.Percent > u.Percent {
		u.Percent, u.Scope = o.Percent, o.Scope
	}
	if o.RegainIn > u.RegainIn {
		u.RegainIn = o.RegainIn
	}
	return u
}

func (u Usage) regain() time.Duration {
	if u.RegainIn > 0 {
		return u.RegainIn
	}
	return DefaultRegain
}

// Budget converts usage into percent: Limit 100, Remaining what is left.
func (u Usage) Budget(now time.Time) collectors.Budget {
	if !u.Known {
		return collectors.Budget{}
	}
	left := 100 - u.Percent
	if left < 0 {
		left = 0
	}
	reset := now.Add(UsageWindow)
	if u.RegainIn > 0 {
		reset = now.Add(u.RegainIn)
	}
	return collectors.Budget{Limit: 100, Remaining: left, Reset: reset, Known: true, Scope: u.Scope}
}

type usageFigures struct {
	CallCount    json.Number `json:"call_count"`
	TotalTime    json.Number `json:"total_time"`
	TotalCPUTime json.Number `json:"total_cputime"`
	Regain       json.Number `json:"estimated_time_to_regain_access"`
	Type         string      `json:"type"`
}

func (f usageFigures) usage() Usage {
	u := Usage{Known: true}
	for _, n := range []json.Number{f.CallCount, f.TotalTime, f.TotalCPUTime} {
		if p := percent(n); p > u.Percent {
			u.Percent = p
		}
	}
	if m := percent(f.Regain); m > 0 {
		u.RegainIn = time.Duration(m) * time.Minute
	}
	return u
}

func percent(n json.Number) int {
	if n == "" {
		return 0
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f != f {
		return 0
	}
	if f > 1e6 {
		return 1e6
	}
	return int(f + 0.999999) // round up: 99.5% used is not headroom
}

// ParseUsage reads Meta's usage headers. Malformed headers are ignored:
// absence of a header is not headroom, but it is not an error either.
func ParseUsage(h http.Header) Usage {
	var u Usage
	for _, name := range []string{"X-App-Usage", "X-Page-Usage"} {
		if v := h.Get(name); v != "" {
			var f usageFigures
			if json.Unmarshal([]byte(v), &f) == nil {
				fu := f.usage()
				if name == "X-App-Usage" {
					fu.Scope = AppScope
				}
				u = u.Max(fu)
			}
		}
	}
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		var m map[string][]usageFigures
		if json.Unmarshal([]byte(v), &m) == nil {
			for _, list := range m {
				for _, f := range list {
					u = u.Max(f.usage())
				}
			}
		}
	}
	return u
}

// Paging is the Graph cursor paging object.
type Paging struct {
	Cursors struct {
		Before string `json:"before"`
		After  string `json:"after"`
	} `json:"cursors"`
	Next     string `json:"next"`
	Previous string `json:"previous"`
}

// After returns the cursor for the next page, or "" on the last page.
// The collectors rebuild the next URL from it instead of following
// "next", so a response can never send a token to another host.
func (p *Paging) After() string {
	if p == nil || p.Next == "" {
		return ""
	}
	if p.Cursors.After != "" {
		return p.Cursors.After
	}
	if u, err := url.Parse(p.Next); err == nil {
		return u.Query().Get("after")
	}
	return ""
}

// ParseTime parses the ISO 8601 forms Graph uses ("2026-03-17T08:15:00+0000")
// and RFC 3339.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339Nano, "2006-01-02T15:04:05.000-0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not an ISO 8601 time: %q", truncate(s, 40))
}

// Time is a Graph timestamp in JSON.
type Time struct{ time.Time }

func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		return nil
	}
	v, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
