package xv2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/internal/wire"
	"github.com/tanggap/tanggap/config"
)

// DefaultBaseURL is X API v2's host.
const DefaultBaseURL = "https://api.x.com"

// Request parameters.
const (
	TweetFields = "created_at,conversation_id,referenced_tweets,in_reply_to_user_id,author_id,edit_history_tweet_ids,note_tweet"
	Expansions  = "author_id"
	UserFields  = "username,name"
)

// Poller polls X accounts. It is safe for concurrent use: all per-account
// state lives in the cursor.
type Poller struct {
	tokens  TokenSource
	baseURL string
	hc      *http.Client
	now     func() time.Time

	pageSize  int
	maxPages  int
	backfill  time.Duration
	ownTweets bool
}

// recheckEvery is how often recent posts are looked up to report
// deletions (GET /2/tweets, one call for up to 100 ids).
const recheckEvery = 15 * time.Minute

// maxRecent is how many of an account's latest posts its cursor keeps for
// that look-up (one GET /2/tweets takes 100 ids).
const maxRecent = 100

// Option configures a Poller.
type Option func(*Poller)

// WithBaseURL points the poller at another host (a fake). Default https://api.x.com.
func WithBaseURL(u string) Option { return func(p *Poller) { p.baseURL = strings.TrimRight(u, "/") } }

// WithHTTPClient sets the HTTP client. Per-call timeouts come from ctx.
func WithHTTPClient(c *http.Client) Option { return func(p *Poller) { p.hc = c } }

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(p *Poller) { p.now = now } }

// WithPageSize sets max_results (5 to 100, default 100).
func WithPageSize(n int) Option { return func(p *Poller) { p.pageSize = n } }

// WithMaxPages bounds the pages of one timeline in one poll (default 5);
// a longer walk continues at the next poll.
func WithMaxPages(n int) Option { return func(p *Poller) { p.maxPages = n } }

// WithBackfill sets how far back the first poll of an account reads
// (start_time). Default 24 hours.
func WithBackfill(d time.Duration) Option { return func(p *Poller) { p.backfill = d } }

// WithOwnTweets turns the account's own timeline on or off (default on:
// it carries the account's replies to citizens).
func WithOwnTweets(on bool) Option { return func(p *Poller) { p.ownTweets = on } }

// New returns a Poller that gets the bearer token from tokens.
func New(tokens TokenSource, opts ...Option) *Poller {
	p := &Poller{
		tokens:    tokens,
		baseURL:   DefaultBaseURL,
		hc:        &http.Client{},
		now:       time.Now,
		pageSize:  100,
		maxPages:  5,
		backfill:  24 * time.Hour,
		ownTweets: true,
	}
	for _, o := range opts {
		o(p)
	}
	p.pageSize = min(max(p.pageSize, 5), 100)
	p.maxPages = max(p.maxPages, 1)
	return p
}

// Platform implements collectors.Poller.
func (p *Poller) Platform() tanggap.Platform { return tanggap.PlatformX }

type cursor struct {
	V         int      `json:"v"`
	UserID    string   `json:"uid,omitempty"`
	Mentions  timeline `json:"mentions"`
	Own       timeline `json:"own"`
	OwnPaused int64    `json:"own_paused,omitempty"` // own timeline rate limited until (unix)
	Recent    []recent `json:"recent,omitempty"`
	CheckedAt int64    `json:"checked,omitempty"`
}

// timeline is the position in one timeline: everything up to Since is
// collected; an unfinished walk collected (Until, Top].
type timeline struct {
	Since string `json:"since,omitempty"`
	Until string `json:"until,omitempty"`
	Top   string `json:"top,omitempty"`
	Start int64  `json:"start,omitempty"` // first walk's start_time (unix), while Since is empty
}

type recent struct {
	ID     string `json:"i"`
	Conv   string `json:"c,omitempty"`
	Parent string `json:"p,omitempty"`
	Kind   string `json:"k,omitempty"`
}

