package youtubefake

import (
	"cmp"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tanggap/tanggap/collectors/internal/fakeapi"
)

// Fault makes matching requests fail or stall.
type Fault struct {
	Path    string            // substring of the request path; "" matches every request
	Status  int               // HTTP status (default 500)
	Reason  string            // error reason ("quotaExceeded", "keyInvalid"...) for a Google error body
	Message string            // error message
	Body    string            // raw body instead (malformed JSON)
	Header  map[string]string // extra headers
	Delay   time.Duration     // hold the response this long, or until the client gives up
	Times   int               // requests it applies to; 0 means 1, negative means forever
}

// QuotaExceeded is the daily quota error: HTTP 403, reason quotaExceeded.
func QuotaExceeded() Fault {
	return Fault{Status: 403, Reason: "quotaExceeded", Message: quotaMessage}
}

// KeyInvalid is HTTP 400, reason keyInvalid.
func KeyInvalid() Fault {
	return Fault{Status: 400, Reason: "keyInvalid", Message: "API key not valid. Please pass a valid API key."}
}

// AuthError is HTTP 401 for a bad OAuth token.
func AuthError() Fault {
	return Fault{Status: 401, Reason: "authError", Message: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."}
}

// BackendError is HTTP 503, reason backendError.
func BackendError() Fault {
	return Fault{Status: 503, Reason: "backendError", Message: "The service is currently unavailable."}
}

// Malformed answers 200 with a body that is not JSON.
func Malformed() Fault {
	return Fault{Status: 200, Body: `{"kind":"youtube#commentThreadListResponse","items":[{`}
}

// Slow holds the response for d.
func Slow(d time.Duration) Fault { return Fault{Delay: d} }

const quotaMessage = `The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.`

// Inject adds a fault; faults match in the order added.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = fakeapi.Add(s.faults, f, faultScope)
}

func faultScope(f *Fault) (string, *int) { return f.Path, &f.Times }

func statusName(status int) string {
	switch status {
	case 400:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 503:
		return "UNAVAILABLE"
	}
	return "INTERNAL"
}

func googleError(w http.ResponseWriter, status int, reason, msg string) {
	domain := "global"
	switch reason {
	case "quotaExceeded":
		domain = "youtube.quota"
	case "commentsDisabled", "channelNotFound":
		domain = "youtube.commentThread"
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": status, "message": msg,
		"errors": []map[string]string{{"message": msg, "domain": domain, "reason": reason}},
		"status": statusName(status),
	}})
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
		case f.Reason != "":
			googleError(w, cmp.Or(f.Status, 500), f.Reason, f.Message)
			return
		case f.Status != 0:
			w.WriteHeader(f.Status)
			return
		}
	}
	q := r.URL.Query()
	cred := r.Header.Get("X-Goog-Api-Key")
	if cred == "" {
		cred = q.Get("key")
	}
	if cred == "" {
		cred = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	switch {
	case cred == "":
		googleError(w, 403, "forbidden", "The request is missing a valid API key.")
		return
	case s.key != "" && cred != s.key:
		googleError(w, 400, "keyInvalid", "API key not valid. Please pass a valid API key.")
		return
	}
	resource := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.spend(w) {
		return
	}
	switch resource {
	case "channels":
		s.channelsList(w, q)
	case "commentThreads":
		s.threadsList(w, q)
	case "comments":
		s.commentsList(w, q)
	default:
		googleError(w, 404, "notFound", "Not Found")
	}
}

// spend charges 1 unit, as every list method costs.
func (s *Server) spend(w http.ResponseWriter) bool {
	if s.quota <= 0 {
		return true
	}
	day := s.now().In(s.pacific).Format("2006-01-02")
	if day != s.day {
		s.day, s.used = day, 0
	}
	if s.used >= s.quota {
		googleError(w, 403, "quotaExceeded", quotaMessage)
		return false
	}
	s.used++
	return true
}

func parts(q url.Values) map[string]bool {
	out := map[string]bool{}
	for _, p := range strings.Split(q.Get("part"), ",") {
		out[strings.TrimSpace(p)] = true
	}
	return out
}

func maxResults(w http.ResponseWriter, q url.Values, def, max int) (int, bool) {
	v := q.Get("maxResults")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		googleError(w, 400, "invalidParameter", "Invalid value for parameter maxResults")
		return 0, false
	}
	return n, true
}

func (s *Server) channelsList(w http.ResponseWriter, q url.Values) {
	var items []any
	for _, c := range s.channels {
		if (q.Get("forHandle") != "" && strings.EqualFold(c.Handle, "@"+strings.TrimPrefix(q.Get("forHandle"), "@"))) || q.Get("id") == c.ID {
			item := map[string]any{"kind": "youtube#channel", "id": c.ID}
			if parts(q)["snippet"] {
				item["snippet"] = map[string]any{"title": c.Title, "customUrl": strings.ToLower(c.Handle)}
			}
			item["etag"] = etag(item)
			items = append(items, item)
		}
	}
	out := map[string]any{"kind": "youtube#channelListResponse", "pageInfo": map[string]int{"totalResults": len(items), "resultsPerPage": 5}}
	if len(items) > 0 {
		out["items"] = items
	}
	out["etag"] = etag(out)
	writeJSON(w, 200, out)
}

