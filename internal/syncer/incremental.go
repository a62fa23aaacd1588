package syncer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// folderScanner is implemented by connectors that can list one folder's
// subtree (Drive): a folder moved into the root arrives alone in the
// changes feed, and its content is listed this way.
type folderScanner interface {
	ScanFolder(ctx context.Context, folderID string, emit func(storage.Entry) error) error
}

// maxNewFolders bounds how many folders new to the catalog one feed run
// lists the content of; more means a full scan is cheaper anyway.
const maxNewFolders = 1000

// incremental applies the changes feed from the saved cursor. Additions,
// updates and moves go as each page is read; removals wait (in sync_stage)
// until every page was read and applied, then pass the mass-delete guard
// and go in the same transaction that saves the new cursor — so a crash
// anywhere replays the feed from the old cursor.
func (r *run) incremental(ctx context.Context, ch storage.Changer) (Result, error) {
	res := Result{State: catalog.RunSucceeded}
	cursor := r.job.Cursor
	var newFolders []string
	for {
		changes, next, more, err := ch.Changes(ctx, cursor)
		if err != nil {
			if errors.Is(err, storage.ErrInvalidCursor) {
				return res, err
			}
			return res, scanFailure(err)
		}
		for start := 0; start < len(changes); start += r.e.cfg.BatchSize {
			chunk := changes[start:min(start+r.e.cfg.BatchSize, len(changes))]
			if err := r.applyChanges(ctx, chunk, &newFolders); err != nil {
				return res, err
			}
		}
		if err := r.flush(ctx); err != nil {
			return res, err
		}
		cursor = next
		if !more {
			break
		}
	}
	if len(newFolders) > maxNewFolders {
		return res, fmt.Errorf("%w: %d folders new to the library", errNeedFullScan, len(newFolders))
	}
	if err := r.scanNewFolders(ctx, newFolders); err != nil {
		return res, err
	}
	if err := r.retryDeferred(ctx); err != nil {
		return res, err
	}
	r.enterPhase(ctx, catalog.PhaseApplying, nil)
	removals, err := r.feedRemovals(ctx)
	if err != nil {
		return res, err
	}
	recent, err := r.store.SyncRecentRemovals(ctx, r.job.AccountID, r.e.now().Add(-r.e.cfg.MassDeleteWindow))
	if err != nil {
		return res, err
	}
	if r.guard(removals, recent) {
		return r.needsConfirmation(ctx, res, removals, recent, false)
	}
	if err := r.expectChanges(ctx, removals, catalog.StageGoneFolder); err != nil {
		return res, err
	}
	if err := r.applyRemovals(ctx); err != nil {
		return res, err
	}
	now := r.e.now()
	err = r.store.SyncApply(ctx, r.job.AccountID, now, func(tx *catalog.SyncTx) error {
		if _, err := tx.PurgeTombstones(now.Add(-r.e.cfg.TombstoneTTL)); err != nil {
			return err
		}
		return tx.SetCursor(cursor, nil)
	})
	if err != nil {
		return res, err
	}
	res.Cursor = cursor
	return res, r.store.SyncClearStage(ctx, r.job.AccountID, "")
}

