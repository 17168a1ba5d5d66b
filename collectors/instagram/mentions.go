package instagram

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/facebook/graph"
	"github.com/tanggap/tanggap/collectors/internal/wire"
	"github.com/tanggap/tanggap/config"
)

// Mentions. Citizens often write to the city on other accounts' media (a
// news account's post about a flood, a neighbour's video of a broken
// road) and @mention the city's account there. Those comments and
// captions are on no media the poller lists: Meta announces each one only
// by a webhook of the "mentions" field, with the ids to read it by through
// the mentioned account's own node (mentioned_comment, mentioned_media).
// WebhookHandler receives the webhooks and queues each Mention (Tanggap
// queues them on Kafka, so a mention outlives a Graph outage or an expired
// token); a MentionResolver reads each queued one into a Post.

// Fields read of a mentioned comment and a mentioned media. Graph gives no
// author of a mentioned comment: the post has none.
const (
	MentionedCommentFields = "id,text,timestamp,like_count,media{id,permalink,username}"
	MentionedMediaFields   = "id,caption,timestamp,username,permalink,comments_count"
)

// Mention is one change of the "mentions" webhook field: the watched
// account AccountID (its ig-user-id) was @mentioned in comment CommentID
// on media MediaID, or in the caption of MediaID when CommentID is empty.
type Mention struct {
	V         int    `json:"v"`
	AccountID string `json:"account_id"`
	MediaID   string `json:"media_id,omitempty"`
	CommentID string `json:"comment_id,omitempty"`
	Sent      int64  `json:"sent,omitempty"` // when Meta sent it (unix seconds)
}

// MentionVersion is the version of the Mention JSON this code writes.
const MentionVersion = 1

// ID is the id of the mentioning object: the comment, else the media.
func (m Mention) ID() string {
	if m.CommentID != "" {
		return m.CommentID
	}
	return m.MediaID
}

// Check reports a mention that can never be read. Ids go into a Graph
// path and a field expansion, so only the numeric strings Graph uses pass.
func (m Mention) Check() error {
	switch {
	case m.V != MentionVersion:
		return tanggap.Errorf(tanggap.EINVALID, "instagram mention: version %d, want %d", m.V, MentionVersion)
	case !graphID(m.AccountID):
		return tanggap.Errorf(tanggap.EINVALID, "instagram mention: bad account id %q", clip(m.AccountID))
	case m.MediaID == "" && m.CommentID == "":
		return tanggap.Errorf(tanggap.EINVALID, "instagram mention of %s: neither media_id nor comment_id", m.AccountID)
	case m.MediaID != "" && !graphID(m.MediaID):
		return tanggap.Errorf(tanggap.EINVALID, "instagram mention of %s: bad media_id %q", m.AccountID, clip(m.MediaID))
	case m.CommentID != "" && !graphID(m.CommentID):
		return tanggap.Errorf(tanggap.EINVALID, "instagram mention of %s: bad comment_id %q", m.AccountID, clip(m.CommentID))
	}
	return nil
}

