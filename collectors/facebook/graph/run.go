package graph

import (
	"context"
	"net/url"
	"sort"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/internal/wire"
)

// Run is what one poll of one account keeps alike in both Graph
// collectors: the calls, the cursor's memory of seen posts, the posts
// published so far and the comments to look up (List, PickScans and
// Verify work on it). Each collector embeds one in its own run, beside its
// cursor, its resolved account id and its comment listings.
type Run struct {
	Call     *Call
	Platform tanggap.Platform
	Account  string    // the watched handle: every post's Account
	Now      time.Time // the poll's capture time, UTC
	Seen     *wire.Seen
	Posts    []tanggap.Post
	Progress bool         // the cursor moved: keep it even after an error
	Suspects []wire.Entry // tracked comments missing from a complete listing
	// Behind: the poll left comments or objects it knows of unread for
	// the next polls (a scan under way, changed objects beyond maxScans,
	// a listing cut at its page bound): the Batch says so.
	Behind bool

	emitted map[string]bool
}

// Bounds of a poll, the same for both Graph collectors.
const (
	// ActiveWindow is how old a post or media may be and still have its
	// comments polled.
	ActiveWindow = 7 * 24 * time.Hour
	// One poll reads at most maxCommentPages comment and reply pages per
	// object (see Scan), scans maxScans objects (PickScans) and looks up
	// maxVerify comments for deletion (Verify).
	maxCommentPages = 10
	maxScans        = 8
	maxVerify       = 5
	// maxSeen bounds the ids remembered in a cursor (Batch).
	maxSeen = 4000
)

// NewRun starts the bookkeeping of one poll; seen is the cursor's.
func NewRun(call *Call, platform tanggap.Platform, account string, now time.Time, seen *wire.Seen) Run {
	return Run{Call: call, Platform: platform, Account: account, Now: now, Seen: seen, emitted: map[string]bool{}}
}

// Batch ends the poll with its outcome err: the posts in creation order,
// the budget and calls, whether it is Behind, and encode's cursor, after forgetting the seen ids
// created a day before ActiveWindow (at most maxSeen kept), when the poll
// succeeded or made progress. A usage stop counts as the error of a clean
// poll.
func (r *Run) Batch(err error, encode func() string) (collectors.Batch, error) {
	if err == nil {
		err = r.Call.Stop
	}
	sort.SliceStable(r.Posts, func(i, j int) bool { return r.Posts[i].CreatedAt.Before(r.Posts[j].CreatedAt) })
	b := collectors.Batch{Posts: r.Posts, Budget: r.Call.Budget(), Calls: r.Call.Calls, Behind: r.Behind}
	if err == nil || r.Progress {
		r.Seen.Prune(r.Now.Add(-ActiveWindow-24*time.Hour).Unix(), maxSeen)
		b.Cursor = encode()
	}
	return b, err
}

// Observe publishes a post the first time it is seen, again when its text
// changed (EditedAt) and when the platform hides it (Deleted).
func (r *Run) Observe(p tanggap.Post, hidden bool) {
	if p.ID == "" || r.emitted[p.ID] || p.CreatedAt.IsZero() {
		return
	}
	h := wire.Hash(p.Text)
	e, ok := r.Seen.Get(p.ID)
	at := p.CreatedAt.Unix()
	switch {
	case !ok:
		if at <= r.Seen.Floor {
			return // forgotten long ago, not new
		}
		p.Deleted = hidden
		e = wire.Entry{ID: p.ID, At: at, Thread: p.ThreadID, Parent: p.ParentID, Kind: string(p.Interaction)}
	case hidden && !e.Gone:
		p.Deleted = true
	case !hidden && e.Gone:
		p.EditedAt = &r.Now // shown again
	case e.Hash != h && !hidden:
		p.EditedAt = &r.Now
	default:
		return
	}
	e.Hash, e.Gone = h, hidden
	r.Seen.Put(e)
	r.emit(p)
}

// Gone reports a tracked post deleted.
func (r *Run) Gone(id string) {
	e, ok := r.Seen.Get(id)
	if !ok || e.Gone || r.emitted[id] {
		return
	}
	e.Gone = true
	r.Seen.Put(e)
	r.emit(tanggap.Post{
		Platform:    r.Platform,
		ID:          id,
		Account:     r.Account,
		CreatedAt:   time.Unix(e.At, 0).UTC(),
		CapturedAt:  r.Now,
		ThreadID:    e.Thread,
		ParentID:    e.Parent,
		Interaction: tanggap.Interaction(e.Kind),
		Deleted:     true,
	})
}

func (r *Run) emit(p tanggap.Post) {
	p.Sanitize()
	r.emitted[p.ID] = true
	r.Posts = append(r.Posts, p)
}

// Suspect notes the tracked comments of a thread that a complete listing
// did not show, for Verify.
func (r *Run) Suspect(thread string, listed map[string]bool) {
	for _, e := range r.Seen.InThread(thread) {
		if e.ID != thread && !e.Gone && !listed[e.ID] {
			r.Suspects = append(r.Suspects, e)
		}
	}
}

// Verify looks up at most maxVerify suspects with fields into a T; only
// the API's "does not exist", or hidden saying so, makes one deleted.
func Verify[T any](ctx context.Context, r *Run, fields string, hidden func(T) bool) error {
	for i, e := range r.Suspects {
		if i == maxVerify {
			break
		}
		var c T
		err := r.Call.Get(ctx, e.ID, url.Values{"fields": {fields}}, &c)
		switch {
		case IsNotFound(err):
			r.Gone(e.ID)
		case err != nil:
			return err
		case hidden(c):
			r.Gone(e.ID)
		}
	}
	return nil
}
