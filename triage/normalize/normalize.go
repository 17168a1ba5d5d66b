// Package normalize turns an informal Indonesian social-media post into
// tokens a classifier can count: lower case, URLs, e-mails, phone numbers,
// NIKs and long numbers masked, elongations collapsed (bangeeet -> banget),
// reduplications expanded (anak2 -> anak anak), emojis mapped to a few
// meaningful classes, @mentions and #hashtags kept aside, and slang mapped
// to formal words through the table in slang.tsv.
//
// Every function here is pure and safe for concurrent use.
package normalize

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mask tokens. Inputs that were masked upstream ("[PHONE]", "[NUM]") come
// out as the same lower-case tokens.
const (
	MaskURL     = "[url]"
	MaskEmail   = "[email]"
	MaskPhone   = "[phone]"
	MaskNIK     = "[nik]"
	MaskNum     = "[num]"
	MaskMention = "[akun]"
	MaskLaugh   = "[tawa]"
	// MaskQuestion stands for a question mark: it tells questions
	// (PERMINTAAN_INFORMASI) from complaints.
	MaskQuestion = "[tanya]"
)

// Emoji classes (tokens).
const (
	EmojiPositive = "[emo_pos]"
	EmojiNegative = "[emo_neg]"
	EmojiPray     = "[emo_mohon]"
	EmojiLaugh    = "[emo_tawa]"
	EmojiMoney    = "[emo_uang]"
	EmojiAlarm    = "[emo_darurat]"
)

// Doc is a normalised text.
type Doc struct {
	// Words are the lower-cased tokens before slang mapping (masks and emoji
	// classes included). Place extraction reads these: slang mapping must
	// not touch names.
	Words []string
	// Tokens are Words with slang mapped to formal words; one slang word may
	// become several tokens (gpp -> tidak apa apa).
	Tokens []string
	// Mentions are the @handles, lower case, without the @.
	Mentions []string
	// Hashtags are the #tags, lower case, without the #.
	Hashtags []string
}

//go:embed slang.tsv
var slangTSV string

// Normalizer holds the slang table. Build it once with New and share it.
type Normalizer struct {
	slang map[string][]string
}

// New parses the embedded slang table.
func New() (*Normalizer, error) {
	m, err := ParseSlang(strings.NewReader(slangTSV))
	if err != nil {
		return nil, fmt.Errorf("normalize: embedded slang.tsv: %w", err)
	}
	return &Normalizer{slang: m}, nil
}

// ParseSlang reads a slang table: one "slang<TAB>formal words" pair per
// line, '#' starts a comment line.
func ParseSlang(r io.Reader) (map[string][]string, error) {
	m := make(map[string][]string, 1024)
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "\t")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("line %d: want slang<TAB>formal", n)
		}
		m[k] = strings.Fields(v)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

// Slang returns the formal words of one slang word, if the table has it.
func (n *Normalizer) Slang(w string) ([]string, bool) {
	f, ok := n.slang[w]
	return f, ok
}

// Len is the number of slang pairs.
func (n *Normalizer) Len() int { return len(n.slang) }

// Normalize normalises one text.
func (n *Normalizer) Normalize(text string) Doc {
	var d Doc
	d.Words = Words(text, &d.Mentions, &d.Hashtags)
	d.Tokens = n.Formal(d.Words)
	return d
}

// NormalizeInto is Normalize into d, reusing the memory of d's slices: a
// caller that normalises texts one after another allocates only for the
// lower-cased text. Whatever d held before is overwritten.
func (n *Normalizer) NormalizeInto(text string, d *Doc) {
	d.Mentions, d.Hashtags = d.Mentions[:0], d.Hashtags[:0]
	d.Words = AppendWords(d.Words[:0], text, &d.Mentions, &d.Hashtags)
	d.Tokens = n.AppendFormal(d.Tokens[:0], d.Words)
}

// Formal maps slang words to formal words. The result shares no memory
// with words that it would modify.
func (n *Normalizer) Formal(words []string) []string {
	return n.AppendFormal(make([]string, 0, len(words)+len(words)/8), words)
}

// AppendFormal appends the formal words of words to dst.
func (n *Normalizer) AppendFormal(dst, words []string) []string {
	for _, w := range words {
		if f, ok := n.slang[w]; ok {
			dst = append(dst, f...)
			continue
		}
		dst = append(dst, w)
	}
	return dst
}

