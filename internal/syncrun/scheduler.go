package syncrun

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// schedulerWorker runs the periodic tick. River inserts the tick on the
// elected leader only, and the tick is unique, so one runs at a time in the
// whole cluster.
type schedulerWorker struct {
	river.WorkerDefaults[SchedulerArgs]
	svc *Service
}

// Timeout gives a tick over many accounts room beyond River's one-minute
// default.
func (w *schedulerWorker) Timeout(*river.Job[SchedulerArgs]) time.Duration { return 10 * time.Minute }

func (w *schedulerWorker) Work(ctx context.Context, _ *river.Job[SchedulerArgs]) error {
	_, err := w.svc.Tick(ctx, w.svc.now())
	return err
}

// TickResult says what one scheduler tick did.
type TickResult struct {
	TrialsExpired int
	Enqueued      int
	// Skipped counts due accounts that already had a sync active (that
	// sync covers the interval) or no auto-sync any more.
	Skipped int
	Reaped  int
}

// Tick does one round of the scheduler at now: expires trials (and
// reschedules those accounts), enqueues an auto-sync for every due account
// and reaps expired leases. The periodic job calls it; tests call it with an
// injected clock.
func (s *Service) Tick(ctx context.Context, now time.Time) (TickResult, error) {
	var res TickResult
	var errs []error

	expired, err := s.cat.ExpireTrials(ctx, now)
	if err != nil {
		errs = append(errs, fmt.Errorf("expiring trials: %w", err))
	}
	for _, id := range expired {
		if err := s.Reschedule(ctx, id, now); err != nil {
			errs = append(errs, err)
			continue
		}
		res.TrialsExpired++
		s.logger.Info("trial ended; account moved to the free plan", "account_id", id)
	}

	n, err := s.ReapExpiredLeases(ctx, now)
	res.Reaped = n
	if err != nil {
		errs = append(errs, err)
	}
	n, err = s.RescueOrphanedSyncJobs(ctx)
	res.Reaped += n
	if err != nil {
		errs = append(errs, err)
	}

	// Every due account, a page at a time, within two thirds of the tick
	// interval (the next tick goes on where this one stopped): no fixed
	// number of accounts per tick caps how many the scheduler keeps up
	// with.
	upto := now.Add(s.cfg.Lookahead)
	budget := time.Now().Add(s.cfg.SchedulerInterval * 2 / 3)
	due, err := s.cat.ListDueAccounts(ctx, upto, s.cfg.DueBatch)
	for err == nil && len(due) > 0 {
		for _, acct := range due {
			enq, err := s.enqueueAuto(ctx, acct, now)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if enq {
				res.Enqueued++
			} else {
				res.Skipped++
			}
		}
		if len(due) < s.cfg.DueBatch {
			break
		}
		if time.Now().After(budget) {
			s.logger.Warn("scheduler tick ran out of time before every due account was queued; the next tick goes on",
				"queued", res.Enqueued, "interval", s.cfg.SchedulerInterval)
			break
		}
		last := due[len(due)-1]
		due, err = s.cat.ListDueAccountsAfter(ctx, upto, *last.NextAutoSyncAt, last.ID, s.cfg.DueBatch)
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("listing accounts due for auto-sync: %w", err))
	}
	if res.Enqueued+res.Reaped+res.TrialsExpired > 0 {
		s.logger.Debug("scheduler tick", "enqueued", res.Enqueued, "skipped", res.Skipped, "reaped", res.Reaped, "trials_expired", res.TrialsExpired)
	}
	return res, errors.Join(errs...)
}

