package syncer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// scoped re-reads only the paths a live batch names (Job.Paths) on
// path-identified storage: each path is a file, or a folder with its
// subtree, or gone. Each is merge-joined against the same part of the
// catalog with the full scan's rules, so what it finds is what a full scan
// would find there: moves within the batch keep their metadata (a rename
// reports both paths), removals pass the mass-removal guard, and folders
// that S3 only implied go when their last key goes.
func (r *run) scoped(ctx context.Context) (Result, error) {
	sub, ok := r.job.Conn.(storage.SubtreeScanner)
	if !ok || !r.byPath {
		return Result{}, fmt.Errorf("%w: this storage cannot re-read single paths", errNeedFullScan)
	}
	r.enterPhase(ctx, catalog.PhaseListing, nil)
	var scopes []string
	var stats map[string]storage.Entry
	var subtrees map[string][]storage.Entry
	if pre := r.job.Prefetched; pre != nil {
		scopes, stats, subtrees = pre.scopes, pre.stats, pre.subtrees
	} else {
		var err error
		if scopes, stats, err = r.resolveScopes(ctx, r.job.Paths); err != nil {
			return Result{}, err
		}
	}
	for _, p := range scopes {
		if err := r.ensureParents(ctx, p, stats); err != nil {
			return Result{}, err
		}
		e, found := stats[p]
		listing := func(ctx context.Context, emit func(storage.Entry) error) error {
			if !found {
				return nil
			}
			if err := emit(e); err != nil {
				return err
			}
			if !e.IsDir {
				return nil
			}
			if list, ok := subtrees[p]; ok && list != nil {
				for _, en := range list {
					if err := emit(en); err != nil {
						return err
					}
				}
				return nil
			}
			return sub.ScanSortedUnder(ctx, p, emit)
		}
		if err := r.merge(ctx, newCatalogCursor(r, r.e.cfg.BatchSize, p), listing, false); err != nil {
			var se *scanError
			if errors.As(err, &se) {
				return Result{}, scanFailure(se.err)
			}
			return Result{}, err
		}
	}
	if err := r.flush(ctx); err != nil {
		return Result{}, err
	}
	return r.finishScoped(ctx)
}

// resolveScopes turns a batch's paths into the subtrees to re-read: clean,
// sorted, none inside another, each with what the storage has there now
// (stats; absent when nothing is there). A path that is gone widens to its
// highest folder that is gone too and that the catalog knows, so a folder
// left empty on S3 (which has no folders, only keys) goes with its last
// file.
func (r *run) resolveScopes(ctx context.Context, paths []string) ([]string, map[string]storage.Entry, error) {
	stats := make(map[string]storage.Entry)
	missing := make(map[string]bool)
	stat := func(p string) (bool, error) {
		if _, ok := stats[p]; ok {
			return true, nil
		}
		if missing[p] {
			return false, nil
		}
		e, err := r.job.Conn.Stat(ctx, p)
		switch {
		case err == nil:
			if e.ID == "" {
				e.ID = e.Path
			}
			stats[p] = e
			return true, nil
		case errors.Is(err, storage.ErrNotFound):
			missing[p] = true
			return false, nil
		}
		return false, scanFailure(err)
	}
	// The storage is asked about every path at once, a few at a time: a
	// batch's time (and so the library's lock) is mostly these round trips.
	norm := normalizeScopes(paths)
	if err := r.statAll(ctx, norm, stats, missing); err != nil {
		return nil, nil, err
	}
	var scopes []string
	for _, p := range norm {
		found, err := stat(p)
		if err != nil {
			return nil, nil, err
		}
		for !found {
			parent := storage.Dir(p)
			if parent == "" {
				break
			}
			if _, err := r.store.SyncFolderID(ctx, r.job.AccountID, parent); err != nil {
				if errors.Is(err, catalog.ErrNotFound) {
					break
				}
				return nil, nil, err
			}
			if found, err = stat(parent); err != nil {
				return nil, nil, err
			}
			if !found {
				p = parent
			}
		}
		scopes = append(scopes, p)
	}
	return normalizeScopes(scopes), stats, nil
}

// statConcurrency is how many storage lookups a live batch makes at once.
const statConcurrency = 8

