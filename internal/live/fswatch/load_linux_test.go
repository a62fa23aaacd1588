package fswatch

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

func TestManyFilesGiveAllTheirPathsOrAnOverflow(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.start(Options{})
	const files = 20000
	want := make(map[string]bool, files)
	for i := range files {
		p := fmt.Sprintf("d%02d/f%05d.jpg", i%20, i)
		want[p] = true
	}
	for i := range 20 { // the folders exist first: their files are reported one by one
		f.mkdir(f.path(fmt.Sprintf("d%02d", i)))
	}
	f.sync()
	for p := range want {
		f.write(p)
	}
	deadline := time.After(4 * waitLimit)
	for len(want) > 0 {
		select {
		case b := <-f.batches:
			if b.Overflow {
				return // the caller re-lists everything: nothing is lost
			}
			for _, p := range b.Paths {
				delete(want, p)
			}
		case <-deadline:
			t.Fatalf("%d of %d paths were never reported, and no batch overflowed", len(want), files)
		}
	}
}

func TestMorePathsThanMaxPathsOverflow(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// A long quiet time keeps the quick burst in one batch.
	f.start(Options{MaxPaths: 50, Debounce: time.Second, MaxDelay: 5 * time.Second})
	for i := range 200 {
		f.write(fmt.Sprintf("f%03d.jpg", i))
	}
	select {
	case b := <-f.batches:
		if !b.Overflow {
			t.Fatalf("200 changed paths with MaxPaths 50 gave a batch of %d paths without Overflow", len(b.Paths))
		}
	case <-time.After(waitLimit):
		t.Fatal("no batch")
	}
	// Watching goes on normally.
	f.write("after.jpg")
	f.waitFor("after.jpg")
}

func TestContinuousChangesStillGiveABatchWithinMaxDelay(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const maxDelay = 600 * time.Millisecond
	f.start(Options{Debounce: 300 * time.Millisecond, MaxDelay: maxDelay})
	stream, err := os.Create(f.path("stream.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	stop := make(chan struct{})
	defer close(stop)
	started := time.Now()
	go func() {
		tick := time.NewTicker(10 * time.Millisecond) // well under the quiet time
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				stream.Write([]byte("line\n"))
			}
		}
	}()
	select {
	case b := <-f.batches:
		if elapsed, limit := time.Since(started), maxDelay+1500*time.Millisecond; elapsed > limit {
			t.Errorf("first batch after %v of continuous writes; want it within about MaxDelay (%v)", elapsed, limit)
		}
		if len(b.Paths) != 1 || b.Paths[0] != "stream.log" {
			t.Errorf("batch = %+v, want stream.log", b)
		}
	case <-time.After(waitLimit):
		t.Fatal("no batch while the file kept changing: MaxDelay is not applied")
	}
}

func TestABatchWaitsForTheQuietTime(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const debounce = 400 * time.Millisecond
	f.start(Options{Debounce: debounce, MaxDelay: 5 * time.Second})
	f.write("one.jpg")
	written := time.Now()
	f.waitFor("one.jpg")
	// The event is read after the write, so the batch cannot come sooner
	// than the quiet time after it (a little slack for clock reads).
	if elapsed := time.Since(written); elapsed < debounce-50*time.Millisecond {
		t.Errorf("batch %v after the change; want at least the quiet time %v", elapsed, debounce)
	}
}

func TestABlockedSendLosesNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.write("a/keep.jpg")
	release := make(chan struct{})
	first := make(chan struct{})
	got := make(chan Batch, 100)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	n := 0
	go func() {
		done <- Watch(ctx, f.root, Options{Debounce: 20 * time.Millisecond, Ready: func() { close(ready) }}, func(b Batch) {
			n++
			if n == 1 {
				close(first)
				<-release
			}
			got <- b
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	<-ready
	f.write("first.jpg")
	<-first // send is now blocked
	want := map[string]bool{"a/keep.jpg": true, "b/new.jpg": true, "c.jpg": true}
	for p := range want {
		f.write(p)
	}
	f.rename(f.path("a"), f.path("renamed"))
	want["a"], want["renamed"] = true, true
	delete(want, "a/keep.jpg")
	f.write("renamed/later.jpg")
	close(release)
	deadline := time.After(waitLimit)
	for len(want) > 0 {
		select {
		case b := <-got:
			for _, p := range b.Paths {
				for w := range want {
					if w == p || under(p)(w) { // a folder covers its subtree
						delete(want, w)
					}
				}
			}
		case <-deadline:
			t.Fatalf("not reported after send was blocked: %v", want)
		}
	}
}

// Not parallel: it counts the process's goroutines.
func TestCancelStopsWatchPromptlyWithoutLeaks(t *testing.T) {
	root := t.TempDir()
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	sending := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, root, Options{Debounce: 10 * time.Millisecond, Ready: func() { close(ready) }}, func(Batch) {
			sending <- struct{}{}
			<-ctx.Done() // a send that only returns when the context ends
		})
	}()
	<-ready
	if err := os.WriteFile(root+"/x.jpg", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sending:
	case <-time.After(waitLimit):
		t.Fatal("no batch")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Watch returned %v after cancel, want nil", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Watch did not return within 2s of cancel")
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines before Watch, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
