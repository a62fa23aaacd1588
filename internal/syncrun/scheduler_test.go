package syncrun

import (
	"context"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/policy"
)

func nextAuto(t *testing.T, b *bundle, id int64) *time.Time {
	t.Helper()
	a, err := b.store.GetAccount(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a.NextAutoSyncAt
}

// TestSchedulerOnInjectedClock walks an account through hours of schedule
// without sleeping: due times on the plan's grid, one run per slot, plan
// changes and trial expiry rescheduling at once.
func TestSchedulerOnInjectedClock(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		svc := b.service(t, true, nil)
		ctx := context.Background()

		trial := b.account(t, policy.PlanTrial, string(storage.KindGDrive))
		run, _, err := svc.StartInitialSync(ctx, trial.ID, 0, t0)
		if err != nil {
			t.Fatal(err)
		}
		b.waitRun(t, trial.ID, run.ID, catalog.RunSucceeded)
		if got := nextAuto(t, b, trial.ID); got == nil || !got.Equal(t0.Add(5*time.Minute)) {
			t.Fatalf("after the initial sync next auto-sync = %v, want t0+5m", got)
		}

		tick := func(at time.Time) TickResult {
			t.Helper()
			b.clock.Set(at)
			res, err := svc.Tick(ctx, at)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		if res := tick(t0.Add(4 * time.Minute)); res.Enqueued != 0 {
			t.Fatalf("tick before due enqueued %d", res.Enqueued)
		}
		if res := tick(t0.Add(5 * time.Minute)); res.Enqueued != 1 {
			t.Fatalf("tick when due enqueued %d, want 1", res.Enqueued)
		}
		if res := tick(t0.Add(5 * time.Minute)); res.Enqueued != 0 {
			t.Fatalf("second tick in the same slot enqueued %d, want 0", res.Enqueued)
		}
		if got := nextAuto(t, b, trial.ID); !got.Equal(t0.Add(10 * time.Minute)) {
			t.Fatalf("next = %v, want t0+10m", got)
		}
		runs, _ := b.store.ListSyncRuns(ctx, trial.ID, 10)
		b.waitRun(t, trial.ID, runs[0].ID, catalog.RunSucceeded)
		if runs[0].Trigger != catalog.TriggerAuto {
			t.Fatalf("run trigger = %q, want auto", runs[0].Trigger)
		}

		// A tick 17 minutes late queues one run and keeps the 5-minute grid.
		if res := tick(t0.Add(27 * time.Minute)); res.Enqueued != 1 {
			t.Fatalf("late tick enqueued %d, want 1", res.Enqueued)
		}
		if got := nextAuto(t, b, trial.ID); !got.Equal(t0.Add(30 * time.Minute)) {
			t.Fatalf("next after a late tick = %v, want t0+30m", got)
		}
		runs, _ = b.store.ListSyncRuns(ctx, trial.ID, 10)
		b.waitRun(t, trial.ID, runs[0].ID, catalog.RunSucceeded)

		// A plan change reschedules at once: micro every 30 minutes from now,
		// free never.
		now := t0.Add(28 * time.Minute)
		if err := svc.SetPlan(ctx, trial.ID, policy.PlanMicro, now); err != nil {
			t.Fatal(err)
		}
		if got := nextAuto(t, b, trial.ID); got == nil || !got.Equal(now.Add(30*time.Minute)) {
			t.Fatalf("after moving to micro next = %v, want now+30m", got)
		}
		if err := svc.SetPlan(ctx, trial.ID, policy.PlanFree, now); err != nil {
			t.Fatal(err)
		}
		if got := nextAuto(t, b, trial.ID); got != nil {
			t.Fatalf("after moving to free next = %v, want none", got)
		}
		if res := tick(t0.Add(2 * time.Hour)); res.Enqueued != 0 {
			t.Fatalf("free account enqueued %d auto-syncs", res.Enqueued)
		}

		// S3 has no auto-sync unless the operator enables it.
		s3 := b.account(t, policy.PlanEnterprise, string(storage.KindS3))
		if err := svc.Reschedule(ctx, s3.ID, t0); err != nil {
			t.Fatal(err)
		}
		if got := nextAuto(t, b, s3.ID); got != nil {
			t.Fatalf("S3 account next auto-sync = %v, want none", got)
		}
	})
}

// TestTrialExpiry: the tick moves an ended trial to free and stops its
// auto-sync.
func TestTrialExpiry(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		svc := b.service(t, false, nil)
		ctx := context.Background()
		ends := t0.Add(time.Hour)
		next := t0.Add(5 * time.Minute)
		a, err := b.store.CreateAccount(ctx, catalog.NewAccount{Name: "trial", Plan: policy.PlanTrial, TrialEndsAt: &ends, NextAutoSyncAt: &next}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.store.PutConnection(ctx, catalog.Connection{AccountID: a.ID, Kind: string(storage.KindGDrive), RootKey: "folder"}, t0); err != nil {
			t.Fatal(err)
		}
		res, err := svc.Tick(ctx, t0.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if res.TrialsExpired != 1 || res.Enqueued != 0 {
			t.Fatalf("tick = %+v, want one trial expired and nothing enqueued", res)
		}
		got, _ := b.store.GetAccount(ctx, a.ID)
		if got.Plan != policy.PlanFree || got.NextAutoSyncAt != nil {
			t.Fatalf("account after expiry: plan %q next %v; want free, none", got.Plan, got.NextAutoSyncAt)
		}
	})
}

func TestNextSlot(t *testing.T) {
	t.Parallel()
	iv := 5 * time.Minute
	cases := []struct {
		now  time.Duration
		want time.Duration
	}{
		{0, 5 * time.Minute},
		{4 * time.Minute, 5 * time.Minute},
		{5 * time.Minute, 10 * time.Minute},
		{17 * time.Minute, 20 * time.Minute},
	}
	for _, c := range cases {
		if got := nextSlot(t0, iv, t0.Add(c.now)); !got.Equal(t0.Add(c.want)) {
			t.Errorf("nextSlot(now=t0+%v) = t0+%v, want t0+%v", c.now, got.Sub(t0), c.want)
		}
	}
}

// One tick queues every due account, however many: it goes through them a
// page (DueBatch) at a time. (At 1,000 a tick and a 30 s tick, 10,000
// accounts on 5 minutes was the most the scheduler could keep up with.)
func TestTickQueuesEveryDueAccount(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		svc := b.service(t, false, func(o *svcOpts) { o.DueBatch = 2 })
		ctx := context.Background()
		due := t0.Add(-time.Minute)
		const n = 7
		for range n {
			a := b.account(t, policy.PlanMedium, string(storage.KindLocal))
			if err := b.store.SetNextAutoSync(ctx, a.ID, &due, t0); err != nil {
				t.Fatal(err)
			}
		}
		b.clock.Set(t0)
		res, err := svc.Tick(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		if res.Enqueued != n {
			t.Fatalf("one tick queued %d of %d due accounts (pages of 2)", res.Enqueued, n)
		}
	})
}
