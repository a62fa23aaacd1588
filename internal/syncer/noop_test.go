package syncer_test

import (
	"testing"

	"github.com/shelf-dam/shelf/internal/syncer"
)

// TestNoopResyncWritesNothing: a sync that finds no change writes no
// catalog row.
func TestNoopResyncWritesNothing(t *testing.T) {
	forEachConnector(t, func(t *testing.T, db, kind string) {
		e := newEnv(t, db, kind, syncer.Config{BatchSize: 8, ReadPage: 8})
		e.seed(30)
		if res := e.mustSync(); res.Writes == 0 {
			t.Fatalf("the first sync reports no writes: %+v", res)
		}
		e.lastFS = nil // Drive: a full scan, the costlier path
		res := e.mustSync()
		if res.Writes != 0 || res.Counts.Added+res.Counts.Updated+res.Counts.Moved+res.Counts.Removed != 0 || res.Counts.Seen != 34 {
			t.Fatalf("no-op resync: %+v, %d writes; want 34 seen and nothing written", res.Counts, res.Writes)
		}
	})
}
