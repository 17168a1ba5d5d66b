package facebook

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
	FeedFields    = "id,message,created_time,updated_time,permalink_url,from{id,name},comments.filter(stream).limit(0).summary(true)"
	CommentFields = "id,message,created_time,from{id,name},parent{id},permalink_url,is_hidden"
)

// Poller polls Facebook Pages. It is safe for concurrent use: all
// per-page state lives in the cursor.
type Poller struct {
	graph  *graph.Client
	tokens TokenSource
	now    func() time.Time

	baseURL string
	hc      *http.Client
	edge    string

	rescanEvery time.Duration
	pageSize    int
}

// maxFeedPages bounds the feed pages one poll reads: it reads them until
// the active window's start, so that every post of the window is listed
// with its comment total and scanned when that changes (the feed holds
// visitor posts too: a week can hold more than two pages), up to 500
// posts at the default page size. The other bounds are graph's, shared
// with Instagram.
const maxFeedPages = 10

// Option configures a Poller.
type Option func(*Poller)

// WithBaseURL points the poller at another Graph host (a fake in tests and
// in `tanggap dev`). Default https://graph.facebook.com.
func WithBaseURL(u string) Option { return func(p *Poller) { p.baseURL = u } }

// WithHTTPClient sets the HTTP client. Per-call timeouts come from ctx.
func WithHTTPClient(c *http.Client) Option { return func(p *Poller) { p.hc = c } }

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(p *Poller) { p.now = now } }

// WithEdge lists "posts" (the page's own posts only) instead of "feed"
// (the page's posts and visitor posts).
func WithEdge(edge string) Option { return func(p *Poller) { p.edge = edge } }

// WithRescanEvery sets how often an unchanged post is listed again anyway
// (edits, hidden comments). Default 30 min.
func WithRescanEvery(d time.Duration) Option { return func(p *Poller) { p.rescanEvery = d } }

// WithPageSize sets the limit parameter (default 50, at most 100).
func WithPageSize(n int) Option { return func(p *Poller) { p.pageSize = n } }

// New returns a Poller that gets each page's token from tokens.
func New(tokens TokenSource, opts ...Option) *Poller {
	p := &Poller{
		tokens:      tokens,
		now:         time.Now,
		edge:        "feed",
		rescanEvery: 30 * time.Minute,
		pageSize:    50,
	}
	for _, o := range opts {
		o(p)
	}
	if p.pageSize <= 0 || p.pageSize > 100 {
		p.pageSize = 50
	}
	if p.edge != "posts" {
		p.edge = "feed"
	}
	p.graph = graph.NewClient(p.baseURL, p.hc, p.now)
	return p
}

// Platform implements collectors.Poller.
func (p *Poller) Platform() tanggap.Platform { return tanggap.PlatformFacebook }

type cursor struct {
	V      int            `json:"v"`
	PageID string         `json:"pid,omitempty"`
	Posts  []graph.Active `json:"posts,omitempty"`
	wire.Seen
}