func decodeCursor(s string) cursor {
	var c cursor
	if s == "" || json.Unmarshal([]byte(s), &c) != nil || c.V != 1 {
		return cursor{V: 1}
	}
	return c
}

func (c *cursor) encode() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// Wire format.

type tweet struct {
	ID               string    `json:"id"`
	Text             wire.Text `json:"text"`
	AuthorID         string    `json:"author_id"`
	CreatedAt        string    `json:"created_at"`
	ConversationID   string    `json:"conversation_id"`
	InReplyToUserID  string    `json:"in_reply_to_user_id"`
	EditHistory      []string  `json:"edit_history_tweet_ids"`
	ReferencedTweets []struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"referenced_tweets"`
	NoteTweet *struct {
		Text wire.Text `json:"text"`
	} `json:"note_tweet"`
}

type user struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
}

type page struct {
	Data     []tweet `json:"data"`
	Includes struct {
		Users []user `json:"users"`
	} `json:"includes"`
	Errors []Problem `json:"errors"`
	Meta   struct {
		ResultCount int    `json:"result_count"`
		NewestID    string `json:"newest_id"`
		OldestID    string `json:"oldest_id"`
		NextToken   string `json:"next_token"`
	} `json:"meta"`
}

// Poll implements collectors.Poller. On an error after some progress the
// Batch still carries the posts and a Cursor covering exactly them.
//
// X v2 serves only a timeline's most recent posts (800 mentions, 3,200 of
// the account's own): when posts after the cursor are beyond that (an
// outage during which more arrived), the error is a
// *collectors.UnreachableError (code EUNAVAILABLE) with the full Batch,
// whose Cursor moves past them; it is joined to the error of a later call
// of the same poll, if any, whose timeline goes on at the next poll.
func (p *Poller) Poll(ctx context.Context, acct config.Account, cur string) (collectors.Batch, error) {
	label := "x @" + strings.TrimPrefix(acct.Handle, "@")
	if p.tokens == nil {
		return collectors.Batch{}, tanggap.Errorf(tanggap.EAUTH, "%s: no token source configured", label)
	}
	token, err := p.tokens(ctx, acct)
	if err != nil {
		return collectors.Batch{}, err
	}
	if token == "" {
		return collectors.Batch{}, tanggap.Errorf(tanggap.EAUTH, "%s: no bearer token configured", label)
	}
	r := &run{
		p:       p,
		acct:    acct,
		c:       decodeCursor(cur),
		call:    &call{p: p, token: token, label: label, rates: map[string]rate{}},
		now:     p.now().UTC(),
		emitted: map[string]bool{},
	}
	err = r.poll(ctx)
	if len(r.missed) > 0 {
		// The cursor is past the missed posts now: report them even when a
		// later call failed, or nobody would hear of them.
		ue := tanggap.WrapCode(tanggap.EUNAVAILABLE, &collectors.UnreachableError{Since: r.missedFrom},
			"%s: %s", label, strings.Join(r.missed, "; "))
		if err == nil {
			err = ue
		} else {
			err = errors.Join(err, ue)
		}
	}
	sort.SliceStable(r.posts, func(i, j int) bool { return r.posts[i].CreatedAt.Before(r.posts[j].CreatedAt) })
	b := collectors.Batch{Posts: r.posts, Calls: r.call.calls}
	if rt, ok := r.call.rates[ScopeMentions]; ok {
		b.Budget = collectors.Budget{Limit: rt.limit, Remaining: rt.remaining, Reset: rt.reset, Known: true, Scope: ScopeMentions}
	}
	if err == nil || r.progress {
		if len(r.c.Recent) > maxRecent {
			r.c.Recent = r.c.Recent[len(r.c.Recent)-maxRecent:]
		}
		b.Cursor = r.c.encode()
	}
	return b, err
}

type run struct {
	p        *Poller
	acct     config.Account
	c        cursor
	call     *call
	now      time.Time
	uid      string
	posts    []tanggap.Post
	emitted  map[string]bool
	progress bool
	// missed says which posts X no longer serves, per timeline, and
	// missedFrom when the earliest of them may begin.
	missed     []string
	missedFrom time.Time
}

func (r *run) poll(ctx context.Context) error {
	if err := r.resolve(ctx); err != nil {
		return err
	}
	path := "/2/users/" + url.PathEscape(r.uid)
	if err := r.walk(ctx, ScopeMentions, path+"/mentions", &r.c.Mentions, false); err != nil {
		return err
	}
	if r.p.ownTweets && r.now.Unix() >= r.c.OwnPaused {
		err := r.walk(ctx, ScopeTweets, path+"/tweets", &r.c.Own, true)
		if err != nil && !r.pauseOwn(err) {
			return err
		}
	}
	if r.c.CheckedAt == 0 {
		r.c.CheckedAt = r.now.Unix() // what was just read needs no look-up yet
	}
	if len(r.c.Recent) > 0 && r.now.Sub(time.Unix(r.c.CheckedAt, 0)) >= recheckEvery {
		if err := r.recheck(ctx); err != nil && tanggap.ErrorCode(err) == tanggap.EAUTH {
			return err
		}
		// Other look-up failures wait for the next poll: mentions first.
	}
	return nil
}

// pauseOwn: a rate limit on the own timeline must not stop mentions; it
// pauses that timeline alone. The usage cap stops everything.
func (r *run) pauseOwn(err error) bool {
	var rl *collectors.RateLimitError
	if tanggap.ErrorCode(err) != tanggap.ERATELIMIT || !errors.As(err, &rl) || rl.Reason == "spend_cap" {
		return false
	}
	r.c.OwnPaused = rl.Until.Unix()
	r.progress = true
	return true
}

func (r *run) resolve(ctx context.Context) error {
	switch {
	case r.acct.ID != "":
		r.uid = r.acct.ID
	case r.c.UserID != "":
		r.uid = r.c.UserID
	}
	if r.uid != "" {
		r.c.UserID = r.uid
		return nil
	}
	var res struct {
		Data   *user     `json:"data"`
		Errors []Problem `json:"errors"`
	}
	name := strings.TrimPrefix(r.acct.Handle, "@")
	if err := r.call.get(ctx, ScopeUsers, "/2/users/by/username/"+url.PathEscape(name), url.Values{"user.fields": {"id,username,name"}}, &res); err != nil {
		return err
	}
	if res.Data == nil || !validID(res.Data.ID) {
		return tanggap.Errorf(tanggap.EINVALID, "%s: no such X user; check the handle in the city config", r.call.label)
	}
	r.uid = res.Data.ID
	r.c.UserID = r.uid
	r.progress = true
	return nil
}

// walk reads one timeline from the cursor's position, newest first, at
// most maxPages pages.
//
// X serves only a timeline's most recent posts (800 mentions, 3,200 of
// the account's own): a walk that reaches them ends without a next_token,
// exactly as one that reached since_id. When it may have read that far
// (it spanned polls, or read a page's worth: fewer would need hundreds of
// new posts within one poll), one more call asks for posts below the
// oldest one read: the walk found none down to since_id, so any served is
// at or below it; none means the posts between since_id and the walk are
// out of reach, reported in r.missed.
func (r *run) walk(ctx context.Context, scope, path string, tl *timeline, own bool) error {
	q := url.Values{
		"max_results":  {strconv.Itoa(r.p.pageSize)},
		"tweet.fields": {TweetFields},
		"expansions":   {Expansions},
		"user.fields":  {UserFields},
	}
	switch {
	case tl.Since != "":
		q.Set("since_id", tl.Since)
	default:
		if tl.Start == 0 {
			tl.Start = r.now.Add(-r.p.backfill).Unix()
		}
		q.Set("start_time", time.Unix(tl.Start, 0).UTC().Format(time.RFC3339))
	}
	resumed := tl.Until != ""
	if resumed {
		q.Set("until_id", tl.Until)
	}
	var newest, oldest string
	read := 0
	done := false
	for pages := 0; pages < r.p.maxPages; pages++ {
		var pg page
		if err := r.call.get(ctx, scope, path, q, &pg); err != nil {
			if newest != "" {
				// Keep what the finished pages gave: continue below them.
				tl.Top, tl.Until = maxID(tl.Top, newest), oldest
				r.progress = true
			}
			return err
		}
		read += len(pg.Data)
		users := map[string]user{}
		for _, u := range pg.Includes.Users {
			users[u.ID] = u
		}
		for _, t := range pg.Data {
			if !validID(t.ID) {
				continue
			}
			newest = maxID(newest, t.ID)
			if oldest == "" || compareIDs(t.ID, oldest) < 0 {
				oldest = t.ID
			}
			r.emit(r.post(t, users, own))
		}
		if pg.Meta.NextToken == "" {
			done = true
			break
		}
		q.Set("pagination_token", pg.Meta.NextToken)
	}
	r.progress = true
	if done && tl.Since != "" && (resumed || read >= r.p.pageSize) {
		bottom := oldest
		if bottom == "" {
			bottom = tl.Until
		}
		if bottom != "" {
			served, err := r.servesBelow(ctx, scope, path, bottom)
			if err != nil {
				// The walk stays open: the next poll ends it again and asks again.
				tl.Top, tl.Until = maxID(tl.Top, newest), bottom
				return err
			}
			if !served {
				r.unreachable(scope, tl.Since, bottom)
			}
		}
	}
	if done {
		if s := maxID(tl.Since, tl.Top, newest); s != "" {
			*tl = timeline{Since: s}
		} else {
			*tl = timeline{Start: tl.Start}
		}
		return nil
	}
	tl.Top, tl.Until = maxID(tl.Top, newest), oldest
	return nil
}

// servesBelow reports whether the timeline serves any post older than id.
func (r *run) servesBelow(ctx context.Context, scope, path, id string) (bool, error) {
	// 5 is the fewest X allows: any post, or a next_token, says the
	// timeline goes on below id.
	q := url.Values{"max_results": {"5"}, "until_id": {id}}
	var pg page
	if err := r.call.get(ctx, scope, path, q, &pg); err != nil {
		return false, err
	}
	return len(pg.Data) > 0 || pg.Meta.NextToken != "", nil
}

// unreachable records that the posts of a timeline after since and before
// until are no longer served.
func (r *run) unreachable(scope, since, until string) {
	from, _ := SnowflakeTime(since)
	to, _ := SnowflakeTime(until)
	r.missed = append(r.missed, fmt.Sprintf("GET %s after id %s (%s), before id %s (%s): no longer served",
		scope[strings.LastIndexByte(scope, ':')+1:], since, from.Format(time.RFC3339), until, to.Format(time.RFC3339)))
	if !from.IsZero() && (r.missedFrom.IsZero() || from.Before(r.missedFrom)) {
		r.missedFrom = from
	}
}

func (r *run) post(t tweet, users map[string]user, own bool) tanggap.Post {
	u := users[t.AuthorID]
	p := tanggap.Post{
		Platform:    tanggap.PlatformX,
		ID:          t.ID,
		Account:     r.acct.Handle,
		AuthorID:    t.AuthorID,
		Author:      u.Username,
		AuthorName:  u.Name,
		Text:        t.Text.S,
		InvalidUTF8: t.Text.Invalid,
		CapturedAt:  r.now,
		ThreadID:    t.ConversationID,
		Interaction: tanggap.InteractionMention,
	}
	if t.NoteTweet != nil && t.NoteTweet.Text.S != "" {
		p.Text, p.InvalidUTF8 = t.NoteTweet.Text.S, t.NoteTweet.Text.Invalid // long posts
	}
	if own {
		p.Interaction = tanggap.InteractionPost
		if p.Author == "" {
			p.Author = strings.TrimPrefix(r.acct.Handle, "@")
		}
	}
	p.ByAccount = own || (t.AuthorID != "" && t.AuthorID == r.uid)
	if ts, err := time.Parse(time.RFC3339Nano, t.CreatedAt); err == nil {
		p.CreatedAt = ts.UTC()
	} else if ts, ok := SnowflakeTime(t.ID); ok {
		p.CreatedAt = ts
	}
	for _, ref := range t.ReferencedTweets {
		if ref.Type == "replied_to" && validID(ref.ID) {
			p.ParentID = ref.ID
			p.Interaction = tanggap.InteractionReply
		}
	}
	// An edit is a new post id whose history starts at the original:
	// publish it under the original id, with the edit time.
	if len(t.EditHistory) > 1 && t.EditHistory[0] != t.ID && validID(t.EditHistory[0]) {
		edited := p.CreatedAt
		p.EditedAt = &edited
		p.ID = t.EditHistory[0]
		if ts, ok := SnowflakeTime(p.ID); ok {
			p.CreatedAt = ts
		}
	}
	if p.Author != "" {
		p.URL = "https://x.com/" + p.Author + "/status/" + t.ID
	} else {
		p.URL = "https://x.com/i/web/status/" + t.ID
	}
	if p.ThreadID == "" {
		p.ThreadID = p.ID
	}
	return p
}

func (r *run) emit(p tanggap.Post) {
	if r.emitted[p.ID] && p.EditedAt == nil {
		return
	}
	p.Sanitize()
	r.emitted[p.ID] = true
	r.posts = append(r.posts, p)
	r.remember(recent{ID: p.ID, Conv: p.ThreadID, Parent: p.ParentID, Kind: string(p.Interaction)})
}

func (r *run) remember(e recent) {
	for i := range r.c.Recent {
		if r.c.Recent[i].ID == e.ID {
			r.c.Recent[i] = e
			return
		}
	}
	r.c.Recent = append(r.c.Recent, e)
	if len(r.c.Recent) > maxRecent {
		r.c.Recent = r.c.Recent[1:]
	}
}

// recheck looks up the recent ids; those X answers "not found" or "not
// authorized" (deleted, or the author went private or was suspended) are
// published with Deleted and forgotten.
func (r *run) recheck(ctx context.Context) error {
	ids := make([]string, 0, len(r.c.Recent))
	for _, e := range r.c.Recent {
		ids = append(ids, e.ID)
	}
	var res struct {
		Data   []tweet   `json:"data"`
		Errors []Problem `json:"errors"`
	}
	q := url.Values{"ids": {strings.Join(ids, ",")}, "tweet.fields": {"id"}}
	if err := r.call.get(ctx, ScopeLookup, "/2/tweets", q, &res); err != nil {
		return err
	}
	gone := map[string]bool{}
	for _, e := range res.Errors {
		if (e.notFound() || e.notAuthorized()) && validID(e.ResourceID) {
			gone[e.ResourceID] = true
		}
	}
	keep := r.c.Recent[:0]
	for _, e := range r.c.Recent {
		if !gone[e.ID] {
			keep = append(keep, e)
			continue
		}
		p := tanggap.Post{
			Platform:    tanggap.PlatformX,
			ID:          e.ID,
			Account:     r.acct.Handle,
			CapturedAt:  r.now,
			ThreadID:    e.Conv,
			ParentID:    e.Parent,
			Interaction: tanggap.Interaction(e.Kind),
			Deleted:     true,
		}
		p.CreatedAt, _ = SnowflakeTime(e.ID)
		p.Sanitize()
		r.posts = append(r.posts, p)
	}
	r.c.Recent = keep
	r.c.CheckedAt = r.now.Unix()
	r.progress = true
	return nil
}

var _ collectors.Poller = (*Poller)(nil)
