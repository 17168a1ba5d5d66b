// Package youtube polls the YouTube Data API v3 for one watched channel:
// every comment thread related to the channel (commentThreads.list with
// allThreadsRelatedToChannelId, order=time) and the replies the thread
// resource leaves out (comments.list with parentId). The channel's own
// replies are published too (triage recognises them by author). order=time
// sorts threads by when they started, so a poll reads pages only until one
// brings nothing new, and every 30 minutes a sweep reads on to the end of
// the week of threads it tracks, for new replies to older threads (at most
// 10 pages; the threads beyond are reported in Batch.Partial).
//
// Quota: every list call costs 1 unit of the project's 10,000 a day;
// Batch.Calls counts units. quotaExceeded is an HTTP 403 (not a 429): it
// becomes ERATELIMIT with Reason "quota_exceeded" until the next midnight
// Pacific time, when YouTube resets quotas.
//
// Client: plain net/http — google.golang.org/api/youtube/v3 would pull
// its transport stack (cloud.google.com/go/auth, grpc, OpenTelemetry) into
// go.mod for two GET calls, and its decoder replaces invalid UTF-8 before
// we can flag it; the API key goes in the X-Goog-Api-Key header, never in
// a URL.
//
// Cursor: JSON with the resolved channel id, the recent threads' reply
// counts (comments.list runs only for threads whose count changed) and a
// bounded set of seen ids with a text hash and a watermark. Edits are the
// text changing (EditedAt = snippet.updatedAt); deletions are reported
// when a tracked comment missing from a listing is also missing from
// comments.list?id=... (1 unit for up to 50 ids).
package youtube
