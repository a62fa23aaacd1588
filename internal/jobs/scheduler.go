package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

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

	due, err := s.cat.ListDueAccounts(ctx, now, s.cfg.DueBatch)
	if err != nil {
		errs = append(errs, fmt.Errorf("listing accounts due for auto-sync: %w", err))
	}
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
	if res.Enqueued+res.Reaped+res.TrialsExpired > 0 {
		s.logger.Debug("scheduler tick", "enqueued", res.Enqueued, "skipped", res.Skipped, "reaped", res.Reaped, "trials_expired", res.TrialsExpired)
	}
	return res, errors.Join(errs...)
}

// enqueueAuto queues the auto-sync of one due account and moves its due time
// to the next interval slot. It reports whether a new run was queued.
func (s *Service) enqueueAuto(ctx context.Context, acct catalog.Account, now time.Time) (bool, error) {
	conn, err := s.cat.GetConnection(ctx, acct.ID)
	if errors.Is(err, catalog.ErrNotFound) {
		return false, s.cat.SetNextAutoSync(ctx, acct.ID, nil, now)
	}
	if err != nil {
		return false, fmt.Errorf("reading the storage connection of account %d: %w", acct.ID, err)
	}
	enqueued := false
	err = s.inTx(ctx, func(t *txn) error {
		a, err := s.lockAccount(ctx, t, acct.ID)
		if err != nil {
			return err
		}
		if a.nextAuto == nil || a.nextAuto.After(now) {
			return nil // another tick or a plan change got here first
		}
		iv := s.policy.AutoInterval(a.plan, conn.Kind)
		if iv <= 0 {
			return setNextAutoTx(ctx, t, acct.ID, nil, now)
		}
		next := nextSlot(*a.nextAuto, iv, now)
		if err := setNextAutoTx(ctx, t, acct.ID, &next, now); err != nil {
			return err
		}
		if _, active, err := activeRunID(ctx, t, acct.ID); err != nil || active {
			return err
		}
		id, err := s.createRunTx(ctx, t, acct.ID, catalog.TriggerAuto, nil, now)
		if err != nil {
			return err
		}
		res, err := s.insertTx(ctx, t, SyncArgs{AccountID: acct.ID, RunID: id, Trigger: catalog.TriggerAuto})
		if err != nil {
			return fmt.Errorf("enqueueing the auto-sync job: %w", err)
		}
		if res.UniqueSkippedAsDuplicate {
			// A retry of an earlier run is pending: it is this interval's sync.
			if _, err := t.exec(ctx, `DELETE FROM sync_runs WHERE id = ?`, id); err != nil {
				return fmt.Errorf("dropping the unneeded sync run: %w", err)
			}
			return nil
		}
		enqueued = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("enqueueing the auto-sync of account %d: %w", acct.ID, err)
	}
	return enqueued, nil
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
