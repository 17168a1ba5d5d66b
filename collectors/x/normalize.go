package x

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dghubble/go-twitter/twitter"

	"github.com/tanggap/tanggap"
)

// Tweet ids are decimal strings. They are compared as big numbers (length,
// then digits) and never go through float64: X ids do not fit in one.

// validID reports whether s is a positive decimal id without leading zeros
// that fits go-twitter's int64 since_id and max_id parameters.
func validID(s string) bool {
	if s == "" || len(s) > 19 || s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// cmpID compares two valid ids: -1, 0 or +1.
func cmpID(a, b string) int {
	switch {
	case len(a) != len(b):
		if len(a) < len(b) {
			return -1
		}
		return 1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// maxID returns the larger of two ids; "" is smaller than any id.
func maxID(a, b string) string {
	if a == "" || (b != "" && cmpID(b, a) > 0) {
		return b
	}
	return a
}

// tweetID returns the tweet's id: id_str, or id when id_str is missing.
func tweetID(t *twitter.Tweet) string {
	if validID(t.IDStr) {
		return t.IDStr
	}
	if t.ID > 0 {
		return strconv.FormatInt(t.ID, 10)
	}
	return ""
}

func parentID(t *twitter.Tweet) string {
	if validID(t.InReplyToStatusIDStr) {
		return t.InReplyToStatusIDStr
	}
	if t.InReplyToStatusID > 0 {
		return strconv.FormatInt(t.InReplyToStatusID, 10)
	}
	return ""
}

// twitterEpochMS is the epoch of X's snowflake ids (2010-11-04T01:42:54.657Z).
const twitterEpochMS = 1288834974657

// snowflakeTime is the creation time encoded in a snowflake id, or zero.
func snowflakeTime(id string) time.Time {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 1<<22 {
		return time.Time{}
	}
	return time.UnixMilli(n>>22 + twitterEpochMS).UTC()
}

// Cursor is the poller's cursor for one account. Per timeline it reads, it
// holds the since_id (every post up to it was collected) and, while a walk
// from the newest post down to the since_id is unfinished (it needed more
// pages than one poll reads), what the walk collected so far: (Until, Top].
// The next poll goes on below Until, and since_id moves to Top only when
// the walk reaches it, so that the posts in between are never skipped.
//
// It is stored as "u:<id>,ut:<id>,uu:<id>,m:<id>,mt:<id>,mu:<id>" (u for
// user_timeline, m for mentions_timeline, t for Top, u for Until; any part
// may be missing, a walk has both of its parts). A bare id applies to both
// timelines.
type Cursor struct {
	User         string // since_id of statuses/user_timeline
	Mentions     string // since_id of statuses/mentions_timeline
	UserWalk     Walk
	MentionsWalk Walk
}

// Walk is an unfinished read of one timeline: it collected (Until, Top].
type Walk struct {
	Top, Until string
}

// ParseCursor decodes a stored cursor. ok is false when the value is not a
// cursor; the poller then starts from the newest posts.
func ParseCursor(s string) (c Cursor, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Cursor{}, true
	}
	if validID(s) {
		return Cursor{User: s, Mentions: s}, true
	}
	for _, part := range strings.Split(s, ",") {
		k, v, found := strings.Cut(part, ":")
		if !found || !validID(v) {
			return Cursor{}, false
		}
		switch k {
		case "u":
			c.User = v
		case "ut":
			c.UserWalk.Top = v
		case "uu":
			c.UserWalk.Until = v
		case "m":
			c.Mentions = v
		case "mt":
			c.MentionsWalk.Top = v
		case "mu":
			c.MentionsWalk.Until = v
		default:
			return Cursor{}, false
		}
	}
	if !c.UserWalk.valid(c.User) || !c.MentionsWalk.valid(c.Mentions) {
		return Cursor{}, false
	}
	return c, true
}

// valid reports whether the walk is none, or lies above since.
func (w Walk) valid(since string) bool {
	if w == (Walk{}) {
		return true
	}
	return w.Top != "" && w.Until != "" && cmpID(w.Until, w.Top) <= 0 && (since == "" || cmpID(w.Until, since) > 0)
}

func (c Cursor) String() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+":"+v)
		}
	}
	add("u", c.User)
	add("ut", c.UserWalk.Top)
	add("uu", c.UserWalk.Until)
	add("m", c.Mentions)
	add("mt", c.MentionsWalk.Top)
	add("mu", c.MentionsWalk.Until)
	return strings.Join(parts, ",")
}

// decodePage decodes one v1.1 timeline page (a JSON array of tweets) the
// way go-twitter does (encoding/json into twitter.Tweet).
func decodePage(b []byte) ([]twitter.Tweet, error) {
	var tweets []twitter.Tweet
	if err := json.Unmarshal(b, &tweets); err != nil {
		return nil, err
	}
	return tweets, nil
}

// timeline is where a tweet was read.
type timeline int

const (
	userTimeline timeline = iota
	mentionsTimeline
)

