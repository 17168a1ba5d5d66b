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
// def, at most MaxLimit) items after the "after" cursor, or the last ones
// before the "before" cursor. Like Graph's, a cursor points to an item
// (its id, see KeyCursor), not to an offset: items added elsewhere in the
// list do not move it, and it is refused (error 100) once its item is
// gone. The caller holds the lock.
func (s *Server) Page(w http.ResponseWriter, r *http.Request, q url.Values, data []any, def int) {
	limit := def
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 {
		limit = min(l, s.MaxLimit)
	}
	off, end := 0, 0
	switch a, b := q.Get("after"), q.Get("before"); {
	case a != "":
		i, ok := find(data, a)
		if !ok {
			invalidCursor(w)
			return
		}
		off = i + 1
		end = min(off+limit, len(data))
	case b != "":
		i, ok := find(data, b)
		if !ok {
			invalidCursor(w)
			return
		}
		off, end = max(0, i-limit), i
	default:
		end = min(limit, len(data))
	}
	out := map[string]any{"data": nonNil(data[off:end])}
	if end > off {
		first, last := KeyCursor(itemID(data[off])), KeyCursor(itemID(data[end-1]))
		paging := map[string]any{"cursors": map[string]string{"before": first, "after": last}}
		if end < len(data) {
			paging["next"] = NextURL(r, "", q, "after", last)
		}
		if off > 0 {
			paging["previous"] = NextURL(r, "", q, "before", first)
		}
		out["paging"] = paging
	}
	WriteJSON(w, 200, out)
}

func invalidCursor(w http.ResponseWriter) {
	WriteError(w, 400, Error{Message: "Invalid cursor", Type: "OAuthException", Code: 100})
}

// find returns the index of the item a cursor points to.
func find(data []any, cursor string) (int, bool) {
	id, ok := decodeCursor(cursor)
	if !ok {
		return 0, false
	}
	for i, d := range data {
		if itemID(d) == id {
			return i, true
		}
	}
	return 0, false
}

func itemID(d any) string {
	m, _ := d.(map[string]any)
	id, _ := m["id"].(string)
	return id
}

func nonNil(d []any) []any {
	if d == nil {
		return []any{}
	}
	return d
}

// NextURL is the "next" (dir "after") or "previous" (dir "before") link
// of a page: the request's URL, or path under its version when path is
// set, with query q (no token, no other cursor) and the cursor.
func NextURL(r *http.Request, path string, q url.Values, dir, cursor string) string {
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
		if k != "access_token" && k != "before" && k != "after" {
			v[k] = vs
		}
	}
	v.Set(dir, cursor)
	return scheme + "://" + r.Host + p + "?" + v.Encode()
}

// KeyCursor makes the cursor of the item with id: base64, opaque to
// clients.
func KeyCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("k:" + id))
}

func decodeCursor(c string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), "k:") || len(b) == 2 {
		return "", false
	}
	return string(b[2:]), true
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
