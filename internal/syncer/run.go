package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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
	// lastListed is how many entries the last complete listing saw (nil:
	// none completed yet).
	lastListed *int64

	counts catalog.Counts
	// phase, estimate and applyTotal are the progress reported beside the
	// counters (catalog.RunProgress); rate measures the phase's count.
	phase      string
	estimate   *int64
	applyTotal *int64
	rate       rateMeter
	// listed counts the entries of this run's full listing (the counters
	// may also hold a changes-feed phase that preceded it).
	listed int64
	// writes and stageWrites count the committed writes of library rows
	// and of working state (sync_stage).
	writes, stageWrites int64
	// addsPushed counts the new assets the run decided on; searchDeferred:
	// the search index of its additions catches up after the sync.
	addsPushed     int64
	searchDeferred bool
	batch          batch
	adds           addBuffer
	folders        *folderCache

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
	if r.liveAssets, _, err = s.SyncLibrarySize(ctx, job.AccountID); err != nil {
		return nil, err
	}
	if r.lastListed, err = s.SyncLastListing(ctx, job.AccountID); err != nil {
		return nil, err
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
	if r.byPath && len(r.job.Paths) > 0 && !slices.Contains(r.job.Paths, "") && !r.job.ConfirmedMassDelete {
		res, err := r.scoped(ctx)
		if !errors.Is(err, errNeedFullScan) {
			return res, err
		}
		r.log.Info("re-reading single paths not possible; scanning in full", slog.String("reason", err.Error()))
	}
	changer, hasFeed := r.job.Conn.(storage.Changer)
	if hasFeed && r.useFeed() {
		// How many changes the feed holds is not known beforehand.
		r.enterPhase(ctx, catalog.PhaseListing, nil)
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
	var estimate *int64
	if r.lastListed != nil {
		// A changes-feed phase may have counted entries already.
		n := r.counts.Seen + *r.lastListed
		estimate = &n
	}
	r.enterPhase(ctx, catalog.PhaseListing, estimate)
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

// enterPhase starts a phase of the run and reports it at once.
func (r *run) enterPhase(ctx context.Context, phase string, estimate *int64) {
	r.phase, r.estimate, r.applyTotal = phase, estimate, nil
	r.rate.reset()
	r.publish(ctx, true)
}

// tick reports progress when Config.ProgressEvery has passed since the
// last report: called for every entry listed and every batch written, so
// the counters move on the page even while a listing finds nothing to
// write.
func (r *run) tick(ctx context.Context) { r.publish(ctx, false) }

// publish reports the run's progress to the run row and then to the
// Progress callback, at most every Config.ProgressEvery unless forced (a
// new phase, the end). The counters only grow, and every report goes out
// from this goroutine in order, so what they show never goes back.
func (r *run) publish(ctx context.Context, force bool) {
	now := r.e.now()
	if !force && now.Sub(r.lastPublish) < r.e.cfg.ProgressEvery {
		return
	}
	r.lastPublish = now
	p := r.progress(now)
	if r.job.RunID != 0 {
		wctx := ctx
		if ctx.Err() != nil {
			// The run is being cancelled; still record where it got to.
			var cancel context.CancelFunc
			wctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
		}
		if err := r.store.UpdateSyncRunProgress(wctx, r.job.AccountID, r.job.RunID, p); err != nil {
			r.log.Warn("recording sync progress", slog.String("error", err.Error()))
		}
	}
	if r.job.Progress != nil {
		r.job.Progress(p)
	}
}

// progress is the run's progress at now.
func (r *run) progress(now time.Time) catalog.RunProgress {
	if r.estimate != nil && r.counts.Seen > *r.estimate {
		// The storage grew past the last listing: no estimate is known.
		r.estimate = nil
	}
	n := r.counts.Seen
	if r.phase == catalog.PhaseApplying {
		n = r.counts.Changes()
	}
	return catalog.RunProgress{Counts: r.counts, Phase: r.phase, Estimate: r.estimate, ApplyTotal: r.applyTotal,
		RatePerSecond: r.rate.add(now, n)}
}

// rateWindow is how far back the rate of a phase is measured.
const rateWindow = 10 * time.Second

// rateMeter measures how fast a count moves over the last rateWindow.
type rateMeter struct{ samples []rateSample }

type rateSample struct {
	at time.Time
	n  int64
}

func (m *rateMeter) reset() { m.samples = m.samples[:0] }

// add records the count at a time and returns the rate per second since
// the oldest sample within the window (or just before it); nil until a
// second of samples exists.
func (m *rateMeter) add(at time.Time, n int64) *float64 {
	m.samples = append(m.samples, rateSample{at, n})
	drop := 0
	for drop+1 < len(m.samples) && at.Sub(m.samples[drop+1].at) >= rateWindow {
		drop++
	}
	if drop > 0 || len(m.samples) > 64 {
		drop = max(drop, len(m.samples)-64)
		m.samples = append(m.samples[:0], m.samples[drop:]...)
	}
	first := m.samples[0]
	span := at.Sub(first.at)
	if span < time.Second {
		return nil
	}
	rate := float64(n-first.n) / span.Seconds()
	return &rate
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
