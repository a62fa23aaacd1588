package syncrun

import (
	"context"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/policy"
)

// aheadJobs lists the account's auto-sync jobs queued ahead of their time.
func aheadJobs(t *testing.T, svc *Service, accountID int64) []SyncArgs {
	t.Helper()
	list, err := svc.queue.List(context.Background(), river.NewJobListParams().Kinds(KindSync).
		States(rivertype.JobStateScheduled, rivertype.JobStateAvailable))
	if err != nil {
		t.Fatal(err)
	}
	var out []SyncArgs
	for _, j := range list {
		var a SyncArgs
		if err := unmarshalArgs(j, &a); err != nil {
			t.Fatal(err)
		}
		if a.AccountID == accountID && a.RunID == 0 {
			out = append(out, a)
		}
	}
	return out
}

// TestLookahead: a tick queues the syncs due before the next tick as jobs
// scheduled at their due time; such a job creates its run and moves the due
// time when it starts; a manual sync takes its place; a plan change
// cancels it.
func TestLookahead(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		svc := b.service(t, true, func(c *svcOpts) { c.Lookahead = 2 * time.Hour })
		ctx := context.Background()
		acct := b.account(t, policy.PlanMedium, string(storage.KindLocal))

		// Due in an hour: queued now, scheduled an hour ahead; no run yet and
		// the due time unchanged.
		due := t0.Add(time.Hour)
		if err := b.store.SetNextAutoSync(ctx, acct.ID, &due, t0); err != nil {
			t.Fatal(err)
		}
		if res, err := svc.Tick(ctx, t0); err != nil || res.Enqueued != 1 {
			t.Fatalf("tick = %+v, %v; want one queued ahead", res, err)
		}
		if res, err := svc.Tick(ctx, t0); err != nil || res.Enqueued != 0 {
			t.Fatalf("second tick = %+v, %v; want nothing more", res, err)
		}
		if jobs := aheadJobs(t, svc, acct.ID); len(jobs) != 1 || jobs[0].Slot != due.UnixMilli() {
			t.Fatalf("ahead jobs = %+v, want one for the due slot", jobs)
		}
		if runs, _ := b.store.ListSyncRuns(ctx, acct.ID, 10); len(runs) != 0 {
			t.Fatalf("runs = %+v before the due time, want none", runs)
		}
		if got := nextAuto(t, b, acct.ID); !got.Equal(due) {
			t.Fatalf("next = %v, want the due time still", got)
		}

		// A manual sync now takes the queued job's place.
		run, started, err := svc.StartManualSync(ctx, acct.ID, 0, t0)
		if err != nil || !started {
			t.Fatalf("manual sync: %v %v", started, err)
		}
		b.waitRun(t, acct.ID, run.ID, catalog.RunSucceeded)
		if jobs := aheadJobs(t, svc, acct.ID); len(jobs) != 0 {
			t.Fatalf("ahead jobs after the manual sync = %+v, want none", jobs)
		}

		// Queued again; a plan change cancels it and reschedules.
		if res, err := svc.Tick(ctx, t0); err != nil || res.Enqueued != 1 {
			t.Fatalf("tick = %+v, %v; want one queued ahead", res, err)
		}
		if err := svc.SetPlan(ctx, acct.ID, policy.PlanMicro, t0); err != nil {
			t.Fatal(err)
		}
		if jobs := aheadJobs(t, svc, acct.ID); len(jobs) != 0 {
			t.Fatalf("ahead jobs after a plan change = %+v, want none", jobs)
		}
		if got := nextAuto(t, b, acct.ID); !got.Equal(t0.Add(30 * time.Minute)) {
			t.Fatalf("next after moving to micro = %v, want t0+30m", got)
		}

		// Due in a moment: the job starts at the due time, creates an auto
		// run and moves the due time one interval on.
		b.clock.Set(t0.Add(29 * time.Minute))
		due = t0.Add(29*time.Minute + 300*time.Millisecond)
		if err := b.store.SetNextAutoSync(ctx, acct.ID, &due, b.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if res, err := svc.Tick(ctx, b.clock.Now()); err != nil || res.Enqueued != 1 {
			t.Fatalf("tick = %+v, %v; want one queued ahead", res, err)
		}
		var auto catalog.SyncRun
		for deadline := time.Now().Add(30 * time.Second); auto.ID == 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the scheduled auto-sync never ran")
			}
			runs, err := b.store.ListSyncRuns(ctx, acct.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) > 0 && runs[0].Trigger == catalog.TriggerAuto {
				auto = runs[0]
			}
		}
		b.waitRun(t, acct.ID, auto.ID, catalog.RunSucceeded)
		if got := nextAuto(t, b, acct.ID); !got.Equal(due.Add(30 * time.Minute)) {
			t.Fatalf("next after the auto-sync = %v, want due+30m", got)
		}
	})
}

// TestAheadJobSkipsWhenAutoSyncEnded: a plan change straight in the
// catalog (without cancelling queued jobs) to a plan without auto-sync
// makes the queued job end without a run.
func TestAheadJobSkipsWhenAutoSyncEnded(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, d dialect) {
		b := newBundle(t, d)
		svc := b.service(t, true, func(c *svcOpts) { c.Lookahead = time.Hour })
		ctx := context.Background()
		acct := b.account(t, policy.PlanMedium, string(storage.KindLocal))
		due := t0.Add(300 * time.Millisecond)
		if err := b.store.SetNextAutoSync(ctx, acct.ID, &due, t0); err != nil {
			t.Fatal(err)
		}
		if res, err := svc.Tick(ctx, t0); err != nil || res.Enqueued != 1 {
			t.Fatalf("tick = %+v, %v", res, err)
		}
		if err := b.store.SetPlan(ctx, acct.ID, policy.PlanFree, nil, t0); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			done, err := svc.accountSyncJobs(ctx, acct.ID, rivertype.JobStateCompleted)
			if err != nil {
				t.Fatal(err)
			}
			if len(done) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the queued job never ran")
			}
		}
		if runs, _ := b.store.ListSyncRuns(ctx, acct.ID, 10); len(runs) != 0 {
			t.Fatalf("runs = %+v, want none on the free plan", runs)
		}
	})
}