// enqueueAuto queues the auto-sync of one account that is due (or due
// within the lookahead). It reports whether a new job was queued.
//
// A due account gets a run and a job at once, and its due time moves to the
// next slot of its interval. An account due ahead gets a job scheduled at
// its due time and no run yet: the job creates the run and moves the due
// time when it starts, so until then the account shows its true next-due
// time and a manual sync can take the job's place.
func (s *Service) enqueueAuto(ctx context.Context, acct catalog.Account, now time.Time) (bool, error) {
	conn, err := s.cat.GetConnection(ctx, acct.ID)
	if errors.Is(err, catalog.ErrNotFound) {
		return false, s.cat.SetNextAutoSync(ctx, acct.ID, nil, now)
	}
	if err != nil {
		return false, fmt.Errorf("reading the storage connection of account %d: %w", acct.ID, err)
	}
	enqueued := false
	err = s.store.InQueueTx(ctx, func(t *catalog.QueueTx) error {
		a, err := t.LockSchedule(ctx, acct.ID)
		if err != nil {
			return err
		}
		if a.NextAutoSyncAt == nil || a.NextAutoSyncAt.After(now.Add(s.cfg.Lookahead)) {
			return nil // another tick or a plan change got here first
		}
		iv := s.policy.AutoInterval(a.Plan, conn.Kind)
		if iv <= 0 {
			return t.SetNextAutoSync(ctx, acct.ID, nil, now)
		}
		due := *a.NextAutoSyncAt
		if due.After(now) {
			// River keeps wall-clock times; wait the same span.
			at := time.Now().Add(due.Sub(now))
			res, err := s.queue.InsertTx(ctx, t, SyncArgs{AccountID: acct.ID, Trigger: catalog.TriggerAuto, Slot: due.UnixMilli()},
				&river.InsertOpts{ScheduledAt: at})
			if err != nil {
				return err
			}
			// A duplicate: a sync of the account is queued or running, or
			// this slot is already scheduled; the next tick looks again.
			enqueued = !res.UniqueSkippedAsDuplicate
			return nil
		}
		next := nextSlot(due, iv, now)
		if err := t.SetNextAutoSync(ctx, acct.ID, &next, now); err != nil {
			return err
		}
		if active, err := hasActiveRun(ctx, t, acct.ID); err != nil || active {
			return err
		}
		run, err := t.CreateRun(ctx, catalog.SyncRun{AccountID: acct.ID, Trigger: catalog.TriggerAuto}, now)
		if err != nil {
			return err
		}
		res, err := s.queue.InsertTx(ctx, t, SyncArgs{AccountID: acct.ID, RunID: run.ID, Trigger: catalog.TriggerAuto}, nil)
		if err != nil {
			return err
		}
		if res.UniqueSkippedAsDuplicate {
			// A job already covers this slot: one scheduled ahead for it,
			// or the retry of an earlier run.
			return t.DeleteRun(ctx, acct.ID, run.ID)
		}
		enqueued = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("enqueueing the auto-sync of account %d: %w", acct.ID, err)
	}
	return enqueued, nil
}

// startAheadRun creates the run of an auto-sync job queued ahead of its due
// time, now that it starts, and moves the account's due time past the
// job's slot. ok is false when another sync covers the slot.
func (s *Service) startAheadRun(ctx context.Context, args SyncArgs) (run catalog.SyncRun, ok bool, err error) {
	conn, err := s.cat.GetConnection(ctx, args.AccountID)
	if errors.Is(err, catalog.ErrNotFound) {
		return run, false, nil // storage disconnected meanwhile
	}
	if err != nil {
		return run, false, fmt.Errorf("reading the storage connection of account %d: %w", args.AccountID, err)
	}
	now := s.now()
	err = s.store.InQueueTx(ctx, func(t *catalog.QueueTx) error {
		a, err := t.LockSchedule(ctx, args.AccountID)
		if err != nil {
			return err
		}
		if a.NextAutoSyncAt == nil {
			return nil // auto-sync was turned off meanwhile (plan or storage change)
		}
		if a.NextAutoSyncAt.UnixMilli() == args.Slot {
			slot := time.UnixMilli(args.Slot).UTC()
			var next *time.Time
			if iv := s.policy.AutoInterval(a.Plan, conn.Kind); iv > 0 {
				n := nextSlot(slot, iv, later(now, slot))
				next = &n
			}
			if err := t.SetNextAutoSync(ctx, args.AccountID, next, now); err != nil {
				return err
			}
		}
		active, err := t.ActiveRun(ctx, args.AccountID)
		switch {
		case err == nil && active.State == catalog.RunQueued:
			// This job's own run, made on an earlier start that then
			// waited for library writes (no other job of the account can
			// exist while this one runs).
			run, ok = active, true
			return nil
		case err == nil:
			return nil // running: another sync covers the slot
		case !errors.Is(err, catalog.ErrNotFound):
			return fmt.Errorf("looking for the account's active sync: %w", err)
		}
		run, err = t.CreateRun(ctx, catalog.SyncRun{AccountID: args.AccountID, Trigger: catalog.TriggerAuto}, now)
		ok = err == nil
		return err
	})
	return run, ok && err == nil, err
}

// hasActiveRun reports whether the account has a queued or running run.
func hasActiveRun(ctx context.Context, t *catalog.QueueTx, accountID int64) (bool, error) {
	_, err := t.ActiveRun(ctx, accountID)
	if errors.Is(err, catalog.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking for the account's active sync: %w", err)
	}
	return true, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// cancelAheadJobs deletes the account's auto-sync jobs queued ahead of
// their due time (after a plan or storage change rescheduled it).
func (s *Service) cancelAheadJobs(ctx context.Context, accountID int64) error {
	queued, err := s.accountSyncJobs(ctx, accountID, rivertype.JobStateScheduled, rivertype.JobStateAvailable)
	if err != nil {
		return err
	}
	for _, j := range queued {
		var args SyncArgs
		if unmarshalArgs(j, &args) != nil || args.RunID != 0 || j.AttemptedAt != nil {
			// A job with a run, or an ahead auto-sync that started
			// already (made its run, then waited), is a sync, not a plan.
			continue
		}
		if err := s.queue.Delete(ctx, j.ID); err != nil && !errors.Is(err, rivertype.ErrJobRunning) && !errors.Is(err, river.ErrNotFound) {
			return fmt.Errorf("cancelling the scheduled auto-sync of account %d: %w", accountID, err)
		}
	}
	return nil
}

// nextSlot is the first due time after now on the grid due + k·interval, so
// a late tick does not shift an account's cadence and never queues missed
// slots twice.
func nextSlot(due time.Time, interval time.Duration, now time.Time) time.Time {
	next := due.Add(interval)
	if next.After(now) {
		return next
	}
	k := now.Sub(due)/interval + 1
	return due.Add(k * interval)
}
