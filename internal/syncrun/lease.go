package syncrun

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// errLeaseLost is the cause of a sync's context when its lease was lost.
var errLeaseLost = fmt.Errorf("the sync lost its library lease (the worker stalled or lost the database): %w", catalog.ErrLeaseLost)

// holdLease renews the lease every third of the TTL until stop is called.
// When the lease is lost (taken over after expiry, or not renewable before
// it expires) it cancels the sync with errLeaseLost.
func (s *Service) holdLease(ctx context.Context, cancel context.CancelCauseFunc, accountID, runID int64, holder string, expires time.Time) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		every := s.cfg.LeaseTTL / 3
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now := s.now()
			next := now.Add(s.cfg.LeaseTTL)
			err := s.cat.RenewLease(ctx, accountID, runID, holder, now, s.cfg.LeaseTTL)
			switch {
			case err == nil:
				expires = next
			case errors.Is(err, catalog.ErrLeaseLost) || errors.Is(err, catalog.ErrNotFound):
				s.logger.Warn("sync lease lost; stopping the sync", "account_id", accountID, "run_id", runID)
				cancel(errLeaseLost)
				return
			case !s.now().Before(expires):
				s.logger.Warn("sync lease could not be renewed before it expired; stopping the sync",
					"account_id", accountID, "run_id", runID, "error", err)
				cancel(errLeaseLost)
				return
			default:
				s.logger.Warn("renewing the sync lease failed; retrying", "account_id", accountID, "run_id", runID, "error", err)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// waitForIntents waits until the account has no open library write (write
// intents end when the write commits, or expire).
func (s *Service) waitForIntents(ctx context.Context, accountID int64) error {
	delay := 50 * time.Millisecond
	for {
		n, err := s.cat.CountOpenWriteIntents(ctx, accountID, s.now())
		if err != nil {
			return fmt.Errorf("checking for library writes in flight: %w", err)
		}
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}

// ReapExpiredLeases frees the library of every account whose sync lease
// expired (its worker died or stalled): the run is marked failed, the lease
// released, and the River job made retryable at once so another worker
// retries it as a new run. It returns how many leases it reaped.
func (s *Service) ReapExpiredLeases(ctx context.Context, now time.Time) (int, error) {
	leases, err := s.cat.ListExpiredLeases(ctx, now, 1000)
	if err != nil {
		return 0, fmt.Errorf("listing expired sync leases: %w", err)
	}
	if len(leases) == 0 {
		return 0, nil
	}
	reaped := 0
	var errs []error
	for _, l := range leases {
		run, err := s.cat.GetSyncRun(ctx, l.AccountID, l.RunID)
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		failedNow := false
		if err == nil && (run.State == catalog.RunQueued || run.State == catalog.RunRunning) {
			msg := fmt.Sprintf("the worker running this sync (%s) stopped renewing its lease (it died or lost the database); nothing was deleted", l.Holder)
			run.State, run.Error, run.FinishedAt = catalog.RunFailed, msg, &now
			if err := s.cat.UpdateSyncRun(ctx, run); err != nil {
				errs = append(errs, fmt.Errorf("marking sync run %d failed: %w", run.ID, err))
				continue
			}
			failedNow = true
			s.publishRun(ctx, run)
		}
		if err := s.cat.DeleteExpiredLease(ctx, l.AccountID, l.RunID, now); errors.Is(err, catalog.ErrNotFound) {
			continue // renewed or taken over meanwhile
		} else if err != nil {
			errs = append(errs, fmt.Errorf("releasing the expired lease of account %d: %w", l.AccountID, err))
			continue
		}
		reaped++
		s.logger.Warn("reaped an expired sync lease", "account_id", l.AccountID, "run_id", l.RunID, "holder", l.Holder)
		retried, err := s.rescueJob(ctx, l.AccountID)
		if err != nil {
			errs = append(errs, err)
		}
		if !retried && err == nil {
			// The job may have become a waiting retry already (River's
			// after a snooze or an error, or the sync service's own).
			waiting, werr := s.accountSyncJobs(ctx, l.AccountID, rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStateAvailable)
			retried, err = len(waiting) > 0, werr
		}
		// Without a retry the failure is final: keep it and tell people.
		if failedNow && !retried && err == nil {
			if err := s.followUp(ctx, run); err != nil {
				s.logger.Warn("sending the failure messages of a reaped run", "run_id", run.ID, "error", err)
			}
		}
	}
	return reaped, errors.Join(errs...)
}

// rescueJob makes the account's running sync job retryable now. River's own
// rescuer would do it only after MaxSyncDuration, since a live sync may run
// for hours; the lease tells sooner that this one is dead.
//
// It reports whether a retry is coming (false when the job had no attempts
// left, or no running job was found).
func (s *Service) rescueJob(ctx context.Context, accountID int64) (retried bool, err error) {
	running, err := s.accountSyncJobs(ctx, accountID, rivertype.JobStateRunning)
	if err != nil {
		return false, err
	}
	return s.queue.Rescue(ctx, running, "sync lease expired; worker presumed dead")
}

// RescueOrphanedSyncJobs makes retryable the sync jobs River still shows
// running although no live worker has them: a running sync holds its
// account's lease within moments of starting and until it completes, so a
// job running for two lease TTLs without the lease lost its worker before
// taking the lease or after giving it up. It returns how many it rescued.
func (s *Service) RescueOrphanedSyncJobs(ctx context.Context) (int, error) {
	list, err := s.queue.List(ctx, river.NewJobListParams().Kinds(KindSync).States(rivertype.JobStateRunning).First(1000))
	if err != nil {
		return 0, fmt.Errorf("listing running sync jobs: %w", err)
	}
	horizon := time.Now().Add(-2 * s.cfg.LeaseTTL)
	var orphans []*rivertype.JobRow
	for _, j := range list {
		if j.AttemptedAt == nil || j.AttemptedAt.After(horizon) {
			continue
		}
		var args SyncArgs
		if err := unmarshalArgs(j, &args); err != nil {
			continue
		}
		l, err := s.cat.GetLease(ctx, args.AccountID, s.now())
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			return 0, fmt.Errorf("reading the lease of account %d: %w", args.AccountID, err)
		}
		if err == nil && strings.HasSuffix(l.Holder, fmt.Sprintf("/job-%d", j.ID)) {
			continue // alive: it holds the lease
		}
		s.logger.Warn("sync job running without its worker; retrying it", "job_id", j.ID, "account_id", args.AccountID, "attempted_by", j.AttemptedBy)
		orphans = append(orphans, j)
	}
	if _, err := s.queue.Rescue(ctx, orphans, "sync job lost its worker"); err != nil {
		return 0, err
	}
	return len(orphans), nil
}
