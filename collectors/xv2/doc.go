// Package xv2 polls X API v2 for one watched account: the posts that
// mention it (GET /2/users/:id/mentions) and its own posts (GET
// /2/users/:id/tweets), which carry the account's replies to citizens.
// ThreadID is the conversation_id; ParentID the replied_to post.
//
// Client: plain net/http — github.com/michimani/gotwi v0.18.3 (pinned in
// go.mod) hard-codes https://api.twitter.com in every endpoint (a fake
// needs a rewriting transport) and exposes the x-rate-limit headers only
// on errors, while the poller needs them on every answer for the budget.
//
// Cursor: JSON with the resolved user id and, per timeline, the newest id
// collected (since_id between polls; compared as decimal strings, never as
// float64); a walk cut short by the page limit continues with until_id so
// no post between two polls is skipped. X serves only the newest 800
// mentions and 3,200 own posts: a walk that ends there, above its since_id,
// is reported as a *collectors.UnreachableError. A bounded list of recent ids is
// looked up every 15 minutes (GET /2/tweets) to report deletions; an
// edited post (edit_history_tweet_ids) is published under its original id
// with EditedAt.
package xv2
