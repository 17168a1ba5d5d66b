package wire

import (
	"encoding/json"
	"testing"
)

func TestText(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		invalid bool
	}{
		{`"halo"`, "halo", false},
		{`"emoji \ud83d\ude4f"`, "emoji 🙏", false},
		{`"cut \ud83d"`, "cut \uFFFD", true},
		{`"low \ude4f first"`, "low \uFFFD first", true},
		{`"escaped backslash \\ud83d is text"`, `escaped backslash \ud83d is text`, false},
		{"\"raw \xff bytes\"", "raw \uFFFD bytes", true},
		{`null`, "", false},
	} {
		var got Text
		if err := json.Unmarshal([]byte(tc.in), &got); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got.S != tc.want || got.Invalid != tc.invalid {
			t.Errorf("%s = %q invalid=%v, want %q invalid=%v", tc.in, got.S, got.Invalid, tc.want, tc.invalid)
		}
	}
}

func TestSeenPrune(t *testing.T) {
	var s Seen
	for i := int64(1); i <= 10; i++ {
		s.Put(Entry{ID: string(rune('a' + i)), At: i * 100})
	}
	s.Prune(300, 5) // drops At < 300 (1,2) and beyond the 5 newest (3,4,5)
	if len(s.Entries) != 5 || s.Floor != 500 || s.Watermark != 1000 {
		t.Fatalf("entries %d floor %d watermark %d", len(s.Entries), s.Floor, s.Watermark)
	}
	if _, ok := s.Get(string(rune('a' + 6))); !ok {
		t.Error("entry at 600 forgotten")
	}
	if _, ok := s.Get(string(rune('a' + 5))); ok {
		t.Error("entry at 500 kept")
	}
}

// FuzzDecodeText: HasLoneSurrogate never panics and Text agrees with
// encoding/json on the string.
func FuzzDecodeText(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = HasLoneSurrogate(data)
		var s string
		var txt Text
		e1 := json.Unmarshal(data, &s)
		e2 := json.Unmarshal(data, &txt)
		if (e1 == nil) != (e2 == nil) || (e1 == nil && s != txt.S && string(data) != "null") {
			t.Fatalf("Text disagrees with encoding/json on %q", data)
		}
	})
}
