package fswatch

import (
	"errors"
	"log/slog"
	"time"
)

// ErrUnsupported marks errors saying that live watching cannot work for a
// folder: the caller polls it instead. The error's text says why and what
// an operator can change.
var ErrUnsupported = errors.New("live watching is not possible for this folder")

// ErrRootGone marks the error Watch returns when the watched folder itself
// was removed, renamed or unmounted.
var ErrRootGone = errors.New("the watched folder is gone")

// Defaults for the zero Options.
const (
	DefaultDebounce = 250 * time.Millisecond
	DefaultMaxDelay = time.Second
	DefaultMaxPaths = 10000
)

// Options tune Watch. The zero value uses the defaults.
type Options struct {
	// Debounce is the quiet time after the last change before a batch is
	// sent (default 250ms).
	Debounce time.Duration
	// MaxDelay bounds how long a batch waits after its first change, even
	// while changes keep coming (default 1s; never less than Debounce).
	MaxDelay time.Duration
	// MaxPaths is how many distinct dirty paths a batch keeps before it
	// overflows (default 10000). It bounds the watcher's memory for paths.
	MaxPaths int
	// Ready, if set, is called once the initial watches are in place and
	// before any batch. A full listing started after Ready misses nothing:
	// every later change comes in a batch. Ready should return quickly
	// (start the listing elsewhere): events wait meanwhile.
	Ready func()
	// Logger receives notices such as folders that cannot be watched
	// (default: discard).
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	o.MaxDelay = max(o.MaxDelay, o.Debounce)
	if o.MaxPaths <= 0 {
		o.MaxPaths = DefaultMaxPaths
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Batch is one set of changes.
type Batch struct {
	// Paths are the dirty root-relative paths, sorted by byte order and
	// de-duplicated. A path covers its subtree, so no path lies under
	// another one of the batch. Nil when Overflow is set.
	Paths []string
	// Overflow means changes were lost or too many paths changed: the
	// caller must re-list the whole folder. Causes: the kernel's event queue
	// overflowed (IN_Q_OVERFLOW) or more than MaxPaths paths changed.
	Overflow bool
}
