package storage

import (
	"errors"
	"fmt"
)

// Error classes. Connectors wrap their failures so that errors.Is(err,
// storage.ErrNotFound) (and the others) answers how a caller should react.
var (
	// ErrNotFound: the path or ID does not exist under the root.
	ErrNotFound = errors.New("not found in storage")
	// ErrPermission: the credentials work but may not do this (403, ACL).
	ErrPermission = errors.New("permission denied by storage")
	// ErrAuth: the credentials are wrong, revoked or expired; the
	// connection needs to be reconnected.
	ErrAuth = errors.New("storage credentials rejected")
	// ErrRetryable: a transient failure (rate limit, 5xx, network); trying
	// again later may succeed.
	ErrRetryable = errors.New("temporary storage failure")
	// ErrFatal: a permanent failure that retrying will not fix (bucket
	// gone, bad configuration, protocol violation by the server).
	ErrFatal = errors.New("storage failure")
	// ErrInvalidPath: a path or name that would escape the root or that
	// the storage cannot hold.
	ErrInvalidPath = errors.New("invalid path")
	// ErrInvalidCursor: a changes-feed cursor the storage no longer accepts.
	ErrInvalidCursor = errors.New("changes cursor is no longer valid")
	// ErrExists: the destination of a write or move already exists.
	ErrExists = errors.New("already exists in storage")
)

// ClassError is an error with a class (one of the Err* sentinels above) and
// the underlying cause.
type ClassError struct {
	Class error
	Op    string // "scan", "open", "put", ...
	Path  string
	Err   error
}

func (e *ClassError) Error() string {
	msg := e.Class.Error()
	if e.Op != "" {
		msg = e.Op + ": " + msg
	}
	if e.Path != "" {
		msg += fmt.Sprintf(" (%q)", e.Path)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap exposes both the class and the cause to errors.Is / errors.As.
func (e *ClassError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Class}
	}
	return []error{e.Class, e.Err}
}

// Classify wraps err with a class, an operation and a path.
func Classify(class error, op, path string, err error) error {
	return &ClassError{Class: class, Op: op, Path: path, Err: err}
}

// IsRetryable reports whether err is worth retrying later.
func IsRetryable(err error) bool { return errors.Is(err, ErrRetryable) }
