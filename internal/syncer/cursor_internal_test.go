package syncer

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// endlessPages serves full pages of assets after any key, counting calls.
func endlessPages(calls *atomic.Int64, limit int) func(context.Context, string) ([]catalog.SyncRow, error) {
	return func(_ context.Context, after string) ([]catalog.SyncRow, error) {
		n := calls.Add(1)
		rows := make([]catalog.SyncRow, limit)
		for i := range rows {
			rows[i].StorageID = fmt.Sprintf("p%06d-%03d", n, i)
		}
		return rows, nil
	}
}

// TestCursorReadsAhead: while the first page is consumed the reader
// fetches the next pages (so a slow catalog read overlaps the merge), but
// never more than readAhead ahead, and close stops it.
func TestCursorReadsAhead(t *testing.T) {
	var calls atomic.Int64
	c := &tableCursor{limit: 10, fetch: endlessPages(&calls, 10)}
	if _, ok, err := c.peek(context.Background()); err != nil || !ok {
		t.Fatalf("peek: %v %v", ok, err)
	}
	want := int64(1 + 1 + readAhead) // consumed, in the reader's hands, waiting in the channel
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	if got := calls.Load(); got != want {
		t.Fatalf("the reader fetched %d pages with one consumed, want %d", got, want)
	}
	c.close()
	// The reader gives up: its channel closes once drained.
	drained := make(chan struct{})
	go func() {
		for range c.pages {
		}
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(5 * time.Second):
		t.Fatal("the reader did not stop after close")
	}
	if got := calls.Load(); got > want+1 {
		t.Fatalf("the reader went on fetching after close: %d calls", got)
	}
}

// TestCursorPagesFollowKeys: each page is requested after the previous
// page's last key, and a short page ends the cursor.
func TestCursorPagesFollowKeys(t *testing.T) {
	var afters []string
	pages := [][]string{{"a", "b"}, {"c", "d"}, {"e"}}
	c := &tableCursor{limit: 2, fetch: func(_ context.Context, after string) ([]catalog.SyncRow, error) {
		afters = append(afters, after)
		p := pages[len(afters)-1]
		rows := make([]catalog.SyncRow, len(p))
		for i, id := range p {
			rows[i].StorageID = id
		}
		return rows, nil
	}}
	var got []string
	for {
		row, ok, err := c.peek(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, row.key)
		c.next()
	}
	if fmt.Sprint(got) != "[a b c d e]" || fmt.Sprint(afters) != "[ b d]" {
		t.Fatalf("rows %v after keys %q", got, afters)
	}
}
