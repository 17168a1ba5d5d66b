// Package x collects from X (Twitter) API v1.1 with
// github.com/dghubble/go-twitter: the mentions of each watched account that
// granted a user token (statuses/mentions_timeline) and every account's own
// posts and replies (statuses/user_timeline), with since_id cursors and
// max_id pagination.
//
// go-twitter is deprecated upstream and speaks v1.1 only; its base URL is
// fixed, so the fake server (package xfake) is reached through the
// http.Client's transport, which rewrites the host. go-twitter returns no
// error for an empty non-2xx answer, so the poller checks every HTTP status
// itself.
package x

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dghubble/go-twitter/twitter"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/config"
)

// Endpoint names, as used in budget scopes and errors.
const (
	EndpointMentions = "statuses/mentions_timeline"
	EndpointUser     = "statuses/user_timeline"
)

// Options configure a Poller. Zero values take the defaults.
type Options struct {
	Credentials Credentials
	// BaseURL sends every request to this scheme://host (the fake server, a
	// proxy) instead of api.twitter.com; the path stays /1.1/...
	BaseURL string
	// Transport is the underlying transport (default http.DefaultTransport).
	Transport http.RoundTripper
	// PageSize is the count parameter (default and maximum 200).
	PageSize int
	// MaxPages caps the max_id pages read per timeline in one poll
	// (default 5). A walk down to the cursor that needs more goes on at
	// the next polls (the cursor keeps where it stopped).
	MaxPages int
	// Backfill bounds the first poll of an account (no cursor yet): paging
	// stops at the first page reaching posts older than this (default 72h).
	Backfill time.Duration
	// MaxResponseBytes caps one response body (default 16 MiB).
	MaxResponseBytes int64
	// ThreadMemory is how many tweet ids are remembered to resolve thread
	// roots across polls (default 100,000).
	ThreadMemory int
	Now          func() time.Time
	Logger       *slog.Logger
}

// Poller reads X API v1.1 timelines. It implements collectors.Poller.
type Poller struct {
	opts    Options
	base    *url.URL
	threads *threads
	log     *slog.Logger
}

var _ collectors.Poller = (*Poller)(nil)

// NewPoller returns a Poller.
func NewPoller(opts Options) (*Poller, error) {
	if err := opts.Credentials.validate(); err != nil {
		return nil, err
	}
	if opts.PageSize <= 0 || opts.PageSize > 200 {
		opts.PageSize = 200
	}
	if opts.MaxPages <= 0 {
		opts.MaxPages = 5
	}
	if opts.Backfill <= 0 {
		opts.Backfill = 72 * time.Hour
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 16 << 20
	}
	if opts.ThreadMemory <= 0 {
		opts.ThreadMemory = 100_000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport
	}
	p := &Poller{opts: opts, threads: newThreads(opts.ThreadMemory), log: opts.Logger}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, tanggap.Errorf(tanggap.EINVALID, "x: base URL %q is not http(s)://host", opts.BaseURL)
		}
		p.base = u
	}
	return p, nil
}

// Platform is X.
func (p *Poller) Platform() tanggap.Platform { return tanggap.PlatformX }

