package fswatch

import (
	"slices"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
)

// dirtySet collects the dirty paths of the batch being built. It keeps at
// most max paths; beyond that it overflows and forgets them.
type dirtySet struct {
	max      int
	paths    map[string]struct{}
	overflow bool
	// first and last are the times of the batch's first and latest change.
	first, last time.Time
}

func newDirtySet(limit int) *dirtySet {
	return &dirtySet{max: limit, paths: make(map[string]struct{})}
}

// pending reports whether there is anything to send.
func (d *dirtySet) pending() bool { return d.overflow || len(d.paths) > 0 }

// touch records a change at now without a new path (a change to a path
// already covered still delays the batch: the path is still changing).
func (d *dirtySet) touch(now time.Time) {
	if !d.pending() {
		d.first = now
	}
	d.last = now
}

// add marks p dirty at now.
func (d *dirtySet) add(p string, now time.Time) {
	d.touch(now)
	if d.covered(p) {
		return
	}
	d.paths[p] = struct{}{}
	if len(d.paths) > d.max {
		d.compact()
		if len(d.paths) > d.max {
			d.setOverflow(now)
		}
	}
}

// setOverflow turns the batch into "re-list everything".
func (d *dirtySet) setOverflow(now time.Time) {
	d.touch(now)
	d.overflow = true
	d.paths = make(map[string]struct{}) // drop the memory, not just the keys
}

// covered reports whether p or a folder above it is already dirty.
func (d *dirtySet) covered(p string) bool {
	if d.overflow {
		return true
	}
	for q := p; q != ""; q = storage.Dir(q) {
		if _, ok := d.paths[q]; ok {
			return true
		}
	}
	return false
}

// compact drops the paths that lie under another dirty path.
func (d *dirtySet) compact() {
	for p := range d.paths {
		for q := storage.Dir(p); q != ""; q = storage.Dir(q) {
			if _, ok := d.paths[q]; ok {
				delete(d.paths, p)
				break
			}
		}
	}
}

// deadline is when the batch is due: after debounce of quiet, or maxDelay
// after its first change, whichever comes first.
func (d *dirtySet) deadline(debounce, maxDelay time.Duration) time.Time {
	quiet := d.last.Add(debounce)
	latest := d.first.Add(maxDelay)
	if latest.Before(quiet) {
		return latest
	}
	return quiet
}

// take returns the batch and starts an empty one.
func (d *dirtySet) take() Batch {
	var b Batch
	if d.overflow {
		b.Overflow = true
	} else {
		d.compact()
		b.Paths = make([]string, 0, len(d.paths))
		for p := range d.paths {
			b.Paths = append(b.Paths, p)
		}
		slices.Sort(b.Paths)
	}
	d.overflow = false
	d.paths = make(map[string]struct{})
	return b
}