func (s *Server) threadsList(w http.ResponseWriter, q url.Values) {
	cid, vid := q.Get("allThreadsRelatedToChannelId"), q.Get("videoId")
	if cid == "" && vid == "" && q.Get("id") == "" {
		googleError(w, 400, "missingRequiredParameter", "No filter selected. Expected one of: allThreadsRelatedToChannelId, id, videoId, channelId")
		return
	}
	if cid != "" && s.channels[cid] == nil {
		googleError(w, 404, "channelNotFound", "The channel identified by the <code>allThreadsRelatedToChannelId</code> parameter could not be found.")
		return
	}
	n, ok := maxResults(w, q, 20, 100)
	if !ok {
		return
	}
	var ids map[string]bool
	if q.Get("id") != "" {
		ids = map[string]bool{}
		for _, id := range strings.Split(q.Get("id"), ",") {
			ids[id] = true
		}
	}
	var list []*Comment
	for _, id := range s.order {
		c := s.comments[id]
		if c.ParentID != "" || c.Deleted || (cid != "" && c.ChannelID != cid) || (vid != "" && c.VideoID != vid) || (ids != nil && !ids[c.ID]) {
			continue
		}
		list = append(list, c)
	}
	sortThreads(list)
	p := parts(q)
	items := make([]any, 0, len(list))
	for _, c := range list {
		replies := s.replies(c.ID)
		item := map[string]any{"kind": "youtube#commentThread", "id": c.ID}
		if p["snippet"] {
			item["snippet"] = map[string]any{
				"channelId": c.ChannelID, "videoId": c.VideoID, "topLevelComment": s.commentJSON(c, q),
				"canReply": true, "totalReplyCount": len(replies), "isPublic": true,
			}
		}
		if p["replies"] && len(replies) > 0 {
			var rs []any
			for i, rc := range replies {
				if i == 5 { // the thread resource carries only some replies
					break
				}
				rs = append(rs, s.commentJSON(rc, q))
			}
			item["replies"] = map[string]any{"comments": rs}
		}
		item["etag"] = etag(item)
		items = append(items, item)
	}
	s.page(w, q, "youtube#commentThreadListResponse", items, n)
}

func (s *Server) commentsList(w http.ResponseWriter, q url.Values) {
	var list []*Comment
	switch {
	case q.Get("id") != "":
		for _, id := range strings.Split(q.Get("id"), ",") {
			if c := s.comments[id]; c != nil && !c.Deleted {
				list = append(list, c)
			}
		}
	case q.Get("parentId") != "":
		list = s.replies(q.Get("parentId"))
	default:
		googleError(w, 400, "missingRequiredParameter", "No filter selected. Expected one of: id, parentId")
		return
	}
	n, ok := maxResults(w, q, 20, 100)
	if !ok {
		return
	}
	items := make([]any, 0, len(list))
	for _, c := range list {
		item := map[string]any{"kind": "youtube#comment", "id": c.ID}
		if parts(q)["snippet"] {
			item = s.commentJSON(c, q)
		}
		item["etag"] = etag(item)
		items = append(items, item)
	}
	s.page(w, q, "youtube#commentListResponse", items, n)
}

func (s *Server) commentJSON(c *Comment, q url.Values) map[string]any {
	display := c.Text
	if q.Get("textFormat") != "plainText" {
		display = strings.ReplaceAll(c.Text, "\n", "<br>")
	}
	sn := map[string]any{
		"channelId": c.ChannelID, "textDisplay": display, "textOriginal": c.Text,
		"authorDisplayName":     c.AuthorName,
		"authorProfileImageUrl": "https://yt3.ggpht.com/ytc/" + makeID("A", 12, c.AuthorChannelID) + "=s48-c-k-c0x00ffffff-no-rj",
		"authorChannelUrl":      "http://www.youtube.com/" + c.AuthorName,
		"authorChannelId":       map[string]string{"value": c.AuthorChannelID},
		"canRate":               true, "viewerRating": "none", "likeCount": 0,
		"publishedAt": c.Published.UTC().Format(time.RFC3339),
		"updatedAt":   c.Updated.UTC().Format(time.RFC3339),
	}
	if c.VideoID != "" {
		sn["videoId"] = c.VideoID
	}
	if c.ParentID != "" {
		sn["parentId"] = c.ParentID
	}
	item := map[string]any{"kind": "youtube#comment", "id": c.ID, "snippet": sn}
	item["etag"] = etag(item)
	return item
}

func (s *Server) page(w http.ResponseWriter, q url.Values, kind string, items []any, n int) {
	off := 0
	if t := q.Get("pageToken"); t != "" {
		o, ok := decodePageToken(t)
		if !ok {
			googleError(w, 400, "invalidPageToken", "The request specifies an invalid page token.")
			return
		}
		off = min(o, len(items))
	}
	end := min(off+n, len(items))
	out := map[string]any{
		"kind":     kind,
		"pageInfo": map[string]int{"totalResults": len(items[off:end]), "resultsPerPage": n},
		"items":    items[off:end],
	}
	if end < len(items) {
		out["nextPageToken"] = encodePageToken(end)
	}
	out["etag"] = etag(out)
	writeJSON(w, 200, out)
}
