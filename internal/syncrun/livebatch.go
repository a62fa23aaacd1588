package syncrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/embedmeta"
	"github.com/shelf-dam/shelf/internal/media"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// A live batch (SPEC §3.4), step by step. The live watcher of an account
// (internal/live) collected the paths its storage reported changed and
// calls LiveBatch, which:
//
//  1. in one transaction: finds the account idle (no other sync queued or
//     running, no library write in flight — else ErrLiveBusy and the
//     caller keeps the paths), takes the hour's live run (one history row
//     per account and hour sums the batches; it never shows as an active
//     run, so a manual or automatic sync may be queued meanwhile and takes
//     the library once the batch let it go) and the library lease;
//  2. runs the engine on the paths alone (Drive: the changes feed), the
//     lease renewed meanwhile; library writes arriving now wait for the
//     lease (catalog.LockedError.Live) instead of being turned away;
//  3. in one transaction: adds the batch's counters to the run and
//     releases the lease;
//  4. follows up: previews of new files, the sweep of removed ones, the
//     open pages refreshed (notify.LibraryChanged). People are told only
//     when something failed or needs a confirmation.

// ErrLiveBusy: a live batch cannot start now (another sync of the account
// is queued or running, or library writes are in flight). The caller keeps
// the paths and tries again shortly; nothing was changed.
var ErrLiveBusy = errors.New("the library is busy; the live batch waits")

// LiveResult is what one live batch did.
type LiveResult struct {
	RunID  int64
	State  string
	Counts catalog.Counts
}

// Changes reports how many library rows the batch changed.
func (r LiveResult) Changes() int64 { return r.Counts.Changes() }

