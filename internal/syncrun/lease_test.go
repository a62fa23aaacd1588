package syncrun

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/policy"
)

// TestLeaseExpiryAfterDeadWorker: worker A takes the lease and hangs
// without renewing (as if killed). Once the lease expires the reaper fails
// the run, unlocks the library and makes the job retryable; worker B
// retries it as a new run. A waking up later changes nothing.
func TestLeaseExpiryAfterDeadWorker(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		b.sync.block = make(chan struct{})
		b.sync.ignoreCtx = true
		b.sync.blockCalls = 1
		ctx := context.Background()
		acct := b.account(t, policy.PlanMedium, string(storage.KindLocal))
		events := b.hub.Subscribe(acct.ID)
		defer events.Close()

		// A never renews within the test: its TTL is an hour of wall time.
		svcA := b.service(t, true, func(c *svcOpts) { c.LeaseTTL = time.Hour; c.SyncWorkers = 1; c.NodeID = "worker-a" })
		run, _, err := svcA.StartManualSync(ctx, acct.ID, 0, t0)
		if err != nil {
			t.Fatal(err)
		}
		b.waitStarted(t)
		lease, err := b.store.GetLease(ctx, acct.ID, t0)
		if err != nil || lease.RunID != run.ID || !strings.HasPrefix(lease.Holder, "worker-a/") {
			t.Fatalf("lease = %+v, %v; want worker A holding run %d", lease, err, run.ID)
		}
		svcB := b.service(t, true, func(c *svcOpts) { c.NodeID = "worker-b" })

		// Before the TTL nothing is reaped.
		if n, err := svcB.ReapExpiredLeases(ctx, t0.Add(time.Minute)); err != nil || n != 0 {
			t.Fatalf("reaped %d (%v) before expiry", n, err)
		}
		later := t0.Add(2 * time.Hour)
		b.clock.Set(later)
		res, err := svcB.Tick(ctx, later)
		if err != nil || res.Reaped != 1 {
			t.Fatalf("tick after expiry = %+v, %v; want one lease reaped", res, err)
		}
		failed := b.waitRun(t, acct.ID, run.ID, catalog.RunFailed)
		if !strings.Contains(failed.Error, "stopped renewing its lease") {
			t.Errorf("failed run error = %q", failed.Error)
		}
		if _, err := b.store.GetLease(ctx, acct.ID, later); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("library still locked after the reap: %v", err)
		}

		// B retries the job as a new run.
		retry := b.waitStarted(t)
		if retry.RunID == run.ID {
			t.Fatalf("retry ran on the failed run %d", run.ID)
		}
		done := b.waitRun(t, acct.ID, retry.RunID, catalog.RunSucceeded)
		if done.Trigger != catalog.TriggerManual {
			t.Errorf("retry trigger = %q, want manual", done.Trigger)
		}

		// A wakes up: its outcome must not overwrite the reaper's decision.
		close(b.sync.block)
		stopCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := svcA.queue.Stop(stopCtx); err != nil {
			t.Fatal(err)
		}
		if r, _ := b.store.GetSyncRun(ctx, acct.ID, run.ID); r.State != catalog.RunFailed {
			t.Errorf("after worker A woke, run %d is %q, want failed", run.ID, r.State)
		}
		if r, _ := b.store.GetSyncRun(ctx, acct.ID, retry.RunID); r.State != catalog.RunSucceeded {
			t.Errorf("retry run is %q, want succeeded", r.State)
		}

		// The account's subscriber saw the failure and the retry's success.
		var seen []string
		for len(seen) < 10 {
			select {
			case ev := <-events.C:
				if ev.Type != notify.SyncProgress {
					seen = append(seen, ev.Type)
				}
				if ev.Type == notify.SyncCompleted && ev.RunID == retry.RunID {
					if !strings.Contains(strings.Join(seen, " "), notify.SyncFailed) {
						t.Errorf("events %v: no sync.failed before the retry completed", seen)
					}
					return
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("events so far %v; no sync.completed for the retry", seen)
			}
		}
	})
}

// TestLostLeaseStopsTheSync: when renewal finds the lease gone (taken over
// after expiry), the running sync is cancelled.
func TestLostLeaseStopsTheSync(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		b.sync.block = make(chan struct{})
		defer close(b.sync.block)
		ctx := context.Background()
		acct := b.account(t, policy.PlanMedium, string(storage.KindLocal))
		svc := b.service(t, true, func(c *svcOpts) { c.LeaseTTL = 300 * time.Millisecond; c.SyncWorkers = 1 })
		run, _, err := svc.StartManualSync(ctx, acct.ID, 0, t0)
		if err != nil {
			t.Fatal(err)
		}
		b.waitStarted(t)
		// Another holder takes over the expired lease (the clock jumps).
		later := t0.Add(time.Hour)
		b.clock.Set(later)
		if _, err := b.store.AcquireLease(ctx, acct.ID, run.ID, "intruder", later, time.Hour); err != nil {
			t.Fatal(err)
		}
		r := b.waitRun(t, acct.ID, run.ID, catalog.RunFailed)
		if !strings.Contains(r.Error, "lost its library lease") {
			t.Errorf("run error = %q, want the lease loss", r.Error)
		}
		if l, err := b.store.GetLease(ctx, acct.ID, later); err != nil || l.Holder != "intruder" {
			t.Errorf("lease = %+v %v; the stopped sync must not release another holder's lease", l, err)
		}
	})
}
