package syncrun

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/policy"
)

// TestSyncWaitsForWritesWithoutLocking: while a library write (a slow
// upload) is in flight, a requested sync waits without locking the
// library, so other writes go on; it locks and runs once the write ended
// (issue 10, defect 5: one slow upload made the library read-only).
func TestSyncWaitsForWritesWithoutLocking(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		svc := b.service(t, true, nil)
		ctx := context.Background()
		acct := b.account(t, policy.PlanMedium, string(storage.KindLocal))

		upload, err := b.store.BeginWriteIntent(ctx, acct.ID, 0, "upload", t0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		run, _, err := svc.StartManualSync(ctx, acct.ID, 0, t0)
		if err != nil {
			t.Fatal(err)
		}
		// Over a few of the sync's looks (one a second), other writes
		// begin and end, the library stays unlocked, the engine waits.
		for range 3 {
			time.Sleep(time.Second)
			if l, err := b.store.GetLease(ctx, acct.ID, t0); err == nil {
				t.Fatalf("the sync locked the library (run %d) while a write was in flight", l.RunID)
			}
			rename, err := b.store.BeginWriteIntent(ctx, acct.ID, 0, "rename", t0, time.Hour)
			if err != nil {
				t.Fatalf("a write while the sync waits: %v", err)
			}
			if err := b.store.EndWriteIntent(ctx, acct.ID, rename); err != nil {
				t.Fatal(err)
			}
		}
		if n := b.sync.Calls(); n != 0 {
			t.Fatalf("the engine ran %d times while a write was in flight", n)
		}
		if r, _ := b.store.GetSyncRun(ctx, acct.ID, run.ID); r.State != catalog.RunQueued {
			t.Fatalf("run is %q while waiting for the write, want queued", r.State)
		}
		if err := b.store.EndWriteIntent(ctx, acct.ID, upload); err != nil {
			t.Fatal(err)
		}
		b.waitRun(t, acct.ID, run.ID, catalog.RunSucceeded)
		if n := b.sync.Calls(); n != 1 {
			t.Fatalf("engine ran %d times, want 1", n)
		}
	})
}

// TestSyncLocksAfterWaitingTooLong: a sync that waited WriteWaitLimit for
// writes in flight takes the lease anyway: writes that begin after are
// refused with the run's id; the engine starts only when the write in
// flight has ended.
func TestSyncLocksAfterWaitingTooLong(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		svc := b.service(t, true, nil)
		ctx := context.Background()
		acct := b.account(t, policy.PlanMedium, string(storage.KindLocal))

		intent, err := b.store.BeginWriteIntent(ctx, acct.ID, 0, "upload", t0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		run, _, err := svc.StartManualSync(ctx, acct.ID, 0, t0)
		if err != nil {
			t.Fatal(err)
		}
		b.clock.Set(t0.Add(11 * time.Minute)) // past the default WriteWaitLimit
		// The sync takes the lease, then waits for the upload.
		deadline := time.Now().Add(30 * time.Second)
		for {
			l, err := b.store.GetLease(ctx, acct.ID, b.clock.Now())
			if err == nil && l.RunID == run.ID {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the sync never took the lease: %v", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		_, err = b.store.BeginWriteIntent(ctx, acct.ID, 0, "rename", b.clock.Now(), time.Hour)
		var locked *catalog.LockedError
		if !errors.As(err, &locked) || locked.RunID != run.ID {
			t.Fatalf("a write during the sync: %v, want LockedError for run %d", err, run.ID)
		}
		time.Sleep(200 * time.Millisecond) // room for a sync that does not wait to show itself
		if n := b.sync.Calls(); n != 0 {
			t.Fatalf("the engine ran %d times while a write was in flight", n)
		}
		if r, _ := b.store.GetSyncRun(ctx, acct.ID, run.ID); r.State != catalog.RunQueued {
			t.Fatalf("run is %q while waiting for the write, want queued", r.State)
		}
		if err := b.store.EndWriteIntent(ctx, acct.ID, intent); err != nil {
			t.Fatal(err)
		}
		b.waitRun(t, acct.ID, run.ID, catalog.RunSucceeded)
		if n := b.sync.Calls(); n != 1 {
			t.Fatalf("engine ran %d times, want 1", n)
		}
		// The library is unlocked again.
		if _, err := b.store.BeginWriteIntent(ctx, acct.ID, 0, "rename", b.clock.Now(), time.Hour); err != nil {
			t.Fatalf("a write after the sync: %v", err)
		}
	})
}

// TestRetryWaitingForWritesKeepsOneRun: the retry of a failed sync that
// waits for library writes in flight (snoozing a second at a time) keeps
// the one run it made — every wake used to make another, left queued with
// no job, and the account showed "running" for good.
func TestRetryWaitingForWritesKeepsOneRun(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		b.sync.setErr(storage.Classify(storage.ErrRetryable, "list", "", errors.New("503 slow down")))
		svc := b.service(t, true, func(c *svcOpts) { c.SyncRetryDelay = time.Second })
		ctx := context.Background()
		acct := b.account(t, policy.PlanMedium, string(storage.KindLocal))
		run, _, err := svc.StartManualSync(ctx, acct.ID, 0, t0)
		if err != nil {
			t.Fatal(err)
		}
		b.waitRun(t, acct.ID, run.ID, catalog.RunFailed)
		upload, err := b.store.BeginWriteIntent(ctx, acct.ID, 0, "upload", t0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		b.sync.setErr(nil)
		// The retry comes (a second after the failure, later on a busy
		// machine), makes its run and waits; it then wakes and waits again
		// every second, which used to make a run each time.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			runs, err := b.store.ListSyncRuns(ctx, acct.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) > 1 || time.Now().After(deadline) {
				break
			}
		}
		time.Sleep(3 * time.Second) // the retry wakes, waits, wakes again
		runs, err := b.store.ListSyncRuns(ctx, acct.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 2 || runs[0].State != catalog.RunQueued {
			t.Fatalf("%d runs while the retry waits (newest %q); want the failed one and one queued retry", len(runs), runs[0].State)
		}
		if err := b.store.EndWriteIntent(ctx, acct.ID, upload); err != nil {
			t.Fatal(err)
		}
		b.waitRun(t, acct.ID, runs[0].ID, catalog.RunSucceeded)
		if runs, _ := b.store.ListSyncRuns(ctx, acct.ID, 10); len(runs) != 2 {
			t.Fatalf("%d runs after the retry ran, want 2", len(runs))
		}
	})
}
