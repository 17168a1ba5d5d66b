package xfake

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The v1.1 tweet object, as X documents it (data dictionary, "Tweet object"
// and "User object"), with the fields a timeline answer carries. Absent
// reply fields are null, as on X.

type tweetJSON struct {
	CreatedAt            string   `json:"created_at"`
	ID                   int64    `json:"id"`
	IDStr                string   `json:"id_str"`
	FullText             *string  `json:"full_text,omitempty"`
	Text                 *string  `json:"text,omitempty"`
	Truncated            bool     `json:"truncated"`
	DisplayTextRange     *[2]int  `json:"display_text_range,omitempty"`
	Entities             entities `json:"entities"`
	Source               string   `json:"source"`
	InReplyToStatusID    *int64   `json:"in_reply_to_status_id"`
	InReplyToStatusIDStr *string  `json:"in_reply_to_status_id_str"`
	InReplyToUserID      *int64   `json:"in_reply_to_user_id"`
	InReplyToUserIDStr   *string  `json:"in_reply_to_user_id_str"`
	InReplyToScreenName  *string  `json:"in_reply_to_screen_name"`
	User                 userJSON `json:"user"`
	Geo                  any      `json:"geo"`
	Coordinates          any      `json:"coordinates"`
	Place                any      `json:"place"`
	Contributors         any      `json:"contributors"`
	IsQuoteStatus        bool     `json:"is_quote_status"`
	RetweetCount         int      `json:"retweet_count"`
	FavoriteCount        int      `json:"favorite_count"`
	Favorited            bool     `json:"favorited"`
	Retweeted            bool     `json:"retweeted"`
	Lang                 string   `json:"lang"`
}

type entities struct {
	Hashtags     []hashtag `json:"hashtags"`
	Symbols      []any     `json:"symbols"`
	UserMentions []mention `json:"user_mentions"`
	URLs         []any     `json:"urls"`
}

type hashtag struct {
	Text    string `json:"text"`
	Indices [2]int `json:"indices"`
}

type mention struct {
	ScreenName string `json:"screen_name"`
	Name       string `json:"name"`
	ID         int64  `json:"id"`
	IDStr      string `json:"id_str"`
	Indices    [2]int `json:"indices"`
}

type userJSON struct {
	ID                   int64   `json:"id"`
	IDStr                string  `json:"id_str"`
	Name                 string  `json:"name"`
	ScreenName           string  `json:"screen_name"`
	Location             string  `json:"location"`
	Description          string  `json:"description"`
	URL                  *string `json:"url"`
	Protected            bool    `json:"protected"`
	FollowersCount       int     `json:"followers_count"`
	FriendsCount         int     `json:"friends_count"`
	ListedCount          int     `json:"listed_count"`
	CreatedAt            string  `json:"created_at"`
	FavouritesCount      int     `json:"favourites_count"`
	UTCOffset            any     `json:"utc_offset"`
	TimeZone             any     `json:"time_zone"`
	GeoEnabled           bool    `json:"geo_enabled"`
	Verified             bool    `json:"verified"`
	StatusesCount        int     `json:"statuses_count"`
	Lang                 any     `json:"lang"`
	ProfileImageURLHTTPS string  `json:"profile_image_url_https"`
	DefaultProfile       bool    `json:"default_profile"`
	Following            any     `json:"following"`
	Notifications        any     `json:"notifications"`
}

// rubyDate is the created_at format of v1.1.
const rubyDate = "Mon Jan 02 15:04:05 -0700 2006"

var hashtagRE = regexp.MustCompile(`#([\p{L}\p{N}_]+)`)

// runeIndex converts a byte offset of s to a code point offset.
func runeIndex(s string, byteOff int) int { return utf8.RuneCountInString(s[:byteOff]) }

func (s *Server) render(st stored, text string, extended bool) tweetJSON {
	id := st.id
	t := tweetJSON{
		CreatedAt: st.CreatedAt.UTC().Format(rubyDate),
		ID:        id,
		IDStr:     strconv.FormatInt(id, 10),
		Source:    `<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>`,
		User:      s.renderUser(st.User),
		Lang:      "in",
		Entities:  entities{Hashtags: []hashtag{}, Symbols: []any{}, UserMentions: []mention{}, URLs: []any{}},
	}
	if extended {
		t.FullText = &text
		r := [2]int{0, utf8.RuneCountInString(text)}
		// A reply's leading @mention of the parent's author is outside the displayed text.
		if st.InReplyToUser.ScreenName != "" {
			prefix := "@" + st.InReplyToUser.ScreenName + " "
			if strings.HasPrefix(strings.ToLower(text), strings.ToLower(prefix)) {
				r[0] = utf8.RuneCountInString(prefix)
			}
		}
		t.DisplayTextRange = &r
	} else {
		// Compatibility mode: 140 characters at most, flagged truncated.
		if utf8.RuneCountInString(text) > 140 {
			runes := []rune(text)
			text = string(runes[:139]) + "…"
			t.Truncated = true
		}
		t.Text = &text
	}
	for _, m := range mentionRE.FindAllStringSubmatchIndex(text, -1) {
		u := s.users[strings.ToLower(text[m[2]:m[3]])]
		if u.ScreenName == "" {
			u = User{ID: UserID(text[m[2]:m[3]]), ScreenName: text[m[2]:m[3]], Name: text[m[2]:m[3]]}
		}
		uid, _ := strconv.ParseInt(u.ID, 10, 64)
		t.Entities.UserMentions = append(t.Entities.UserMentions, mention{
			ScreenName: u.ScreenName, Name: u.Name, ID: uid, IDStr: u.ID,
			Indices: [2]int{runeIndex(text, m[0]), runeIndex(text, m[1])},
		})
	}
	for _, m := range hashtagRE.FindAllStringSubmatchIndex(text, -1) {
		t.Entities.Hashtags = append(t.Entities.Hashtags, hashtag{
			Text: text[m[2]:m[3]], Indices: [2]int{runeIndex(text, m[0]), runeIndex(text, m[1])},
		})
	}
	if st.InReplyTo != "" {
		pid, _ := strconv.ParseInt(st.InReplyTo, 10, 64)
		pidStr := st.InReplyTo
		t.InReplyToStatusID, t.InReplyToStatusIDStr = &pid, &pidStr
		if st.InReplyToUser.ScreenName != "" {
			uid, _ := strconv.ParseInt(st.InReplyToUser.ID, 10, 64)
			uidStr, name := st.InReplyToUser.ID, st.InReplyToUser.ScreenName
			t.InReplyToUserID, t.InReplyToUserIDStr, t.InReplyToScreenName = &uid, &uidStr, &name
		}
	}
	return t
}

func (s *Server) renderUser(u User) userJSON {
	uid, _ := strconv.ParseInt(u.ID, 10, 64)
	// A stable, plausible account creation date derived from the id.
	created := time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(uid%(12*365*24)) * time.Hour)
	return userJSON{
		ID: uid, IDStr: u.ID, Name: u.Name, ScreenName: u.ScreenName,
		Location: "Kota Bekasi, Jawa Barat", Description: "",
		FollowersCount: int(uid % 5000), FriendsCount: int(uid % 700), CreatedAt: created.Format(rubyDate),
		StatusesCount:        int(uid % 20000),
		ProfileImageURLHTTPS: "https://pbs.twimg.com/profile_images/" + u.ID + "/avatar_normal.jpg",
		DefaultProfile:       true,
	}
}
