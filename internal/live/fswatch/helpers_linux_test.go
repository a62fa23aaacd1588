package fswatch

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
)

// waitLimit is how long a test waits for an expected batch or return.
const waitLimit = 5 * time.Second

// fixture is a root folder (and a folder beside it, outside the root)
// watched by one Watch call.
type fixture struct {
	t        *testing.T
	root     string
	outside  string
	batches  chan Batch
	maxPaths int
	sentinel int

	stopped chan struct{} // closed when Watch has returned
	result  error         // Watch's result, once stopped is closed
}

// setup makes an empty root and an outside folder. The test fills them,
// then calls start.
func setup(t *testing.T) *fixture {
	t.Helper()
	base := t.TempDir()
	f := &fixture{
		t:       t,
		root:    filepath.Join(base, "root"),
		outside: filepath.Join(base, "outside"),
		batches: make(chan Batch, 10000),
	}
	f.mkdir(f.root)
	f.mkdir(f.outside)
	return f
}

// start runs Watch with opts (short delays unless set) and waits until its
// initial watches are in place.
func (f *fixture) start(opts Options) {
	f.t.Helper()
	if opts.Debounce == 0 {
		opts.Debounce = 50 * time.Millisecond
	}
	if opts.MaxDelay == 0 {
		opts.MaxDelay = 300 * time.Millisecond
	}
	f.maxPaths = opts.withDefaults().MaxPaths
	ready := make(chan struct{})
	opts.Ready = func() { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	f.stopped = make(chan struct{})
	go func() {
		defer close(f.stopped)
		f.result = Watch(ctx, f.root, opts, func(b Batch) {
			f.check(b)
			select {
			case f.batches <- b:
			case <-ctx.Done():
			}
		})
	}()
	f.t.Cleanup(func() {
		cancel()
		select {
		case <-f.stopped:
		case <-time.After(waitLimit):
			f.t.Error("Watch did not return after its context was cancelled")
		}
	})
	select {
	case <-ready:
	case <-f.stopped:
		f.t.Fatalf("Watch returned before it was ready: %v", f.result)
	case <-time.After(waitLimit):
		f.t.Fatal("Watch was not ready in time")
	}
}

// check reports a batch that breaks Batch's promises.
func (f *fixture) check(b Batch) {
	if b.Overflow {
		if b.Paths != nil {
			f.t.Errorf("an overflow batch lists %d paths", len(b.Paths))
		}
		return
	}
	if len(b.Paths) == 0 || len(b.Paths) > f.maxPaths {
		f.t.Errorf("a batch has %d paths; want 1 to %d", len(b.Paths), f.maxPaths)
	}
	if !slices.IsSorted(b.Paths) || len(slices.Compact(slices.Clone(b.Paths))) != len(b.Paths) {
		f.t.Errorf("batch paths are not sorted and distinct: %q", b.Paths)
	}
	set := make(map[string]bool, len(b.Paths))
	for _, p := range b.Paths {
		set[p] = true
	}
	for _, p := range b.Paths {
		if c, err := storage.CleanPath(p, false); err != nil || c != p {
			f.t.Errorf("batch path %q is not a clean root-relative path (%v)", p, err)
		}
		for q := storage.Dir(p); q != ""; q = storage.Dir(q) {
			if set[q] {
				f.t.Errorf("batch lists %q and the folder %q above it", p, q)
			}
		}
	}
}

// waitFor collects batches until each of want has been listed exactly,
// and returns the batches. An overflow batch fails the test.
func (f *fixture) waitFor(want ...string) []Batch {
	f.t.Helper()
	missing := make(map[string]bool, len(want))
	for _, p := range want {
		missing[p] = true
	}
	var seen []Batch
	deadline := time.After(waitLimit)
	for len(missing) > 0 {
		select {
		case b := <-f.batches:
			seen = append(seen, b)
			if b.Overflow {
				f.t.Fatalf("unexpected overflow batch while waiting for %q", want)
			}
			for _, p := range b.Paths {
				delete(missing, p)
			}
		case <-f.stopped:
			f.t.Fatalf("Watch returned (%v) while waiting for %q", f.result, want)
		case <-deadline:
			f.t.Fatalf("no batch listed %q within %v; batches: %+v", slices.Sorted(maps.Keys(missing)), waitLimit, seen)
		}
	}
	return seen
}

// sync writes a new file at the root and waits for it: every change made
// before it has then been sent. It returns the batches seen meanwhile.
func (f *fixture) sync() []Batch {
	f.t.Helper()
	f.sentinel++
	name := fmt.Sprintf("sentinel-%d", f.sentinel)
	f.write(name)
	return f.waitFor(name)
}

// stop waits for Watch to return by itself and returns its error.
func (f *fixture) stop() error {
	f.t.Helper()
	for {
		select {
		case <-f.batches:
		case <-f.stopped:
			return f.result
		case <-time.After(waitLimit):
			f.t.Fatal("Watch did not return")
		}
	}
}

func (f *fixture) path(rel string) string { return filepath.Join(f.root, filepath.FromSlash(rel)) }

func (f *fixture) mkdir(abs string) {
	f.t.Helper()
	if err := os.MkdirAll(abs, 0o755); err != nil {
		f.t.Fatal(err)
	}
}

// write creates or replaces the file rel under the root, and its folders.
func (f *fixture) write(rel string) { f.writeAbs(f.path(rel)) }

func (f *fixture) writeAbs(abs string) {
	f.t.Helper()
	f.mkdir(filepath.Dir(abs))
	if err := os.WriteFile(abs, []byte("content of "+filepath.Base(abs)), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) rename(from, to string) {
	f.t.Helper()
	if err := os.Rename(from, to); err != nil {
		f.t.Fatal(err)
	}
}

// listed returns every path of batches for which bad is true.
func listed(batches []Batch, bad func(string) bool) []string {
	var out []string
	for _, b := range batches {
		for _, p := range b.Paths {
			if bad(p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func under(folder string) func(string) bool {
	return func(p string) bool { return strings.HasPrefix(p, folder+"/") }
}
