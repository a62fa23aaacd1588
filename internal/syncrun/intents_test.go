package syncrun

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/policy"
)

// TestSyncWaitsForWritesInFlight: a library write that began before the
// sync took the lease finishes first; writes that begin after are refused
// with the run's id; the engine starts only when the write has ended.
func TestSyncWaitsForWritesInFlight(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		svc := b.service(t, true, nil)
		ctx := context.Background()
		acct := b.account(t, policy.PlanMedium, policy.KindLocal)

		intent, err := b.store.BeginWriteIntent(ctx, acct.ID, 0, "upload", t0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		run, _, err := svc.StartManualSync(ctx, acct.ID, 0, t0)
		if err != nil {
			t.Fatal(err)
		}
		// The sync takes the lease, then waits for the upload.
		deadline := time.Now().Add(30 * time.Second)
		for {
			l, err := b.store.GetLease(ctx, acct.ID, t0)
			if err == nil && l.RunID == run.ID {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the sync never took the lease: %v", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		_, err = b.store.BeginWriteIntent(ctx, acct.ID, 0, "rename", t0, time.Hour)
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
		if _, err := b.store.BeginWriteIntent(ctx, acct.ID, 0, "rename", t0, time.Hour); err != nil {
			t.Fatalf("a write after the sync: %v", err)
		}
	})
}
