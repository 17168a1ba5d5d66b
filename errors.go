package tanggap

import (
	"errors"
	"fmt"
)

// Error codes. HTTP statuses and retry-or-dead-letter decisions are mapped
// from these in exactly one place each (web and triage).
const (
	EINVALID      = "invalid" // bad input: never retry
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"     // stale version, lease held, forbidden transition
	EUNAUTHORIZED = "unauthorized" // not logged in
	EFORBIDDEN    = "forbidden"    // logged in, not allowed
	EUNAVAILABLE  = "unavailable"  // a dependency is down: retry
	ERATELIMIT    = "rate_limited" // back off until the window reopens
	EAUTH         = "auth_expired" // platform token expired or revoked
	EINTERNAL     = "internal"
)

// Error is Tanggap's one error type. Message is in English (logs, the API,
// the command line); the format and arguments it was built from are kept so
// that a page can say the same in its reader's language (In).
type Error struct {
	Code    string
	Message string
	Err     error
	format  string
	args    []any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a code. A Status among args is written as its
// label: in English here, in the reader's language by In.
func Errorf(code, format string, args ...any) *Error {
	e := &Error{Code: code, format: format, args: args}
	if labelled := argsIn(args, "en"); labelled != nil {
		e.Message = fmt.Sprintf(format, labelled...)
	} else {
		e.Message = fmt.Sprintf(format, args...) // also what lets go vet check every caller's format
	}
	return e
}

// WrapCode wraps err with a code and a message (as Errorf).
func WrapCode(code string, err error, format string, args ...any) *Error {
	e := Errorf(code, format, args...)
	e.Err = err
	return e
}

// In returns the message (without the wrapped error's) in lang. tr gives a
// format's translation into lang, with the same arguments (fmt verbs,
// indexed when the sentence needs another order), or "" when it has none:
// then the message stays in English.
func (e *Error) In(lang string, tr func(format string) string) string {
	if e.format == "" || tr == nil {
		return e.Message
	}
	f := tr(e.format)
	if f == "" {
		return e.Message
	}
	if labelled := argsIn(e.args, lang); labelled != nil {
		return fmt.Sprintf(f, labelled...)
	}
	return fmt.Sprintf(f, e.args...)
}

// argsIn returns args with each Status written as its label in lang, or
// nil when there is none.
func argsIn(args []any, lang string) []any {
	var out []any
	for i, a := range args {
		if st, ok := a.(Status); ok {
			if out == nil {
				out = append([]any(nil), args...)
			}
			out[i] = st.Label(lang)
		}
	}
	return out
}

// ErrorCode returns the code of the first *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}
