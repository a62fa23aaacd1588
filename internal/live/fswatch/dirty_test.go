package fswatch

import (
	"slices"
	"testing"
	"time"
)

func TestDirtySetCollapsesPathsUnderADirtyFolder(t *testing.T) {
	t.Parallel()
	d := newDirtySet(100)
	now := time.Now()
	for _, p := range []string{"a/b/c.txt", "a-x", "a/b", "z", "a/b/c.txt", "a/bb", "a/b/d/e"} {
		d.add(p, now)
	}
	got := d.take()
	want := []string{"a-x", "a/b", "a/bb", "z"}
	if got.Overflow || !slices.Equal(got.Paths, want) {
		t.Fatalf("batch = %+v, want paths %q", got, want)
	}
	if d.pending() {
		t.Fatal("the set is still pending after take")
	}
}

func TestDirtySetOverflowsBeyondMaxPathsAndForgetsThem(t *testing.T) {
	t.Parallel()
	d := newDirtySet(3)
	now := time.Now()
	// Paths under a dirty folder do not count against the limit.
	for _, p := range []string{"a", "a/1", "a/2", "a/3", "a/4", "b", "c"} {
		d.add(p, now)
	}
	if d.overflow {
		t.Fatal("overflowed with 3 distinct subtrees and MaxPaths 3")
	}
	d.add("d", now)
	if !d.overflow || len(d.paths) != 0 {
		t.Fatalf("after a 4th path: overflow %v, %d paths kept; want overflow and none kept", d.overflow, len(d.paths))
	}
	d.add("e", now)
	if len(d.paths) != 0 {
		t.Fatal("an overflowed set keeps collecting paths")
	}
	if b := d.take(); !b.Overflow || b.Paths != nil {
		t.Fatalf("batch = %+v, want Overflow without paths", b)
	}
	d.add("f", now)
	if b := d.take(); b.Overflow || !slices.Equal(b.Paths, []string{"f"}) {
		t.Fatalf("batch after an overflow = %+v, want just f", b)
	}
}

func TestDirtySetDeadlineIsQuietTimeCappedByMaxDelay(t *testing.T) {
	t.Parallel()
	d := newDirtySet(10)
	start := time.Now()
	d.add("a", start)
	if got, want := d.deadline(time.Second, 5*time.Second), start.Add(time.Second); !got.Equal(want) {
		t.Errorf("deadline after one change = %v, want %v", got, want)
	}
	d.add("a", start.Add(4500*time.Millisecond)) // still changing
	if got, want := d.deadline(time.Second, 5*time.Second), start.Add(5*time.Second); !got.Equal(want) {
		t.Errorf("deadline during a stream = %v, want the cap %v", got, want)
	}
}