// LiveBatch applies one live batch of the account: the root-relative paths
// its storage reported changed ("" among them: re-list the whole root; for
// Drive the paths are not used, the changes feed says what changed).
func (s *Service) LiveBatch(ctx context.Context, accountID int64, paths []string) (LiveResult, error) {
	log := s.logger.With("account_id", accountID, "trigger", catalog.TriggerLive)
	if slices.Contains(paths, "") {
		// Re-listing everything (changes were lost, or nobody watched for
		// a while) is a reconciliation: a queued sync like any other, with
		// the library locked and shown so while it lists. Drive's changes
		// feed says what changed: a live batch reads it.
		conn, err := s.cat.GetConnection(ctx, accountID)
		if err != nil {
			return LiveResult{}, err
		}
		if conn.Kind != string(storage.KindGDrive) {
			run, _, err := s.start(ctx, accountID, catalog.TriggerAuto, 0, s.now(), false)
			if err == nil {
				log.Info("storage changes need a full re-list; reconciliation queued", "run_id", run.ID)
			}
			return LiveResult{RunID: run.ID, State: run.State}, err
		}
	}
	// 0. The storage's side, read before the library is taken — unless a
	// sync holds the account anyway (then the batch waits, reading nothing).
	if _, err := s.cat.ActiveSyncRun(ctx, accountID); err == nil {
		return LiveResult{}, ErrLiveBusy
	} else if !errors.Is(err, catalog.ErrNotFound) {
		return LiveResult{}, err
	}
	pre, version, err := s.prefetch(ctx, accountID, paths)
	if err != nil {
		return LiveResult{}, err
	}
	holder := s.NodeID() + catalog.LiveHolderSuffix
	now := s.now()
	var run catalog.SyncRun
	var before catalog.Counts
	var prior string // the hour's run's state before this batch
	// 1. Idle, the hour's run, the lease.
	err = s.store.InQueueTx(ctx, func(t *catalog.QueueTx) error {
		if _, err := t.LockSchedule(ctx, accountID); err != nil {
			return err
		}
		if _, err := t.ActiveRun(ctx, accountID); err == nil {
			return ErrLiveBusy
		} else if !errors.Is(err, catalog.ErrNotFound) {
			return err
		}
		// A library write since the storage was read may have made what
		// was read stale: then the batch reads it again, holding the
		// library.
		if v, err := t.LibraryVersion(ctx, accountID); err != nil {
			return err
		} else if v != version {
			pre = nil
		}
		var err error
		run, err = t.LatestRun(ctx, accountID, catalog.TriggerLive, now.Truncate(time.Hour))
		// A row that failed or holds removals for a confirmation stays as
		// it is (it says what to do); the batches go on in a new one.
		if errors.Is(err, catalog.ErrNotFound) || (err == nil && run.State != catalog.RunSucceeded) {
			run, err = t.CreateRun(ctx, catalog.SyncRun{AccountID: accountID, Trigger: catalog.TriggerLive,
				State: catalog.RunSucceeded, StartedAt: &now, FinishedAt: &now}, now)
			if err == nil {
				run.State = "" // new: any outcome is news
			}
		}
		if err != nil {
			return err
		}
		before, prior = run.Counts, run.State
		_, err = t.AcquireIdleLease(ctx, accountID, run.ID, holder, now, s.cfg.LeaseTTL)
		var locked *catalog.LockedError
		if errors.Is(err, catalog.ErrWritesInFlight) || errors.As(err, &locked) {
			return ErrLiveBusy
		}
		return err
	})
	if err != nil {
		return LiveResult{}, err
	}
	log = log.With("run_id", run.ID)

	// 2. The engine on the paths.
	syncCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopRenewing := s.holdLease(syncCtx, cancel, accountID, run.ID, holder, now.Add(s.cfg.LeaseTTL))
	res, syncErr := s.runEngine(syncCtx, log, accountID, func(j *syncer.Job) { j.Paths, j.Prefetched = paths, pre })
	stopRenewing()
	if errors.Is(context.Cause(syncCtx), errLeaseLost) {
		return LiveResult{RunID: run.ID}, s.leaseLost(ctx, log, run)
	}

	// 3. The outcome, summed into the hour's run, and the lease.
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer fcancel()
	end := s.now()
	run.Counts = addCounts(before, res.Counts)
	run.FinishedAt, run.FullScan = &end, run.FullScan || res.FullScan
	// Stopped by the process's own shutdown: not a failure anyone needs
	// to hear of. The paths wait for the next batch (the caller keeps
	// them), and what was applied already is counted.
	shutdown := syncErr != nil && ctx.Err() != nil
	// A new row for a batch that changed nothing is not kept: the history
	// shows hours with changes.
	drop := prior == "" && (shutdown || (syncErr == nil && res.State != catalog.RunNeedsConfirmation && res.Counts.Changes() == 0))
	switch {
	case shutdown:
		run.State = prior
	case syncErr != nil:
		run.State, run.Error = catalog.RunFailed, syncErr.Error()
	case res.State == catalog.RunNeedsConfirmation:
		run.State, run.Error = catalog.RunNeedsConfirmation, res.Message
		run.PendingRemovals, run.PendingRemovalPaths = res.PendingRemovals, res.PendingRemovalPaths
	default:
		run.State, run.Error = catalog.RunSucceeded, ""
	}
	err = s.store.InQueueTx(fctx, func(t *catalog.QueueTx) error {
		if err := t.ReleaseLease(fctx, accountID, run.ID, holder); err != nil {
			return err
		}
		if drop {
			return t.DeleteRun(fctx, accountID, run.ID)
		}
		return t.FinishRun(fctx, run)
	})
	if err != nil {
		// The lease expires and the reaper settles the run.
		return LiveResult{RunID: run.ID}, fmt.Errorf("recording the live batch: %w", err)
	}
	if res.SearchDeferred {
		if err := s.queueSearchFill(fctx, accountID); err != nil {
			log.Warn("queueing the search index catch-up", "error", err)
		}
	}
	if run.State == catalog.RunNeedsConfirmation {
		if err := s.cat.SetSyncRunHeldRemovals(fctx, accountID, run.ID, run.PendingRemovals, run.PendingRemovalPaths); err != nil {
			log.Warn("recording the removals held for confirmation", "error", err)
		}
	}
	out := LiveResult{RunID: run.ID, State: run.State, Counts: res.Counts}
	log.Debug("live batch applied", "paths", len(paths), "state", run.State, "added", res.Counts.Added,
		"updated", res.Counts.Updated, "moved", res.Counts.Moved, "removed", res.Counts.Removed)

	// 4. What follows.
	if shutdown {
		return out, syncErr
	}
	s.liveFollowUp(fctx, log, run, res.Counts, prior, end)
	return out, syncErr
}

