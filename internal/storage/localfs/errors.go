package localfs

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"syscall"

	"github.com/shelf-dam/shelf/internal/storage"
)

// classify wraps a file-system error with its storage class.
func classify(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var ce *storage.ClassError
	switch {
	case errors.As(err, &ce):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return storage.Classify(storage.ErrNotFound, op, path, err)
	case errors.Is(err, fs.ErrExist), errors.Is(err, syscall.ENOTEMPTY):
		return storage.Classify(storage.ErrExists, op, path, err)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return storage.Classify(storage.ErrPermission, op, path, err)
	case isEscape(err):
		return storage.Classify(storage.ErrInvalidPath, op, path,
			errors.New("a symbolic link on the path leads outside the connected folder"))
	case errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.EILSEQ):
		return storage.Classify(storage.ErrInvalidPath, op, path, err)
	case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR), errors.Is(err, syscall.EBUSY):
		return storage.Classify(storage.ErrRetryable, op, path, err)
	default:
		return storage.Classify(storage.ErrFatal, op, path, err)
	}
}

// isEscape reports whether err is os.Root refusing a path that leaves the
// root (through ".." or a symbolic link). The os package does not export
// that error, so its fixed message is matched.
func isEscape(err error) bool {
	return strings.Contains(err.Error(), "path escapes from parent")
}
