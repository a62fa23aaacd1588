package syncer_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// TestProgressReported: counters reach the callback as the run goes, never
// going back, with the library's size as the total estimate, and the run
// row holds the final counters.
func TestProgressReported(t *testing.T) {
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, db, "local", syncer.Config{BatchSize: 10})
			e.seed(60)
			e.mustSync()
			e.seed(90) // 30 new files, 60 rewritten with the same content
			run, err := e.store.CreateSyncRun(e.ctx, catalog.SyncRun{AccountID: e.account, Trigger: catalog.TriggerManual, State: catalog.RunRunning}, e.clock.now)
			if err != nil {
				t.Fatal(err)
			}
			var calls int
			var last catalog.Counts
			var total *int64
			res, err := e.engine.Run(e.ctx, syncer.Job{AccountID: e.account, RunID: run.ID, Conn: e.st.conn,
				Progress: func(c catalog.Counts, tot *int64) {
					calls++
					if c.Seen < last.Seen || c.Added < last.Added {
						t.Errorf("counters went back: %+v after %+v", c, last)
					}
					last, total = c, tot
				}})
			if err != nil {
				t.Fatal(err)
			}
			if calls < 3 {
				t.Errorf("progress reported %d times for a run of 10-row batches; want it as the run goes", calls)
			}
			if last != res.Counts || res.Counts.Seen != 94 || res.Counts.Added != 30 {
				t.Errorf("last progress %+v, result %+v; want 94 seen, 30 added", last, res.Counts)
			}
			if total == nil || *total != 64 {
				t.Errorf("total estimate %v, want the library's 64 items", total)
			}
			got, err := e.store.GetSyncRun(e.ctx, e.account, run.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Counts != res.Counts || got.TotalEstimate == nil || *got.TotalEstimate != 64 {
				t.Errorf("run row counts %+v (total %v), want %+v and 64", got.Counts, got.TotalEstimate, res.Counts)
			}
		})
	}
}

// TestKeepAliveStopsTheRun: when the caller loses the lease, the run stops
// after the batch in progress and removes nothing.
func TestKeepAliveStopsTheRun(t *testing.T) {
	e := newEnv(t, "sqlite", "local", syncer.Config{BatchSize: 5})
	paths := e.seed(40)
	e.mustSync()
	for _, p := range paths[:5] {
		if err := e.st.conn.Delete(e.ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	e.seed(60)
	calls := 0
	_, err := e.engine.Run(e.ctx, syncer.Job{AccountID: e.account, Conn: e.st.conn, KeepAlive: func(context.Context) error {
		calls++
		if calls == 2 {
			return catalog.ErrLeaseLost
		}
		return nil
	}})
	if !errors.Is(err, catalog.ErrLeaseLost) {
		t.Fatalf("run with a lost lease: %v; want ErrLeaseLost", err)
	}
	if calls != 2 || e.tombstones() != 0 {
		t.Fatalf("KeepAlive called %d times, %d tombstones; want the run stopped at the second call with nothing removed", calls, e.tombstones())
	}
	e.mustSync()
	e.checkMirror()
}
