package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// syncWorker runs one sync job: lease, wait for writes in flight, the
// engine, the run row, the lease release and the messages.
type syncWorker struct {
	river.WorkerDefaults[SyncArgs]
	svc *Service
}

// Timeout lets a sync run as long as the operator allows; a dead worker is
// detected by its lease, not by this timeout.
func (w *syncWorker) Timeout(*river.Job[SyncArgs]) time.Duration { return w.svc.cfg.MaxSyncDuration }

// NextRetry spaces the retries of a failed sync.
func (w *syncWorker) NextRetry(job *river.Job[SyncArgs]) time.Time {
	return time.Now().Add(syncRetryDelay(w.svc.cfg.SyncRetryDelay, job.Attempt))
}

func (w *syncWorker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	return w.svc.runSyncJob(ctx, job)
}

// runSyncJob is the body of the sync worker.
func (s *Service) runSyncJob(ctx context.Context, job *river.Job[SyncArgs]) error {
	jobID, attempt, args := job.ID, job.Attempt, job.Args
	log := s.logger.With("account_id", args.AccountID, "run_id", args.RunID, "job_id", jobID, "attempt", attempt)
	if args.RunID == 0 {
		// An auto-sync queued ahead of its due time: its run starts now.
		run, ok, err := s.startAheadRun(ctx, args)
		if err != nil || !ok {
			return err
		}
		args.RunID = run.ID
		log = log.With("run_id", run.ID)
	}
	run, err := s.cat.GetSyncRun(ctx, args.AccountID, args.RunID)
	if errors.Is(err, catalog.ErrNotFound) {
		log.Info("sync job has no run any more (account deleted?); dropping it")
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading sync run %d: %w", args.RunID, err)
	}
	switch run.State {
	case catalog.RunSucceeded, catalog.RunNeedsConfirmation:
		return nil // an earlier attempt finished it
	case catalog.RunFailed:
		// An earlier attempt failed (or its worker died and the reaper
		// failed the run): the retry is a new run in the history.
		run, err = s.cat.CreateSyncRun(ctx, catalog.SyncRun{AccountID: run.AccountID, Trigger: run.Trigger, State: catalog.RunQueued, RequestedBy: run.RequestedBy}, s.now())
		if err != nil {
			return fmt.Errorf("creating the retry run: %w", err)
		}
		log = log.With("run_id", run.ID, "retry_of", args.RunID)
	}

	holder := fmt.Sprintf("%s/job-%d", s.nodeID, jobID)
	now := s.now()
	expires := now.Add(s.cfg.LeaseTTL)
	if _, err := s.cat.AcquireLease(ctx, run.AccountID, run.ID, holder, now, s.cfg.LeaseTTL); err != nil {
		var locked *catalog.LockedError
		if errors.As(err, &locked) || errors.Is(err, catalog.ErrConflict) {
			// Another sync of the account still holds the library (a
			// previous attempt whose worker has not been reaped yet).
			log.Info("library lease held by another sync; waiting", "error", err)
			return river.JobSnooze(s.cfg.LeaseTTL / 2)
		}
		return fmt.Errorf("taking the library lease: %w", err)
	}
	// A worker that stalled before taking the lease may find its run
	// settled by a retry meanwhile.
	if cur, err := s.cat.GetSyncRun(ctx, run.AccountID, run.ID); err != nil || (cur.State != catalog.RunQueued && cur.State != catalog.RunRunning) {
		if rerr := s.cat.ReleaseLease(ctx, run.AccountID, run.ID, holder); rerr != nil {
			log.Warn("releasing the library lease", "error", rerr)
		}
		if err != nil {
			return fmt.Errorf("reading sync run %d: %w", run.ID, err)
		}
		return nil
	}

	syncCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopRenewing := s.holdLease(syncCtx, cancel, run.AccountID, run.ID, holder, expires)
	result, syncErr := s.syncHoldingLease(syncCtx, log, &run, job.Args.ConfirmedMassDelete)
	stopRenewing()

	if !errors.Is(context.Cause(syncCtx), errLeaseLost) {
		// Confirm the lease is still ours before writing the outcome: a
		// worker that stalled past its TTL must not overwrite what the
		// reaper decided.
		if err := s.cat.RenewLease(ctx, run.AccountID, run.ID, holder, s.now(), s.cfg.LeaseTTL); errors.Is(err, catalog.ErrLeaseLost) {
			cancel(errLeaseLost)
		}
	}
	if errors.Is(context.Cause(syncCtx), errLeaseLost) {
		return s.leaseLost(ctx, log, run)
	}
	if ctx.Err() != nil && syncErr != nil {
		// Shutdown: the run fails now, the lease goes, and River retries
		// the job on a live worker.
		syncErr = fmt.Errorf("the worker shut down during the sync: %w", syncErr)
	}
	return s.finishRun(ctx, log, job, run, holder, result, syncErr)
}

// leaseLost settles a sync whose lease was lost. When the reaper already
// failed the run, it also made the job retryable for another worker, so this
// attempt ends quietly. Otherwise (the lease expired while the database was
// unreachable) the run is failed here and River retries the job.
func (s *Service) leaseLost(ctx context.Context, log *slog.Logger, run catalog.SyncRun) error {
	cur, err := s.cat.GetSyncRun(ctx, run.AccountID, run.ID)
	if err == nil && cur.State == catalog.RunFailed {
		log.Warn("sync stopped: its lease was reaped; another worker retries it")
		return nil
	}
	if err == nil && cur.State == catalog.RunRunning {
		now := s.now()
		cur.State, cur.Error, cur.FinishedAt = catalog.RunFailed, errLeaseLost.Error(), &now
		if uerr := s.cat.UpdateSyncRun(ctx, cur); uerr != nil {
			log.Warn("marking the run failed after losing the lease", "error", uerr)
		} else {
			s.publishRun(ctx, cur)
		}
	}
	return errLeaseLost
}

