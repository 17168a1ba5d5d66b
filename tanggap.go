// Package tanggap holds the domain types shared by every part of the
// service: posts as the collectors see them, items as triage and the queue
// keep them, their statuses and kinds, and the one error type with codes.
//
// Nothing in this package does I/O.
package tanggap

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Platform names a social network. The values are stable: they appear in
// Kafka records, Redis keys and metric labels.
type Platform string

const (
	PlatformX         Platform = "x"
	PlatformInstagram Platform = "instagram"
	PlatformFacebook  Platform = "facebook"
	PlatformYouTube   Platform = "youtube"
)

// Platforms lists every platform Tanggap collects from.
var Platforms = []Platform{PlatformInstagram, PlatformX, PlatformFacebook, PlatformYouTube}

// Valid reports whether p is a known platform.
func (p Platform) Valid() bool {
	switch p {
	case PlatformX, PlatformInstagram, PlatformFacebook, PlatformYouTube:
		return true
	}
	return false
}

// Label is the platform's human name.
func (p Platform) Label() string {
	switch p {
	case PlatformX:
		return "X"
	case PlatformInstagram:
		return "Instagram"
	case PlatformFacebook:
		return "Facebook"
	case PlatformYouTube:
		return "YouTube"
	}
	return string(p)
}

// Limits applied at the edge to citizen text (habit 8).
const (
	MaxTextBytes   = 16 << 10 // longer texts are cut and flagged Truncated
	MaxHandleBytes = 256
	MaxIDBytes     = 128
)

// Interaction says how a post reached a watched account.
type Interaction string

const (
	InteractionMention Interaction = "mention" // @mention of the account
	InteractionComment Interaction = "comment" // comment under the account's post
	InteractionReply   Interaction = "reply"   // reply inside a thread
	InteractionPost    Interaction = "post"    // the account's own post
	InteractionTag     Interaction = "tag"     // media the account is tagged in
)

// Post is one piece of text seen on a platform, normalised by a collector.
// IDs are strings: X and Instagram ids overflow float64.
type Post struct {
	Platform    Platform    `json:"platform"`
	ID          string      `json:"id"`
	URL         string      `json:"url,omitempty"`
	Account     string      `json:"account"` // handle of the watched account it was collected under
	AuthorID    string      `json:"author_id,omitempty"`
	Author      string      `json:"author"` // handle or display name (see AuthorIsHandle)
	AuthorName  string      `json:"author_name,omitempty"`
	Text        string      `json:"text"`
	CreatedAt   time.Time   `json:"created_at"`  // platform timestamp: T0 of every clock
	CapturedAt  time.Time   `json:"captured_at"` // when the collector saw it
	ParentID    string      `json:"parent_id,omitempty"`
	ThreadID    string      `json:"thread_id"` // conversation root; Kafka key
	Interaction Interaction `json:"interaction"`
	Truncated   bool        `json:"truncated,omitempty"`
	InvalidUTF8 bool        `json:"invalid_utf8,omitempty"`
	BadURL      bool        `json:"bad_url,omitempty"` // the platform link was not http(s) and was dropped
	EditedAt    *time.Time  `json:"edited_at,omitempty"`
	Deleted     bool        `json:"deleted,omitempty"`
	// ByAccount is set by the collector when the watched account itself
	// wrote the post: the author's platform id is the one it resolved for
	// Account. Triage trusts it over any name, since a display name can be
	// copied by anyone.
	ByAccount bool `json:"by_account,omitempty"`
}

// AuthorIsHandle reports whether Author is the author's unique handle,
// which nobody else can take, rather than a display name, which anyone can
// copy: on X and Instagram always; on YouTube when it starts with "@" (the
// API shows a channel that has a handle by its handle); never on Facebook,
// whose Graph API gives people and pages by their names only.
func (p *Post) AuthorIsHandle() bool {
	switch p.Platform {
	case PlatformX, PlatformInstagram:
		return true
	case PlatformYouTube:
		return strings.HasPrefix(p.Author, "@")
	}
	return false
}

// ItemID is the store's id of a post: platform and platform id.
func (p *Post) ItemID() string { return ItemID(p.Platform, p.ID) }

// ItemID joins a platform and a platform post id.
func ItemID(p Platform, id string) string { return string(p) + ":" + id }

// SplitItemID is the inverse of ItemID.
func SplitItemID(id string) (Platform, string, bool) {
	p, rest, ok := strings.Cut(id, ":")
	if !ok || !Platform(p).Valid() || rest == "" {
		return "", "", false
	}
	return Platform(p), rest, true
}

// Sanitize applies the edge limits to a post in place: invalid UTF-8 is
// replaced and flagged, over-long text is cut on a rune boundary and flagged.
// It never drops the post.
func (p *Post) Sanitize() {
	if !utf8.ValidString(p.Text) {
		p.Text = strings.ToValidUTF8(p.Text, "\uFFFD")
		p.InvalidUTF8 = true
	}
	if len(p.Text) > MaxTextBytes {
		cut := MaxTextBytes
		for cut > 0 && !utf8.RuneStart(p.Text[cut]) {
			cut--
		}
		p.Text = p.Text[:cut]
		p.Truncated = true
	}
	p.Author = clip(strings.ToValidUTF8(p.Author, "\uFFFD"), MaxHandleBytes)
	p.AuthorName = clip(strings.ToValidUTF8(p.AuthorName, "\uFFFD"), MaxHandleBytes)
	p.Account = clip(strings.ToValidUTF8(p.Account, "\uFFFD"), MaxHandleBytes)
	if p.URL != "" && !SafeURL(p.URL) {
		p.URL = ""
		p.BadURL = true
	}
	if p.ThreadID == "" {
		p.ThreadID = p.ID
	}
}

// SafeURL reports whether s is an absolute http(s) URL with a host: the
// only links Tanggap stores or shows.
func SafeURL(s string) bool {
	if len(s) > 2048 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Validate reports why a post can never be stored.
func (p *Post) Validate() error {
	switch {
	case !p.Platform.Valid():
		return Errorf(EINVALID, "post: unknown platform %q", p.Platform)
	case p.ID == "" || len(p.ID) > MaxIDBytes || !utf8.ValidString(p.ID):
		return Errorf(EINVALID, "post: bad id")
	case strings.ContainsAny(p.ID, " \t\r\n{}"):
		return Errorf(EINVALID, "post: id has forbidden characters")
	case p.CreatedAt.IsZero():
		return Errorf(EINVALID, "post %s: no created_at", p.ID)
	}
	return nil
}

// Event is one audit record: every change to an item, by a person or by
// triage, becomes an Event in the item's history and on the Kafka events
// topic, so that the Redis state can be rebuilt from Kafka.
type Event struct {
	ID         string            `json:"id"` // unique, ordered per item (item version)
	ItemID     string            `json:"item_id"`
	At         time.Time         `json:"at"`
	Actor      string            `json:"actor"`  // user login, "triage" or "system"
	Action     string            `json:"action"` // ingest, assign, answer, claim, resolve, ...
	FromStatus Status            `json:"from_status,omitempty"`
	ToStatus   Status            `json:"to_status,omitempty"`
	FromOPD    string            `json:"from_opd,omitempty"`
	ToOPD      string            `json:"to_opd,omitempty"`
	Reason     string            `json:"reason,omitempty"`
	Data       map[string]string `json:"data,omitempty"`
	// Set holds the stored fields the change wrote: replaying the events of
	// an item in version order rebuilds it exactly (tanggap rebuild).
	Set     map[string]string `json:"set,omitempty"`
	Version int64             `json:"version"` // item version after the change
}