// Poll reads what is new for one account since cursor: its mentions (when
// the account granted a user token) and its own posts and replies. The
// returned cursor covers exactly what was read (see Cursor).
//
// Batch.Budget is the window of the most pressed endpoint and Batch.Calls
// the calls this poll spent on it. Errors carry ERATELIMIT (with a
// *collectors.RateLimitError), EAUTH (401, 403), ENOTFOUND (404: the handle
// changed), EUNAVAILABLE (5xx, timeouts) or EINVALID (malformed answers),
// and then the Batch is empty. One error comes with a full Batch: a
// *collectors.UnreachableError when X no longer serves some posts after
// the cursor (v1.1 lists only the newest ~800 mentions and ~3,200 posts),
// whose Cursor moves past them.
func (p *Poller) Poll(ctx context.Context, acct config.Account, cursor string) (collectors.Batch, error) {
	cur, ok := ParseCursor(cursor)
	if !ok {
		p.log.Warn("x cursor unreadable: reading from the newest posts", "account", acct.Handle)
	}
	next := cur
	now := p.opts.Now()
	var (
		posts      []tanggap.Post
		seen       = map[string]bool{}
		reads      []timelineRead
		missed     []string // what each timeline no longer serves
		missedFrom time.Time
	)
	add := func(r timelineRead, tl timeline) {
		for i := range r.tweets {
			post, ok := normalize(&r.tweets[i], acct.Handle, tl, now)
			if !ok {
				p.log.Warn("x tweet without an id skipped", "account", acct.Handle)
				continue
			}
			if seen[post.ID] {
				continue
			}
			seen[post.ID] = true
			posts = append(posts, post)
		}
		reads = append(reads, r)
		if r.missed != "" {
			missed = append(missed, r.missed)
			if !r.missedFrom.IsZero() && (missedFrom.IsZero() || r.missedFrom.Before(missedFrom)) {
				missedFrom = r.missedFrom
			}
		}
	}

	tok, hasUser := p.opts.Credentials.user(acct.Handle)
	if hasUser {
		auth := oauth1Auth(p.opts.Credentials.ConsumerKey, p.opts.Credentials.ConsumerSecret, tok, p.opts.Now)
		r, err := p.read(ctx, acct, mentionsTimeline, cur.Mentions, cur.MentionsWalk, auth, "")
		if err != nil {
			return collectors.Batch{}, err
		}
		next.Mentions, next.MentionsWalk = r.since, r.walk
		add(r, mentionsTimeline)
	}

	var auth authorizer
	scope := ""
	switch {
	case hasUser:
		auth = oauth1Auth(p.opts.Credentials.ConsumerKey, p.opts.Credentials.ConsumerSecret, tok, p.opts.Now)
	case p.opts.Credentials.Bearer != "":
		auth = bearerAuth(p.opts.Credentials.Bearer)
		scope = "x:app:" + EndpointUser // app-only windows are shared by every account
	default:
		return collectors.Batch{}, tanggap.Errorf(tanggap.EAUTH, "x: no credentials for @%s", acct.Handle)
	}
	r, err := p.read(ctx, acct, userTimeline, cur.User, cur.UserWalk, auth, scope)
	if err != nil {
		return collectors.Batch{}, err
	}
	next.User, next.UserWalk = r.since, r.walk
	add(r, userTimeline)

	p.threads.resolve(posts)
	b := collectors.Batch{Posts: posts, Cursor: next.String()}
	b.Budget, b.Calls = tightest(reads, now)
	if len(missed) > 0 {
		return b, tanggap.WrapCode(tanggap.EUNAVAILABLE, &collectors.UnreachableError{Since: missedFrom},
			"x @%s: %s", acct.Handle, strings.Join(missed, "; "))
	}
	return b, nil
}

// timelineRead is what reading one timeline returned.
type timelineRead struct {
	tweets []twitter.Tweet
	since  string // the since_id to keep
	walk   Walk   // the unfinished walk to keep
	budget collectors.Budget
	calls  int
	// missed says which posts X no longer serves, and missedFrom when
	// they begin; "" when none.
	missed     string
	missedFrom time.Time
}

// tightest picks the budget that forces the longest wait between polls:
// window x calls / remaining.
func tightest(reads []timelineRead, now time.Time) (collectors.Budget, int) {
	var (
		best  collectors.Budget
		calls int
		worst = -1.0
	)
	for _, r := range reads {
		b := r.budget
		if !b.Known {
			continue
		}
		var pressure float64
		if b.Remaining <= 0 {
			pressure = 1e18
		} else {
			pressure = float64(max(b.Reset.Sub(now), 0)) * float64(r.calls) / float64(b.Remaining)
		}
		if pressure > worst {
			worst, best, calls = pressure, b, r.calls
		}
	}
	if worst < 0 {
		calls = 0
		for _, r := range reads {
			calls += r.calls
		}
	}
	return best, calls
}

