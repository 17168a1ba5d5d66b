package youtube

import (
	"context"
	"encoding/json"
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

// DefaultBaseURL is the YouTube Data API v3 root.
const DefaultBaseURL = "https://www.googleapis.com/youtube/v3"

// Poller polls YouTube channels. It is safe for concurrent use: all
// per-channel state lives in the cursor.
type Poller struct {
	creds   TokenSource
	baseURL string
	hc      *http.Client
	now     func() time.Time
	pacific *time.Location

	pageSize   int
	maxPages   int
	sweepEvery time.Duration
	sweepPages int
}

// Bounds of the polling.
const (
	// maxReplies bounds the comments.list walks of one poll.
	maxReplies = 10
	// retain is how long seen ids and thread counts are remembered.
	retain = 7 * 24 * time.Hour
	// maxSeen bounds the ids remembered in a cursor.
	maxSeen = 4000
)

// Sweeps. order=time sorts threads by when they started, and a new reply
// does not move its thread up: a poll that stops at the first page with
// nothing new never sees a reply to an older thread. So every sweepEvery a
// poll walks on, past unchanged pages, to the end of the tracking window
// (retain), at most sweepPages pages. The walk costs 1 unit per 100
// threads, where looking the tracked threads up by id would cost 1 per 50
// (commentThreads.list?id takes at most 50 ids): for a busy channel the
// walk is half the price, and a channel whose week fits in the pages a
// normal poll reads pays nothing more. At the defaults a channel with a
// week of over 1,000 threads costs 10 units every 30 minutes (480 a day,
// about the 10,000-unit project quota split over the city's 11 channels);
// the threads past that are reported as a partial coverage gap.
const (
	defaultSweepEvery = 30 * time.Minute
	defaultSweepPages = 10
)

// Option configures a Poller.
type Option func(*Poller)

// WithBaseURL points the poller at another API root (a fake). Default DefaultBaseURL.
func WithBaseURL(u string) Option { return func(p *Poller) { p.baseURL = strings.TrimRight(u, "/") } }

// WithHTTPClient sets the HTTP client. Per-call timeouts come from ctx.
func WithHTTPClient(c *http.Client) Option { return func(p *Poller) { p.hc = c } }

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(p *Poller) { p.now = now } }

// WithPageSize sets maxResults (1 to 100, default 100).
func WithPageSize(n int) Option { return func(p *Poller) { p.pageSize = n } }

// WithMaxPages bounds the commentThreads pages of one poll (default 5).
func WithMaxPages(n int) Option { return func(p *Poller) { p.maxPages = n } }

// WithSweep sets how often a poll walks the comment threads down to the
// end of the tracking window, to find new replies to older threads
// (default 30 minutes), and the pages such a walk may read (default 10;
// never fewer than WithMaxPages).
func WithSweep(every time.Duration, pages int) Option {
	return func(p *Poller) { p.sweepEvery, p.sweepPages = every, pages }
}

// New returns a Poller that gets each channel's credential from creds.
func New(creds TokenSource, opts ...Option) *Poller {
	p := &Poller{
		creds:      creds,
		baseURL:    DefaultBaseURL,
		hc:         &http.Client{},
		now:        time.Now,
		pacific:    PacificZone(),
		pageSize:   100,
		maxPages:   5,
		sweepEvery: defaultSweepEvery,
		sweepPages: defaultSweepPages,
	}
	for _, o := range opts {
		o(p)
	}
	p.pageSize = min(max(p.pageSize, 1), 100)
	p.maxPages = max(p.maxPages, 1)
	p.sweepPages = max(p.sweepPages, p.maxPages)
	return p
}

// Platform implements collectors.Poller.
func (p *Poller) Platform() tanggap.Platform { return tanggap.PlatformYouTube }

