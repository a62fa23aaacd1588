package accounts

import (
	"errors"
	"fmt"
	"time"
)

// Error kinds. An error the Service refuses a request with is an *Error
// matching exactly one of them with errors.Is, so that the web layer can
// pick a status and the command line a flag; anything else is an
// unexpected failure of the catalog database.
var (
	// ErrInvalidEmail: the email address is not one.
	ErrInvalidEmail = errors.New("invalid email address")
	// ErrMissingField: a required field is empty.
	ErrMissingField = errors.New("missing field")
	// ErrInvalidField: a field's value is refused (too long, unknown plan).
	ErrInvalidField = errors.New("invalid field")
	// ErrWeakPassword: the password breaks a password rule.
	ErrWeakPassword = errors.New("weak password")
	// ErrInvalidRole: the role is not admin, editor or viewer.
	ErrInvalidRole = errors.New("invalid role")
	// ErrEmailTaken: a user with this email exists (emails are unique
	// across accounts).
	ErrEmailTaken = errors.New("email taken")
	// ErrNotFound: the account or user does not exist (or belongs to
	// another account).
	ErrNotFound = errors.New("not found")
	// ErrLastAdmin: the change would leave the account without an admin.
	ErrLastAdmin = errors.New("last admin")
	// ErrSignupClosed: sign-up is closed on this instance (SHELF_SIGNUP).
	ErrSignupClosed = errors.New("sign-up closed")
	// ErrBadCredentials: wrong email or password.
	ErrBadCredentials = errors.New("wrong email or password")
	// ErrTooManyAttempts: too many failed sign-ins for the email or the
	// client address; Error.RetryAfter says when to try again.
	ErrTooManyAttempts = errors.New("too many failed sign-in attempts")
)

// Error is a refused request: its Kind (one of the Err* above), the field
// it concerns (as the API names it; "" for the request as a whole), a
// message for the user that says what to do, and for ErrTooManyAttempts
// how long to wait.
type Error struct {
	Kind       error
	Field      string
	Message    string
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string { return e.Message }

// Unwrap exposes the kind and the cause to errors.Is / errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func refuse(kind error, field, format string, args ...any) *Error {
	return &Error{Kind: kind, Field: field, Message: fmt.Sprintf(format, args...)}
}
