package xv2

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
)

// Rate-limit scopes (collectors.Budget.Scope): an app-only bearer token
// has one window per endpoint shared by every account; the usage cap is
// the whole project's.
const (
	ScopeMentions = "x:app:mentions"
	ScopeTweets   = "x:app:tweets"
	ScopeLookup   = "x:app:lookup"
	ScopeUsers    = "x:app:users"
	ScopeUsageCap = "x:project"
)

// Problem is an X API v2 error (RFC 7807 problem details).
type Problem struct {
	Title        string `json:"title"`
	Detail       string `json:"detail"`
	Type         string `json:"type"`
	Status       int    `json:"status"`
	Period       string `json:"period"` // usage cap: "Daily" or "Monthly"
	Scope        string `json:"scope"`  // usage cap: "Account", "Product"
	ResourceID   string `json:"resource_id"`
	ResourceType string `json:"resource_type"`
	Parameter    string `json:"parameter"`
	Value        any    `json:"value"`
	Reason       string `json:"reason"`
}

func (p *Problem) Error() string {
	s := p.Title
	if p.Type != "" && p.Type != "about:blank" {
		s += " (" + p.Type + ")"
	}
	if p.Detail != "" && p.Detail != p.Title {
		d := p.Detail
		if len(d) > 200 {
			d = d[:200]
		}
		s += ": " + strings.ToValidUTF8(d, "?")
	}
	return s
}

// usageCapped: the spend or usage cap problem (HTTP 429).
func (p *Problem) usageCapped() bool {
	return p.Title == "UsageCapExceeded" || strings.HasSuffix(p.Type, "/usage-capped")
}

func (p *Problem) notFound() bool {
	return strings.HasSuffix(p.Type, "/resource-not-found")
}

func (p *Problem) notAuthorized() bool {
	return strings.HasSuffix(p.Type, "/not-authorized-for-resource")
}

// rate is what the x-rate-limit-* headers said.
type rate struct {
	known            bool
	limit, remaining int
	reset            time.Time
}

func parseRate(h http.Header) rate {
	l, e1 := strconv.Atoi(h.Get("x-rate-limit-limit"))
	r, e2 := strconv.Atoi(h.Get("x-rate-limit-remaining"))
	s, e3 := strconv.ParseInt(h.Get("x-rate-limit-reset"), 10, 64)
	if e1 != nil || e2 != nil || e3 != nil || l < 0 || r < 0 || s <= 0 || s > 1<<40 {
		return rate{}
	}
	return rate{known: true, limit: l, remaining: r, reset: time.Unix(s, 0).UTC()}
}

// call is the requests of one poll.
type call struct {
	p     *Poller
	token string
	label string
	calls int
	rates map[string]rate // by scope
}

const maxBody = 32 << 20

// get requests path with q and decodes the answer into v. scope names the
// endpoint's rate window.
func (c *call) get(ctx context.Context, scope, path string, q url.Values, v any) error {
	op := scope[strings.LastIndexByte(scope, ':')+1:]
	u := c.p.baseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return tanggap.WrapCode(tanggap.EINVALID, err, "%s: GET %s", c.label, op)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.p.hc.Do(req)
	if err != nil {
		return tanggap.WrapCode(tanggap.EUNAVAILABLE, transportCause(err), "%s: GET %s", c.label, op)
	}
	defer resp.Body.Close()
	c.calls++
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return tanggap.WrapCode(tanggap.EUNAVAILABLE, transportCause(err), "%s: GET %s: reading response", c.label, op)
	}
	if len(body) > maxBody {
		return tanggap.Errorf(tanggap.EINVALID, "%s: GET %s: response too large", c.label, op)
	}
	rt := parseRate(resp.Header)
	if rt.known {
		c.rates[scope] = rt
	}
	if resp.StatusCode >= 300 {
		return c.fail(resp.StatusCode, body, rt, scope, op)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return tanggap.WrapCode(tanggap.EINVALID, err, "%s: GET %s: malformed JSON", c.label, op)
	}
	return nil
}