// applyChanges diffs one bounded chunk of feed items against the catalog.
// Folders go first, shallowest first, so children find their parent.
func (r *run) applyChanges(ctx context.Context, chunk []storage.Change, newFolders *[]string) error {
	// The lookup below must see what earlier chunks added.
	if err := r.flush(ctx); err != nil {
		return err
	}
	sorted := slices.Clone(chunk)
	slices.SortStableFunc(sorted, func(a, b storage.Change) int { return changeRank(a) - changeRank(b) })
	ids := make([]string, 0, 2*len(sorted))
	for _, c := range sorted {
		ids = append(ids, c.ID)
		if c.Kind == storage.ChangeUpsert && c.Entry.ParentID != "" {
			ids = append(ids, c.Entry.ParentID)
		}
	}
	rows, err := r.store.SyncLookup(ctx, r.job.AccountID, ids)
	if err != nil {
		return err
	}
	byID := make(map[string]catalog.SyncRow, len(rows))
	folders := make(map[string]bool)
	for _, row := range rows {
		byID[row.StorageID] = row
		if row.IsDir {
			folders[row.StorageID] = true
		}
	}
	for _, c := range sorted {
		r.counts.Seen++
		r.tick(ctx)
		row, known := byID[c.ID]
		if c.Kind == storage.ChangeRemove {
			if err := r.unstage(ctx, catalog.StageDeferred, c.ID); err != nil {
				return err
			}
			if known {
				if err := r.gone(ctx, row); err != nil {
					return err
				}
			}
			continue
		}
		e := c.Entry
		if e.ID == "" {
			e.ID = c.ID
		}
		// A later item of the feed wins over an earlier removal.
		for _, k := range []string{catalog.StageGoneAsset, catalog.StageGoneFolder, catalog.StageDeferred} {
			if err := r.unstage(ctx, k, e.ID); err != nil {
				return err
			}
		}
		if e.ParentID != "" && !folders[e.ParentID] {
			if err := r.push(ctx, op{kind: opStage, stage: stageOf(catalog.StageDeferred, e, "")}); err != nil {
				return err
			}
			continue
		}
		if e.IsDir {
			folders[e.ID] = true
			if !known {
				*newFolders = append(*newFolders, e.ID)
			}
		}
		if known {
			err = r.existing(ctx, row, e)
		} else {
			err = r.added(ctx, e)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// changeRank orders a chunk: folder upserts by depth, then the rest.
func changeRank(c storage.Change) int {
	if c.Kind == storage.ChangeUpsert && c.Entry.IsDir {
		return strings.Count(c.Entry.Path, "/")
	}
	return 1 << 20
}

func (r *run) unstage(ctx context.Context, kind, id string) error {
	return r.push(ctx, op{kind: opUnstage, stage: catalog.StageRow{Kind: kind, StorageID: id}})
}

// scanNewFolders lists the content of folders the feed brought in that the
// catalog did not have (a folder moved into the root arrives alone).
func (r *run) scanNewFolders(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	fs, ok := r.job.Conn.(folderScanner)
	if !ok {
		return fmt.Errorf("%w: new folders whose content the connector cannot list alone", errNeedFullScan)
	}
	for _, id := range ids {
		pending := make([]storage.Entry, 0, r.e.cfg.BatchSize)
		err := scanWith(func(emit func(storage.Entry) error) error { return fs.ScanFolder(ctx, id, emit) }, func(e storage.Entry) error {
			r.counts.Seen++
			r.tick(ctx)
			pending = append(pending, e)
			if len(pending) >= r.e.cfg.BatchSize {
				err := r.processEntries(ctx, pending, false)
				pending = pending[:0]
				return err
			}
			return nil
		})
		if err == nil && len(pending) > 0 {
			err = r.processEntries(ctx, pending, false)
		}
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				continue // gone again since the feed said so; a later change says what happened
			}
			var se *scanError
			if errors.As(err, &se) {
				return scanFailure(se.err)
			}
			return err
		}
		if err := r.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// retryDeferred places the feed items whose parent folder was unknown when
// they were read, now that every page was applied. Items still without a
// parent mean the feed alone cannot place them: a full scan follows.
func (r *run) retryDeferred(ctx context.Context) error {
	for {
		n, err := r.store.SyncStageCount(ctx, r.job.AccountID, catalog.StageDeferred, false)
		if err != nil || n == 0 {
			return err
		}
		placed := int64(0)
		err = r.eachStaged(ctx, catalog.StageDeferred, func(st catalog.StageRow) error {
			if _, err := r.store.SyncFolderID(ctx, r.job.AccountID, st.ParentStorageID); err != nil {
				if errors.Is(err, catalog.ErrNotFound) {
					return nil
				}
				return err
			}
			placed++
			e := entryOf(st)
			if err := r.unstage(ctx, catalog.StageDeferred, e.ID); err != nil {
				return err
			}
			rows, err := r.store.SyncLookup(ctx, r.job.AccountID, []string{e.ID})
			if err != nil {
				return err
			}
			if len(rows) > 0 {
				return r.existing(ctx, rows[0], e)
			}
			return r.added(ctx, e)
		})
		if err != nil {
			return err
		}
		if placed == 0 {
			return fmt.Errorf("%w: %d changed items sit in folders the library does not know", errNeedFullScan, n)
		}
	}
}

// feedRemovals counts the assets the staged removals would take out of the
// library, folders' content included.
func (r *run) feedRemovals(ctx context.Context) (int64, error) {
	n, err := r.store.SyncStageCount(ctx, r.job.AccountID, catalog.StageGoneAsset, true)
	if err != nil {
		return 0, err
	}
	err = r.eachStaged(ctx, catalog.StageGoneFolder, func(st catalog.StageRow) error {
		c, err := r.store.SyncSubtreeAssetCount(ctx, r.job.AccountID, st.RefID)
		n += c
		return err
	})
	return n, err
}