// Words tokenises text without slang mapping. Mentions and hashtags are
// appended to the given slices when they are not nil.
func Words(text string, mentions, hashtags *[]string) []string {
	return AppendWords(make([]string, 0, len(text)/5+1), text, mentions, hashtags)
}

// AppendWords is Words appending to words.
func AppendWords(words []string, text string, mentions, hashtags *[]string) []string {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, " ")
	}
	s := strings.ToLower(text)
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 'h' && (strings.HasPrefix(s[i:], "http://") || strings.HasPrefix(s[i:], "https://")),
			r == 'w' && strings.HasPrefix(s[i:], "www.") && (i == 0 || !isWordByte(s[i-1])):
			i = skipNonSpace(s, i)
			words = append(words, MaskURL)
		case r == '@':
			j := i + 1
			for j < len(s) && isHandleByte(s[j]) {
				j++
			}
			h := strings.TrimRight(s[i+1:j], ".")
			if h != "" {
				if mentions != nil {
					*mentions = appendUnique(*mentions, h)
				}
				words = append(words, MaskMention)
				i += 1 + len(h)
			} else {
				i++
			}
		case r == '#':
			j := i + 1
			for j < len(s) && (isWordByte(s[j]) || s[j] == '_') {
				j++
			}
			if j > i+1 {
				tag := s[i+1 : j]
				if hashtags != nil {
					*hashtags = appendUnique(*hashtags, tag)
				}
				words = appendWord(words, strings.ReplaceAll(tag, "_", " "))
			}
			i = j
		case r == '[':
			// An upstream mask such as [PHONE] or [NUM].
			j := i + 1
			for j < len(s) && j-i < 12 && s[j] >= 'a' && s[j] <= 'z' {
				j++
			}
			if j < len(s) && s[j] == ']' && j > i+1 {
				words = append(words, s[i:j+1])
				i = j + 1
			} else {
				i++
			}
		case r < utf8.RuneSelf && isDigit(byte(r)) || (r == '+' && i+1 < len(s) && isDigit(s[i+1])):
			j, digits := scanNumber(s, i)
			if j < len(s) && isLetter(s[j]) && isDigit(s[i]) && j-i == digits {
				// Mixed token such as 3kg or 2x: one word.
				j = scanWordEnd(s, i)
				words = appendWord(words, s[i:j])
			} else {
				words = append(words, numberToken(s[i:j], digits))
			}
			i = max(j, i+1)
		case unicode.IsLetter(r):
			j := scanWordEnd(s, i)
			if j < len(s) && s[j] == '@' && strings.IndexByte(s[j:skipNonSpace(s, j)], '.') > 0 {
				// local@domain.tld
				i = skipNonSpace(s, j)
				words = append(words, MaskEmail)
				continue
			}
			words = appendWord(words, s[i:j])
			i = j
		case r == '?':
			if len(words) == 0 || words[len(words)-1] != MaskQuestion {
				words = append(words, MaskQuestion)
			}
			i++
		default:
			if e := emojiClass(r); e != "" {
				if len(words) == 0 || words[len(words)-1] != e {
					words = append(words, e)
				}
			}
			i += size
		}
	}
	return words
}

func appendUnique(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

// appendWord adds one alphanumeric word after collapsing elongations and
// expanding a trailing reduplication digit (anak2 -> anak anak).
func appendWord(words []string, w string) []string {
	if strings.IndexByte(w, ' ') >= 0 {
		for _, f := range strings.Fields(w) {
			words = appendWord(words, f)
		}
		return words
	}
	if len(w) > 2 && w[len(w)-1] == '2' && isLetter(w[len(w)-2]) {
		base := Collapse(w[:len(w)-1])
		return append(words, base, base)
	}
	w = Collapse(w)
	if isLaugh(w) {
		if len(words) == 0 || words[len(words)-1] != MaskLaugh {
			words = append(words, MaskLaugh)
		}
		return words
	}
	return append(words, w)
}

// isDouble lists words whose genuine double letter must survive
// elongation collapsing (maaaaf -> maaf, not maf).
func isDouble(w string) bool {
	switch w {
	case "maaf", "saat", "taat", "jumaat", "manfaat", "allah", "alloh", "keempat",
		"seenaknya", "seenak", "google", "good", "free", "mall", "sooo":
		return true
	}
	return false
}

// Collapse shortens runs of three or more identical letters: bangeeet ->
// banget, tolooong -> tolong, maaaaf -> maaf. Runs of two are kept.
func Collapse(w string) string {
	long := false
	for i := 2; i < len(w); i++ {
		if w[i] == w[i-1] && w[i] == w[i-2] {
			long = true
			break
		}
	}
	if !long {
		return w
	}
	if two := collapseRuns(w, 2); isDouble(two) {
		return two
	}
	return collapseRuns(w, 1)
}

// collapseRuns writes every run of three or more identical bytes as keep
// bytes. Only ASCII letters are collapsed, so UTF-8 stays valid.
func collapseRuns(w string, keep int) string {
	var b strings.Builder
	b.Grow(len(w))
	for i := 0; i < len(w); {
		j := i + 1
		for j < len(w) && w[j] == w[i] {
			j++
		}
		n := j - i
		if n >= 3 && w[i] < utf8.RuneSelf {
			n = keep
		}
		for k := 0; k < n; k++ {
			b.WriteByte(w[i])
		}
		i = j
	}
	return b.String()
}

func isLaugh(w string) bool {
	if len(w) < 4 {
		return false
	}
	switch w[:2] {
	case "ha", "he", "hi", "wk", "kw":
	default:
		return false
	}
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case 'h', 'a', 'e', 'i', 'w', 'k':
		default:
			return false
		}
	}
	return true
}

