package xv2

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
)

func TestCompareIDs(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"9007199254740993", "9007199254740992", 1}, // equal as float64
		{"2033827062346785459", "2033827062346785459", 0},
		{"999", "1000", -1},
		{"0999", "999", 0},
		{"18446744073709551615", "18446744073709551614", 1},
		{"", "1", -1},
		{"12a", "1", -1},
		{"1", "-1", 1},
	} {
		if got := compareIDs(tc.a, tc.b); got != tc.want {
			t.Errorf("compareIDs(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if got := maxID("5", "", "x", "40", "39"); got != "40" {
		t.Errorf("maxID = %q", got)
	}
}

func TestSnowflake(t *testing.T) {
	at := time.Date(2026, 3, 17, 8, 45, 33, 0, time.UTC)
	id := SnowflakeAt(at)
	got, ok := SnowflakeTime(id)
	if !ok || !got.Equal(at) {
		t.Errorf("SnowflakeTime(SnowflakeAt(%v)) = %v %v", at, got, ok)
	}
	if _, ok := SnowflakeTime("12345"); ok {
		t.Error("a pre-snowflake id has no time")
	}
	if _, ok := SnowflakeTime("99999999999999999999"); ok {
		t.Error("an id beyond uint64 has no time")
	}
}

// FuzzDecodePage: any timeline page fails to decode or becomes sanitised
// posts whose cursor decodes again.
func FuzzDecodePage(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var pg page
		if json.Unmarshal(data, &pg) != nil {
			return
		}
		r := &run{
			p:       New(StaticToken("t")),
			acct:    config.Account{Platform: tanggap.PlatformX, Handle: "humasbekasikota"},
			c:       cursor{V: 1},
			now:     time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC),
			uid:     "1183736054563696640",
			emitted: map[string]bool{},
		}
		users := map[string]user{}
		for _, u := range pg.Includes.Users {
			users[u.ID] = u
		}
		newest := ""
		for _, tw := range pg.Data {
			if !validID(tw.ID) {
				continue
			}
			newest = maxID(newest, tw.ID)
			r.emit(r.post(tw, users, false))
		}
		for _, p := range r.posts {
			if !utf8.ValidString(p.Text) || len(p.Text) > tanggap.MaxTextBytes || p.ThreadID == "" || !validID(p.ID) {
				t.Fatalf("post %+v", p)
			}
		}
		r.c.Mentions.Since = newest
		if c := decodeCursor(r.c.encode()); c.Mentions.Since != newest || len(c.Recent) != len(r.c.Recent) {
			t.Fatal("cursor round trip")
		}
	})
}
