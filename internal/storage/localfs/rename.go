package localfs

import (
	"errors"
	"io/fs"
	"os"

	"github.com/shelf-dam/shelf/internal/storage"
)

// renameNoReplace renames from to to inside root unless something is at to
// already; then it fails with an error matching fs.ErrExist and changes
// nothing. On Linux the check and the rename are one step (renameAt2);
// elsewhere, and on file systems without that call, linkOrCheck does it.
func renameNoReplace(root *os.Root, from, to string) error {
	err := renameAt2(root, from, to)
	if errors.Is(err, errNoRenameAt2) {
		return linkOrCheck(root, from, to)
	}
	return err
}

// errNoRenameAt2 says that renameAt2 is not available here.
var errNoRenameAt2 = errors.New("no atomic no-replace rename on this system")

// linkOrCheck renames without replacing where no atomic no-replace rename
// exists: a file gets its new name as a hard link (which the system refuses
// when the name is taken) and loses its old one; a folder, which cannot be
// linked, or a file on a file system without hard links, is checked and
// then renamed. That last way is not atomic, but the library claims the
// path in the catalog before it writes, so only a writer outside Shelf can
// slip in between.
func linkOrCheck(root *os.Root, from, to string) error {
	fi, err := root.Lstat(from)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		err := root.Link(from, to)
		switch {
		case err == nil:
			return root.Remove(from)
		case errors.Is(err, fs.ErrExist), errors.Is(err, fs.ErrNotExist):
			return err
		}
	}
	if _, err := root.Lstat(to); err == nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: fs.ErrExist}
	}
	return root.Rename(from, to)
}

// parentOf is the folder holding p, as os.Root names it.
func parentOf(p string) string {
	if d := storage.Dir(p); d != "" {
		return d
	}
	return "."
}
