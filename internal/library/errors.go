package library

import (
	"errors"
	"fmt"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// Error kinds. An error the Service returns is a *Error matching exactly
// one of them with errors.Is, so the web layer can pick a status:
// ErrNotFound 404, ErrLocked 423 (with the run id), ErrConflict 409,
// ErrInvalid 400, ErrStorage 502 (503 when storage.IsRetryable),
// ErrDeferred 202, ErrTooLarge 413. Anything else is an unexpected failure of the catalog
// database (500).
var (
	// ErrNotFound: the asset or folder (or the destination folder) does not
	// exist in this account's library.
	ErrNotFound = errors.New("not found")
	// ErrLocked: a sync holds the library; nothing was changed. The Error
	// carries the run id, and errors.As finds the *catalog.LockedError.
	ErrLocked = errors.New("the library is locked while a sync runs")
	// ErrConflict: the destination name is taken in the target folder (in
	// the storage or in the library), or another change of the same name or
	// folder is in progress (in any process).
	ErrConflict = errors.New("name already taken")
	// ErrInvalid: a name or request the library refuses (empty name, slash,
	// control characters, a folder moved into itself, ...).
	ErrInvalid = errors.New("invalid request")
	// ErrStorage: the storage failed or refused the write; the message says
	// what it answered. Retryable failures also match storage.ErrRetryable.
	ErrStorage = errors.New("storage failure")
	// ErrDeferred: the change was written to the storage, but a sync took
	// the library before the catalog could record it (or the write outlived
	// its reservation). Nothing is lost: the sync brings the change into the
	// library. The Error carries the run id when a sync holds the lock.
	ErrDeferred = errors.New("written to storage; the library shows it after the running sync")
	// ErrTooLarge: a download of many files (a zip) over the server's
	// limits on files or bytes; nothing was sent.
	ErrTooLarge = errors.New("too large")
)

// Error is a library failure: its Kind (one of the Err* above), a message
// for the user that says what went wrong and what to do, the running
// sync's id where one is involved, and the cause.
type Error struct {
	Kind    error
	Message string
	RunID   int64
	Err     error
}

func (e *Error) Error() string { return e.Message }

// Unwrap exposes the kind and the cause to errors.Is / errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// RunID returns the sync run that locked the library (or deferred the
// change) according to err, if any.
func RunID(err error) (int64, bool) {
	var le *Error
	if errors.As(err, &le) && le.RunID != 0 {
		return le.RunID, true
	}
	var ce *catalog.LockedError
	if errors.As(err, &ce) {
		return ce.RunID, true
	}
	return 0, false
}

func newError(kind error, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...), Err: cause}
}

// fromCatalog classifies an error of a catalog call made before anything
// was written to the storage. what names the object ("asset 12").
func fromCatalog(err error, what string) error {
	var (
		locked *catalog.LockedError
		busy   *catalog.PathBusyError
		many   *catalog.TooManyTagsError
	)
	switch {
	case errors.As(err, &many):
		return newError(ErrInvalid, err, "%s would have %d tags; the limit is %d. Remove some tags first; nothing was changed.", what, many.Count, many.Max)
	case errors.As(err, &busy):
		return newError(ErrConflict, err, "Another change of %q (%s) is in progress in this library; nothing was changed. Try again when it is done.",
			busy.Path, opName(busy.Op))
	case errors.As(err, &locked):
		return &Error{Kind: ErrLocked, RunID: locked.RunID, Err: err,
			Message: fmt.Sprintf("The library is locked while sync run %d is in progress; nothing was changed. Try again when it completes.", locked.RunID)}
	case errors.Is(err, catalog.ErrNotFound):
		return newError(ErrNotFound, err, "%s was not found in this library; it may have been removed by a sync. Reload the page.", what)
	case errors.Is(err, catalog.ErrConflict):
		return newError(ErrConflict, err, "%s conflicts with an item already in the library; choose another name.", what)
	}
	return fmt.Errorf("library catalog failure on %s: %w", what, err)
}

// afterStorage classifies an error of the catalog commit that follows a
// successful storage write: the storage holds the change, so a refusal
// because of a sync is ErrDeferred, not ErrLocked.
func afterStorage(err error, what string) error {
	var locked *catalog.LockedError
	switch {
	case errors.As(err, &locked):
		return &Error{Kind: ErrDeferred, RunID: locked.RunID, Err: err,
			Message: fmt.Sprintf("%s was changed in the storage, but sync run %d started meanwhile; the library shows the change when that sync completes.", what, locked.RunID)}
	case errors.Is(err, catalog.ErrIntentExpired):
		return newError(ErrDeferred, err, "%s was changed in the storage, but the write took so long that the next sync will bring the change into the library.", what)
	case errors.Is(err, catalog.ErrMoveUnfinished):
		return newError(ErrDeferred, err, "%s was moved, but updating the paths of the items inside it stopped part-way; the next change or sync of this library finishes it.", what)
	}
	return fromCatalog(err, what)
}

// fromStorage classifies a connector failure.
func fromStorage(err error, what string) error {
	switch {
	case errors.Is(err, storage.ErrExists):
		return newError(ErrConflict, err, "%s: an item of that name already exists in the storage; choose another name.", what)
	case errors.Is(err, storage.ErrInvalidPath):
		return newError(ErrInvalid, err, "%s: the storage refused the name or path (%v).", what, err)
	case errors.Is(err, storage.ErrNotFound):
		return newError(ErrNotFound, err, "%s is no longer in the storage; the next sync removes it from the library.", what)
	case errors.Is(err, storage.ErrAuth):
		return newError(ErrStorage, err, "%s: the storage rejected Shelf's credentials (%v); an admin must reconnect storage in Settings → Storage.", what, err)
	case errors.Is(err, storage.ErrPermission):
		return newError(ErrStorage, err, "%s: the storage does not allow this change (%v); check the permissions of the connected folder or bucket.", what, err)
	case storage.IsRetryable(err):
		return newError(ErrStorage, err, "%s: the storage is temporarily unavailable (%v); try again in a moment.", what, err)
	}
	return newError(ErrStorage, err, "%s: the storage failed (%v).", what, err)
}

// opName says in words what a write intent's op does.
func opName(op string) string {
	switch op {
	case "upload":
		return "an upload"
	case "move_asset":
		return "a rename or move of a file"
	case "delete_asset":
		return "a file being deleted"
	case "create_folder":
		return "a new folder"
	case "move_folder":
		return "a rename or move of a folder"
	case "delete_folder":
		return "a folder being deleted"
	}
	return op
}
