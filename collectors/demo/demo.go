// Package demo holds Tanggap's demo data set: about fifty Kota Bekasi
// citizen posts and official replies, written for the project (no text comes
// from any real complaint export). `tanggap dev` feeds them into the fake
// platform APIs; tests use them as realistic input.
//
// The data is platform-neutral: each post names its platform, the watched
// account it is collected under, its author, its text, its age relative to
// "now" and, for replies, the key of its parent. The file order is the feed
// order: the order in which the fake APIs publish the posts. It is mostly
// oldest first, with one official reply deliberately ahead of its parent.
package demo

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/tanggap/tanggap"
)

//go:embed posts.yaml
var postsYAML []byte

// Post is one demo post.
type Post struct {
	Key        string           `yaml:"key"`
	Platform   tanggap.Platform `yaml:"platform"`
	Account    string           `yaml:"account"` // the watched handle it is collected under
	Author     string           `yaml:"author"`
	AuthorName string           `yaml:"author_name"`
	Text       string           `yaml:"text"`
	MinutesAgo int              `yaml:"minutes_ago"` // age relative to now
	ReplyTo    string           `yaml:"reply_to"`    // key of the parent post, if any
	Official   bool             `yaml:"official"`    // written by a registered official account
	// MediaOf (Instagram) is an account the city does not watch, a news
	// account say, on whose media the citizen commented, @mentioning the
	// watched Account: such a post reaches Tanggap only by the mentions
	// webhook.
	MediaOf string `yaml:"media_of"`
	// What a person would decide, for tests of triage and the end-to-end
	// run: the OPD code (or out_of_scope; empty when there is nothing to
	// route), the kind, and whether the post is urgent.
	ExpectOPD  string       `yaml:"expect_opd"`
	ExpectKind tanggap.Kind `yaml:"expect_kind"`
	Urgent     bool         `yaml:"urgent"`
}

// Load returns the demo posts in feed order.
func Load() ([]Post, error) { return parse(postsYAML) }

func parse(b []byte) ([]Post, error) {
	var doc struct {
		Posts []Post `yaml:"posts"`
	}
	if err := yaml.UnmarshalWithOptions(b, &doc, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("demo: posts.yaml: %s", yaml.FormatError(err, false, false))
	}
	byKey := make(map[string]Post, len(doc.Posts))
	for i, p := range doc.Posts {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("demo: posts[%d] (%s): %s", i, p.Key, fmt.Sprintf(format, args...))
		}
		switch {
		case p.Key == "":
			return nil, bad("no key")
		case !p.Platform.Valid():
			return nil, bad("unknown platform %q", p.Platform)
		case p.Account == "" || p.Author == "":
			return nil, bad("account and author are required")
		case strings.TrimSpace(p.Text) == "":
			return nil, bad("no text")
		case p.MinutesAgo < 0:
			return nil, bad("minutes_ago is negative")
		case p.Official && !strings.EqualFold(p.Author, p.Account):
			return nil, bad("an official post is collected under its author's account")
		case p.MediaOf != "" && (p.Platform != tanggap.PlatformInstagram || p.Official || p.ReplyTo != ""):
			return nil, bad("media_of is for a citizen's Instagram comment that replies to nothing")
		case p.MediaOf != "" && !strings.Contains(strings.ToLower(p.Text), "@"+strings.ToLower(strings.TrimPrefix(p.Account, "@"))):
			return nil, bad("a comment on media_of must @mention its account")
		}
		if _, dup := byKey[p.Key]; dup {
			return nil, bad("duplicate key")
		}
		byKey[p.Key] = p
	}
	for i, p := range doc.Posts {
		if p.ReplyTo == "" {
			continue
		}
		parent, ok := byKey[p.ReplyTo]
		switch {
		case !ok:
			return nil, fmt.Errorf("demo: posts[%d] (%s): reply_to %q: no such post", i, p.Key, p.ReplyTo)
		case parent.Platform != p.Platform:
			return nil, fmt.Errorf("demo: posts[%d] (%s): reply on another platform than its parent", i, p.Key)
		case parent.MinutesAgo <= p.MinutesAgo:
			return nil, fmt.Errorf("demo: posts[%d] (%s): reply is not younger than its parent", i, p.Key)
		}
	}
	return doc.Posts, nil
}

// ForPlatform returns the posts of one platform, in feed order.
func ForPlatform(posts []Post, p tanggap.Platform) []Post {
	var out []Post
	for _, x := range posts {
		if x.Platform == p {
			out = append(out, x)
		}
	}
	return out
}
