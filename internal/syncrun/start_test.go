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

// TestManualCooldown: free and payg accounts get one manual sync per
// cooldown, answered with the time it becomes available and the plan that
// would allow it now; the initial sync does not start the cooldown.
func TestManualCooldown(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		svc := b.service(t, true, nil)
		ctx := context.Background()

		free := b.account(t, policy.PlanFree, string(storage.KindGDrive))
		// The initial sync on connect does not start the cooldown.
		run, started, err := svc.StartInitialSync(ctx, free.ID, 0, t0)
		if err != nil || !started || run.Trigger != catalog.TriggerInitial {
			t.Fatalf("initial sync: %+v %v %v", run, started, err)
		}
		b.waitRun(t, free.ID, run.ID, catalog.RunSucceeded)

		b.clock.Set(t0.Add(time.Minute))
		run, started, err = svc.StartManualSync(ctx, free.ID, 0, b.clock.Now())
		if err != nil || !started || run.Trigger != catalog.TriggerManual {
			t.Fatalf("first manual sync: %+v %v %v", run, started, err)
		}
		b.waitRun(t, free.ID, run.ID, catalog.RunSucceeded)

		now := t0.Add(11 * time.Minute)
		_, _, err = svc.StartManualSync(ctx, free.ID, 0, now)
		var ce *CooldownError
		if !errors.As(err, &ce) {
			t.Fatalf("manual sync 10 min later: err = %v, want a cooldown error", err)
		}
		if !ce.AvailableAt.Equal(t0.Add(61*time.Minute)) || ce.RetryAfter != 50*time.Minute {
			t.Errorf("available at %v (retry after %v), want %v (50m)", ce.AvailableAt, ce.RetryAfter, t0.Add(61*time.Minute))
		}
		if ce.AllowingPlan != policy.PlanMicro || ce.Plan != policy.PlanFree {
			t.Errorf("plan %q, allowing plan %q; want free and micro", ce.Plan, ce.AllowingPlan)
		}

		run, started, err = svc.StartManualSync(ctx, free.ID, 0, t0.Add(61*time.Minute))
		if err != nil || !started {
			t.Fatalf("manual sync after the cooldown: %+v %v %v", run, started, err)
		}
		b.waitRun(t, free.ID, run.ID, catalog.RunSucceeded)

		payg := b.account(t, policy.PlanPayg, string(storage.KindS3))
		run = started1(t)(svc.StartManualSync(ctx, payg.ID, 0, t0))
		b.waitRun(t, payg.ID, run.ID, catalog.RunSucceeded)
		_, _, err = svc.StartManualSync(ctx, payg.ID, 0, t0.Add(5*time.Minute+500*time.Millisecond))
		if !errors.As(err, &ce) || ce.RetryAfter != 10*time.Minute {
			t.Fatalf("payg 5.5 min later: %v, want retry after 10m (rounded up to seconds)", err)
		}
		if ce.AllowingPlan != policy.PlanMicro {
			t.Errorf("allowing plan = %q, want micro", ce.AllowingPlan)
		}

		// Plans without a cooldown sync any time.
		small := b.account(t, policy.PlanSmall, string(storage.KindGDrive))
		for range 2 {
			run = started1(t)(svc.StartManualSync(ctx, small.ID, 0, t0))
			b.waitRun(t, small.ID, run.ID, catalog.RunSucceeded)
		}
	})
}

// started1 returns a function that takes a start call's results and fails
// the test unless a new run started.
func started1(t *testing.T) func(catalog.SyncRun, bool, error) catalog.SyncRun {
	return func(run catalog.SyncRun, started bool, err error) catalog.SyncRun {
		t.Helper()
		if err != nil || !started {
			t.Fatalf("start: started=%v err=%v", started, err)
		}
		return run
	}
}

// TestOneSyncPerAccount: while a sync runs, every request returns it and
// the scheduler queues nothing.
func TestOneSyncPerAccount(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		b.sync.block = make(chan struct{})
		svc := b.service(t, true, nil)
		ctx := context.Background()
		acct := b.account(t, policy.PlanMedium, string(storage.KindLocal))

		run, started, err := svc.StartManualSync(ctx, acct.ID, 0, t0)
		if err != nil || !started {
			t.Fatal(started, err)
		}
		b.waitStarted(t)
		b.waitRun(t, acct.ID, run.ID, catalog.RunRunning)

		again, started, err := svc.StartManualSync(ctx, acct.ID, 0, t0)
		if err != nil || started || again.ID != run.ID {
			t.Fatalf("second request: run %d started=%v err=%v; want run %d, not started", again.ID, started, err, run.ID)
		}
		cli, started, err := svc.StartCLISync(ctx, acct.ID, t0)
		if err != nil || started || cli.ID != run.ID {
			t.Fatalf("CLI request: run %d started=%v err=%v; want run %d", cli.ID, started, err, run.ID)
		}
		// Due for auto-sync while running: the running sync covers it.
		if err := b.store.SetNextAutoSync(ctx, acct.ID, &t0, t0); err != nil {
			t.Fatal(err)
		}
		res, err := svc.Tick(ctx, t0)
		if err != nil || res.Enqueued != 0 {
			t.Fatalf("tick while running: %+v %v; want nothing enqueued", res, err)
		}
		close(b.sync.block)
		b.waitRun(t, acct.ID, run.ID, catalog.RunSucceeded)
		if n := b.sync.Calls(); n != 1 {
			t.Fatalf("engine ran %d times, want 1", n)
		}
		runs, err := b.store.ListSyncRuns(ctx, acct.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 1 {
			t.Fatalf("%d runs recorded, want 1", len(runs))
		}
	})
}

func TestNoStorage(t *testing.T) {
	t.Parallel()
	b := newBundle(t, dialects()[0])
	svc := b.service(t, false, nil)
	a, err := b.store.CreateAccount(context.Background(), catalog.NewAccount{Name: "empty"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.StartManualSync(context.Background(), a.ID, 0, t0); !errors.Is(err, ErrNoStorage) {
		t.Fatalf("err = %v, want ErrNoStorage", err)
	}
}
