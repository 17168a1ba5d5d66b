// Package facebook polls a Facebook Page through the Graph API: the page
// feed (/{page-id}/feed: the page's posts and visitor posts) and every
// post's comments and replies (/{post-id}/comments with filter=stream, so
// replies come with their parent), the page's own replies included
// (triage recognises them by author).
//
// Client: plain net/http through collectors/facebook/graph — not
// github.com/huandu/facebook/v2 (v2.9.1 is pinned in go.mod), because its
// Session drops the HTTP status (a 502 from a proxy and a malformed body
// look alike), decodes into map[string]interface{} before we could see raw
// invalid UTF-8, and we need only four GET shapes and the usage headers.
//
// Cursor: JSON with the resolved page id, the active posts (comment total
// and updated_time, so only changed posts are listed again, and the Graph
// cursor of a comment listing longer than one poll reads, which the next
// poll goes on from) and a bounded
// set of recently seen ids with a hash of their text and a watermark
// (wire.Seen). Edits are noticed by the hash; a tracked comment missing
// from a complete listing is looked up and reported deleted only on Graph
// error 100/33 or is_hidden=true.
package facebook
