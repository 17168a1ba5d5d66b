package graph

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseUsage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    Usage
	}{
		{"none", nil, Usage{}},
		{"app", map[string]string{"X-App-Usage": `{"call_count":28,"total_time":25,"total_cputime":25}`},
			Usage{Known: true, Percent: 28, Scope: AppScope}},
		{"page", map[string]string{"X-Page-Usage": `{"call_count":4,"total_time":61,"total_cputime":9}`},
			Usage{Known: true, Percent: 61}},
		{"business use case with regain", map[string]string{"X-Business-Use-Case-Usage": `{"104938271650001":[{"type":"pages","call_count":100,"total_cputime":20,"total_time":33,"estimated_time_to_regain_access":19}]}`},
			Usage{Known: true, Percent: 100, RegainIn: 19 * time.Minute}},
		{"highest wins", map[string]string{
			"X-App-Usage":               `{"call_count":12,"total_time":3,"total_cputime":2}`,
			"X-Business-Use-Case-Usage": `{"17841400000000001":[{"type":"instagram","call_count":40,"total_cputime":5,"total_time":5,"estimated_time_to_regain_access":0}],"17841400000000002":[{"type":"instagram","call_count":91,"total_cputime":1,"total_time":1}]}`,
		}, Usage{Known: true, Percent: 91}},
		{"fractions round up", map[string]string{"X-App-Usage": `{"call_count":99.2}`}, Usage{Known: true, Percent: 100, Scope: AppScope}},
		{"malformed ignored", map[string]string{"X-App-Usage": `{"call_count":`, "X-Business-Use-Case-Usage": `[]`}, Usage{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			if diff := cmp.Diff(tc.want, ParseUsage(h)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 3, 17, 8, 15, 0, 0, time.UTC)
	for _, s := range []string{"2026-03-17T08:15:00+0000", "2026-03-17T15:15:00+0700", "2026-03-17T08:15:00Z", "2026-03-17T08:15:00.000Z", "2026-03-17T15:15:00+07:00"} {
		got, err := ParseTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "yesterday", "1710663300", "2026-03-17"} {
		if _, err := ParseTime(s); err == nil {
			t.Errorf("ParseTime(%q): no error", s)
		}
	}
}

func TestAPIErrorKinds(t *testing.T) {
	for _, tc := range []struct {
		e                               APIError
		auth, rate, notFound, transient bool
	}{
		{e: APIError{Code: 190, Subcode: 463}, auth: true},
		{e: APIError{Code: 10}, auth: true},
		{e: APIError{Code: 200}, auth: true},
		{e: APIError{Code: 4}, rate: true},
		{e: APIError{Code: 17}, rate: true},
		{e: APIError{Code: 32}, rate: true},
		{e: APIError{Code: 613}, rate: true},
		{e: APIError{Code: 80001}, rate: true},
		{e: APIError{Code: 100, Subcode: 33}, notFound: true},
		{e: APIError{Code: 100, Message: "Object with ID '1' does not exist"}, notFound: true},
		{e: APIError{Code: 100, Message: "Invalid parameter"}},
		{e: APIError{Code: 2}, transient: true},
		{e: APIError{Code: 1}, transient: true},
		{e: APIError{Code: 368, Transient: true}, transient: true},
	} {
		e := tc.e
		if e.IsAuth() != tc.auth || e.IsRateLimit() != tc.rate || e.IsNotFound() != tc.notFound || e.IsTransient() != tc.transient {
			t.Errorf("%+v: auth %v rate %v notfound %v transient %v", e, e.IsAuth(), e.IsRateLimit(), e.IsNotFound(), e.IsTransient())
		}
	}
}

// FuzzParseUsage: usage headers never panic and stay in range.
func FuzzParseUsage(f *testing.F) {
	f.Fuzz(func(t *testing.T, app, buc string) {
		h := http.Header{}
		h.Set("X-App-Usage", app)
		h.Set("X-Business-Use-Case-Usage", buc)
		u := ParseUsage(h)
		b := u.Budget(time.Unix(0, 0))
		if u.Percent < 0 || u.RegainIn < 0 || b.Remaining < 0 || b.Remaining > 100 {
			t.Fatalf("usage %+v budget %+v", u, b)
		}
	})
}
