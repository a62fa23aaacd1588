package syncrun

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/policy"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// finishedLog records what Config.Finished was told.
type finishedLog struct {
	mu   sync.Mutex
	runs []catalog.SyncRun
}

func (f *finishedLog) add(_ context.Context, r catalog.SyncRun) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, r)
	return nil
}

// wait returns the states once n runs were reported (or fails the test).
func (f *finishedLog) wait(t *testing.T, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got := f.states(); len(got) >= n {
			return got
		}
	}
	t.Fatalf("finished messages %v, want %d", f.states(), n)
	return nil
}

func (f *finishedLog) states() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.runs {
		out = append(out, r.State)
	}
	return out
}

// TestRetryableFailureIsRetried: a temporary storage failure fails the run
// and River retries the sync as a new run; only the final outcome is kept
// and sent.
func TestRetryableFailureIsRetried(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		var fin finishedLog
		failures := 2
		var mu sync.Mutex
		svc := b.service(t, true, func(c *svcOpts) {
			c.SyncRetryDelay = 10 * time.Millisecond
			c.Finished = fin.add
			c.Sync = func(ctx context.Context, req syncer.Job) (syncer.Result, error) {
				mu.Lock()
				defer mu.Unlock()
				if failures > 0 {
					failures--
					return syncer.Result{}, storage.Classify(storage.ErrRetryable, "list", "", errors.New("503 slow down"))
				}
				return syncer.Result{Counts: catalog.Counts{Seen: 1}}, nil
			}
		})
		ctx := context.Background()
		acct := b.account(t, policy.PlanMedium, string(storage.KindLocal))
		first, _, err := svc.StartManualSync(ctx, acct.ID, 0, t0)
		if err != nil {
			t.Fatal(err)
		}
		var runs []catalog.SyncRun
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			runs, err = b.store.ListSyncRuns(ctx, acct.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) == 3 && runs[0].State == catalog.RunSucceeded {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("runs = %+v; want two failed and a succeeded retry", runs)
			}
		}
		if runs[2].ID != first.ID || runs[2].State != catalog.RunFailed || runs[1].State != catalog.RunFailed {
			t.Fatalf("runs = %+v", runs)
		}
		if runs[0].Trigger != catalog.TriggerManual {
			t.Errorf("retry trigger = %q, want manual", runs[0].Trigger)
		}
		if got := fin.wait(t, 1); len(got) != 1 || got[0] != catalog.RunSucceeded {
			t.Errorf("finished messages for %v, want only the final success", got)
		}
	})
}

// TestConnectFailureIsNotRetried: a connection that cannot be built fails
// the run once, for the admin to fix.
func TestConnectFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		var fin finishedLog
		var calls int
		var mu sync.Mutex
		svc := b.service(t, true, func(c *svcOpts) {
			c.SyncRetryDelay = 10 * time.Millisecond
			c.Finished = fin.add
			c.Connections = failingConnections(func() error {
				mu.Lock()
				calls++
				mu.Unlock()
				return errors.New("the local folder is outside SHELF_LOCAL_ROOTS")
			})
		})
		ctx := context.Background()
		acct := b.account(t, policy.PlanMedium, string(storage.KindLocal))
		run, _, err := svc.StartManualSync(ctx, acct.ID, 0, t0)
		if err != nil {
			t.Fatal(err)
		}
		r := b.waitRun(t, acct.ID, run.ID, catalog.RunFailed)
		if r.Error == "" {
			t.Error("failed run has no error")
		}
		// The next manual sync can start at once: no retry holds the slot.
		next, started, err := svc.StartManualSync(ctx, acct.ID, 0, t0)
		if err != nil || !started || next.ID == run.ID {
			t.Fatalf("manual sync after a failed one: %+v %v %v", next, started, err)
		}
		b.waitRun(t, acct.ID, next.ID, catalog.RunFailed)
		mu.Lock()
		defer mu.Unlock()
		if calls != 2 {
			t.Errorf("connector built %d times, want 2 (one per request, no retries)", calls)
		}
		if got := fin.wait(t, 2); len(got) != 2 || got[0] != catalog.RunFailed {
			t.Errorf("finished messages for %v, want two failures", got)
		}
	})
}

// TestManualSyncBringsTheRetryForward: while a failed sync waits for its
// retry (an hour here), Sync now syncs now: the waiting retry is replaced by
// one new run and one job, which runs at once (issue 9, defect 1).
func TestManualSyncBringsTheRetryForward(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		b.sync.setErr(storage.Classify(storage.ErrRetryable, "list", "", errors.New("503 slow down")))
		svc := b.service(t, true, func(c *svcOpts) { c.SyncRetryDelay = time.Hour })
		ctx := context.Background()
		acct := b.account(t, policy.PlanMedium, string(storage.KindLocal))
		run, _, err := svc.StartManualSync(ctx, acct.ID, 0, t0)
		if err != nil {
			t.Fatal(err)
		}
		b.waitRun(t, acct.ID, run.ID, catalog.RunFailed)
		// The moment the run shows failed, the account's one sync job is the
		// retry waiting for its backoff (the failed job is finished).
		jobs, err := svc.accountSyncJobs(ctx, acct.ID, rivertype.JobStateRetryable, rivertype.JobStateAvailable,
			rivertype.JobStateScheduled, rivertype.JobStateRunning, rivertype.JobStatePending)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != 1 || jobs[0].State != rivertype.JobStateScheduled {
			t.Fatalf("sync jobs when the run shows failed: %d; want one retry, scheduled", len(jobs))
		}
		b.sync.setErr(nil) // the storage is back
		again, started, err := svc.StartManualSync(ctx, acct.ID, 0, t0)
		if err != nil || !started || again.ID == run.ID || again.State != catalog.RunQueued {
			t.Fatalf("Sync now while a retry waits: run %d (%s) started=%v err=%v; want a new queued run", again.ID, again.State, started, err)
		}
		done := b.waitRun(t, acct.ID, again.ID, catalog.RunSucceeded)
		if done.Counts.Added != 3 {
			t.Errorf("the run that ran: %+v", done)
		}
		runs, err := b.store.ListSyncRuns(ctx, acct.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 2 {
			t.Fatalf("%d runs, want the failed one and the one Sync now started", len(runs))
		}
		jobs, err = svc.accountSyncJobs(ctx, acct.ID, rivertype.JobStateRetryable, rivertype.JobStateAvailable,
			rivertype.JobStateScheduled, rivertype.JobStateRunning, rivertype.JobStatePending)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != 0 {
			t.Fatalf("%d sync jobs still waiting after the sync ran; the retry should have been replaced", len(jobs))
		}
	})
}

// failingConnections cannot build any connector.
type failingConnections func() error

func (f failingConnections) Connector(context.Context, int64) (storage.Connector, error) {
	return nil, f()
}

func (failingConnections) MarkFailure(context.Context, int64, error) {}
