package syncrun

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
	"github.com/shelf-dam/shelf/internal/embedmeta"
	"github.com/shelf-dam/shelf/internal/media"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// A sync, step by step. A start (start.go) created a queued run and its
// job in one transaction; a worker takes the job and:
//
//  1. settles which run it works (begin): an auto-sync queued ahead of its
//     slot gets its run now; the retry of a failed run gets a new run;
//  2. takes the account's library lease once no library write is in flight
//     (lease.go renews it every third of its TTL and stops the sync if it
//     is lost);
//  3. marks the run running;
//  4. connects to the storage and runs the engine, publishing progress;
//  5. records the outcome: the run row, the lease release and the job's
//     completion commit together (finish);
//  6. follows up: the connection's status, notifications, webhooks and
//     email, previews of new files and the sweep of removed ones.

// writeWaitPoll is how often a sync waiting for library writes in flight
// looks again.
const writeWaitPoll = time.Second

// liveWaitPoll is how often a sync waiting for a live batch to let the
// library go looks again.
const liveWaitPoll = 200 * time.Millisecond

// syncWorker runs one sync job.
type syncWorker struct {
	river.WorkerDefaults[SyncArgs]
	svc *Service
}

// Timeout lets a sync run as long as the operator allows; a dead worker is
// detected by its lease, not by this timeout.
func (w *syncWorker) Timeout(*river.Job[SyncArgs]) time.Duration { return w.svc.cfg.MaxSyncDuration }

// NextRetry spaces River's retries of a sync whose worker died (the
// sync service queues the retries of failed syncs itself, in finish).
func (w *syncWorker) NextRetry(job *river.Job[SyncArgs]) time.Time {
	return time.Now().Add(syncRetryDelay(w.svc.cfg.SyncRetryDelay, job.Args.Tries+job.Attempt))
}

func (w *syncWorker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	return w.svc.live(ctx, job)
}

