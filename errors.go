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

// Error is Tanggap's one error type.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapCode wraps err with a code and a message.
func WrapCode(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
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
