package localfs

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"

	"github.com/shelf-dam/shelf/internal/storage"
)

// renameAt2 renames with renameat2(RENAME_NOREPLACE): the kernel refuses
// (EEXIST) when anything is at to, in the same step as the rename. The
// folders are opened through root, so neither name can leave it; the last
// elements are plain names, which renameat2 does not follow.
func renameAt2(root *os.Root, from, to string) error {
	fromDir, err := root.Open(parentOf(from))
	if err != nil {
		return err
	}
	defer fromDir.Close()
	toDir, err := root.Open(parentOf(to))
	if err != nil {
		return err
	}
	defer toDir.Close()
	err = unix.Renameat2(int(fromDir.Fd()), storage.Base(from), int(toDir.Fd()), storage.Base(to), unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EINVAL):
		// An old kernel, or a file system that does not offer the flag.
		return errNoRenameAt2
	}
	return &os.LinkError{Op: "renameat2", Old: from, New: to, Err: err}
}