// live is one sync from the worker's side: steps 1 to 6 above.
func (s *Service) live(ctx context.Context, job *river.Job[SyncArgs]) error {
	log := s.logger.With("account_id", job.Args.AccountID, "job_id", job.ID, "attempt", job.Attempt)
	// 1. Which run.
	run, ok, err := s.begin(ctx, log, job.Args)
	if err != nil || !ok {
		return err
	}
	log = log.With("run_id", run.ID)

	// 2. The lease.
	holder := fmt.Sprintf("%s/job-%d", s.NodeID(), job.ID)
	now := s.now()
	expires := now.Add(s.cfg.LeaseTTL)
	// The library is locked only once no write is in flight, so a slow
	// upload does not turn every other write away while the sync waits;
	// after WriteWaitLimit the sync takes the lock and waits holding it,
	// so a stream of writes cannot hold it off for ever.
	acquire := s.cat.AcquireIdleLease
	if now.Sub(run.CreatedAt) >= s.cfg.WriteWaitLimit {
		acquire = s.cat.AcquireLease
	}
	if _, err := acquire(ctx, run.AccountID, run.ID, holder, now, s.cfg.LeaseTTL); err != nil {
		if errors.Is(err, catalog.ErrWritesInFlight) {
			log.Debug("library writes in flight; the sync waits without locking the library")
			return river.JobSnooze(writeWaitPoll)
		}
		var locked *catalog.LockedError
		if errors.As(err, &locked) && locked.Live {
			// A live batch: it lets the library go in a moment.
			return river.JobSnooze(liveWaitPoll)
		}
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

	// 3 and 4. The sync itself.
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
	// 5 and 6. The outcome and what follows.
	return s.finish(ctx, log, job, run, holder, result, syncErr)
}

// begin settles the run a job works on. ok is false when there is nothing
// to do (the run was settled already, or another sync covers the slot).
func (s *Service) begin(ctx context.Context, log *slog.Logger, args SyncArgs) (run catalog.SyncRun, ok bool, err error) {
	if args.RunID == 0 {
		// An auto-sync queued ahead of its due time: its run starts now.
		return s.startAheadRun(ctx, args)
	}
	run, err = s.cat.GetSyncRun(ctx, args.AccountID, args.RunID)
	if errors.Is(err, catalog.ErrNotFound) {
		log.Info("sync job has no run any more (account deleted?); dropping it", "run_id", args.RunID)
		return run, false, nil
	}
	if err != nil {
		return run, false, fmt.Errorf("reading sync run %d: %w", args.RunID, err)
	}
	switch run.State {
	case catalog.RunSucceeded, catalog.RunNeedsConfirmation:
		return run, false, nil // an earlier attempt finished it
	case catalog.RunFailed:
		return s.beginRetry(ctx, log, run)
	}
	return run, true, nil
}

// beginRetry settles the run of a job retrying failed run prev: a new run
// in the history — or the queued run this job made on an earlier start
// that then waited (for library writes, for the lease), so that waiting
// never leaves runs without a job behind.
func (s *Service) beginRetry(ctx context.Context, log *slog.Logger, prev catalog.SyncRun) (run catalog.SyncRun, ok bool, err error) {
	var zombie bool
	err = s.store.InQueueTx(ctx, func(t *catalog.QueueTx) error {
		if _, err := t.LockSchedule(ctx, prev.AccountID); err != nil {
			return err
		}
		active, err := t.ActiveRun(ctx, prev.AccountID)
		switch {
		case err == nil && active.State == catalog.RunQueued:
			// No other job of the account exists while this one runs:
			// the queued run is this job's own.
			run = active
			return nil
		case err == nil:
			zombie = true // running, by a worker that died: the reaper fails it
			return nil
		case !errors.Is(err, catalog.ErrNotFound):
			return fmt.Errorf("looking for the account's active sync: %w", err)
		}
		run, err = t.CreateRun(ctx, catalog.SyncRun{AccountID: prev.AccountID, Trigger: prev.Trigger, RequestedBy: prev.RequestedBy}, s.now())
		if err != nil {
			return fmt.Errorf("creating the retry run: %w", err)
		}
		log.Info("retrying a failed sync", "retry_of", prev.ID, "run_id", run.ID)
		return nil
	})
	if err != nil {
		return run, false, err
	}
	if zombie {
		return run, false, river.JobSnooze(s.cfg.LeaseTTL / 2)
	}
	return run, true, nil
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

// syncHoldingLease waits for library writes in flight, marks the run
// running, connects to the storage and runs the engine from the
// connection's saved cursor.
func (s *Service) syncHoldingLease(ctx context.Context, log *slog.Logger, run *catalog.SyncRun, confirmed bool) (syncer.Result, error) {
	if err := s.waitForIntents(ctx, run.AccountID); err != nil {
		return syncer.Result{}, err
	}
	now := s.now()
	run.State, run.StartedAt = catalog.RunRunning, &now
	if err := s.cat.UpdateSyncRun(ctx, *run); err != nil {
		return syncer.Result{}, fmt.Errorf("marking sync run %d running: %w", run.ID, err)
	}
	s.publishRun(ctx, *run)
	log.Info("sync started", "trigger", run.Trigger)

	// The engine keeps the run row's counters up to date itself (it has
	// the run id); progress here only goes out live.
	var mu sync.Mutex
	progress := func(p catalog.RunProgress) {
		mu.Lock()
		defer mu.Unlock()
		s.publishProgress(ctx, run.WithProgress(p))
	}
	res, err := s.runEngine(ctx, log, run.AccountID, func(j *syncer.Job) {
		j.RunID, j.Progress, j.ConfirmedMassDelete = run.ID, progress, confirmed
	})
	mu.Lock() // no progress write may land after the final one
	defer mu.Unlock()
	return res, err
}

// runEngine connects to the account's storage and runs the engine from the
// connection's saved cursor, with the job as set tells; a failure is
// recorded on the connection, a success clears an earlier failure.
func (s *Service) runEngine(ctx context.Context, log *slog.Logger, accountID int64, set func(*syncer.Job)) (syncer.Result, error) {
	conn, err := s.cat.GetConnection(ctx, accountID)
	if errors.Is(err, catalog.ErrNotFound) {
		return syncer.Result{}, &connectError{err: ErrNoStorage}
	}
	if err != nil {
		return syncer.Result{}, fmt.Errorf("reading the storage connection: %w", err)
	}
	connector, err := s.cfg.Connections.Connector(ctx, accountID)
	if err != nil {
		return syncer.Result{}, &connectError{err: err}
	}
	job := syncer.Job{AccountID: accountID, Conn: connector, Cursor: conn.SyncCursor, LastFullScan: conn.LastFullScanAt}
	set(&job)
	res, err := s.cfg.Engine.Run(ctx, job)
	if err != nil {
		s.cfg.Connections.MarkFailure(ctx, accountID, err)
	} else if conn.Status != catalog.ConnOK {
		// A sync that worked proves the connection works again.
		if uerr := s.cat.SetConnectionStatus(ctx, accountID, catalog.ConnOK, "", s.now()); uerr != nil {
			log.Warn("clearing the storage status", "error", uerr)
		}
	}
	return res, err
}

// finish records the outcome, releases the lease and completes the job in
// one transaction (so the account is free for its next sync the moment the
// run shows finished) — with the job that retries it when a retry may
// help — then follows up. River sees the job succeed: the retry is the
// sync service's own.
func (s *Service) finish(ctx context.Context, log *slog.Logger, job *river.Job[SyncArgs], run catalog.SyncRun, holder string, res syncer.Result, syncErr error) error {
	// Settle the run even when ctx is done (shutdown).
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	now := s.now()
	state, msg := catalog.RunSucceeded, ""
	switch {
	case syncErr != nil:
		state, msg = catalog.RunFailed, syncErr.Error()
	case res.State == catalog.RunNeedsConfirmation:
		state, msg = catalog.RunNeedsConfirmation, res.Message
	}
	// The last attempt is final whatever the error.
	tries := job.Args.Tries + job.Attempt
	retry := syncErr != nil && retryable(syncErr) && tries < syncMaxAttempts
	run.State, run.Error, run.Counts, run.FinishedAt = state, msg, res.Counts, &now
	// The engine recorded these on the row; the messages carry them too.
	run.PendingRemovals, run.PendingRemovalPaths = res.PendingRemovals, res.PendingRemovalPaths
	run.FullScan = run.FullScan || res.FullScan
	err := s.store.InQueueTx(fctx, func(t *catalog.QueueTx) error {
		if err := t.FinishRun(fctx, run); err != nil {
			return err
		}
		if err := t.ReleaseLease(fctx, run.AccountID, run.ID, holder); err != nil {
			return err
		}
		// fctx keeps the worker's context values (River finds its client
		// there) without its cancellation: a shutdown still settles the run.
		if err := s.queue.CompleteTx(fctx, t, job.JobRow); err != nil {
			return err
		}
		if !retry {
			return nil
		}
		// The retry is a new job, waiting for its backoff, so that the
		// moment this run shows failed the account's one job is the
		// waiting retry (which Sync now may bring forward), never this
		// one still running.
		next := job.Args
		next.Tries, next.RunID, next.Slot = tries, run.ID, 0
		_, err := s.queue.InsertTx(fctx, t, next, &river.InsertOpts{
			ScheduledAt: time.Now().Add(syncRetryDelay(s.cfg.SyncRetryDelay, tries)),
			MaxAttempts: syncMaxAttempts - tries,
		})
		return err
	})
	if err != nil {
		// The lease stays: it expires and the reaper settles the run.
		return err
	}
	if res.SearchDeferred {
		if err := s.queueSearchFill(fctx, run.AccountID); err != nil {
			log.Warn("queueing the search index catch-up", "error", err)
		}
	}
	// What the engine wrote as it went (the estimate, the phase) is on the
	// row: the end event shows the run as GET /sync/runs/{id} does.
	if cur, err := s.cat.GetSyncRun(fctx, run.AccountID, run.ID); err == nil {
		run = cur
	}
	s.publishRun(fctx, run)
	log.Info("sync finished", "state", state, "seen", res.Counts.Seen, "added", res.Counts.Added,
		"updated", res.Counts.Updated, "moved", res.Counts.Moved, "removed", res.Counts.Removed, "error", msg)
	// A failure that River retries is shown live but kept, posted and
	// emailed only when it is final, so a flapping storage does not flood
	// people with messages.
	if !retry {
		if err := s.followUp(fctx, run); err != nil {
			log.Warn("following up on the sync", "error", err)
		}
	}
	return nil
}

// followUp tells people about an ended run (notification, webhooks,
// email) and, when the run changed files, queues the making of their
// previews and the removal of the previews of removed files.
func (s *Service) followUp(ctx context.Context, run catalog.SyncRun) error {
	var errs []error
	if run.State == catalog.RunSucceeded || run.State == catalog.RunNeedsConfirmation {
		if run.Counts.Added+run.Counts.Updated+run.Counts.Moved > 0 {
			if err := s.queue.Enqueue(ctx, media.PendingArgs{AccountID: run.AccountID}); err != nil {
				errs = append(errs, fmt.Errorf("queueing previews after sync: %w", err))
			}
			if err := s.queue.Enqueue(ctx, embedmeta.ReadArgs{AccountID: run.AccountID, RunID: run.ID}); err != nil {
				errs = append(errs, fmt.Errorf("queueing the reading of file metadata after sync: %w", err))
			}
		}
		if run.Counts.Removed > 0 {
			if err := s.queue.Enqueue(ctx, media.SweepArgs{AccountID: run.AccountID}); err != nil {
				errs = append(errs, fmt.Errorf("queueing the preview sweep after sync: %w", err))
			}
		}
	}
	if s.cfg.Messages != nil {
		if err := s.cfg.Messages.RunFinished(ctx, run); err != nil {
			errs = append(errs, fmt.Errorf("sending the completion messages: %w", err))
		}
	}
	return errors.Join(errs...)
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
