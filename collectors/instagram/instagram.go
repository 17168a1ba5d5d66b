package instagram

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/facebook/graph"
	"github.com/tanggap/tanggap/collectors/internal/wire"
	"github.com/tanggap/tanggap/config"
)

// Field lists requested from the Graph API.
const (
	MediaFields   = "id,caption,timestamp,permalink,comments_count,username,media_product_type"
	TagFields     = "id,caption,timestamp,permalink,comments_count,username"
	commentCore   = "id,text,timestamp,username,from{id,username},parent_id,hidden,like_count"
	CommentFields = commentCore + ",replies{" + commentCore + "}"
	ReplyFields   = commentCore
	AccountFields = "instagram_business_account{id,username}"
)

// Poller polls Instagram accounts. It is safe for concurrent use: all
// per-account state lives in the cursor.
type Poller struct {
	graph  *graph.Client
	tokens TokenSource
	now    func() time.Time

	baseURL string
	hc      *http.Client

	rescanEvery time.Duration
	tagsEvery   time.Duration
	pageSize    int
}

// maxMediaPages bounds the media list pages one poll reads: it reads them
// until the active window's start, so that every media of the window is
// listed with its comment count and scanned when that changes, up to 500
// media at the default page size. The other bounds are graph's, shared
// with Facebook.
const maxMediaPages = 10

// Option configures a Poller.
type Option func(*Poller)

// WithBaseURL points the poller at another Graph host (a fake in tests and
// in `tanggap dev`). Default https://graph.facebook.com.
func WithBaseURL(u string) Option { return func(p *Poller) { p.baseURL = u } }

// WithHTTPClient sets the HTTP client. Per-call timeouts come from ctx.
func WithHTTPClient(c *http.Client) Option { return func(p *Poller) { p.hc = c } }

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(p *Poller) { p.now = now } }

// WithRescanEvery sets how often a media whose comment count did not
// change is listed again anyway (edits, hidden comments). Default 30 min.
func WithRescanEvery(d time.Duration) Option { return func(p *Poller) { p.rescanEvery = d } }

// WithTagsEvery sets how often the tagged media are listed. Default 10 min.
func WithTagsEvery(d time.Duration) Option { return func(p *Poller) { p.tagsEvery = d } }

// WithPageSize sets the limit parameter (default 50, at most 100).
func WithPageSize(n int) Option { return func(p *Poller) { p.pageSize = n } }

// New returns a Poller that gets each account's token from tokens.
func New(tokens TokenSource, opts ...Option) *Poller {
	p := &Poller{
		tokens:      tokens,
		now:         time.Now,
		rescanEvery: 30 * time.Minute,
		tagsEvery:   10 * time.Minute,
		pageSize:    50,
	}
	for _, o := range opts {
		o(p)
	}
	if p.pageSize <= 0 || p.pageSize > 100 {
		p.pageSize = 50
	}
	p.graph = graph.NewClient(p.baseURL, p.hc, p.now)
	return p
}

// Platform implements collectors.Poller.
func (p *Poller) Platform() tanggap.Platform { return tanggap.PlatformInstagram }

// cursor is the JSON inside the opaque cursor string.
type cursor struct {
	V      int            `json:"v"`
	UserID string         `json:"uid,omitempty"`
	TagsAt int64          `json:"tags_at,omitempty"`
	Media  []graph.Active `json:"media,omitempty"`
	wire.Seen
}

func decodeCursor(s string) cursor {
	var c cursor
	if s == "" || json.Unmarshal([]byte(s), &c) != nil || c.V != 1 {
		// An unreadable cursor starts over: re-emitting is harmless
		// (writes are idempotent by id), failing forever is not.
		return cursor{V: 1}
	}
	return c
}

func (c *cursor) encode() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// Poll implements collectors.Poller. On an error after some progress the
// Batch still carries the posts and a Cursor covering exactly them.
func (p *Poller) Poll(ctx context.Context, acct config.Account, cur string) (collectors.Batch, error) {
	label := "instagram @" + acct.Handle
	token, err := graph.Token(ctx, p.tokens, acct, label, "access token")
	if err != nil {
		return collectors.Batch{}, err
	}
	r := p.newRun(acct, p.graph.Begin(token, label), cur)
	return r.Batch(r.poll(ctx), r.c.encode)
}