func graphID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// ValidSignature checks Meta's X-Hub-Signature-256 header ("sha256=" and
// the hex HMAC-SHA256 of the body under the app secret) in constant time.
func ValidSignature(body []byte, header string, appSecret []byte) bool {
	h, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(appSecret) == 0 {
		return false
	}
	got, err := hex.DecodeString(h)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, appSecret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// ParseNotification reads the body of a webhook request for the instagram
// object and returns its mentions, and how many changes of other fields
// (comments, story insights: the app may be subscribed to more) it held.
// Every error is EINVALID.
func ParseNotification(body []byte) ([]Mention, int, error) {
	var n struct {
		Object string `json:"object"`
		Entry  []struct {
			ID      string `json:"id"`
			Time    int64  `json:"time"`
			Changes []struct {
				Field string `json:"field"`
				Value struct {
					MediaID   string `json:"media_id"`
					CommentID string `json:"comment_id"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, 0, tanggap.WrapCode(tanggap.EINVALID, err, "instagram webhook: malformed JSON")
	}
	if n.Object != "instagram" {
		return nil, 0, tanggap.Errorf(tanggap.EINVALID, "instagram webhook: object %q, want \"instagram\"", clip(n.Object))
	}
	var out []Mention
	other := 0
	for _, e := range n.Entry {
		for _, c := range e.Changes {
			if c.Field != "mentions" {
				other++
				continue
			}
			m := Mention{V: MentionVersion, AccountID: e.ID, MediaID: c.Value.MediaID, CommentID: c.Value.CommentID, Sent: e.Time}
			if err := m.Check(); err != nil {
				return nil, 0, err
			}
			out = append(out, m)
		}
	}
	return out, other, nil
}

// MentionResolver reads queued mentions through the Graph API. It is safe
// for concurrent use.
type MentionResolver struct {
	p        *Poller
	accounts []config.Account // the watched Instagram accounts
	cursors  collectors.Cursors

	mu      sync.Mutex
	byID    map[string]config.Account
	looked  time.Time        // when the ids were last looked up
	lookErr error            // why that failed
	blocked map[string]block // by account id
}

// block is an account not called until a time, and why.
type block struct {
	until time.Time
	err   error
}

// authPause is how long an account whose token Graph refused is left
// alone (a person has to renew the token).
const authPause = 5 * time.Minute

// lookEvery bounds how often an unknown account id makes the resolver
// read the cursors and list the accounts the tokens manage again.
const lookEvery = 10 * time.Minute

// Mentions returns a resolver of the mentions of accounts (the watched
// Instagram accounts). An account's ig-user-id comes from the city
// config, else from its poll cursor in cursors, else from the Instagram
// accounts its token manages.
func (p *Poller) Mentions(accounts []config.Account, cursors collectors.Cursors) *MentionResolver {
	return &MentionResolver{p: p, accounts: accounts, cursors: cursors, byID: map[string]config.Account{}, blocked: map[string]block{}}
}

// Resolve reads a mention into a Post. Errors: EINVALID for a mention that
// can never be read (malformed, or of an account the city does not watch),
// ENOTFOUND when Graph says it does not exist (deleted, or no longer
// visible to the token), ERATELIMIT while the account's calls are
// throttled (no call is made until the time Graph gave), and the Graph
// client's other errors (EAUTH, EUNAVAILABLE), all worth a retry.
func (r *MentionResolver) Resolve(ctx context.Context, m Mention) (tanggap.Post, error) {
	if err := m.Check(); err != nil {
		return tanggap.Post{}, err
	}
	acct, err := r.account(ctx, m.AccountID)
	if err != nil {
		return tanggap.Post{}, err
	}
	if err := r.throttled(m.AccountID); err != nil {
		return tanggap.Post{}, err
	}
	label := "instagram @" + acct.Handle
	token, err := graph.Token(ctx, r.p.tokens, acct, label, "access token")
	if err != nil {
		return tanggap.Post{}, err
	}
	call := r.p.graph.Begin(token, label)
	var post tanggap.Post
	if m.CommentID != "" {
		post, err = r.comment(ctx, call, acct, m)
	} else {
		post, err = r.media(ctx, call, acct, m)
	}
	// Every mention of an account comes here, the new ones and the parked
	// ones whose wait is over: an account Graph throttles or refuses the
	// token of is not called again until it may answer.
	var rl *collectors.RateLimitError
	until := time.Time{}
	switch {
	case errors.As(err, &rl) && !rl.Until.IsZero():
		until = rl.Until
	case tanggap.ErrorCode(err) == tanggap.EAUTH:
		until = r.p.now().Add(authPause)
	}
	if !until.IsZero() {
		r.mu.Lock()
		r.blocked[m.AccountID] = block{until, err}
		r.mu.Unlock()
	}
	return post, err
}

func (r *MentionResolver) throttled(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.blocked[id]; ok {
		if r.p.now().Before(b.until) {
			return b.err
		}
		delete(r.blocked, id)
	}
	return nil
}

func (r *MentionResolver) comment(ctx context.Context, call *graph.Call, acct config.Account, m Mention) (tanggap.Post, error) {
	var resp struct {
		C *struct {
			ID        string     `json:"id"`
			Text      wire.Text  `json:"text"`
			Timestamp graph.Time `json:"timestamp"`
			Media     *igMedia   `json:"media"`
		} `json:"mentioned_comment"`
	}
	q := url.Values{"fields": {"mentioned_comment.comment_id(" + m.CommentID + "){" + MentionedCommentFields + "}"}}
	if err := call.Get(ctx, m.AccountID, q, &resp); err != nil {
		return tanggap.Post{}, err
	}
	c := resp.C
	if c == nil || c.ID == "" {
		return tanggap.Post{}, tanggap.Errorf(tanggap.ENOTFOUND, "%s: mentioned comment %s: Graph answered without it", call.Label(), m.CommentID)
	}
	media := m.MediaID
	permalink := ""
	if c.Media != nil {
		media = cmp.Or(c.Media.ID, media)
		permalink = c.Media.Permalink
	}
	p := tanggap.Post{
		Platform:    tanggap.PlatformInstagram,
		ID:          c.ID,
		URL:         commentURL(permalink, c.ID),
		Account:     acct.Handle,
		Text:        c.Text.S,
		InvalidUTF8: c.Text.Invalid,
		CreatedAt:   c.Timestamp.Time,
		CapturedAt:  r.p.now().UTC(),
		ThreadID:    cmp.Or(media, c.ID),
		Interaction: tanggap.InteractionMention,
	}
	return p, r.dated(&p, m)
}

func (r *MentionResolver) media(ctx context.Context, call *graph.Call, acct config.Account, m Mention) (tanggap.Post, error) {
	var resp struct {
		M *igMedia `json:"mentioned_media"`
	}
	q := url.Values{"fields": {"mentioned_media.media_id(" + m.MediaID + "){" + MentionedMediaFields + "}"}}
	if err := call.Get(ctx, m.AccountID, q, &resp); err != nil {
		return tanggap.Post{}, err
	}
	md := resp.M
	if md == nil || md.ID == "" {
		return tanggap.Post{}, tanggap.Errorf(tanggap.ENOTFOUND, "%s: mentioned media %s: Graph answered without it", call.Label(), m.MediaID)
	}
	p := tanggap.Post{
		Platform:    tanggap.PlatformInstagram,
		ID:          md.ID,
		URL:         md.Permalink,
		Account:     acct.Handle,
		Author:      md.Username,
		Text:        md.Caption.S,
		InvalidUTF8: md.Caption.Invalid,
		CreatedAt:   md.Timestamp.Time,
		CapturedAt:  r.p.now().UTC(),
		ThreadID:    md.ID,
		Interaction: tanggap.InteractionMention,
	}
	return p, r.dated(&p, m)
}

// dated gives a post Graph sent without its time the time Meta sent the
// webhook (the mention is at most that old), and checks the post.
func (r *MentionResolver) dated(p *tanggap.Post, m Mention) error {
	if p.CreatedAt.IsZero() && m.Sent > 0 {
		p.CreatedAt = time.Unix(m.Sent, 0).UTC()
	}
	return p.Validate()
}

// account finds the watched account of an ig-user-id. An unknown id makes
// it look the ids up again, at most every lookEvery; while the last look-up
// failed, the id may still be a watched account's: its error is returned
// (a retry), not notWatched (a dead letter).
func (r *MentionResolver) account(ctx context.Context, id string) (config.Account, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a, ok := r.byID[id]; ok {
		return a, nil
	}
	if now := r.p.now(); r.looked.IsZero() || now.Sub(r.looked) >= lookEvery {
		r.looked = now
		r.lookErr = r.lookUp(ctx)
		if a, ok := r.byID[id]; ok {
			return a, nil
		}
	}
	if r.lookErr != nil {
		return config.Account{}, r.lookErr
	}
	return config.Account{}, notWatched(id)
}

func notWatched(id string) error {
	return tanggap.Errorf(tanggap.EINVALID, "instagram mention of account %s, which the city config does not watch (or whose id no token resolves)", id)
}

// lookUp maps the watched accounts' ids: the config's, the cursors', then
// the Instagram accounts each remaining token manages. The caller holds mu.
func (r *MentionResolver) lookUp(ctx context.Context) error {
	var missing []config.Account
	for _, a := range r.accounts {
		id := a.ID
		if id == "" && r.cursors != nil {
			cur, err := r.cursors.Cursor(ctx, tanggap.PlatformInstagram, a.Handle)
			if err != nil {
				return tanggap.WrapCode(tanggap.EUNAVAILABLE, err, "instagram mentions: read the cursor of @%s", a.Handle)
			}
			id = decodeCursor(cur).UserID
		}
		if id == "" {
			missing = append(missing, a)
			continue
		}
		r.byID[id] = a
	}
	byToken := map[string][]config.Account{}
	for _, a := range missing {
		tok, err := graph.Token(ctx, r.p.tokens, a, "instagram @"+a.Handle, "access token")
		if err != nil {
			continue // an account without a token cannot be read anyway
		}
		byToken[tok] = append(byToken[tok], a)
	}
	for tok, accts := range byToken {
		want := map[string]config.Account{}
		for _, a := range accts {
			want[strings.ToLower(strings.TrimPrefix(a.Handle, "@"))] = a
		}
		call := r.p.graph.Begin(tok, "instagram @"+accts[0].Handle)
		err := managedAccounts(ctx, call, func(username, id string) bool {
			if a, ok := want[strings.ToLower(username)]; ok {
				r.byID[id] = a
				delete(want, strings.ToLower(username))
			}
			return len(want) == 0
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// managedAccounts lists the Instagram accounts of the Pages the token
// manages (me/accounts, following its cursors) until each returns true.
func managedAccounts(ctx context.Context, call *graph.Call, each func(username, id string) bool) error {
	q := url.Values{"fields": {AccountFields}, "limit": {"100"}}
	for range maxAccountPages {
		var page struct {
			Data []struct {
				ID      string `json:"id"`
				Account *struct {
					ID       string `json:"id"`
					Username string `json:"username"`
				} `json:"instagram_business_account"`
			} `json:"data"`
			Paging *graph.Paging `json:"paging"`
		}
		if err := call.Get(ctx, "me/accounts", q, &page); err != nil {
			return err
		}
		for _, d := range page.Data {
			if d.Account != nil && d.Account.ID != "" && each(d.Account.Username, d.Account.ID) {
				return nil
			}
		}
		after := page.Paging.After()
		if after == "" || len(page.Data) == 0 {
			return nil
		}
		q.Set("after", after)
	}
	return nil
}
