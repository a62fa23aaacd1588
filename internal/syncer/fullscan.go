package syncer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// errNeedFullScan: the changes feed alone cannot bring the catalog in step.
var errNeedFullScan = errors.New("a full scan is needed")

// fullScan lists the whole storage, applies additions and updates as it
// goes, then — only if the listing completed — matches moves, removes
// what is gone and saves the changes-feed cursor taken before the scan.
func (r *run) fullScan(ctx context.Context, startCursor string) (Result, error) {
	var err error
	if sc, ok := r.job.Conn.(storage.SortedScanner); ok && r.byPath {
		err = r.mergeScan(ctx, sc)
	} else {
		err = r.batchScan(ctx)
	}
	if ferr := r.flush(ctx); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		var se *scanError
		if errors.As(err, &se) {
			return Result{FullScan: true}, scanFailure(se.err)
		}
		return Result{FullScan: true}, err
	}
	return r.finishFull(ctx, startCursor)
}

// scanError marks an error of the storage listing (as opposed to one of
// the catalog).
type scanError struct{ err error }

func (e *scanError) Error() string { return e.err.Error() }
func (e *scanError) Unwrap() error { return e.err }

// scanWith runs a connector scan, telling its own failures from those of
// emit (the catalog side).
func scanWith(scan func(func(storage.Entry) error) error, emit func(storage.Entry) error) error {
	var emitErr error
	err := scan(func(e storage.Entry) error {
		if err := emit(e); err != nil {
			emitErr = err
			return err
		}
		return nil
	})
	if emitErr != nil {
		return emitErr
	}
	if err != nil {
		return &scanError{err}
	}
	return nil
}

// pipeChunk is how many entries the listing hands over at a time; at most
// pipeDepth chunks wait, so memory stays bounded.
const (
	pipeChunk = 512
	pipeDepth = 16
)

// pipeScan runs a connector scan in its own goroutine and consumes its
// entries in this one, so listing (network, disk) and diffing and writing
// (database) overlap. A consume error stops the scan; a scan error is a
// *scanError.
func pipeScan(ctx context.Context, scan func(context.Context, func(storage.Entry) error) error, consume func(storage.Entry) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan []storage.Entry, pipeDepth)
	var scanErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		buf := make([]storage.Entry, 0, pipeChunk)
		send := func() error {
			select {
			case ch <- buf:
				buf = make([]storage.Entry, 0, pipeChunk)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		scanErr = scan(ctx, func(e storage.Entry) error {
			buf = append(buf, e)
			if len(buf) == pipeChunk {
				return send()
			}
			return nil
		})
		if scanErr == nil && len(buf) > 0 {
			scanErr = send()
		}
	}()
	var consumeErr error
	for chunk := range ch {
		for _, e := range chunk {
			if consumeErr != nil {
				break
			}
			if err := consume(e); err != nil {
				consumeErr = err
				cancel()
			}
		}
	}
	<-done
	if consumeErr != nil {
		return consumeErr
	}
	if scanErr != nil {
		return &scanError{scanErr}
	}
	return nil
}

// mergeScan merge-joins a sorted storage listing with the catalog read in
// the same order: constant memory whatever the library's size.
func (r *run) mergeScan(ctx context.Context, sc storage.SortedScanner) error {
	return r.merge(ctx, newCatalogCursor(r, r.e.cfg.ReadPage, ""), sc.ScanSorted, true)
}

