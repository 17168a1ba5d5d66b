package graphfake

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Page writes one page of data with Graph cursor paging: limit (default
// def, at most MaxLimit) items after the "after" cursor. The caller holds
// the lock.
func (s *Server) Page(w http.ResponseWriter, r *http.Request, q url.Values, data []any, def int) {
	limit := def
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 {
		limit = min(l, s.MaxLimit)
	}
	off := 0
	if a := q.Get("after"); a != "" {
		n, ok := decodeCursor(a)
		if !ok {
			WriteError(w, 400, Error{Message: "Invalid cursor", Type: "OAuthException", Code: 100})
			return
		}
		off = n
	}
	end := min(off+limit, len(data))
	if off > len(data) {
		off = len(data)
	}
	out := map[string]any{"data": nonNil(data[off:end])}
	if end > off {
		paging := map[string]any{"cursors": map[string]string{"before": EncodeCursor(off), "after": EncodeCursor(end)}}
		if end < len(data) {
			paging["next"] = NextURL(r, "", q, EncodeCursor(end))
		}
		if off > 0 {
			paging["previous"] = NextURL(r, "", q, EncodeCursor(max(0, off-limit)))
		}
		out["paging"] = paging
	}
	WriteJSON(w, 200, out)
}

func nonNil(d []any) []any {
	if d == nil {
		return []any{}
	}
	return d
}

// NextURL is the "next" link of a page: the request's URL, or path under
// its version when path is set, with query q (no token) and the cursor.
func NextURL(r *http.Request, path string, q url.Values, after string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	p := r.URL.Path
	if path != "" {
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)
		p = "/" + parts[0] + path
	}
	v := url.Values{}
	for k, vs := range q {
		if k != "access_token" && k != "before" {
			v[k] = vs
		}
	}
	v.Set("after", after)
	return scheme + "://" + r.Host + p + "?" + v.Encode()
}

// EncodeCursor makes the cursor of an offset: base64, opaque to clients.
func EncodeCursor(off int) string {
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

// Field is one entry of a Graph fields parameter: name.mod(arg){sub}.
type Field struct {
	Sub  string
	Mods map[string]string
}

// ParseFields splits "id,from{id,username},replies.limit(5){id}" at the
// top level.
func ParseFields(s string) map[string]Field {
	out := map[string]Field{}
	depth, start := 0, 0
	add := func(part string) {
		part = strings.TrimSpace(part)
		if part == "" {
			return
		}
		f := Field{Mods: map[string]string{}}
		if i := strings.IndexByte(part, '{'); i >= 0 && strings.HasSuffix(part, "}") {
			f.Sub = part[i+1 : len(part)-1]
			part = part[:i]
		}
		segs := strings.Split(part, ".")
		for _, m := range segs[1:] {
			if i := strings.IndexByte(m, '('); i > 0 && strings.HasSuffix(m, ")") {
				f.Mods[m[:i]] = m[i+1 : len(m)-1]
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

// Pick keeps the requested fields of obj, and always its id; no fields
// means only the id, as Graph answers.
func Pick(obj map[string]any, fields map[string]Field) map[string]any {
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

// SortNewest sorts newest first, stable.
func SortNewest[T any](xs []T, at func(T) time.Time) {
	sort.SliceStable(xs, func(i, j int) bool { return at(xs[i]).After(at(xs[j])) })
}
