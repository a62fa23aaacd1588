package syncer

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// fmtWindow says a window in words ("24 hours").
func fmtWindow(d time.Duration) string {
	if d%time.Hour == 0 {
		if h := int(d / time.Hour); h != 1 {
			return fmt.Sprintf("%d hours", h)
		}
		return "hour"
	}
	return d.String()
}

// finishFull runs once a full listing completed: it matches moves,
// checks the safety guards, applies the staged additions and removals,
// purges expired tombstones and saves the cursor.
func (r *run) finishFull(ctx context.Context, startCursor string) (Result, error) {
	res := Result{State: catalog.RunSucceeded, FullScan: true}
	if r.stageWrites >= analyzeAfter {
		if err := r.store.SyncAnalyze(ctx, "sync_stage"); err != nil {
			return res, err
		}
	}
	// A root that lists nothing while the library holds assets is held for
	// confirmation whatever the library's size: it is more often a
	// storage or connection problem than a team emptying its library.
	emptyRoot := r.listed == 0 && r.liveAssets > 0 && !r.job.ConfirmedMassDelete
	if !emptyRoot {
		// The next run's estimate.
		if err := r.store.SetSyncLastListing(ctx, r.job.AccountID, r.listed); err != nil {
			return res, err
		}
	}
	r.enterPhase(ctx, catalog.PhaseApplying, r.estimate)
	if r.byPath {
		if err := r.matchMoves(ctx); err != nil {
			return res, err
		}
	}
	removals, err := r.store.SyncStageCount(ctx, r.job.AccountID, catalog.StageGoneAsset, true)
	if err != nil {
		return res, err
	}
	recent, err := r.store.SyncRecentRemovals(ctx, r.job.AccountID, r.e.now().Add(-r.e.cfg.MassDeleteWindow))
	if err != nil {
		return res, err
	}
	hold := emptyRoot || r.guard(removals, recent)
	// Every staged new file becomes a move or an addition.
	expect, kinds := int64(0), []string{catalog.StageNewAsset}
	if !hold {
		expect, kinds = removals, append(kinds, catalog.StageGoneFolder)
	}
	if err := r.expectChanges(ctx, expect, kinds...); err != nil {
		return res, err
	}
	if err := r.applyMoves(ctx); err != nil {
		return res, err
	}
	if err := r.applyStagedAdds(ctx); err != nil {
		return res, err
	}
	if hold {
		return r.needsConfirmation(ctx, res, removals, recent, emptyRoot)
	}
	if err := r.applyRemovals(ctx); err != nil {
		return res, err
	}
	if r.job.ConfirmedMassDelete && removals > 0 {
		if err := r.store.SyncConfirmedRemovals(ctx, r.job.AccountID, r.e.now()); err != nil {
			return res, err
		}
	}
	now := r.e.now()
	err = r.store.SyncApply(ctx, r.job.AccountID, now, func(tx *catalog.SyncTx) error {
		if _, err := tx.PurgeTombstones(now.Add(-r.e.cfg.TombstoneTTL)); err != nil {
			return err
		}
		return tx.SetCursor(startCursor, &now)
	})
	if err != nil {
		return res, err
	}
	res.Cursor = startCursor
	return res, r.store.SyncClearStage(ctx, r.job.AccountID, "")
}

// guard reports whether removing this many assets needs an admin's
// confirmation first: together with the recent removals (those of the
// window before this run), more than MassDeleteShare of the library as it
// was at the window's start.
func (r *run) guard(removals, recent int64) bool {
	cfg := r.e.cfg
	base := r.liveAssets + recent
	if removals == 0 || r.job.ConfirmedMassDelete || cfg.MassDeleteShare < 0 || base < cfg.MassDeleteMin {
		return false
	}
	return float64(recent+removals) > cfg.MassDeleteShare*float64(base)
}

// expectChanges sets how many changes the run will have made once the
// applying phase is done: those made so far, n more, and one for each
// staged row of the kinds given, and reports it.
func (r *run) expectChanges(ctx context.Context, n int64, kinds ...string) error {
	total := r.counts.Changes() + n
	for _, k := range kinds {
		c, err := r.store.SyncStageCount(ctx, r.job.AccountID, k, false)
		if err != nil {
			return err
		}
		total += c
	}
	r.applyTotal = &total
	r.publish(ctx, true)
	return nil
}

