package incidents

import (
	"errors"
	"fmt"
)

// Error codes. The receiver maps each to one HTTP status, in one place.
const (
	EINVALID     = "invalid"     // the input cannot be used as it is
	ENOTFOUND    = "not_found"   // no such incident or integration
	ECONFLICT    = "conflict"    // the incident is resolved; nothing can change it
	EUNAVAILABLE = "unavailable" // storage cannot take writes now (disk full, read-only)
	EINTERNAL    = "internal"    // anything else
)

// Error is a domain error with a code and a sentence a person can act on.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf makes an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EINTERNAL for errors that are not *Error.
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

// ErrorMessage returns the person-readable message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error: " + err.Error()
}