// read pages back through one timeline from the newest tweet (or from
// below an unfinished walk) until since (exclusive), an empty page or the
// page cap. A walk cut by the cap is returned to go on at the next poll;
// since moves to the newest id read only once the walk reached it.
//
// v1.1 serves only a timeline's newest tweets (about 800 mentions, 3,200
// posts): below them max_id pages come back empty, exactly as when the
// walk reached since. When the walk may have read that far (it spanned
// polls, or read a page's worth: fewer would need hundreds of new tweets
// within the poll), one more call asks for tweets at or below since: none
// means the posts between since and the walk are out of reach, reported
// in missed.
func (p *Poller) read(ctx context.Context, acct config.Account, tl timeline, since string, walk Walk, auth authorizer, scope string) (timelineRead, error) {
	var (
		out     = timelineRead{since: since, walk: walk}
		sinceN  int64
		maxIDN  int64
		oldest  int64 // the oldest id the walk read
		newest  string
		read    int
		horizon = p.opts.Now().Add(-p.opts.Backfill)
	)
	if since != "" {
		sinceN, _ = strconv.ParseInt(since, 10, 64) // validID checked the range
	}
	if walk.Until != "" {
		oldest, _ = strconv.ParseInt(walk.Until, 10, 64)
		maxIDN = oldest - 1
	}
	ep := EndpointUser
	if tl == mentionsTimeline {
		ep = EndpointMentions
	}
	client := twitter.NewClient(&http.Client{Transport: &transport{
		ctx: ctx, auth: auth, base: p.base, next: p.opts.Transport, maxBody: p.opts.MaxResponseBytes,
	}})
	fetch := func(count int, sinceID, maxID int64) ([]twitter.Tweet, error) {
		var (
			tweets []twitter.Tweet
			resp   *http.Response
			err    error
		)
		if tl == mentionsTimeline {
			tweets, resp, err = client.Timelines.MentionTimeline(&twitter.MentionTimelineParams{
				Count: count, SinceID: sinceID, MaxID: maxID, TweetMode: "extended",
				IncludeEntities: twitter.Bool(true),
			})
		} else {
			params := &twitter.UserTimelineParams{
				Count: count, SinceID: sinceID, MaxID: maxID, TweetMode: "extended",
				ExcludeReplies: twitter.Bool(false), IncludeRetweets: twitter.Bool(true),
			}
			if id, perr := strconv.ParseInt(acct.ID, 10, 64); perr == nil && id > 0 {
				params.UserID = id
			} else {
				params.ScreenName = strings.TrimPrefix(acct.Handle, "@")
			}
			tweets, resp, err = client.Timelines.UserTimeline(params)
		}
		out.calls++
		if err := p.check(ctx, ep, acct.Handle, scope, resp, err); err != nil {
			return nil, err
		}
		if b := readBudget(resp.Header); b.Known {
			b.Scope = scope
			out.budget = b
		}
		return tweets, nil
	}

	done, empty := false, false
	for page := 0; page < p.opts.MaxPages && !done; page++ {
		tweets, err := fetch(p.opts.PageSize, sinceN, maxIDN)
		if err != nil {
			return timelineRead{}, err
		}
		if len(tweets) == 0 {
			done, empty = true, true
			break
		}
		out.tweets = append(out.tweets, tweets...)
		read += len(tweets)
		pageOldest := int64(0)
		var oldestAt time.Time
		for i := range tweets {
			id := tweetID(&tweets[i])
			if id == "" {
				continue
			}
			newest = maxID(newest, id)
			n, _ := strconv.ParseInt(id, 10, 64)
			if pageOldest == 0 || n < pageOldest {
				pageOldest = n
				oldestAt, _ = time.Parse(time.RubyDate, tweets[i].CreatedAt)
			}
		}
		switch {
		case pageOldest <= 1 || pageOldest-1 <= sinceN:
			done = true // reached the cursor
		case sinceN == 0 && !oldestAt.IsZero() && oldestAt.Before(horizon):
			done = true // first poll: backfilled far enough
		}
		if pageOldest > 0 && (oldest == 0 || pageOldest < oldest) {
			oldest = pageOldest
		}
		maxIDN = pageOldest - 1
	}
	top := maxID(walk.Top, newest)
	if !done {
		// The page cap: the next poll goes on below what was read.
		out.walk = Walk{Top: top, Until: strconv.FormatInt(oldest, 10)}
		return out, nil
	}
	out.since, out.walk = maxID(since, top), Walk{}
	if !empty || sinceN == 0 || (walk.Until == "" && read < p.opts.PageSize) {
		return out, nil
	}
	probe, err := fetch(probeCount, 0, sinceN)
	if err != nil {
		return timelineRead{}, err
	}
	if len(probe) == 0 && oldest-1 > sinceN {
		until := strconv.FormatInt(oldest, 10)
		out.missedFrom = snowflakeTime(since)
		out.missed = fmt.Sprintf("%s after id %s (%s), before id %s (%s)", ep, since,
			out.missedFrom.Format(time.RFC3339), until, snowflakeTime(until).Format(time.RFC3339))
	}
	return out, nil
}