func decodeCursor(s string) cursor {
	var c cursor
	if s == "" || json.Unmarshal([]byte(s), &c) != nil || c.V != 1 {
		return cursor{V: 1} // start over: re-emitting is harmless, failing forever is not
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
	label := "facebook @" + acct.Handle
	token, err := graph.Token(ctx, p.tokens, acct, label, "page access token")
	if err != nil {
		return collectors.Batch{}, err
	}
	r := p.newRun(acct, p.graph.Begin(token, label), cur)
	return r.Batch(r.poll(ctx), r.c.encode)
}

// newRun starts one poll of acct from the cursor cur.
func (p *Poller) newRun(acct config.Account, call *graph.Call, cur string) *run {
	r := &run{p: p, acct: acct, c: decodeCursor(cur)}
	r.Run = graph.NewRun(call, tanggap.PlatformFacebook, acct.Handle, p.now().UTC(), &r.c.Seen)
	return r
}

type run struct {
	graph.Run
	p    *Poller
	acct config.Account
	c    cursor
	pid  string
}

func (r *run) poll(ctx context.Context) error {
	if err := r.resolve(ctx); err != nil {
		return err
	}
	q := url.Values{"fields": {FeedFields}, "limit": {strconv.Itoa(r.p.pageSize)}}
	active, err := graph.List(ctx, &r.Run, r.pid+"/"+r.p.edge, q, maxFeedPages, r.Now.Add(-graph.ActiveWindow), &r.c.Posts, r.feedPost)
	if err != nil {
		return err
	}
	// Scan the posts whose comment total or updated_time changed.
	changed := func(p fbPost, st *graph.Active) bool {
		return st.Count != p.count() || st.Updated != p.UpdatedTime.Unix()
	}
	for _, fp := range graph.PickScans(&r.Run, active, r.c.Posts, changed, r.p.rescanEvery) {
		if err := r.scan(ctx, fp); err != nil {
			return err
		}
	}
	return graph.Verify(ctx, &r.Run, "id,is_hidden", func(c fbComment) bool { return c.IsHidden })
}

// resolve finds the page id: from the config, the cursor, or the page's
// username (Graph accepts it as a node id).
func (r *run) resolve(ctx context.Context) error {
	switch {
	case r.acct.ID != "":
		r.pid = r.acct.ID
	case r.c.PageID != "":
		r.pid = r.c.PageID
	}
	if r.pid != "" {
		r.c.PageID = r.pid
		return nil
	}
	var node struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	err := r.Call.Get(ctx, strings.TrimPrefix(r.acct.Handle, "@"), url.Values{"fields": {"id,name"}}, &node)
	if graph.IsNotFound(err) || (err == nil && node.ID == "") {
		return tanggap.Errorf(tanggap.EINVALID, "%s: no such page visible to the token; set its id in the city config", r.Call.Label())
	}
	if err != nil {
		return err
	}
	r.pid = node.ID
	r.c.PageID = r.pid
	r.Progress = true
	return nil
}

type fbUser struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type fbPost struct {
	ID           string     `json:"id"`
	Message      wire.Text  `json:"message"`
	CreatedTime  graph.Time `json:"created_time"`
	UpdatedTime  graph.Time `json:"updated_time"`
	PermalinkURL string     `json:"permalink_url"`
	From         *fbUser    `json:"from"`
	Comments     *struct {
		Summary struct {
			TotalCount int `json:"total_count"`
		} `json:"summary"`
	} `json:"comments"`
}

func (fp fbPost) ObjectID() string   { return fp.ID }
func (fp fbPost) Created() time.Time { return fp.CreatedTime.Time }

func (fp fbPost) count() int {
	if fp.Comments == nil {
		return 0
	}
	return fp.Comments.Summary.TotalCount
}

type feedPage = graph.Page[fbPost]

type fbComment struct {
	ID          string     `json:"id"`
	Message     wire.Text  `json:"message"`
	CreatedTime graph.Time `json:"created_time"`
	From        *fbUser    `json:"from"`
	Parent      *struct {
		ID string `json:"id"`
	} `json:"parent"`
	PermalinkURL string `json:"permalink_url"`
	IsHidden     bool   `json:"is_hidden"`
}

type commentPage = graph.Page[fbComment]

// scan lists the comments and replies of one post, or goes on with the
// listing an earlier poll left unfinished.
func (r *run) scan(ctx context.Context, fp fbPost) error {
	listed := map[string]bool{}
	q := url.Values{
		"fields": {CommentFields}, "filter": {"stream"}, "order": {"reverse_chronological"},
		"limit": {strconv.Itoa(r.p.pageSize)},
	}
	s := graph.BeginScan(&r.Run, graph.State(r.c.Posts, fp.ID), fp.count(), fp.UpdatedTime.Unix())
	complete, err := graph.ScanPages(ctx, s, fp.ID+"/comments", q, func(c fbComment) string { return c.ID }, func(cs []fbComment) error {
		for _, c := range cs {
			if c.ID == "" {
				continue
			}
			listed[c.ID] = true
			r.Observe(r.commentPost(fp, c), c.IsHidden)
		}
		return nil
	})
	if graph.IsNotFound(err) {
		r.Gone(fp.ID)
		return nil
	}
	if err != nil || !complete {
		return err
	}
	if s.Whole() {
		r.Suspect(fp.ID, listed)
	}
	return nil
}

// author maps a from object. Graph gives people and pages by their names
// only, and anyone can take a city page's handle as their name: the page
// itself is known by its id alone (ByAccount), and shown by its handle.
func (r *run) author(p *tanggap.Post, from *fbUser) {
	if from == nil {
		return // Meta withholds some users' names from page tokens
	}
	p.AuthorID, p.Author, p.AuthorName = from.ID, from.Name, from.Name
	if from.ID != "" && from.ID == r.pid {
		p.Author, p.ByAccount = r.acct.Handle, true
	}
}

func (r *run) feedPost(fp fbPost) tanggap.Post {
	p := tanggap.Post{
		Platform:    tanggap.PlatformFacebook,
		ID:          fp.ID,
		URL:         fp.PermalinkURL,
		Account:     r.acct.Handle,
		Text:        fp.Message.S,
		InvalidUTF8: fp.Message.Invalid,
		CreatedAt:   fp.CreatedTime.Time,
		CapturedAt:  r.Now,
		ThreadID:    fp.ID,
		Interaction: tanggap.InteractionPost,
	}
	r.author(&p, fp.From)
	if fp.From != nil && fp.From.ID != r.pid {
		p.Interaction = tanggap.InteractionMention // a visitor post on the page
	}
	return p
}

func (r *run) commentPost(fp fbPost, c fbComment) tanggap.Post {
	p := tanggap.Post{
		Platform:    tanggap.PlatformFacebook,
		ID:          c.ID,
		URL:         c.PermalinkURL,
		Account:     r.acct.Handle,
		Text:        c.Message.S,
		InvalidUTF8: c.Message.Invalid,
		CreatedAt:   c.CreatedTime.Time,
		CapturedAt:  r.Now,
		ThreadID:    fp.ID,
		Interaction: tanggap.InteractionComment,
	}
	if p.URL == "" {
		p.URL = fp.PermalinkURL
	}
	r.author(&p, c.From)
	if c.Parent != nil && c.Parent.ID != "" && c.Parent.ID != fp.ID {
		p.ParentID = c.Parent.ID
		p.Interaction = tanggap.InteractionReply
	}
	return p
}

var _ collectors.Poller = (*Poller)(nil)
