// Package instagram polls the Instagram Graph API for one watched
// professional account: its media (/{ig-user-id}/media) and their comments
// and replies (/{ig-media-id}/comments, replies{...}), and the media it is
// tagged in (/{ig-user-id}/tags). Every comment is published, the
// account's own replies included (triage recognises them by author).
//
// Client: plain net/http through collectors/facebook/graph, shared with the
// Facebook collector — huandu/facebook/v2 hides the HTTP status and the
// raw text we need (5xx vs malformed JSON, invalid UTF-8), and there is no
// maintained Go client for the Instagram Graph API.
//
// Mentions (mentioned_media, mentioned_comment) need the media or comment
// id that only a webhook delivers, so they are not polled here.
//
// Cursor: JSON with the resolved ig-user-id, the active media (comment
// count and last scan time, to spend the 200 calls/hour/account on media
// whose count changed, and the Graph cursors of a comment listing longer
// than one poll reads, which the next poll goes on from) and a bounded set of recently seen comment ids with
// a hash of their text and a watermark (wire.Seen). Edits are noticed by
// the hash; deletions and hiding are reported when the API says so: a
// tracked comment missing from a complete listing is looked up and
// reported deleted only on Graph error 100/33 or hidden=true.
package instagram