// probeCount is the count of the call that asks whether a timeline still
// serves the tweets at its since_id: a few, as X removes deleted tweets
// from a page after counting it.
const probeCount = 10

// check maps a go-twitter call's outcome to a coded error. The HTTP status
// comes first: go-twitter returns no error for an empty non-2xx answer.
func (p *Poller) check(ctx context.Context, ep, handle, scope string, resp *http.Response, err error) error {
	if resp == nil {
		if err == nil {
			err = errors.New("no response")
		}
		return tanggap.WrapCode(tanggap.EUNAVAILABLE, err, "x %s @%s", ep, handle)
	}
	code := resp.StatusCode
	switch {
	case code >= 200 && code <= 299:
		switch {
		case err == nil && resp.ContentLength == 0:
			return tanggap.Errorf(tanggap.EINVALID, "x %s @%s: HTTP %d with an empty body", ep, handle, code)
		case err == nil:
			return nil
		case isTimeout(ctx, err):
			return tanggap.WrapCode(tanggap.EUNAVAILABLE, err, "x %s @%s: reading the response", ep, handle)
		}
		return tanggap.WrapCode(tanggap.EINVALID, err, "x %s @%s: malformed response", ep, handle)
	case code == http.StatusTooManyRequests || code == 420:
		rl := &collectors.RateLimitError{Reason: "rate_limit", Scope: scope}
		if b := readBudget(resp.Header); b.Known {
			rl.Until = b.Reset
		} else if n, perr := strconv.ParseInt(resp.Header.Get("x-rate-limit-reset"), 10, 64); perr == nil {
			rl.Until = time.Unix(n, 0)
		}
		return &tanggap.Error{Code: tanggap.ERATELIMIT, Message: fmt.Sprintf("x %s @%s: HTTP %d", ep, handle, code), Err: rl}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return tanggap.WrapCode(tanggap.EAUTH, apiErr(err), "x %s @%s: HTTP %d: token expired, revoked or not allowed", ep, handle, code)
	case code == http.StatusNotFound:
		return tanggap.WrapCode(tanggap.ENOTFOUND, apiErr(err), "x %s @%s: HTTP 404: no such account", ep, handle)
	case code >= 500:
		return tanggap.WrapCode(tanggap.EUNAVAILABLE, apiErr(err), "x %s @%s: HTTP %d", ep, handle, code)
	}
	return tanggap.WrapCode(tanggap.EINVALID, apiErr(err), "x %s @%s: HTTP %d", ep, handle, code)
}

// apiErr keeps X's error message (twitter.APIError); a body that was not
// JSON adds nothing.
func apiErr(err error) error {
	var ae twitter.APIError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

func isTimeout(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// readBudget reads the x-rate-limit-* headers.
func readBudget(h http.Header) collectors.Budget {
	limit, err1 := strconv.Atoi(h.Get("x-rate-limit-limit"))
	rem, err2 := strconv.Atoi(h.Get("x-rate-limit-remaining"))
	reset, err3 := strconv.ParseInt(h.Get("x-rate-limit-reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return collectors.Budget{}
	}
	return collectors.Budget{Limit: limit, Remaining: rem, Reset: time.Unix(reset, 0), Known: true}
}

// transport binds go-twitter's requests (which carry no context) to the
// poll's context, authorises them, sends them to the base URL when one is
// set and caps the response size.
type transport struct {
	ctx     context.Context
	auth    authorizer
	base    *url.URL
	next    http.RoundTripper
	maxBody int64
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(t.ctx)
	// Sign the URL go-twitter built (api.twitter.com): that is what X checks.
	if err := t.auth(r); err != nil {
		return nil, err
	}
	if t.base != nil {
		r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, t.base.Host
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.maxBody}
	return resp, nil
}

var errTooLarge = errors.New("response body too large")

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, errTooLarge
		}
		return b.rc.Read(p)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
