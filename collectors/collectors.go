// Package collectors polls the watched official accounts on each platform
// and publishes every post it sees (citizens' and the accounts' own) to
// Kafka. A platform package implements Poller; the Runner in this package
// owns the loop: leases, cursors, rate budgets, backoff and coverage.
package collectors

import (
	"context"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
)

// Poller fetches, for one watched account, the posts newer than cursor.
// Cursor values are opaque to the Runner: each platform encodes its own
// (a since_id on X; a timestamp plus recently seen ids on Meta and YouTube).
//
// Errors carry a tanggap error code: ERATELIMIT (see RetryAfter),
// EAUTH (token expired or revoked: reported once, not retried in a loop),
// EUNAVAILABLE (5xx, timeouts: retried with jittered backoff) and
// EINVALID (malformed response: counted, retried later, never loses the cursor).
type Poller interface {
	Platform() tanggap.Platform
	Poll(ctx context.Context, acct config.Account, cursor string) (Batch, error)
}

// Batch is what one poll of one account returned.
type Batch struct {
	Posts  []tanggap.Post
	Cursor string // the cursor to save once Posts are acknowledged by Kafka
	Budget Budget // the rate budget the platform reported, if any
	Calls  int    // API calls (or quota units) this poll spent
	// Behind says the poll left posts it knows of unread for the next
	// polls (a comment thread longer than one poll reads, more objects
	// than one poll lists): the Runner shows the account as a backlog gap
	// until a poll catches up.
	Behind bool
	// Partial, on a successful poll, says what the account's polling
	// cannot cover (the Runner reports a GapPartial gap, logged with it):
	// for example the replies to older threads that a quota leaves out.
	Partial string
}

// Budget is a platform's rate-limit state as last reported.
type Budget struct {
	Limit     int
	Remaining int
	Reset     time.Time // when the window reopens
	Known     bool
	// Scope names the rate window when several accounts share it (for
	// example an X app's bearer-token window of one endpoint). A Runner uses
	// one set of app credentials, so a scoped window is spent by every
	// account of the Runner. Empty: the window is the account's own.
	Scope string
}

// RateLimitError is returned (wrapped in a *tanggap.Error with code
// ERATELIMIT) when the platform said stop until a time.
type RateLimitError struct {
	Until  time.Time
	Reason string // "rate_limit", "quota_exceeded", "spend_cap", "app_usage"
	// Scope is the shared window that is exhausted (see Budget.Scope): the
	// Runner pauses every one of its accounts until it reopens. Empty: only
	// this account is paused.
	Scope string
}

func (e *RateLimitError) Error() string {
	return "rate limited (" + e.Reason + ") until " + e.Until.UTC().Format(time.RFC3339)
}

// UnreachableError is returned (wrapped in a *tanggap.Error) when posts
// came after the cursor that the platform no longer serves, so they were
// never collected and cannot be (X API v1.1 and v2 list only an account's
// newest ~800 mentions and ~3,200 posts). It comes with a Batch of what
// the poll read and a Cursor past the missed posts: the Runner publishes
// the batch, saves the cursor and opens a posts_unreachable gap.
type UnreachableError struct {
	Since time.Time // when the missed posts begin, when known
}

func (e *UnreachableError) Error() string {
	return "posts not collected: the platform no longer serves them"
}

// Publisher sends posts to Kafka and returns only after Kafka acknowledged
// every one of them.
type Publisher interface {
	Publish(ctx context.Context, posts []tanggap.Post) error
}

// Cursors keeps one cursor per platform and account.
type Cursors interface {
	Cursor(ctx context.Context, p tanggap.Platform, account string) (string, error)
	SetCursor(ctx context.Context, p tanggap.Platform, account, cursor string) error
}
