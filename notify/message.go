package notify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
)

// Channel delivers a notification. Implementations must honour ctx and
// must not retry on their own: the digest decides when to try again.
type Channel interface {
	Send(ctx context.Context, m Message) error
}

// Address is an e-mail address and the name shown with it.
type Address struct {
	Name  string `yaml:"name" json:"name"`
	Email string `yaml:"email" json:"email"`
}

// Message is one notification, independent of the channel.
type Message struct {
	// ID identifies the notification (for example "digest-dlh-2026-07-08").
	// SMTP derives the Message-ID from it, so that a mail client can fold a
	// duplicate. Only letters, digits, '.', '_' and '-' are kept.
	ID      string
	To      []Address
	Subject string // one line; sanitised again by the channel
	Text    string // plain text, lines separated by "\n"
	HTML    string // optional HTML alternative, already escaped
}

// maxNameRunes bounds a display name in a header.
const maxNameRunes = 100

// CheckAddress validates an address for use in a header and an SMTP
// envelope and returns it normalised: the e-mail trimmed, the name reduced
// to one line without control characters. Only plain addresses are
// accepted (local@domain in printable ASCII, no display-name syntax, no
// quoting), so that nothing can break out of a header or an SMTP command.
func CheckAddress(a Address) (Address, error) {
	e := strings.TrimSpace(a.Email)
	if e == "" {
		return Address{}, errors.New("e-mail address is empty")
	}
	if len(e) > 254 {
		return Address{}, errors.New("e-mail address is longer than 254 bytes")
	}
	for _, r := range e {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`<>()[],;:\"`, r) {
			return Address{}, fmt.Errorf("e-mail address %q: only plain ASCII local@domain addresses are accepted", e)
		}
	}
	p, err := mail.ParseAddress(e)
	if err != nil || p.Address != e || strings.Count(e, "@") != 1 || strings.HasSuffix(e, "@") {
		return Address{}, fmt.Errorf("e-mail address %q is not valid", e)
	}
	return Address{Name: OneLine(a.Name, maxNameRunes), Email: e}, nil
}

// OneLine makes untrusted text safe for a single line of plain text or a
// header: invalid UTF-8 is replaced, control characters, line and paragraph
// separators and other white space become one space, invisible format
// characters (bidi overrides, zero-width) are dropped, and the result is
// trimmed and cut to at most max runes, ending in "…" when cut (max <= 0:
// no limit).
func OneLine(s string, max int) string {
	n := len(s)
	if max > 0 {
		n = min(n, max+2)
	}
	out := make([]rune, 0, n)
	space := false
	for _, r := range s { // invalid UTF-8 arrives as U+FFFD
		switch {
		case unicode.IsControl(r) || unicode.IsSpace(r) || unicode.In(r, unicode.Zl, unicode.Zp):
			space = len(out) > 0
			continue
		case unicode.Is(unicode.Cf, r):
			continue
		}
		if space {
			out = append(out, ' ')
			space = false
		}
		out = append(out, r)
		if max > 0 && len(out) > max {
			out = out[:max-1]
			for len(out) > 0 && out[len(out)-1] == ' ' {
				out = out[:len(out)-1]
			}
			return string(append(out, '…'))
		}
	}
	return string(out)
}
