package fswatch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

const (
	// eventBuffer is how many events fsnotify may hold for the loop
	// beyond the kernel's own queue (fs.inotify.max_queued_events, 16,384
	// by default), which is the real buffer: a bigger one cost about
	// 0.2 MiB per watched folder, which adds up at a thousand folders.
	eventBuffer = 256
	// rootCheckEvery is how often the loop checks that the root is still
	// the folder it started with, which no event reports when a folder
	// above it is renamed or its file system is unmounted.
	rootCheckEvery = 10 * time.Second
)

// watcher is the state of one Watch call. Only Watch's goroutine uses it.
type watcher struct {
	root     string      // absolute, symlink-free
	prefix   string      // root with a trailing separator
	rootInfo fs.FileInfo // the root as it was at the start
	rootFS   *os.Root    // reads folders without leaving the root
	fsw      *fsnotify.Watcher
	dirs     *dirTree
	dirty    *dirtySet
	opts     Options
	logger   *slog.Logger
}

// Watch watches root and every folder under it until ctx ends, and calls
// send for each batch of changes. send is called from one goroutine, never
// after Watch returns; it may block, and changes keep coalescing meanwhile
// (bounded by MaxPaths). send should return once ctx ends: Watch waits for
// it. root may be given through a symbolic link; Watch watches the folder
// it leads to at the start, with one inotify watch per folder.
//
// Watch returns an error at once, before Ready and any send, if the watches
// cannot be set up: errors.Is(err, ErrUnsupported) when the folder cannot
// be watched and must be polled (a network file system, or the inotify
// limits reached), with the reason and the fix in the message. Later it
// returns an error wrapping ErrRootGone when the root folder goes away, or
// ErrUnsupported when the inotify limits are reached as the folder grows;
// after any error, changes since the last batch are unknown and the caller
// must list everything. Watch returns nil when ctx ends.
func Watch(ctx context.Context, root string, opts Options, send func(Batch)) error {
	opts = opts.withDefaults()
	w, err := start(root, opts)
	if err != nil {
		return err
	}
	defer w.close()
	if opts.Ready != nil {
		opts.Ready()
	}
	return w.run(ctx, w.fsw.Events, w.fsw.Errors, send)
}

// start checks root and adds the initial watches.
func start(root string, opts Options) (*watcher, error) {
	dir, err := resolveRoot(root)
	if err != nil {
		return nil, err
	}
	if err := Supported(dir); err != nil {
		return nil, err
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot watch %s: %w", dir, err)
	}
	rootFS, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot watch %s: %w", dir, err)
	}
	fsw, err := fsnotify.NewBufferedWatcher(eventBuffer)
	if err != nil {
		rootFS.Close()
		return nil, initError(dir, err)
	}
	prefix := dir
	if prefix != string(filepath.Separator) {
		prefix += string(filepath.Separator)
	}
	w := &watcher{
		root:     dir,
		prefix:   prefix,
		rootInfo: info,
		rootFS:   rootFS,
		fsw:      fsw,
		dirs:     newDirTree(),
		dirty:    newDirtySet(opts.MaxPaths),
		opts:     opts,
		logger:   opts.Logger.With(slog.String("root", dir)),
	}
	if err := w.addTree(""); err != nil {
		w.close()
		return nil, err
	}
	w.logger.Debug("watching folder", slog.Int("folders", w.dirs.len()))
	return w, nil
}

// resolveRoot makes root absolute and symlink-free and checks that it is a
// folder.
func resolveRoot(root string) (string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("cannot watch %s: %w", root, err)
	}
	dir, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("cannot watch %s: the folder does not exist; create it or fix the path: %w", root, err)
		}
		return "", fmt.Errorf("cannot watch %s: %w", root, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("cannot watch %s: %w", root, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("cannot watch %s: it is a file, not a folder", root)
	}
	return dir, nil
}

func (w *watcher) close() {
	w.fsw.Close() // waits for fsnotify's reader goroutine
	w.rootFS.Close()
}

// run is the event loop. events and errs are the fsnotify watcher's
// channels (tests put themselves in between).
func (w *watcher) run(ctx context.Context, events <-chan fsnotify.Event, errs <-chan error, send func(Batch)) error {
	// One goroutine calls send, so that a slow send never stops the loop
	// from draining the kernel's queue and adding watches to new folders.
	out := make(chan Batch, 1)
	sent := make(chan struct{}, 1)
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		for b := range out {
			send(b)
			sent <- struct{}{}
		}
	}()
	defer func() {
		close(out)
		<-senderDone
	}()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var timerC <-chan time.Time // nil while the timer is not armed
	rootCheck := time.NewTicker(rootCheckEvery)
	defer rootCheck.Stop()
	busy := false // a batch is with send
	due := false  // the batch being built is due

	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return errors.New("the inotify watcher stopped unexpectedly; Shelf checks this folder for changes on its sync schedule instead")
			}
			if err := w.handle(ev); err != nil {
				return err
			}
		case err, ok := <-errs:
			if !ok {
				return errors.New("the inotify watcher stopped unexpectedly; Shelf checks this folder for changes on its sync schedule instead")
			}
			if err := w.lost(err); err != nil {
				return err
			}
		case now := <-timerC:
			timerC = nil
			if wait := w.dirty.deadline(w.opts.Debounce, w.opts.MaxDelay).Sub(now); wait > 0 {
				timer.Reset(wait)
				timerC = timer.C
			} else {
				due = true
			}
		case <-sent:
			busy = false
		case <-rootCheck.C:
			if err := w.checkRoot(); err != nil {
				return err
			}
		}
		if !due && timerC == nil && w.dirty.pending() {
			timer.Reset(w.opts.Debounce)
			timerC = timer.C
		}
		if due && !busy {
			if err := w.checkRoot(); err != nil {
				return err
			}
			b := w.dirty.take()
			w.logger.Debug("changes", slog.Int("paths", len(b.Paths)), slog.Bool("overflow", b.Overflow))
			out <- b
			busy, due = true, false
		}
	}
}

// lost handles an error from fsnotify: events may have been lost, so the
// batch overflows and the watches are set up afresh (a lost rename leaves
// watches under their old names).
func (w *watcher) lost(err error) error {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		w.logger.Info("too many changes at once: the kernel dropped events, so the whole folder will be listed (raising fs.inotify.max_queued_events makes this rarer)")
	} else {
		w.logger.Warn("inotify reported an error; the whole folder will be listed", slog.String("error", err.Error()))
	}
	w.dirty.setOverflow(time.Now())
	return w.rebuild()
}

// checkRoot returns an error wrapping ErrRootGone if the root path no
// longer leads to the folder Watch started with.
func (w *watcher) checkRoot() error {
	fi, err := os.Stat(w.root)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return w.gone()
	case err != nil:
		return fmt.Errorf("cannot check the watched folder %s: %w", w.root, err)
	case !os.SameFile(fi, w.rootInfo):
		return w.gone()
	}
	return nil
}

func (w *watcher) gone() error {
	return fmt.Errorf("%w: %s was removed, renamed or unmounted; recreate it or reconnect the storage", ErrRootGone, w.root)
}