func numberToken(num string, digits int) string {
	d := make([]byte, 0, len(num))
	for i := 0; i < len(num); i++ {
		if isDigit(num[i]) {
			d = append(d, num[i])
		}
	}
	raw := string(d)
	switch {
	case digits >= 10 && digits <= 14 && (strings.HasPrefix(raw, "08") || strings.HasPrefix(raw, "628") || strings.HasPrefix(raw, "021")):
		return MaskPhone
	case digits == 16 && !strings.ContainsAny(num, ".,"):
		return MaskNIK
	case digits >= 5:
		return MaskNum
	}
	// 3,5 or 08.30: the digits only.
	return raw
}

// scanNumber reads digits with inner '.', ',', '-' or ' ' separators that
// are followed by digits (1.000.000, 0812-3456-7890, +62 812 3456 7890).
func scanNumber(s string, i int) (end, digits int) {
	j := i
	if s[j] == '+' {
		j++
	}
	for j < len(s) {
		c := s[j]
		if isDigit(c) {
			digits++
			j++
			continue
		}
		if (c == '.' || c == ',' || c == '-' || c == ' ') && j+1 < len(s) && isDigit(s[j+1]) {
			// A space joins digit groups only inside phone-like runs
			// (+62 812 ..., 0812 3456 ...).
			if c == ' ' && digits < 3 && s[i] != '+' {
				break
			}
			j++
			continue
		}
		break
	}
	return j, digits
}

func scanWordEnd(s string, i int) int {
	j := i
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			j += size
			continue
		}
		// Apostrophes inside words (moe'min, jum'at) are dropped later by
		// the feature extractor; keep the word whole here.
		if (r == '\'' || r == '’') && j+size < len(s) && isLetter(s[j+size]) && j > i {
			j += size
			continue
		}
		break
	}
	return j
}

func skipNonSpace(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			break
		}
		i += size
	}
	return i
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' }
func isWordByte(c byte) bool {
	return isLetter(c) || isDigit(c)
}
func isHandleByte(c byte) bool { return isWordByte(c) || c == '_' || c == '.' }

// emojiClass maps the emojis that carry meaning for triage to a class.
func emojiClass(r rune) string {
	switch r {
	case '👍', '👏', '❤', '♥', '😍', '🥰', '🙌', '💯', '✨', '😊', '☺', '🤩', '💪', '🫶', '💖', '💕', '😘', '🌹':
		return EmojiPositive
	case '😡', '😠', '🤬', '😤', '👎', '💩', '😭', '😢', '😩', '😞', '😔', '🙄', '😒', '😫', '🥵', '😓', '😥', '☹':
		return EmojiNegative
	case '🙏':
		return EmojiPray
	case '😂', '🤣', '😆', '😅', '😁', '😄', '😜':
		return EmojiLaugh
	case '🎰', '💰', '💸', '🤑', '💵', '💎', '🎲', '🃏':
		return EmojiMoney
	case '🔥', '🚨', '⚠', '🆘', '🚒', '🚑', '🌊', '💥':
		return EmojiAlarm
	}
	return ""
}

// Join is the normalised text as one string of formal tokens.
func (d Doc) Join() string { return strings.Join(d.Tokens, " ") }
