package wire

import (
	"encoding/json"
	"unicode/utf8"
)

// Text is a JSON string that remembers whether the wire form was invalid
// UTF-8 (raw bytes, or a \u escape of a lone surrogate, as platforms emit
// when they cut an emoji in half). encoding/json silently turns both into
// U+FFFD; the collectors flag the post instead (Post.InvalidUTF8).
type Text struct {
	S       string
	Invalid bool
}

func (t *Text) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Text{}
		return nil
	}
	if err := json.Unmarshal(b, &t.S); err != nil {
		return err
	}
	t.Invalid = !utf8.Valid(b) || HasLoneSurrogate(b)
	return nil
}

func (t Text) MarshalJSON() ([]byte, error) { return json.Marshal(t.S) }

// HasLoneSurrogate reports whether a JSON string literal contains a \u
// escape of a surrogate that is not part of a valid pair.
func HasLoneSurrogate(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] != 'u' {
			i++ // skip the escaped character (it may be a backslash)
			continue
		}
		r, ok := hex4(b, i+2)
		if !ok {
			i++
			continue
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if i+11 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				if lo, ok := hex4(b, i+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					i += 11
					continue
				}
			}
			return true
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		}
		i += 5
	}
	return false
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
