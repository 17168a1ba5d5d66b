package youtube

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
)

// ScopeQuota is the Budget/RateLimitError scope of the project's daily
// quota: every channel polled with the key spends it.
const ScopeQuota = "youtube:quota"

// APIError is the Google API error body.
type APIError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
	Errors  []struct {
		Message string `json:"message"`
		Domain  string `json:"domain"`
		Reason  string `json:"reason"`
	} `json:"errors"`
	Details []struct {
		Reason string `json:"reason"` // google.rpc.ErrorInfo: API_KEY_INVALID...
	} `json:"details"`
}

// authDetail reports an ErrorInfo reason about the key or the project.
func (e *APIError) authDetail() bool {
	for _, d := range e.Details {
		switch d.Reason {
		case "API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED", "API_KEY_HTTP_REFERRER_BLOCKED",
			"API_KEY_IP_ADDRESS_BLOCKED", "SERVICE_DISABLED", "ACCESS_TOKEN_EXPIRED", "ACCESS_TOKEN_TYPE_UNSUPPORTED":
			return true
		}
	}
	return false
}

func (e *APIError) Error() string {
	s := "youtube error " + e.Reason()
	if e.Status != "" {
		s += " (" + e.Status + ")"
	}
	return s
}

// Reason is the first error reason ("quotaExceeded", "keyInvalid"...).
func (e *APIError) Reason() string {
	for _, x := range e.Errors {
		if x.Reason != "" {
			return x.Reason
		}
	}
	return e.Status
}

type call struct {
	p     *Poller
	cred  string
	label string
	units int
	// commentsDisabled is set when the channel turned comments off.
	commentsDisabled bool
}

const maxBody = 32 << 20

func (c *call) get(ctx context.Context, resource string, q url.Values, v any) error {
	u := c.p.baseURL + "/" + resource
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return tanggap.WrapCode(tanggap.EINVALID, err, "%s: %s.list", c.label, resource)
	}
	req.Header.Set("X-Goog-Api-Key", c.cred)
	req.Header.Set("Accept", "application/json")
	resp, err := c.p.hc.Do(req)
	if err != nil {
		return tanggap.WrapCode(tanggap.EUNAVAILABLE, transportCause(err), "%s: %s.list", c.label, resource)
	}
	defer resp.Body.Close()
	c.units++ // every list call costs 1 unit, failed ones included
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return tanggap.WrapCode(tanggap.EUNAVAILABLE, transportCause(err), "%s: %s.list: reading response", c.label, resource)
	}
	if len(body) > maxBody {
		return tanggap.Errorf(tanggap.EINVALID, "%s: %s.list: response too large", c.label, resource)
	}
	if resp.StatusCode >= 300 {
		return c.fail(resp.StatusCode, body, resource)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return tanggap.WrapCode(tanggap.EINVALID, err, "%s: %s.list: malformed JSON", c.label, resource)
	}
	return nil
}

func (c *call) fail(status int, body []byte, resource string) error {
	var env struct {
		Error *APIError `json:"error"`
	}
	var ae *APIError
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		ae = env.Error
	}
	reason := ""
	var cause error
	if ae != nil {
		reason, cause = ae.Reason(), ae
	}
	now := c.p.now()
	op := resource + ".list"
	switch {
	case reason == "quotaExceeded" || reason == "dailyLimitExceeded":
		return tanggap.WrapCode(tanggap.ERATELIMIT, &collectors.RateLimitError{
			Until: NextPacificMidnight(now, c.p.pacific), Reason: "quota_exceeded", Scope: ScopeQuota,
		}, "%s: %s: daily quota exhausted; polling resumes at midnight Pacific time", c.label, op)
	case reason == "rateLimitExceeded" || reason == "userRateLimitExceeded" || status == http.StatusTooManyRequests:
		return tanggap.WrapCode(tanggap.ERATELIMIT, &collectors.RateLimitError{
			Until: now.Add(time.Minute), Reason: "rate_limit", Scope: ScopeQuota,
		}, "%s: %s: %s", c.label, op, orString(reason, "HTTP 429"))
	case reason == "commentsDisabled":
		c.commentsDisabled = true
		return nil
	case status == http.StatusUnauthorized, ae != nil && ae.authDetail(), reason == "keyInvalid", reason == "keyExpired", reason == "authError",
		reason == "forbidden", reason == "accessNotConfigured", reason == "ipRefererBlocked", reason == "insufficientPermissions",
		status == http.StatusForbidden:
		return wrapOrNew(tanggap.EAUTH, cause, "%s: %s: HTTP %d: API key or token rejected (%s); renew it", c.label, op, status, orString(reason, "no reason"))
	case status >= 500 || reason == "backendError":
		return wrapOrNew(tanggap.EUNAVAILABLE, cause, "%s: %s: HTTP %d", c.label, op, status)
	}
	return wrapOrNew(tanggap.EINVALID, cause, "%s: %s: HTTP %d", c.label, op, status)
}

func orString(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func wrapOrNew(code string, cause error, format string, args ...any) error {
	if cause == nil {
		return tanggap.Errorf(code, format, args...)
	}
	return tanggap.WrapCode(code, cause, format, args...)
}

func transportCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// PacificZone returns America/Los_Angeles, or a fixed UTC-8 when the
// system has no time zone data (then the reset is an hour late in summer).
func PacificZone() *time.Location {
	if loc, err := time.LoadLocation("America/Los_Angeles"); err == nil {
		return loc
	}
	return time.FixedZone("PST", -8*3600)
}

// NextPacificMidnight is when YouTube's daily quota resets after now.
func NextPacificMidnight(now time.Time, pacific *time.Location) time.Time {
	t := now.In(pacific)
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, pacific).UTC()
}

func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}
