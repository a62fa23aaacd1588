package fswatch

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"syscall"

	"github.com/shelf-dam/shelf/internal/storage"
)

// addTree watches the folder p and every folder under it. Each folder is
// watched before it is read, so a child made meanwhile shows up in the
// listing or as an event. Symbolic links are never followed, and folders
// the scan skips are not watched.
func (w *watcher) addTree(p string) error {
	if err := w.fsw.Add(w.abs(p)); err != nil {
		return w.addFailed(p, err)
	}
	w.dirs.add(p)
	if p != "" {
		// The folder may have been swapped for a link since it was
		// looked at; a watch on what the link leads to must not stay.
		if fi, err := os.Lstat(w.abs(p)); err != nil || !fi.IsDir() {
			w.forgetTree(p)
			return nil
		}
	}
	children, err := w.readDir(p)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			w.logger.Warn("cannot read a folder to watch the folders in it; its changes are found by the regular sync",
				slog.String("path", p), slog.String("error", err.Error()))
		}
		return nil
	}
	for _, c := range children {
		if !c.IsDir() || !listableName(c.Name()) { // IsDir is false for links
			continue
		}
		if err := w.addTree(storage.Join(p, c.Name())); err != nil {
			return err
		}
	}
	return nil
}

// readDir lists the folder p through the os.Root, which refuses to leave
// the root.
func (w *watcher) readDir(p string) ([]fs.DirEntry, error) {
	name := p
	if name == "" {
		name = "."
	}
	f, err := w.rootFS.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// forgetTree drops the watches of the folder p and every folder under it
// (after a remove or a move; nothing if p was not a watched folder).
func (w *watcher) forgetTree(p string) {
	for _, d := range w.dirs.removeTree(p) {
		// The kernel has often dropped the watch already (folder removed).
		_ = w.fsw.Remove(w.abs(d))
	}
}

// rebuild drops every watch but the root's and watches the tree afresh,
// after events were lost: a lost rename would leave watches reporting old
// names.
func (w *watcher) rebuild() error {
	for _, name := range w.fsw.WatchList() {
		if name != w.root {
			_ = w.fsw.Remove(name)
		}
	}
	w.dirs = newDirTree()
	return w.addTree("")
}

// addFailed turns the error of adding a watch on folder p into Watch's
// error, or nil if watching can go on without that folder.
func (w *watcher) addFailed(p string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%w: watching %s takes one inotify watch per folder, and the system's limit was reached after %d folders; raise fs.inotify.max_user_watches (sysctl)",
			ErrUnsupported, w.root, w.dirs.len())
	case p == "" && errors.Is(err, fs.ErrNotExist):
		return w.gone()
	case p == "":
		return fmt.Errorf("cannot watch %s: %w", w.root, err)
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return nil // gone again; its removal is an event of its own
	case errors.Is(err, fs.ErrPermission):
		// The scan cannot read it either and says so; a change of its
		// permissions is an event that retries.
		w.logger.Warn("cannot watch a folder Shelf may not read", slog.String("path", p), slog.String("error", err.Error()))
		return nil
	}
	return fmt.Errorf("cannot watch the folder %s in %s: %w; Shelf checks this folder for changes on its sync schedule instead", p, w.root, err)
}

// initError describes a failure to start inotify.
func initError(root string, err error) error {
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		return fmt.Errorf("%w: the system's limit of inotify instances is reached, so %s cannot be watched; raise fs.inotify.max_user_instances (sysctl)",
			ErrUnsupported, root)
	}
	if errors.Is(err, syscall.ENOSYS) {
		return fmt.Errorf("%w: this kernel offers no inotify, so %s cannot be watched; Shelf checks this folder for changes on its sync schedule instead", ErrUnsupported, root)
	}
	return fmt.Errorf("cannot watch %s: %w", root, err)
}
