package syncer_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// newRun records a running run for the env's account.
func (e *env) newRun() catalog.SyncRun {
	e.t.Helper()
	run, err := e.store.CreateSyncRun(e.ctx, catalog.SyncRun{AccountID: e.account, Trigger: catalog.TriggerManual, State: catalog.RunRunning}, e.clock.now)
	if err != nil {
		e.t.Fatal(err)
	}
	return run
}

// finishRun marks a run finished, as the job worker does, so the next can
// be created.
func (e *env) finishRun(run catalog.SyncRun, state string) {
	e.t.Helper()
	cur, err := e.store.GetSyncRun(e.ctx, e.account, run.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	now := e.clock.now
	cur.State, cur.FinishedAt = state, &now
	if err := e.store.UpdateSyncRun(e.ctx, cur); err != nil {
		e.t.Fatal(err)
	}
}

// TestEstimateIsThePreviousListing: a run's estimate is the count of the
// last complete listing — none before the first one completed (an
// interrupted first import left part of the library: its size is no
// estimate) — and is dropped once the listing sees more than it.
func TestEstimateIsThePreviousListing(t *testing.T) {
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, db, "local", syncer.Config{BatchSize: 10})
			e.seed(600) // 600 files in 4 folders: 604 entries

			// The first import's listing fails after 550 entries (a storage
			// error), leaving part of the library and no complete listing.
			run := e.newRun()
			fail := func() error { return storage.Classify(storage.ErrRetryable, "list", "", errors.New("503 slow down")) }
			cut := &cutConn{Connector: e.st.conn, after: 550, end: fail}
			if _, err := e.engine.Run(e.ctx, syncer.Job{AccountID: e.account, RunID: run.ID, Conn: cut}); err == nil {
				t.Fatal("an interrupted import succeeded")
			}
			e.finishRun(run, catalog.RunFailed)
			if n := e.liveAssets(); n == 0 {
				t.Fatal("the interrupted import kept nothing; the test needs a partial library")
			}

			// Its retry knows no complete listing: no estimate.
			run = e.newRun()
			var estimates []*int64
			progress := func(p catalog.RunProgress) { estimates = append(estimates, p.Estimate) }
			if _, err := e.engine.Run(e.ctx, syncer.Job{AccountID: e.account, RunID: run.ID, Conn: e.st.conn, Progress: progress}); err != nil {
				t.Fatal(err)
			}
			e.finishRun(run, catalog.RunSucceeded)
			for _, est := range estimates {
				if est != nil {
					t.Fatalf("a run after no complete listing reported an estimate of %d (the library's partial size)", *est)
				}
			}
			if got := e.runRow(run.ID); got.TotalEstimate != nil {
				t.Fatalf("run row estimate %d, want none", *got.TotalEstimate)
			}

			// The next run expects what the last listing saw.
			run = e.newRun()
			estimates = nil
			if _, err := e.engine.Run(e.ctx, syncer.Job{AccountID: e.account, RunID: run.ID, Conn: e.st.conn, Progress: progress}); err != nil {
				t.Fatal(err)
			}
			e.finishRun(run, catalog.RunSucceeded)
			if len(estimates) == 0 || estimates[0] == nil || *estimates[0] != 604 {
				t.Fatalf("estimates %v; want the previous listing's 604 entries from the start", estimates)
			}

			// A listing that outgrows the estimate drops it rather than
			// show "704 seen of about 604".
			e.seed(700)
			run = e.newRun()
			var over []string
			res, err := e.engine.Run(e.ctx, syncer.Job{AccountID: e.account, RunID: run.ID, Conn: e.st.conn,
				Progress: func(p catalog.RunProgress) {
					if p.Estimate != nil && p.Counts.Seen > *p.Estimate {
						over = append(over, fmt.Sprintf("%d seen of about %d", p.Counts.Seen, *p.Estimate))
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			if len(over) > 0 || res.Counts.Seen != 704 {
				t.Fatalf("progress beyond the estimate: %v (result %+v)", over, res.Counts)
			}
			if got := e.runRow(run.ID); got.TotalEstimate != nil {
				t.Fatalf("run row estimate %d after 704 seen, want none", *got.TotalEstimate)
			}
		})
	}
}

func (e *env) runRow(id int64) catalog.SyncRun {
	e.t.Helper()
	r, err := e.store.GetSyncRun(e.ctx, e.account, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}