// tweetText is the full text: full_text (tweet_mode=extended), else
// extended_tweet.full_text (compatibility mode), else text. A retweet keeps
// the "RT @user: " prefix with the original's full text.
func tweetText(t *twitter.Tweet) string {
	if rt := t.RetweetedStatus; rt != nil && rt.User != nil {
		if s := tweetText(&twitter.Tweet{FullText: rt.FullText, Text: rt.Text, ExtendedTweet: rt.ExtendedTweet}); s != "" {
			return "RT @" + rt.User.ScreenName + ": " + s
		}
	}
	switch {
	case t.FullText != "":
		return t.FullText
	case t.ExtendedTweet != nil && t.ExtendedTweet.FullText != "":
		return t.ExtendedTweet.FullText
	}
	return t.Text
}

// normalize maps one tweet read under a watched account to a Post. ok is
// false when the tweet has no usable id (it cannot be stored or referenced).
// ThreadID is set later by threads.resolve.
func normalize(t *twitter.Tweet, account string, tl timeline, capturedAt time.Time) (tanggap.Post, bool) {
	id := tweetID(t)
	if id == "" {
		return tanggap.Post{}, false
	}
	p := tanggap.Post{
		Platform:   tanggap.PlatformX,
		ID:         id,
		Account:    account,
		Text:       tweetText(t),
		ParentID:   parentID(t),
		CapturedAt: capturedAt,
	}
	if u := t.User; u != nil {
		p.Author = u.ScreenName
		p.AuthorName = u.Name
		p.AuthorID = u.IDStr
		if p.AuthorID == "" && u.ID > 0 {
			p.AuthorID = strconv.FormatInt(u.ID, 10)
		}
	}
	// x.com/i/status/{id} resolves without the handle: used when the handle
	// is missing (trim_user) or not a plain one.
	if validHandle(p.Author) {
		p.URL = "https://x.com/" + p.Author + "/status/" + id
	} else {
		p.URL = "https://x.com/i/status/" + id
	}
	if ts, err := time.Parse(time.RubyDate, t.CreatedAt); err == nil {
		p.CreatedAt = ts.UTC()
	} else if ts := snowflakeTime(id); !ts.IsZero() {
		p.CreatedAt = ts // created_at unreadable: the id carries the time to the millisecond
	} else {
		p.CreatedAt = capturedAt
	}
	switch {
	case p.ParentID != "":
		p.Interaction = tanggap.InteractionReply
	case tl == mentionsTimeline:
		p.Interaction = tanggap.InteractionMention
	default:
		p.Interaction = tanggap.InteractionPost
	}
	// The user timeline holds the watched account's own tweets and
	// retweets only.
	p.ByAccount = tl == userTimeline
	// encoding/json (inside go-twitter) already replaced invalid UTF-8 with
	// U+FFFD before we see the text: flag such texts so the UI can say the
	// text was damaged. Sanitize handles anything else and the length limit.
	if strings.ContainsRune(p.Text, '\uFFFD') {
		p.InvalidUTF8 = true
	}
	p.Sanitize()
	return p, true
}

func validHandle(h string) bool {
	if h == "" || len(h) > 50 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')) {
			return false
		}
	}
	return true
}

// threads resolves the thread (conversation root) of tweets. X API v1.1 has
// no conversation_id, so the root is found by following
// in_reply_to_status_id through the tweets this poller has seen (this batch
// and a bounded memory of earlier ones). When the chain leaves what is
// known, the last known parent id is the thread key: a reply to an unseen
// tweet is keyed by that tweet's id, so every reply to one tweet lands on
// the same Kafka partition, and for the common depth-one thread (complaint,
// official reply) that id is the root itself. Triage links threads by
// ParentID anyway; the thread key only keeps related records in order.
type threads struct {
	mu   sync.Mutex
	of   map[string]string // tweet id -> thread id
	ring []string          // remembered ids in insertion order, for eviction
	next int               // ring slot to fill (and evict) next
}

func newThreads(max int) *threads {
	return &threads{of: make(map[string]string, max), ring: make([]string, max)}
}

// resolve sets ThreadID on every post and remembers the threads.
func (th *threads) resolve(posts []tanggap.Post) {
	parent := make(map[string]string, len(posts))
	for _, p := range posts {
		parent[p.ID] = p.ParentID
	}
	th.mu.Lock()
	defer th.mu.Unlock()
	for i := range posts {
		posts[i].ThreadID = th.rootLocked(posts[i].ID, parent)
	}
	for _, p := range posts {
		th.rememberLocked(p.ID, p.ThreadID)
	}
}

func (th *threads) rootLocked(id string, parent map[string]string) string {
	cur := id
	for range 64 { // bounded: ids could loop in a hostile page
		if t, ok := th.of[cur]; ok {
			return t
		}
		p, known := parent[cur]
		if !known {
			return cur // an unseen tweet: its id is the key
		}
		if p == "" || p == cur {
			return cur // the root
		}
		cur = p
	}
	return cur
}

func (th *threads) rememberLocked(id, thread string) {
	if _, ok := th.of[id]; ok || len(th.ring) == 0 {
		return
	}
	if old := th.ring[th.next]; old != "" {
		delete(th.of, old)
	}
	th.ring[th.next] = id
	th.next = (th.next + 1) % len(th.ring)
	th.of[id] = thread
}
