package fswatch

import (
	"context"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// When the kernel drops events, a rename can go unseen and leave watches
// reporting old names; the watcher must say so and watch afresh.
func TestLostEventsOverflowAndWatchTheTreeAfresh(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.write("old/sub/a.jpg")
	opts := Options{Debounce: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond}.withDefaults()
	w, err := start(f.root, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()

	// Stand between fsnotify and the loop: drop events until a marker
	// file shows up, then pass them on.
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan fsnotify.Event)
	errs := make(chan error)
	dropped := make(chan struct{})
	marker := f.path("drop-marker")
	go func() {
		dropping := true
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.fsw.Events:
				if !ok {
					return
				}
				if dropping {
					if ev.Name == marker {
						dropping = false
						close(dropped)
					}
					continue
				}
				select {
				case events <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	done := make(chan error, 1)
	f.stopped = make(chan struct{})
	go func() {
		defer close(f.stopped)
		done <- w.run(ctx, events, errs, func(b Batch) {
			select {
			case f.batches <- b:
			case <-ctx.Done():
			}
		})
	}()
	defer func() { cancel(); <-done }()

	f.rename(f.path("old"), f.path("new"))
	f.writeAbs(marker)
	<-dropped
	errs <- fsnotify.ErrEventOverflow

	select {
	case b := <-f.batches:
		if !b.Overflow {
			t.Fatalf("batch after lost events = %+v, want Overflow", b)
		}
	case <-time.After(waitLimit):
		t.Fatal("no batch after lost events")
	}
	f.maxPaths = opts.MaxPaths
	f.write("new/sub/late.jpg")
	seen := f.waitFor("new/sub/late.jpg")
	if bad := listed(seen, under("old")); len(bad) > 0 {
		t.Errorf("a watch kept its name from before the unseen rename: %q", bad)
	}
}