// merge merge-joins a sorted listing with the catalog rows of cur; listed
// says the listing is the whole storage (it counts toward the next run's
// estimate).
func (r *run) merge(ctx context.Context, cur *catalogCursor, scan func(context.Context, func(storage.Entry) error) error, listed bool) error {
	defer cur.close()
	prev := ""
	first := true
	err := pipeScan(ctx, scan, func(e storage.Entry) error {
		if e.ID == "" {
			e.ID = e.Path
		}
		key := storage.SortKey(e.ID, e.IsDir)
		if !first && key <= prev {
			return &scanError{fmt.Errorf("%w: the storage listed %q after %q, out of order; the listing cannot be trusted", storage.ErrFatal, key, prev)}
		}
		first, prev = false, key
		r.counts.Seen++
		if listed {
			r.listed++
		}
		r.tick(ctx)
		for {
			row, ok, err := cur.peek(ctx)
			if err != nil {
				return err
			}
			if !ok || row.key >= key {
				break
			}
			cur.next()
			// A folder with entries under it exists even without a marker
			// object (S3 prefixes): key is the first storage key after it.
			if row.IsDir && strings.HasPrefix(key, row.key) {
				continue
			}
			if err := r.gone(ctx, row.SyncRow); err != nil {
				return err
			}
		}
		if row, ok, _ := cur.peek(ctx); ok && row.key == key {
			cur.next()
			return r.existing(ctx, row.SyncRow, e)
		}
		return r.added(ctx, e)
	})
	if err != nil {
		return err
	}
	for {
		row, ok, err := cur.peek(ctx)
		if err != nil || !ok {
			return err
		}
		cur.next()
		if err := r.gone(ctx, row.SyncRow); err != nil {
			return err
		}
	}
}

// batchScan handles a listing in no useful order (Drive): bounded batches
// looked up by storage ID, every ID seen recorded in sync_stage so what
// was not seen can be found once the listing is complete.
func (r *run) batchScan(ctx context.Context) error {
	pending := make([]storage.Entry, 0, r.e.cfg.BatchSize)
	process := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := r.processEntries(ctx, pending, true)
		pending = pending[:0]
		return err
	}
	err := pipeScan(ctx, r.job.Conn.Scan, func(e storage.Entry) error {
		if e.ID == "" {
			e.ID = e.Path
		}
		r.counts.Seen++
		r.listed++
		r.tick(ctx)
		pending = append(pending, e)
		if len(pending) >= r.e.cfg.BatchSize {
			return process()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := process(); err != nil {
		return err
	}
	if err := r.flush(ctx); err != nil {
		return err
	}
	return r.stageUnseen(ctx)
}

// processEntries diffs one batch of entries against the catalog rows with
// the same storage IDs. markSeen records each ID as seen by a full scan.
func (r *run) processEntries(ctx context.Context, entries []storage.Entry, markSeen bool) error {
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	rows, err := r.store.SyncLookup(ctx, r.job.AccountID, ids)
	if err != nil {
		return err
	}
	byID := make(map[string]catalog.SyncRow, len(rows))
	for _, row := range rows {
		if prev, dup := byID[row.StorageID]; dup && prev.IsDir {
			continue // path-identified storage: the folder and a file may share a key
		}
		byID[row.StorageID] = row
	}
	for _, e := range entries {
		if markSeen {
			if err := r.push(ctx, op{kind: opStage, stage: catalog.StageRow{Kind: catalog.StageSeen, StorageID: e.ID}}); err != nil {
				return err
			}
		}
		row, ok := byID[e.ID]
		if ok {
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

// stageUnseen records every folder and live asset the complete unsorted
// scan did not report as gone.
func (r *run) stageUnseen(ctx context.Context) error {
	for _, dirs := range []bool{false, true} {
		var after int64
		for {
			rows, err := r.store.SyncUnseenPage(ctx, r.job.AccountID, dirs, after, r.e.cfg.BatchSize)
			if err != nil {
				return err
			}
			for _, row := range rows {
				if err := r.gone(ctx, row); err != nil {
					return err
				}
			}
			// Staging writes "gone" rows, not "seen" ones: the next page
			// (by ID) is unaffected.
			if err := r.flush(ctx); err != nil {
				return err
			}
			if len(rows) < r.e.cfg.BatchSize {
				break
			}
			after = rows[len(rows)-1].ID
		}
	}
	return r.store.SyncClearStage(ctx, r.job.AccountID, catalog.StageSeen)
}