// statAll looks every path up in the storage, statConcurrency at a time,
// into stats (found) and missing (not found).
func (r *run) statAll(ctx context.Context, paths []string, stats map[string]storage.Entry, missing map[string]bool) error {
	type answer struct {
		p   string
		e   storage.Entry
		err error
	}
	answers := make([]answer, len(paths))
	sem := make(chan struct{}, statConcurrency)
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			e, err := r.job.Conn.Stat(ctx, p)
			answers[i] = answer{p, e, err}
		}()
	}
	wg.Wait()
	for _, a := range answers {
		switch {
		case a.err == nil:
			if a.e.ID == "" {
				a.e.ID = a.e.Path
			}
			stats[a.p] = a.e
		case errors.Is(a.err, storage.ErrNotFound):
			missing[a.p] = true
		default:
			return scanFailure(a.err)
		}
	}
	return nil
}

// normalizeScopes cleans, sorts and de-duplicates paths and drops those
// inside another one. Paths no storage path can be are dropped.
func normalizeScopes(paths []string) []string {
	clean := make([]string, 0, len(paths))
	for _, p := range paths {
		if c, err := storage.CleanPath(p, false); err == nil {
			clean = append(clean, c)
		}
	}
	// In this order a folder comes right before what lies under it.
	slices.SortFunc(clean, func(a, b string) int { return strings.Compare(a+"/", b+"/") })
	out := clean[:0]
	for _, p := range clean {
		if n := len(out); n > 0 && (p == out[n-1] || strings.HasPrefix(p, out[n-1]+"/")) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// ensureParents adds the folders above p that the catalog lacks (a file
// written into a folder created meanwhile, on storage without events for
// folders), shallowest first.
func (r *run) ensureParents(ctx context.Context, p string, stats map[string]storage.Entry) error {
	var lacking []string
	for dir := storage.Dir(p); dir != ""; dir = storage.Dir(dir) {
		if _, err := r.store.SyncFolderID(ctx, r.job.AccountID, dir); err == nil {
			break
		} else if !errors.Is(err, catalog.ErrNotFound) {
			return err
		}
		lacking = append(lacking, dir)
	}
	if len(lacking) == 0 {
		return nil
	}
	// Earlier scopes may have pushed some of these folders already.
	if err := r.flush(ctx); err != nil {
		return err
	}
	for i := len(lacking) - 1; i >= 0; i-- {
		dir := lacking[i]
		if _, err := r.store.SyncFolderID(ctx, r.job.AccountID, dir); err == nil {
			continue
		}
		e, ok := stats[dir]
		if !ok {
			var err error
			if e, err = r.job.Conn.Stat(ctx, dir); err != nil {
				if errors.Is(err, storage.ErrNotFound) {
					return nil // gone again; p's own re-read finds nothing either
				}
				return scanFailure(err)
			}
			if e.ID == "" {
				e.ID = e.Path
			}
		}
		if !e.IsDir {
			return nil // a file where a folder was: p cannot exist
		}
		if err := r.added(ctx, e); err != nil {
			return err
		}
	}
	return r.flush(ctx)
}

// finishScoped runs once every scope was re-read: moves, the guard, the
// staged additions and the removals, as at the end of a full scan — but
// the changes cursor and the listing estimate stay as they are.
func (r *run) finishScoped(ctx context.Context) (Result, error) {
	res := Result{State: catalog.RunSucceeded}
	r.enterPhase(ctx, catalog.PhaseApplying, nil)
	if err := r.matchMoves(ctx); err != nil {
		return res, err
	}
	if err := r.relinkSplitMoves(ctx); err != nil {
		return res, err
	}
	if err := r.flush(ctx); err != nil {
		return res, err
	}
	removals, err := r.store.SyncStageCount(ctx, r.job.AccountID, catalog.StageGoneAsset, true)
	if err != nil {
		return res, err
	}
	recent, err := r.store.SyncRecentRemovals(ctx, r.job.AccountID, r.e.now().Add(-r.e.cfg.MassDeleteWindow))
	if err != nil {
		return res, err
	}
	// Removing every asset of the library is held for confirmation
	// whatever its size, as a full sync holds a root that lists nothing:
	// more often a storage or mount problem than a team emptying it.
	adding, err := r.store.SyncStageCount(ctx, r.job.AccountID, catalog.StageNewAsset, true)
	if err != nil {
		return res, err
	}
	emptied := removals > 0 && removals >= r.liveAssets && adding == 0 && r.counts.Added == 0
	hold := emptied || r.guard(removals, recent)
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
		return r.needsConfirmation(ctx, res, removals, recent, emptied)
	}
	if err := r.applyRemovals(ctx); err != nil {
		return res, err
	}
	return res, r.store.SyncClearStage(ctx, r.job.AccountID, "")
}
