package report

import (
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The functions below are the register's text functions as they were
// before their fast paths: the reference of TestTextFastPaths.

func maskRef(s string) string {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return ""
	case n <= 4:
		r, _ := utf8.DecodeRuneInString(s)
		return string(r) + "***"
	}
	rs := []rune(s)
	return string(rs[:2]) + "***" + string(rs[n-2:])
}
func summaryRef(s string) string {
	s = strings.Join(strings.Fields(cleanRef(s)), " ")
	if utf8.RuneCountInString(s) <= SummaryRunes {
		return s
	}
	rs := []rune(s)[:SummaryRunes]
	return strings.TrimRight(string(rs), " ") + "…"
}
func cleanRef(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, s)
	}
	return strings.TrimSpace(s)
}
func safeURLRef(s string) string {
	s = cleanRef(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return s
}

// The fast paths of Summary, clean, Mask and safeURL give what the plain
// functions give, for random texts over an alphabet of the characters each
// rule is about and for hand-picked links.
func TestTextFastPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	alphabet := []string{"a", "Z", "0", " ", " ", "  ", ".", "-", "/", ":", "%", "?", "#", "@", "_", "~", "\t", "\n", "\r", "\x00", "\x7f",
		"\u0085", "\u00a0", "\u2003", "é", "😀", "\xff", "\xe2\x82", "…", "https://", "http://", "HTTPS://", "[", "]", "=", "+"}
	gen := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	check := func(s string) {
		t.Helper()
		if got, want := Summary(s), summaryRef(s); got != want {
			t.Fatalf("Summary(%q) = %q, want %q", s, got, want)
		}
		if got, want := clean(s), cleanRef(s); got != want {
			t.Fatalf("clean(%q) = %q, want %q", s, got, want)
		}
		if got, want := Mask(s), maskRef(s); got != want {
			t.Fatalf("Mask(%q) = %q, want %q", s, got, want)
		}
		if got, want := safeURL(s), safeURLRef(s); got != want {
			t.Fatalf("safeURL(%q) = %q, want %q", s, got, want)
		}
	}
	for range 200_000 {
		check(gen(rng.IntN(12)))
	}
	words := []string{"jalan", "rusak", "di", "Bekasi", "mohon", "😀", "é", " "}
	for range 20_000 { // texts around the summary's length
		var b strings.Builder
		for b.Len() < 100+rng.IntN(60) {
			b.WriteString(words[rng.IntN(len(words))])
			if rng.IntN(4) > 0 {
				b.WriteByte(' ')
			}
		}
		check(b.String())
		check(strings.TrimSpace(b.String()))
	}
	for _, s := range []string{"https://example.org", "https://example.org/", "http://a", "https://a:", "https://a:8080/x", "https://a:99999999/x",
		"https://a:0", "https://-./", "https://a.b/p;q=1,2/(x)!$&'*+~@:", "https://a.b/%41", "https://a.b/%zz", "https://a.b/%", "https://a.b/?q", "https://a.b#f", "https://:80",
		"https://user@host/", "https://[::1]/", "https:///path", "https://a b", "ftp://a/", "https:/a", "https://a/b c", "https://éx.org/",
		"http://x.com/warga1/status/123", "https://example.org/instagram/1046825"} {
		check(s)
	}
}