// prefetcher is implemented by engines that can read a live batch's
// storage side ahead of it (syncer.Engine).
type prefetcher interface {
	Prefetch(ctx context.Context, accountID int64, conn storage.Connector, paths []string) (*syncer.Prefetched, error)
}

// prefetch reads the storage side of a live batch before the batch takes
// the library, with the library's write count at that moment. Nil (the
// batch reads under the lease) for engines or storage that cannot.
func (s *Service) prefetch(ctx context.Context, accountID int64, paths []string) (*syncer.Prefetched, int64, error) {
	pf, ok := s.cfg.Engine.(prefetcher)
	if !ok {
		return nil, 0, nil
	}
	version, err := s.store.LibraryVersion(ctx, accountID)
	if err != nil {
		return nil, 0, err
	}
	conn, err := s.cfg.Connections.Connector(ctx, accountID)
	if err != nil {
		return nil, 0, &connectError{err: err}
	}
	pre, err := pf.Prefetch(ctx, accountID, conn, paths)
	if err != nil {
		s.cfg.Connections.MarkFailure(ctx, accountID, err)
		return nil, 0, err
	}
	return pre, version, nil
}

// liveFollowUp queues previews and the sweep for what the batch changed,
// tells the open pages, and tells people only about a failure or a held
// removal (once, not for every batch of the hour).
func (s *Service) liveFollowUp(ctx context.Context, log *slog.Logger, run catalog.SyncRun, batch catalog.Counts, prevState string, now time.Time) {
	if batch.Added+batch.Updated+batch.Moved > 0 {
		if err := s.queue.Enqueue(ctx, media.PendingArgs{AccountID: run.AccountID}); err != nil {
			log.Warn("queueing previews after a live batch", "error", err)
		}
		if err := s.queue.Enqueue(ctx, embedmeta.ReadArgs{AccountID: run.AccountID, RunID: run.ID, Batch: now.UnixNano()}); err != nil {
			log.Warn("queueing the reading of file metadata after a live batch", "error", err)
		}
	}
	if batch.Removed > 0 {
		if err := s.queue.Enqueue(ctx, media.SweepArgs{AccountID: run.AccountID}); err != nil {
			log.Warn("queueing the preview sweep after a live batch", "error", err)
		}
	}
	if batch.Changes() > 0 {
		if err := s.cat.SetLastChange(ctx, run.AccountID, now); err != nil {
			log.Warn("recording the live change time", "error", err)
		}
		s.publish(ctx, notify.LibraryChanged, run)
	}
	if run.State == catalog.RunSucceeded {
		return
	}
	// A failure, or removals held: the run's page and its message say
	// what to do. The hour's row keeps the state; people hear of it once.
	s.publishRun(ctx, run)
	if s.cfg.Messages != nil && prevState != run.State {
		if err := s.cfg.Messages.RunFinished(ctx, run); err != nil {
			log.Warn("sending the live batch's failure messages", "error", err)
		}
	}
}

func addCounts(a, b catalog.Counts) catalog.Counts {
	return catalog.Counts{Seen: a.Seen + b.Seen, Added: a.Added + b.Added, Updated: a.Updated + b.Updated,
		Moved: a.Moved + b.Moved, Removed: a.Removed + b.Removed, Errors: a.Errors + b.Errors}
}