// syncHoldingLease marks the run running and runs the engine.
func (s *Service) syncHoldingLease(ctx context.Context, log *slog.Logger, run *catalog.SyncRun, confirmed bool) (SyncResult, error) {
	if err := s.waitForIntents(ctx, run.AccountID); err != nil {
		return SyncResult{}, err
	}
	now := s.now()
	run.State, run.StartedAt = catalog.RunRunning, &now
	if err := s.cat.UpdateSyncRun(ctx, *run); err != nil {
		return SyncResult{}, fmt.Errorf("marking sync run %d running: %w", run.ID, err)
	}
	s.publishRun(ctx, *run)
	log.Info("sync started", "trigger", run.Trigger)

	conn, err := s.cfg.Connect(ctx, run.AccountID)
	if err != nil {
		return SyncResult{}, &connectError{err: err}
	}
	// The engine keeps the run row's counters up to date itself (it has
	// the run id); progress here only goes out live.
	var mu sync.Mutex
	progress := func(p catalog.RunProgress) {
		mu.Lock()
		defer mu.Unlock()
		s.publishProgress(ctx, run.WithProgress(p))
	}
	res, err := s.cfg.Sync(ctx, SyncRequest{AccountID: run.AccountID, RunID: run.ID, Trigger: run.Trigger, Conn: conn, ConfirmedMassDelete: confirmed, Progress: progress})
	mu.Lock() // no progress write may land after the final one
	defer mu.Unlock()
	return res, err
}

// finishRun records the outcome, releases the lease and completes the job
// in one transaction (so the account is free for its next sync the moment
// the run shows finished), then tells everyone. It returns the error River
// should see: nil when done, the sync's error when a retry may help.
func (s *Service) finishRun(ctx context.Context, log *slog.Logger, job *river.Job[SyncArgs], run catalog.SyncRun, holder string, res SyncResult, syncErr error) error {
	// Settle the run even when ctx is done (shutdown).
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	now := s.now()
	state, msg := catalog.RunSucceeded, ""
	switch {
	case syncErr != nil:
		state, msg = catalog.RunFailed, syncErr.Error()
	case res.NeedsConfirmation:
		state, msg = catalog.RunNeedsConfirmation, res.Message
	}
	// The last attempt is final whatever the error.
	retry := syncErr != nil && retryable(syncErr) && job.Attempt < job.MaxAttempts
	run.State, run.Error, run.Counts, run.FinishedAt = state, msg, res.Counts, &now
	run.PendingRemovals, run.PendingRemovalPaths = res.PendingRemovals, res.PendingRemovalPaths
	err := s.inTx(fctx, func(t *txn) error {
		c := run.Counts
		if _, err := t.exec(fctx, `UPDATE sync_runs SET state = ?, finished_at = ?,
seen = ?, added = ?, updated = ?, moved = ?, removed = ?, errors = ?, error = ?
WHERE id = ? AND account_id = ?`, state, now.UnixMilli(), c.Seen, c.Added, c.Updated, c.Moved, c.Removed, c.Errors, msg,
			run.ID, run.AccountID); err != nil {
			return fmt.Errorf("recording the end of sync run %d: %w", run.ID, err)
		}
		if _, err := t.exec(fctx, `DELETE FROM sync_leases WHERE account_id = ? AND run_id = ? AND holder = ?`,
			run.AccountID, run.ID, holder); err != nil {
			return fmt.Errorf("releasing the library lease: %w", err)
		}
		if retry {
			return nil // River records the error and schedules the retry
		}
		if err := s.completeTx(fctx, t, job); err != nil {
			return fmt.Errorf("completing the sync job: %w", err)
		}
		return nil
	})
	if err != nil {
		// The lease stays: it expires and the reaper settles the run.
		return err
	}
	s.publishRun(fctx, run)
	// A failure that River retries is shown live but kept, posted and
	// emailed only when it is final, so a flapping storage does not flood
	// people with messages.
	if s.cfg.Finished != nil && !retry {
		if err := s.cfg.Finished(fctx, run); err != nil {
			log.Warn("sending the completion messages failed", "error", err)
		}
	}
	log.Info("sync finished", "state", state, "seen", res.Counts.Seen, "added", res.Counts.Added,
		"updated", res.Counts.Updated, "moved", res.Counts.Moved, "removed", res.Counts.Removed, "error", msg)
	if retry {
		return syncErr
	}
	return nil
}

// connectError: the storage connector could not be built (no storage,
// unreadable settings, a root outside the allowed ones).
type connectError struct{ err error }

func (e *connectError) Error() string { return "connecting to the storage: " + e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// retryable reports whether retrying a failed sync may help: storage
// trouble classified as retryable, a lost connection, a shutdown, a
// database hiccup.
func retryable(err error) bool {
	if storage.IsRetryable(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	// A connector that cannot be built needs the admin to fix the
	// connection; retrying only repeats the failure.
	var ce *connectError
	if errors.As(err, &ce) {
		return false
	}
	// Rejected credentials, a missing root, a refused permission need a
	// person, not a retry.
	for _, fatal := range []error{storage.ErrFatal, storage.ErrNotFound, storage.ErrAuth, storage.ErrPermission, storage.ErrInvalidPath} {
		if errors.Is(err, fatal) {
			return false
		}
	}
	return true
}

func unmarshalArgs(j *rivertype.JobRow, v any) error {
	return json.Unmarshal(j.EncodedArgs, v)
}