// needsConfirmation ends a run whose removals the mass-removal guard held
// back, recording on the run how many and which assets they are before
// the working state that knows them is cleared.
func (r *run) needsConfirmation(ctx context.Context, res Result, removals, recent int64, emptyRoot bool) (Result, error) {
	paths, err := r.store.SyncPendingRemovalPaths(ctx, r.job.AccountID, catalog.MaxPendingRemovalPaths)
	if err != nil {
		return res, err
	}
	if r.job.RunID != 0 {
		if err := r.store.SetSyncRunHeldRemovals(ctx, r.job.AccountID, r.job.RunID, removals, paths); err != nil {
			return res, err
		}
	}
	res.State = catalog.RunNeedsConfirmation
	res.PendingRemovals, res.PendingRemovalPaths = removals, paths
	const what = "If the files were really deleted from the storage, confirm to run the sync again and remove them; otherwise check the storage connection in Settings → Storage."
	switch {
	case emptyRoot:
		res.Message = fmt.Sprintf("The storage root lists no files while the library holds %d assets, so nothing was removed. %s", r.liveAssets, what)
	case recent > 0:
		res.Message = fmt.Sprintf("This sync would remove %d assets; with the %d removed in the last %s that is more than %.0f%% of the library's %d, so nothing was removed. New and changed files were applied. %s",
			removals, recent, fmtWindow(r.e.cfg.MassDeleteWindow), r.e.cfg.MassDeleteShare*100, r.liveAssets+recent, what)
	default:
		res.Message = fmt.Sprintf("This sync would remove %d of the library's %d assets (more than %.0f%%), so nothing was removed. New and changed files were applied. %s",
			removals, r.liveAssets, r.e.cfg.MassDeleteShare*100, what)
	}
	r.log.Warn("sync held back removals for confirmation", slog.Int64("removals", removals), slog.Int64("recent_removals", recent),
		slog.Int64("library", r.liveAssets), slog.Bool("empty_root", emptyRoot))
	return res, r.store.SyncClearStage(ctx, r.job.AccountID, "")
}

// applyStagedAdds adds the new files that turned out not to be moves.
func (r *run) applyStagedAdds(ctx context.Context) error {
	return r.eachStaged(ctx, catalog.StageNewAsset, func(st catalog.StageRow) error {
		if st.Matched {
			return nil
		}
		e := entryOf(st)
		return r.push(ctx, op{kind: opAddAsset, e: e, etag: r.etagFor(nil, e, true), count: countAdded})
	})
}

// applyRemovals turns the gone assets into tombstones, then deletes the
// gone folders.
func (r *run) applyRemovals(ctx context.Context) error {
	err := r.eachStaged(ctx, catalog.StageGoneAsset, func(st catalog.StageRow) error {
		if st.Matched {
			return nil
		}
		return r.push(ctx, op{kind: opRemoveAsset, row: catalog.SyncRow{ID: st.RefID, StorageID: st.StorageID}, count: countRemoved})
	})
	if err != nil {
		return err
	}
	return r.eachStaged(ctx, catalog.StageGoneFolder, func(st catalog.StageRow) error {
		return r.push(ctx, op{kind: opDeleteFolder, row: catalog.SyncRow{ID: st.RefID, IsDir: true, StorageID: st.StorageID}, count: countRemoved})
	})
}

// eachStaged calls fn for every staged row of a kind, in storage ID order,
// a page at a time, and flushes what fn pushed.
func (r *run) eachStaged(ctx context.Context, kind string, fn func(catalog.StageRow) error) error {
	after := ""
	for {
		page, err := r.store.SyncStagePage(ctx, r.job.AccountID, kind, after, r.e.cfg.BatchSize)
		if err != nil {
			return err
		}
		for _, st := range page {
			if err := fn(st); err != nil {
				return err
			}
		}
		if err := r.flush(ctx); err != nil {
			return err
		}
		if len(page) < r.e.cfg.BatchSize {
			return nil
		}
		after = page[len(page)-1].StorageID
	}
}
