package syncer

import (
	"context"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// Live batches are cut by time, so the two halves of a move (on S3 a copy
// and a delete; on a local disk a move across file systems) may fall into
// different batches. Within one batch matchMoves pairs them; across
// batches relinkSplitMoves does, for what a batch could not pair:
//   - a new file with the same name and content as a tombstone removed by a
//     recent batch takes the tombstone over (the delete came first);
//   - a file gone with the same name and content as an asset a recent batch
//     added without team metadata moves to that asset's place, and the
//     blank one goes (the copy came first).
//
// Only unique candidates are taken, as matchMoves does. A batch with more
// unpaired files than maxRelink (a bulk upload, not a move) is left alone.

// relinkWindow is how far back relinkSplitMoves looks.
const relinkWindow = 10 * time.Minute

// maxRelink bounds the unpaired files of one batch that are looked up.
const maxRelink = 1000

func (r *run) relinkSplitMoves(ctx context.Context) error {
	news, err := r.store.SyncStageCount(ctx, r.job.AccountID, catalog.StageNewAsset, true)
	if err != nil {
		return err
	}
	gones, err := r.store.SyncStageCount(ctx, r.job.AccountID, catalog.StageGoneAsset, true)
	if err != nil {
		return err
	}
	if news+gones == 0 || news+gones > maxRelink {
		return nil
	}
	since := r.e.now().Add(-relinkWindow)
	// The batch's own unpaired removals: an asset going now is no far end.
	goneIDs := map[int64]bool{}
	var goneRows []catalog.StageRow
	if err := r.eachStaged(ctx, catalog.StageGoneAsset, func(st catalog.StageRow) error {
		if !st.Matched {
			goneIDs[st.RefID] = true
			goneRows = append(goneRows, st)
		}
		return nil
	}); err != nil {
		return err
	}
	type pair struct {
		near catalog.StageRow // the batch's unpaired file
		far  catalog.SyncRow  // the recent row it pairs with
	}
	var pairs []pair
	claims := map[int64]int{} // far row ID -> how many want it
	if err := r.eachStaged(ctx, catalog.StageNewAsset, func(st catalog.StageRow) error {
		if st.Matched {
			return nil
		}
		found, err := r.store.SyncRecentTombstones(ctx, r.job.AccountID, r.relinkQuery(st.Name, st.Size, st.ETag, st.ModTime, since))
		if err != nil || len(found) != 1 {
			return err
		}
		pairs = append(pairs, pair{st, found[0]})
		claims[found[0].ID]++
		return nil
	}); err != nil {
		return err
	}
	for _, st := range goneRows {
		found, err := r.store.SyncRecentBlankAssets(ctx, r.job.AccountID, r.relinkQuery(st.Name, st.Size, st.ETag, st.ModTime, since))
		if err != nil {
			return err
		}
		if len(found) != 1 || goneIDs[found[0].ID] {
			continue
		}
		pairs = append(pairs, pair{st, found[0]})
		claims[found[0].ID]++
	}
	for _, p := range pairs {
		if claims[p.far.ID] != 1 {
			continue // several want it: not guessed at
		}
		if p.near.Kind == catalog.StageNewAsset {
			// The delete came first: the tombstone takes the new file over.
			e := entryOf(p.near)
			if err := r.unstage(ctx, catalog.StageNewAsset, e.ID); err != nil {
				return err
			}
			if err := r.push(ctx, op{kind: opUpdateAsset, row: p.far, e: e, etag: r.etagFor(&p.far, e, false), count: countMoved}); err != nil {
				return err
			}
			continue
		}
		// The copy came first: the gone asset takes the blank one's place.
		b := p.far
		e := storage.Entry{ID: b.StorageID, ParentID: b.ParentStorageID, Path: b.Path, Name: b.Name, Size: b.Size, ETag: b.ETag,
			MIME: b.MIME, Native: b.Native}
		if b.ModTime != nil {
			e.ModTime = *b.ModTime
		}
		if err := r.unstage(ctx, catalog.StageGoneAsset, p.near.StorageID); err != nil {
			return err
		}
		gone := catalog.SyncRow{ID: p.near.RefID, StorageID: p.near.StorageID, ETag: p.near.ETag}
		if err := r.push(ctx, op{kind: opRelink, row: gone, other: b.ID, e: e, etag: b.ETag, count: countMoved}); err != nil {
			return err
		}
	}
	return r.flush(ctx)
}

func (r *run) relinkQuery(name string, size int64, etag string, mod *time.Time, since time.Time) catalog.RelinkQuery {
	return catalog.RelinkQuery{Name: name, Size: normSize(size), ETag: etag, Local: r.local, MTime: mod, Since: since}
}