type cursor struct {
	V         int           `json:"v"`
	ChannelID string        `json:"cid,omitempty"`
	Threads   []threadState `json:"threads,omitempty"`
	// Swept is when a walk last reached the end of the tracking window or
	// the sweep's page bound (unix seconds); 0 in cursors written before
	// sweeps, so their first poll sweeps. Short, when the bound came
	// first, is when the oldest thread that walk reached started: the
	// tracked threads older than that are not rechecked.
	Swept int64 `json:"sw,omitempty"`
	Short int64 `json:"short,omitempty"`
	wire.Seen
}

type threadState struct {
	ID string `json:"id"`
	At int64  `json:"t"`
	N  int    `json:"n"` // totalReplyCount at the last complete reply listing
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

type ytComment struct {
	ID      string `json:"id"`
	Snippet struct {
		ChannelID         string    `json:"channelId"`
		VideoID           string    `json:"videoId"`
		TextDisplay       wire.Text `json:"textDisplay"`
		TextOriginal      wire.Text `json:"textOriginal"`
		ParentID          string    `json:"parentId"`
		AuthorDisplayName string    `json:"authorDisplayName"`
		AuthorChannelURL  string    `json:"authorChannelUrl"`
		AuthorChannelID   *struct {
			Value string `json:"value"`
		} `json:"authorChannelId"`
		PublishedAt string `json:"publishedAt"`
		UpdatedAt   string `json:"updatedAt"`
	} `json:"snippet"`
}

type ytThread struct {
	ID      string `json:"id"`
	Snippet struct {
		ChannelID       string    `json:"channelId"`
		VideoID         string    `json:"videoId"`
		TopLevelComment ytComment `json:"topLevelComment"`
		TotalReplyCount int       `json:"totalReplyCount"`
	} `json:"snippet"`
	Replies *struct {
		Comments []ytComment `json:"comments"`
	} `json:"replies"`
}

type threadPage struct {
	NextPageToken string     `json:"nextPageToken"`
	Items         []ytThread `json:"items"`
}

type commentPage struct {
	NextPageToken string      `json:"nextPageToken"`
	Items         []ytComment `json:"items"`
}

// Poll implements collectors.Poller. On an error after some progress the
// Batch still carries the posts and a Cursor covering exactly them.
func (p *Poller) Poll(ctx context.Context, acct config.Account, cur string) (collectors.Batch, error) {
	label := "youtube " + acct.Handle
	if !strings.HasPrefix(acct.Handle, "@") {
		label = "youtube @" + acct.Handle
	}
	if p.creds == nil {
		return collectors.Batch{}, tanggap.Errorf(tanggap.EAUTH, "%s: no credential source configured", label)
	}
	cred, err := p.creds(ctx, acct)
	if err != nil {
		return collectors.Batch{}, err
	}
	if cred == "" {
		return collectors.Batch{}, tanggap.Errorf(tanggap.EAUTH, "%s: no API key configured", label)
	}
	r := &run{
		p:       p,
		acct:    acct,
		c:       decodeCursor(cur),
		call:    &call{p: p, cred: cred, label: label},
		now:     p.now().UTC(),
		emitted: map[string]bool{},
	}
	err = r.poll(ctx)
	sort.SliceStable(r.posts, func(i, j int) bool { return r.posts[i].CreatedAt.Before(r.posts[j].CreatedAt) })
	b := collectors.Batch{Posts: r.posts, Calls: r.call.units}
	if err == nil || r.progress {
		r.prune()
		b.Cursor = r.c.encode()
		b.Partial = r.partial()
	}
	return b, err
}

type run struct {
	p        *Poller
	acct     config.Account
	c        cursor
	call     *call
	now      time.Time
	cid      string
	posts    []tanggap.Post
	emitted  map[string]bool
	progress bool
	suspects []string
}

func (r *run) poll(ctx context.Context) error {
	if err := r.resolve(ctx); err != nil {
		return err
	}
	if err := r.listThreads(ctx); err != nil {
		return err
	}
	return r.verify(ctx)
}

// resolve finds the channel id: from the config, the cursor, a handle that
// is already a channel id (UC...), or channels.list?forHandle (1 unit).
func (r *run) resolve(ctx context.Context) error {
	h := strings.TrimSpace(r.acct.Handle)
	switch {
	case r.acct.ID != "":
		r.cid = r.acct.ID
	case r.c.ChannelID != "":
		r.cid = r.c.ChannelID
	case len(h) == 24 && strings.HasPrefix(h, "UC"):
		r.cid = h
	}
	if r.cid != "" {
		r.c.ChannelID = r.cid
		return nil
	}
	var res struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if !strings.HasPrefix(h, "@") {
		h = "@" + h
	}
	if err := r.call.get(ctx, "channels", url.Values{"part": {"id"}, "forHandle": {h}}, &res); err != nil {
		return err
	}
	if len(res.Items) == 0 || res.Items[0].ID == "" {
		return tanggap.Errorf(tanggap.EINVALID, "%s: no such channel; set its id in the city config", r.call.label)
	}
	r.cid = res.Items[0].ID
	r.c.ChannelID = r.cid
	r.progress = true
	return nil
}

func (r *run) thread(id string) *threadState {
	for i := range r.c.Threads {
		if r.c.Threads[i].ID == id {
			return &r.c.Threads[i]
		}
	}
	return nil
}

// listThreads walks commentThreads newest first until a page brings
// nothing new or changed (new threads come first: order=time), or the
// last page, or maxPages. A sweep (see sweepEvery) walks on past unchanged
// pages until it reaches threads older than the tracking window, or the
// last page, or sweepPages.
func (r *run) listThreads(ctx context.Context) error {
	q := url.Values{
		"part": {"snippet,replies"}, "allThreadsRelatedToChannelId": {r.cid}, "order": {"time"},
		"maxResults": {strconv.Itoa(r.p.pageSize)}, "textFormat": {"plainText"},
	}
	listed := map[string]bool{}
	oldest := int64(0)
	var replyWalks []ytThread
	complete := false
	cut := r.now.Add(-retain).Unix()
	sweep := r.now.Sub(time.Unix(r.c.Swept, 0)) >= r.p.sweepEvery
	pages := r.p.maxPages
	if sweep {
		pages = r.p.sweepPages
	}
	covered := false // the walk reached the end of the tracking window
	for page := 0; page < pages; page++ {
		var tp threadPage
		if err := r.call.get(ctx, "commentThreads", q, &tp); err != nil {
			return err
		}
		if r.call.commentsDisabled {
			r.progress = true
			return nil
		}
		stale := len(tp.Items) > 0
		oldNews := false // a thread older than the window brought something new
		for _, th := range tp.Items {
			top := th.Snippet.TopLevelComment
			if top.ID == "" {
				continue
			}
			tid := th.ID
			if tid == "" {
				tid = top.ID
			}
			listed[top.ID] = true
			post := r.commentPost(top, tid, th.Snippet.VideoID)
			if at := post.CreatedAt.Unix(); oldest == 0 || at < oldest {
				oldest = at
			}
			changed := r.observe(post, top)
			if th.Replies != nil {
				for _, rc := range th.Replies.Comments {
					if rc.ID != "" {
						listed[rc.ID] = true
						changed = r.observe(r.commentPost(rc, tid, th.Snippet.VideoID), rc) || changed
					}
				}
			}
			if post.CreatedAt.Unix() < cut {
				if !changed {
					// Older than the tracking window: its reply count is
					// not kept (prune), so a count unlike none is no news.
					continue
				}
				oldNews = true
			}
			st := r.thread(tid)
			if st == nil {
				r.c.Threads = append(r.c.Threads, threadState{ID: tid, At: post.CreatedAt.Unix(), N: -1})
				st = &r.c.Threads[len(r.c.Threads)-1]
			}
			included := 0
			if th.Replies != nil {
				included = len(th.Replies.Comments)
			}
			if st.N != th.Snippet.TotalReplyCount {
				changed = true
				if th.Snippet.TotalReplyCount > included || st.N > th.Snippet.TotalReplyCount {
					replyWalks = append(replyWalks, th)
				} else {
					st.N = th.Snippet.TotalReplyCount // all replies were included
				}
			}
			if changed {
				stale = false
			}
		}
		r.progress = true
		past := oldest != 0 && oldest < cut
		covered = covered || past
		if tp.NextPageToken == "" {
			complete, covered = true, true
			break
		}
		// A sweep reads past unchanged pages only to reach the end of the
		// window. Beyond it no thread is tracked: the walk goes on only
		// while older threads bring new comments (a first poll's
		// backlog), and no further than a normal poll.
		if stale && !sweep || past && (!oldNews || page+1 >= r.p.maxPages) {
			break
		}
		q.Set("pageToken", tp.NextPageToken)
	}
	switch {
	case covered:
		r.c.Swept, r.c.Short = r.now.Unix(), 0
	case sweep:
		r.c.Swept, r.c.Short = r.now.Unix(), oldest
	}
	// Tracked top-level comments inside the listed time range that did not
	// come back are looked up (only when the walk reached its end, or its
	// range is contiguous from the newest thread, which it always is).
	if oldest != 0 || complete {
		for _, e := range r.c.Entries {
			if e.Kind == string(tanggap.InteractionComment) && !e.Gone && !listed[e.ID] && e.At >= oldest && e.At <= r.now.Unix() {
				r.suspects = append(r.suspects, e.ID)
			}
		}
	}
	for i, th := range replyWalks {
		if i == maxReplies {
			break
		}
		if err := r.listReplies(ctx, th); err != nil {
			return err
		}
	}
	return nil
}

// listReplies lists every reply of one thread (comments.list?parentId).
func (r *run) listReplies(ctx context.Context, th ytThread) error {
	tid := th.ID
	if tid == "" {
		tid = th.Snippet.TopLevelComment.ID
	}
	q := url.Values{"part": {"snippet"}, "parentId": {tid}, "maxResults": {"100"}, "textFormat": {"plainText"}}
	listed := map[string]bool{}
	for page := 0; ; page++ {
		if page == r.p.maxPages {
			return nil // incomplete: the count stays, the next poll goes on
		}
		var cp commentPage
		if err := r.call.get(ctx, "comments", q, &cp); err != nil {
			return err
		}
		for _, c := range cp.Items {
			if c.ID != "" {
				listed[c.ID] = true
				r.observe(r.commentPost(c, tid, th.Snippet.VideoID), c)
			}
		}
		r.progress = true
		if cp.NextPageToken == "" {
			break
		}
		q.Set("pageToken", cp.NextPageToken)
	}
	for _, e := range r.c.InThread(tid) {
		if e.ID != tid && !e.Gone && !listed[e.ID] {
			r.suspects = append(r.suspects, e.ID)
		}
	}
	if st := r.thread(tid); st != nil {
		st.N = th.Snippet.TotalReplyCount
	}
	return nil
}

// verify looks the suspects up by id (50 per unit, at most 2 units a
// poll); those YouTube does not return are deleted (or removed by the
// channel or YouTube).
func (r *run) verify(ctx context.Context) error {
	for batches := 0; len(r.suspects) > 0 && batches < 2; batches++ {
		n := min(len(r.suspects), 50)
		batch := r.suspects[:n]
		r.suspects = r.suspects[n:]
		var cp commentPage
		q := url.Values{"part": {"id"}, "id": {strings.Join(batch, ",")}, "maxResults": {"50"}}
		if err := r.call.get(ctx, "comments", q, &cp); err != nil {
			return err
		}
		found := map[string]bool{}
		for _, c := range cp.Items {
			found[c.ID] = true
		}
		for _, id := range batch {
			if !found[id] {
				r.gone(id)
			}
		}
	}
	return nil
}

func (r *run) commentPost(c ytComment, thread, video string) tanggap.Post {
	s := c.Snippet
	txt := s.TextDisplay
	if s.TextOriginal.S != "" {
		txt = s.TextOriginal
	}
	p := tanggap.Post{
		Platform:    tanggap.PlatformYouTube,
		ID:          c.ID,
		Account:     r.acct.Handle,
		Author:      s.AuthorDisplayName,
		AuthorName:  s.AuthorDisplayName,
		Text:        txt.S,
		InvalidUTF8: txt.Invalid,
		CapturedAt:  r.now,
		ThreadID:    thread,
		Interaction: tanggap.InteractionComment,
	}
	if s.AuthorChannelID != nil {
		p.AuthorID = s.AuthorChannelID.Value
	}
	if p.AuthorID != "" && p.AuthorID == r.cid {
		// The channel itself: an official reply, known by its id (a
		// display name proves nothing).
		p.Author, p.ByAccount = r.acct.Handle, true
	}
	if t, ok := parseTime(s.PublishedAt); ok {
		p.CreatedAt = t
	}
	if s.ParentID != "" || c.ID != thread {
		p.ParentID = s.ParentID
		if p.ParentID == "" {
			p.ParentID = thread
		}
		p.Interaction = tanggap.InteractionReply
	}
	if video == "" {
		video = s.VideoID
	}
	if video != "" {
		p.URL = "https://www.youtube.com/watch?v=" + url.QueryEscape(video) + "&lc=" + url.QueryEscape(c.ID)
	} else {
		p.URL = "https://www.youtube.com/channel/" + url.PathEscape(r.cid) + "/community?lc=" + url.QueryEscape(c.ID)
	}
	return p
}

// observe publishes a comment the first time it is seen and again when its
// text changed; it reports whether it published.
func (r *run) observe(p tanggap.Post, c ytComment) bool {
	if p.ID == "" || r.emitted[p.ID] || p.CreatedAt.IsZero() {
		return false
	}
	h := wire.Hash(p.Text)
	e, ok := r.c.Get(p.ID)
	at := p.CreatedAt.Unix()
	switch {
	case !ok:
		if at <= r.c.Floor {
			return false
		}
		e = wire.Entry{ID: p.ID, At: at, Thread: p.ThreadID, Parent: p.ParentID, Kind: string(p.Interaction)}
	case e.Hash != h:
		edited := r.now
		if t, ok := parseTime(c.Snippet.UpdatedAt); ok && t.After(p.CreatedAt) {
			edited = t
		}
		p.EditedAt = &edited
	default:
		return false
	}
	e.Hash = h
	r.c.Put(e)
	r.emit(p)
	return true
}

func (r *run) gone(id string) {
	e, ok := r.c.Get(id)
	if !ok || e.Gone || r.emitted[id] {
		return
	}
	e.Gone = true
	r.c.Put(e)
	r.emit(tanggap.Post{
		Platform:    tanggap.PlatformYouTube,
		ID:          id,
		Account:     r.acct.Handle,
		CreatedAt:   time.Unix(e.At, 0).UTC(),
		CapturedAt:  r.now,
		ThreadID:    e.Thread,
		ParentID:    e.Parent,
		Interaction: tanggap.Interaction(e.Kind),
		Deleted:     true,
	})
}

func (r *run) emit(p tanggap.Post) {
	p.Sanitize()
	r.emitted[p.ID] = true
	r.posts = append(r.posts, p)
}

// partial says, while the last sweep stopped at its page bound inside the
// tracking window, which threads are not rechecked for new replies.
func (r *run) partial() string {
	if r.c.Short == 0 || r.c.Short < r.now.Add(-retain).Unix() {
		return ""
	}
	return fmt.Sprintf("new replies to comment threads started before %s are not collected: the threads of the last %d days need more than the %d pages (quota units) a sweep may read",
		time.Unix(r.c.Short, 0).UTC().Format(time.RFC3339), int(retain/(24*time.Hour)), r.p.sweepPages)
}

func (r *run) prune() {
	cut := r.now.Add(-retain).Unix()
	keep := r.c.Threads[:0]
	for _, t := range r.c.Threads {
		if t.At >= cut {
			keep = append(keep, t)
		}
	}
	r.c.Threads = keep
	r.c.Prune(cut, maxSeen)
}

var _ collectors.Poller = (*Poller)(nil)
