package syncrun

import (
	"context"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/policy"
)

// stallingCatalog never returns from taking the lease until its context ends:
// a worker that died after River handed it the job and before it took the
// lease.
type stallingCatalog struct {
	Catalog
	stalled chan struct{}
}

func (c *stallingCatalog) AcquireLease(ctx context.Context, accountID, runID int64, holder string, now time.Time, ttl time.Duration) (catalog.Lease, error) {
	close(c.stalled)
	<-ctx.Done()
	return catalog.Lease{}, ctx.Err()
}

func (c *stallingCatalog) AcquireIdleLease(ctx context.Context, accountID, runID int64, holder string, now time.Time, ttl time.Duration) (catalog.Lease, error) {
	return c.AcquireLease(ctx, accountID, runID, holder, now, ttl)
}

// TestOrphanedJobIsRescued: a sync job River shows running but whose worker
// never took the lease is retried by another worker after two lease TTLs,
// instead of blocking the account until River's hours-long rescue.
func TestOrphanedJobIsRescued(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		ctx := context.Background()
		acct := b.account(t, policy.PlanMedium, string(storage.KindLocal))
		stall := &stallingCatalog{Catalog: b.store, stalled: make(chan struct{})}
		svcA := b.service(t, true, func(c *svcOpts) {
			c.Catalog = stall
			c.SyncWorkers = 1
			c.LeaseTTL = 100 * time.Millisecond
			c.NodeID = "worker-a"
		})
		run, _, err := svcA.StartManualSync(ctx, acct.ID, 0, t0)
		if err != nil {
			t.Fatal(err)
		}
		<-stall.stalled
		svcB := b.service(t, true, func(c *svcOpts) { c.LeaseTTL = 100 * time.Millisecond; c.NodeID = "worker-b" })

		// Until two TTLs have passed the job may still be starting.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			n, err := svcB.RescueOrphanedSyncJobs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the orphaned sync job was never rescued")
			}
		}
		done := b.waitRun(t, acct.ID, run.ID, catalog.RunSucceeded)
		if done.Trigger != catalog.TriggerManual {
			t.Errorf("trigger = %q", done.Trigger)
		}
		if n := b.sync.Calls(); n != 1 {
			t.Errorf("engine ran %d times, want 1", n)
		}
		// A live sync is never taken for an orphan.
		if n, err := svcB.RescueOrphanedSyncJobs(ctx); err != nil || n != 0 {
			t.Errorf("second rescue = %d, %v; want nothing", n, err)
		}
	})
}