// newRun starts one poll of acct from the cursor cur.
func (p *Poller) newRun(acct config.Account, call *graph.Call, cur string) *run {
	r := &run{p: p, acct: acct, c: decodeCursor(cur)}
	r.Run = graph.NewRun(call, tanggap.PlatformInstagram, acct.Handle, p.now().UTC(), &r.c.Seen)
	return r
}

type run struct {
	graph.Run
	p    *Poller
	acct config.Account
	c    cursor
	uid  string
}

func (r *run) poll(ctx context.Context) error {
	if err := r.resolve(ctx); err != nil {
		return err
	}
	q := url.Values{"fields": {MediaFields}, "limit": {strconv.Itoa(r.p.pageSize)}}
	post := func(m igMedia) tanggap.Post { return r.mediaPost(m, tanggap.InteractionPost) }
	active, err := graph.List(ctx, &r.Run, r.uid+"/media", q, maxMediaPages, r.Now.Add(-graph.ActiveWindow), &r.c.Media, post)
	if err != nil {
		return err
	}
	// Scan the media whose comment count changed.
	changed := func(m igMedia, st *graph.Active) bool { return st.Count != m.CommentsCount }
	for _, m := range graph.PickScans(&r.Run, active, r.c.Media, changed, r.p.rescanEvery) {
		if err := r.scan(ctx, m); err != nil {
			return err
		}
	}
	if err := graph.Verify(ctx, &r.Run, "id,hidden,timestamp", func(c igComment) bool { return c.Hidden }); err != nil {
		return err
	}
	if r.Now.Unix()-r.c.TagsAt >= int64(r.p.tagsEvery/time.Second) {
		if err := r.listTags(ctx); err != nil {
			switch tanggap.ErrorCode(err) {
			case tanggap.EAUTH, tanggap.EINVALID, tanggap.ENOTFOUND:
				// A token without the tags permission must not stop the
				// comments: tags are tried again after tagsEvery.
				r.c.TagsAt = r.Now.Unix()
				r.Progress = true
			default:
				return err
			}
		}
	}
	return nil
}

// resolve finds the ig-user-id: from the config, the cursor, or the
// Instagram accounts the token manages.
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
	// A city token manages more Pages than one page of me/accounts holds
	// (Kota Bekasi watches 121 Instagram accounts): follow the cursors.
	want := strings.TrimPrefix(r.acct.Handle, "@")
	err := managedAccounts(ctx, r.Call, func(username, id string) bool {
		if strings.EqualFold(username, want) {
			r.uid = id
		}
		return r.uid != ""
	})
	switch {
	case err != nil:
		return err
	case r.uid == "":
		return tanggap.Errorf(tanggap.EINVALID, "%s: the token manages no such Instagram account; set its id in the city config", r.Call.Label())
	}
	r.c.UserID = r.uid
	r.Progress = true
	return nil
}

// maxAccountPages bounds the me/accounts pages read to resolve one
// account's id (100 Pages each).
const maxAccountPages = 20

type igMedia struct {
	ID            string     `json:"id"`
	Caption       wire.Text  `json:"caption"`
	Timestamp     graph.Time `json:"timestamp"`
	Permalink     string     `json:"permalink"`
	CommentsCount int        `json:"comments_count"`
	Username      string     `json:"username"`
}

func (m igMedia) ObjectID() string   { return m.ID }
func (m igMedia) Created() time.Time { return m.Timestamp.Time }

type mediaPage = graph.Page[igMedia]

type igUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

type igComment struct {
	ID        string     `json:"id"`
	Text      wire.Text  `json:"text"`
	Timestamp graph.Time `json:"timestamp"`
	Username  string     `json:"username"`
	From      *igUser    `json:"from"`
	ParentID  string     `json:"parent_id"`
	Hidden    bool       `json:"hidden"`
	Replies   *struct {
		Data   []igComment   `json:"data"`
		Paging *graph.Paging `json:"paging"`
	} `json:"replies"`
}

type commentPage = graph.Page[igComment]