func (c *call) fail(status int, body []byte, rt rate, scope, op string) error {
	now := c.p.now().UTC()
	var pr *Problem
	var p Problem
	if json.Unmarshal(body, &p) == nil && (p.Title != "" || p.Type != "") {
		p.Status = status
		pr = &p
	} else {
		// The v1.1-style {"errors":[{"code":..,"message":..}]} still
		// appears on some auth failures.
		var v1 struct {
			Errors []struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"errors"`
		}
		if json.Unmarshal(body, &v1) == nil && len(v1.Errors) > 0 {
			pr = &Problem{Title: v1.Errors[0].Message, Status: status, Detail: "code " + strconv.Itoa(v1.Errors[0].Code)}
		}
	}
	var cause error
	if pr != nil {
		cause = pr
	}
	switch {
	case status == http.StatusTooManyRequests && pr != nil && pr.usageCapped():
		until := capReset(pr.Period, now)
		if rt.known && rt.reset.After(now) && rt.reset.After(until) {
			until = rt.reset
		}
		return tanggap.WrapCode(tanggap.ERATELIMIT, &collectors.RateLimitError{Until: until, Reason: "spend_cap", Scope: ScopeUsageCap},
			"%s: GET %s: X usage cap reached (%s %s): polling stops until the cap resets", c.label, op, pr.Period, pr.Scope)
	case status == http.StatusTooManyRequests:
		until := now.Add(15 * time.Minute) // the length of X's windows
		if rt.known && rt.reset.After(now) {
			until = rt.reset
		}
		return tanggap.WrapCode(tanggap.ERATELIMIT, &collectors.RateLimitError{Until: until, Reason: "rate_limit", Scope: scope},
			"%s: GET %s: HTTP 429", c.label, op)
	case status == http.StatusUnauthorized:
		return wrapOrNew(tanggap.EAUTH, cause, "%s: GET %s: HTTP 401: bearer token rejected; renew it", c.label, op)
	case status == http.StatusForbidden:
		return wrapOrNew(tanggap.EAUTH, cause, "%s: GET %s: HTTP 403: the app may not read this (access level or project)", c.label, op)
	case status >= 500:
		return wrapOrNew(tanggap.EUNAVAILABLE, cause, "%s: GET %s: HTTP %d", c.label, op, status)
	}
	return wrapOrNew(tanggap.EINVALID, cause, "%s: GET %s: HTTP %d", c.label, op, status)
}

func wrapOrNew(code string, cause error, format string, args ...any) error {
	if cause == nil {
		return tanggap.Errorf(code, format, args...)
	}
	return tanggap.WrapCode(code, cause, format, args...)
}

// capReset is when a usage cap of the period reopens, at the latest:
// X resets the cap on the project's billing day, which the API does not
// say, so a monthly cap waits for the first of next month (UTC) unless
// x-rate-limit-reset says more.
func capReset(period string, now time.Time) time.Time {
	y, m, d := now.Date()
	if strings.EqualFold(period, "Daily") {
		return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
}

func transportCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// X ids are unsigned 64-bit snowflakes. They are compared as decimal
// strings: a float64 loses them.

func validID(id string) bool {
	if id == "" || len(id) > 20 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// compareIDs compares two decimal ids: -1, 0, +1. Invalid ids sort first.
func compareIDs(a, b string) int {
	va, vb := validID(a), validID(b)
	switch {
	case !va && !vb:
		return 0
	case !va:
		return -1
	case !vb:
		return 1
	}
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	switch {
	case len(a) != len(b):
		if len(a) < len(b) {
			return -1
		}
		return 1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func maxID(ids ...string) string {
	best := ""
	for _, id := range ids {
		if validID(id) && compareIDs(id, best) > 0 {
			best = id
		}
	}
	return best
}

// twitterEpoch is the snowflake epoch in Unix milliseconds.
const twitterEpoch = 1288834974657

// SnowflakeTime returns the creation time encoded in an X id.
func SnowflakeTime(id string) (time.Time, bool) {
	if !validID(id) {
		return time.Time{}, false
	}
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n < 1<<22 {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(n>>22) + twitterEpoch).UTC(), true
}

// SnowflakeAt returns the smallest id created at t (for tests and fakes).
func SnowflakeAt(t time.Time) string {
	return strconv.FormatUint(uint64(t.UnixMilli()-twitterEpoch)<<22, 10)
}
