package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// run is the state of one Run.
type run struct {
	e     *Engine
	job   Job
	store *catalog.Store
	log   *slog.Logger
	// byPath: the storage identifies entries by path (S3, local), so moves
	// are matched by content and missing parent folders are implied.
	byPath bool
	local  bool
	// stageAdds: the catalog held assets when the run began, so a new file
	// may be the far end of a move and waits in sync_stage until the scan
	// is complete.
	stageAdds bool
	// liveAssets is the library's size when the run began.
	liveAssets int64
	total      *int64

	counts catalog.Counts
	// listed counts the entries of this run's full listing (the counters
	// may also hold a changes-feed phase that preceded it).
	listed int64
	// writes and stageWrites count the committed writes of library rows
	// and of working state (sync_stage).
	writes, stageWrites int64
	batch               batch
	adds                addBuffer
	folders             *folderCache

	lastPublish time.Time
	started     time.Time
}

func (e *Engine) newRun(ctx context.Context, job Job) (*run, error) {
	if job.Conn == nil {
		return nil, errors.New("sync: no storage connector given")
	}
	s := e.cfg.Store
	r := &run{
		e: e, job: job, store: s,
		log:     e.log.With(slog.Int64("account", job.AccountID), slog.Int64("run", job.RunID)),
		byPath:  job.Conn.Kind() != storage.KindGDrive,
		local:   job.Conn.Kind() == storage.KindLocal,
		folders: newFolderCache(4096),
		started: e.now(),
	}
	r.batch.limit = e.cfg.BatchSize
	var err error
	var folders int64
	if r.liveAssets, folders, err = s.SyncLibrarySize(ctx, job.AccountID); err != nil {
		return nil, err
	}
	if r.liveAssets+folders > 0 {
		t := r.liveAssets + folders
		r.total = &t
	}
	if r.stageAdds, err = s.SyncHasAssets(ctx, job.AccountID); err != nil {
		return nil, err
	}
	// Whatever an earlier, interrupted run left behind is stale.
	if err := s.SyncClearStage(ctx, job.AccountID, ""); err != nil {
		return nil, err
	}
	return r, nil
}

// execute picks the scan mode and runs it.
func (r *run) execute(ctx context.Context) (Result, error) {
	changer, hasFeed := r.job.Conn.(storage.Changer)
	if hasFeed && r.useFeed() {
		res, err := r.incremental(ctx, changer)
		switch {
		case err == nil:
			return res, nil
		case errors.Is(err, storage.ErrInvalidCursor):
			r.log.Info("changes cursor refused by the storage; scanning in full instead", slog.String("error", err.Error()))
			r.dropCursor(ctx)
		case errors.Is(err, errNeedFullScan):
			r.log.Info("changes feed not enough to place every change; scanning in full", slog.String("reason", err.Error()))
		default:
			return res, err
		}
		if err := r.store.SyncClearStage(ctx, r.job.AccountID, ""); err != nil {
			return Result{}, err
		}
	}
	var startCursor string
	if hasFeed {
		// Taken before the scan: changes made while it runs are replayed
		// by the next incremental run (applying them twice is harmless).
		c, err := changer.StartCursor(ctx)
		if err != nil {
			return Result{}, scanFailure(err)
		}
		startCursor = c
	}
	return r.fullScan(ctx, startCursor)
}

// dropCursor forgets a changes cursor the storage refused, so that the
// syncs after this one scan in full at once until a full scan saves a new
// cursor, even if this one fails or stops for a confirmation. Failing to
// forget it only costs the next sync a refused feed call.
func (r *run) dropCursor(ctx context.Context) {
	if err := r.store.SetSyncCursor(ctx, r.job.AccountID, "", nil, r.e.now()); err != nil {
		r.log.Warn("forgetting the refused changes cursor", slog.String("error", err.Error()))
	}
}

// useFeed reports whether this run may read the changes feed instead of
// listing everything. A confirmed mass deletion always lists everything:
// the removals it confirms may have been found by a full scan, which the
// feed would not show again.
func (r *run) useFeed() bool {
	if r.job.Kind == ScanFull || r.job.ConfirmedMassDelete || r.job.Cursor == "" || r.job.LastFullScan == nil {
		return false
	}
	return r.e.now().Sub(*r.job.LastFullScan) < r.e.cfg.FullScanEvery
}

// publish reports the counters to the Progress callback and, at most every
// Config.ProgressEvery (or when final), to the run row.
func (r *run) publish(ctx context.Context, final bool) {
	if r.job.Progress != nil {
		r.job.Progress(r.counts, r.total)
	}
	if r.job.RunID == 0 {
		return
	}
	now := r.e.now()
	if !final && now.Sub(r.lastPublish) < r.e.cfg.ProgressEvery {
		return
	}
	r.lastPublish = now
	if ctx.Err() != nil {
		// The run is being cancelled; still record where it got to.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
	}
	if err := r.store.UpdateSyncRunCounts(ctx, r.job.AccountID, r.job.RunID, r.counts, r.total); err != nil {
		r.log.Warn("recording sync progress", slog.String("error", err.Error()))
	}
}

// scanFailure explains a failed or cut-short listing: nothing was deleted,
// and what the admin should do.
func scanFailure(err error) error {
	var what string
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		what = "the sync was stopped before the storage listing finished; nothing was deleted from the library, and the next sync picks up from here"
	case errors.Is(err, storage.ErrNotFound):
		what = "the storage root was not found (deleted, renamed, or no longer shared with Shelf); nothing was deleted from the library. Check the folder or bucket, then reconnect the storage in Settings → Storage"
	case errors.Is(err, storage.ErrAuth):
		what = "the storage rejected Shelf's credentials; nothing was deleted from the library. Reconnect the storage in Settings → Storage"
	case errors.Is(err, storage.ErrPermission):
		what = "Shelf is not allowed to list the storage root; nothing was deleted from the library. Give the connected account read access to the folder or bucket, then sync again"
	case errors.Is(err, storage.ErrRetryable):
		what = "the storage kept failing with temporary errors; nothing was deleted from the library. Sync again later"
	default:
		what = "listing the storage failed before it was complete; nothing was deleted from the library. Sync again; if it keeps failing, check the storage connection in Settings → Storage"
	}
	return fmt.Errorf("%s: %w", what, err)
}