// scan lists every comment and reply of one media, or goes on with the
// listing an earlier poll left unfinished.
func (r *run) scan(ctx context.Context, m igMedia) error {
	listed := map[string]bool{}
	q := url.Values{"fields": {CommentFields}, "limit": {strconv.Itoa(r.p.pageSize)}}
	s := graph.BeginScan(&r.Run, graph.State(r.c.Media, m.ID), m.CommentsCount, 0)
	complete, err := graph.ScanPages(ctx, s, m.ID+"/comments", q, func(c igComment) string { return c.ID }, func(cs []igComment) error {
		for _, c := range cs {
			if c.ID == "" {
				continue
			}
			listed[c.ID] = true
			r.Observe(r.commentPost(m, c, ""), c.Hidden)
			// Every comment goes through ScanReplies, those without more
			// replies too: a scan that stopped inside one comment's
			// replies skips the listings before it when it goes on.
			after := ""
			if c.Replies != nil {
				r.replies(m, c.ID, c.Replies.Data, listed)
				after = c.Replies.Paging.After()
			}
			rq := url.Values{"fields": {ReplyFields}, "limit": {strconv.Itoa(r.p.pageSize)}}
			done, err := graph.ScanReplies(ctx, s, c.ID+"/replies", rq, c.ID, after, func(rs []igComment) error {
				r.replies(m, c.ID, rs, listed)
				return nil
			})
			if err != nil || !done {
				return err
			}
		}
		return nil
	})
	if graph.IsNotFound(err) {
		r.Gone(m.ID)
		return nil
	}
	if err != nil || !complete {
		return err
	}
	if s.Whole() {
		r.Suspect(m.ID, listed)
	}
	return nil
}

// replies publishes one page of the replies to parent.
func (r *run) replies(m igMedia, parent string, rs []igComment, listed map[string]bool) {
	for _, rc := range rs {
		if rc.ID != "" {
			listed[rc.ID] = true
			r.Observe(r.commentPost(m, rc, parent), rc.Hidden)
		}
	}
}

func (r *run) listTags(ctx context.Context) error {
	var mp mediaPage
	q := url.Values{"fields": {TagFields}, "limit": {strconv.Itoa(r.p.pageSize)}}
	if err := r.Call.Get(ctx, r.uid+"/tags", q, &mp); err != nil {
		return err
	}
	since := r.Now.Add(-graph.ActiveWindow)
	for _, m := range mp.Data {
		if m.ID != "" && !m.Timestamp.Before(since) {
			r.Observe(r.mediaPost(m, tanggap.InteractionTag), false)
		}
	}
	r.c.TagsAt = r.Now.Unix()
	r.Progress = true
	return nil
}

func (r *run) mediaPost(m igMedia, kind tanggap.Interaction) tanggap.Post {
	p := tanggap.Post{
		Platform:    tanggap.PlatformInstagram,
		ID:          m.ID,
		URL:         m.Permalink,
		Account:     r.acct.Handle,
		Author:      m.Username,
		Text:        m.Caption.S,
		InvalidUTF8: m.Caption.Invalid,
		CreatedAt:   m.Timestamp.Time,
		CapturedAt:  r.Now,
		ThreadID:    m.ID,
		Interaction: kind,
	}
	if kind == tanggap.InteractionPost {
		p.AuthorID, p.ByAccount = r.uid, true
		if p.Author == "" {
			p.Author = r.acct.Handle
		}
	}
	return p
}

func (r *run) commentPost(m igMedia, c igComment, parent string) tanggap.Post {
	p := tanggap.Post{
		Platform:    tanggap.PlatformInstagram,
		ID:          c.ID,
		URL:         commentURL(m.Permalink, c.ID),
		Account:     r.acct.Handle,
		Author:      c.Username,
		Text:        c.Text.S,
		InvalidUTF8: c.Text.Invalid,
		CreatedAt:   c.Timestamp.Time,
		CapturedAt:  r.Now,
		ThreadID:    m.ID,
		Interaction: tanggap.InteractionComment,
	}
	if c.From != nil {
		p.AuthorID = c.From.ID
		if p.Author == "" {
			p.Author = c.From.Username
		}
	}
	p.ByAccount = p.AuthorID != "" && p.AuthorID == r.uid
	if c.ParentID != "" {
		parent = c.ParentID
	}
	if parent != "" {
		p.ParentID = parent
		p.Interaction = tanggap.InteractionReply
	}
	return p
}

// commentURL links a comment: https://www.instagram.com/p/CODE/c/ID/ when
// the media permalink has the /p/ or /reel/ form, else the permalink.
func commentURL(permalink, id string) string {
	u, err := url.Parse(permalink)
	if err != nil || u.Host == "" {
		return permalink
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) == 2 && (parts[0] == "p" || parts[0] == "reel") {
		u.Path = "/" + parts[0] + "/" + parts[1] + "/c/" + url.PathEscape(id) + "/"
		u.RawQuery = ""
		return u.String()
	}
	return permalink
}

var _ collectors.Poller = (*Poller)(nil)
