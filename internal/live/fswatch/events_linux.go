package fswatch

import (
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/shelf-dam/shelf/internal/storage"
)

// tempPrefix starts the names of the local connector's temporary files
// (localfs.tempPrefix), which its scan skips.
const tempPrefix = ".shelf-tmp-"

// handle applies one event: it keeps the watches in step with the folders
// and marks the changed path dirty.
func (w *watcher) handle(ev fsnotify.Event) error {
	p, ok := w.rel(ev.Name)
	if !ok {
		return nil
	}
	if p == "" {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			return w.gone()
		}
		return nil // the root's own attributes
	}
	if !listable(p) {
		return nil
	}
	now := time.Now()
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		// A folder removed or moved away (maybe out of the root): its
		// watches go. A moved folder is watched afresh under its new name
		// when its Create arrives, because fsnotify keeps naming a
		// watch's events by the path the watch was added with.
		w.forgetTree(p)
		w.dirty.add(p, now)
	}
	if ev.Has(fsnotify.Create) {
		if err := w.created(p); err != nil {
			return err
		}
		// Marked after the watches are in place: the caller's re-read of
		// the subtree then sees everything written before them.
		w.dirty.add(p, now)
	}
	if ev.Has(fsnotify.Write) || ev.Has(fsnotify.Chmod) {
		return w.changed(p, ev.Has(fsnotify.Chmod), now)
	}
	return nil
}

// created watches p and every folder under it if p is a folder (made here,
// or moved in from elsewhere).
func (w *watcher) created(p string) error {
	fi, err := os.Lstat(w.abs(p))
	if err != nil || !fi.IsDir() {
		return nil // gone again, or not a folder (links are not followed)
	}
	return w.addTree(p)
}

// changed handles a write or an attribute change (chmod, touch: the
// modification time is part of a listing) to p.
func (w *watcher) changed(p string, attrib bool, now time.Time) error {
	if !attrib && w.dirty.covered(p) {
		w.dirty.touch(now)
		return nil
	}
	fi, err := os.Lstat(w.abs(p))
	switch {
	case err != nil:
		w.dirty.add(p, now) // gone: the re-read says so
	case fi.Mode().IsRegular(), fi.Mode()&fs.ModeSymlink != 0:
		w.dirty.add(p, now)
	case fi.IsDir() && attrib && !w.dirs.has(p):
		// A folder whose watch could not be added (no permission) gets
		// another try when its permissions change.
		if err := w.addTree(p); err != nil {
			return err
		}
		if w.dirs.has(p) {
			w.dirty.add(p, now)
		}
	}
	// Writes to pipes, sockets and devices, and a watched folder's own
	// attributes, change nothing a listing shows.
	return nil
}

// rel returns the root-relative form of an absolute path from fsnotify.
func (w *watcher) rel(name string) (string, bool) {
	if name == w.root {
		return "", true
	}
	p, ok := strings.CutPrefix(name, w.prefix)
	return p, ok && p != ""
}

// abs returns the absolute path of a root-relative one.
func (w *watcher) abs(p string) string {
	if p == "" {
		return w.root
	}
	return w.prefix + p
}

// listable reports whether the local connector's scan can list p: no
// element is a name Shelf cannot address or a temporary file.
func listable(p string) bool {
	for name := range strings.SplitSeq(p, "/") {
		if !listableName(name) {
			return false
		}
	}
	return true
}

func listableName(name string) bool {
	return !strings.HasPrefix(name, tempPrefix) && storage.CheckName(name) == nil
}
