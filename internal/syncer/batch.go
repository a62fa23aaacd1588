package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// opKind is one kind of catalog write the diff decides on.
type opKind int

const (
	opAddFolder    opKind = iota + 1 // e is a new folder
	opUpdateFolder                   // row, a folder, moved or renamed to e
	opDeleteFolder                   // row, a folder, is gone with its subtree
	opAddAsset                       // e is a new file
	opUpdateAsset                    // row changed to e (facts, place, or back from a tombstone)
	opReplaceAsset                   // row is a tombstone whose key a different file e took
	opRemoveAsset                    // row becomes a tombstone
	opStage                          // remember stage
	opUnstage                        // forget stage (Kind, StorageID)
	opMatch                          // pair staged new file stage with gone asset row (a move)
	opRelink                         // row (gone, with its metadata) takes the place e of blank asset other, which goes
)

// op is one pending catalog write.
type op struct {
	kind  opKind
	e     storage.Entry
	row   catalog.SyncRow
	etag  string // the ETag to store for e (local files: the known content hash)
	stage catalog.StageRow
	// content: the file's content changed (preview to be remade).
	content bool
	// other is the blank asset an opRelink replaces.
	other int64
	// count says which counter the op adds to once committed.
	count counter
}

type counter int

const (
	countNone counter = iota
	countAdded
	countUpdated
	countMoved
	countRemoved
)

// batch collects ops until there are enough for one transaction.
type batch struct {
	ops   []op
	limit int
}

// errUnplaced: a change's parent folder is not in the catalog.
var errUnplaced = errors.New("parent folder unknown")

func (r *run) push(ctx context.Context, o op) error {
	if o.kind == opAddAsset {
		r.addsPushed++
		// A big import: the search index catches up after the sync
		// instead of row by row.
		if r.addsPushed == r.e.cfg.BulkAfter && !r.searchDeferred {
			if err := r.store.StartSearchBacklog(ctx, r.job.AccountID, r.e.now()); err != nil {
				return err
			}
			r.searchDeferred = true
		}
	}
	r.batch.ops = append(r.batch.ops, o)
	if len(r.batch.ops) >= r.batch.limit {
		return r.flush(ctx)
	}
	return nil
}

// flush applies the pending ops in one transaction, then counts them and
// publishes progress.
func (r *run) flush(ctx context.Context) error {
	if len(r.batch.ops) == 0 {
		return nil
	}
	var delta catalog.Counts
	err := r.store.SyncApply(ctx, r.job.AccountID, r.e.now(), func(tx *catalog.SyncTx) error {
		delta = catalog.Counts{}
		r.adds.reset()
		for i := range r.batch.ops {
			o := &r.batch.ops[i]
			if o.kind != opAddAsset && o.kind != opAddFolder && o.kind != opStage {
				if err := r.adds.write(tx); err != nil {
					return err
				}
			}
			n, err := r.apply(tx, o, &delta)
			if errors.Is(err, errUnplaced) {
				// Only a storage that breaks "parents before children"
				// gets here; the entry waits for the next sync.
				r.log.Warn("sync: skipping an entry whose folder is unknown", slog.String("path", o.e.Path))
				delta.Errors++
				continue
			}
			if err != nil {
				return err
			}
			addCount(&delta, o.count, n)
		}
		return r.adds.write(tx)
	})
	if err != nil {
		r.folders.reset()
		return fmt.Errorf("writing sync changes to the catalog (nothing of this batch was kept; the next sync redoes it): %w", err)
	}
	for _, o := range r.batch.ops {
		switch o.kind {
		case opStage, opUnstage, opMatch:
			r.stageWrites++
		default:
			r.writes++
		}
	}
	r.batch.ops = r.batch.ops[:0]
	r.counts.Added += delta.Added
	r.counts.Updated += delta.Updated
	r.counts.Moved += delta.Moved
	r.counts.Removed += delta.Removed
	r.counts.Errors += delta.Errors
	r.tick(ctx)
	return nil
}

func addCount(c *catalog.Counts, k counter, n int64) {
	switch k {
	case countAdded:
		c.Added += n
	case countUpdated:
		c.Updated += n
	case countMoved:
		c.Moved += n
	case countRemoved:
		c.Removed += n
	}
}

// apply performs one op inside tx and returns how much it adds to its
// counter; implied folders it creates on the way are counted in delta.
func (r *run) apply(tx *catalog.SyncTx, o *op, delta *catalog.Counts) (int64, error) {
	switch o.kind {
	case opAddFolder:
		parent, err := r.parentID(tx, o.e.ParentID, delta)
		if err != nil {
			return 0, err
		}
		id, err := tx.AddFolder(parent, o.e.ID, o.e.Name, o.e.Path)
		if err != nil {
			return 0, err
		}
		r.folders.put(o.e.ID, id)
		return 1, nil
	case opUpdateFolder:
		parent, err := r.parentID(tx, o.e.ParentID, delta)
		if err != nil {
			return 0, err
		}
		return 1, tx.UpdateFolder(o.row.ID, parent, o.e.Name, o.row.Path, o.e.Path)
	case opDeleteFolder:
		r.folders.reset()
		n, deleted, err := tx.DeleteFolder(o.row.ID)
		if deleted {
			n++
		}
		return n, err
	case opAddAsset:
		folder, err := r.parentID(tx, o.e.ParentID, delta)
		if err != nil {
			return 0, err
		}
		r.adds.folders = append(r.adds.folders, folder)
		r.adds.files = append(r.adds.files, fileOf(o.e, o.etag))
		return 1, nil
	case opUpdateAsset:
		folder, err := r.parentID(tx, o.e.ParentID, delta)
		if err != nil {
			return 0, err
		}
		return 1, tx.UpdateAsset(o.row.ID, folder, fileOf(o.e, o.etag), o.content)
	case opReplaceAsset:
		folder, err := r.parentID(tx, o.e.ParentID, delta)
		if err != nil {
			return 0, err
		}
		if err := tx.PurgeAsset(o.row.ID); err != nil {
			return 0, err
		}
		_, err = tx.AddAsset(folder, fileOf(o.e, o.etag))
		return 1, err
	case opRemoveAsset:
		ok, err := tx.RemoveAsset(o.row.ID)
		if ok {
			return 1, err
		}
		return 0, err
	case opStage:
		return 1, tx.Stage(o.stage)
	case opUnstage:
		return 1, tx.Unstage(o.stage.Kind, o.stage.StorageID)
	case opMatch:
		return 1, tx.MatchStaged(o.stage.StorageID, o.row.StorageID, o.row.ID, o.etag)
	case opRelink:
		folder, err := r.parentID(tx, o.e.ParentID, delta)
		if err != nil {
			return 0, err
		}
		if err := tx.PurgeAsset(o.other); err != nil {
			return 0, err
		}
		return 1, tx.UpdateAsset(o.row.ID, folder, fileOf(o.e, o.etag), false)
	}
	return 0, fmt.Errorf("sync: unknown catalog operation %d", o.kind)
}

// parentID resolves a parent folder's storage ID to its catalog ID inside
// tx ("" is the root). For path-identified storage a missing parent is an
// implied folder (an S3 prefix without a marker object) and is created with
// its own missing parents.
func (r *run) parentID(tx *catalog.SyncTx, sid string, delta *catalog.Counts) (*int64, error) {
	if sid == "" {
		return nil, nil
	}
	if id, ok := r.folders.get(sid); ok {
		return &id, nil
	}
	id, ok, err := tx.FolderID(sid)
	if err != nil {
		return nil, err
	}
	if ok {
		r.folders.put(sid, id)
		return &id, nil
	}
	if !r.byPath {
		return nil, fmt.Errorf("%w: %q", errUnplaced, sid)
	}
	grand, err := r.parentID(tx, storage.Dir(sid), delta)
	if err != nil {
		return nil, err
	}
	id, err = tx.AddFolder(grand, sid, storage.Base(sid), sid)
	if err != nil {
		return nil, err
	}
	r.folders.put(sid, id)
	delta.Added++
	return &id, nil
}

// fileOf is the catalog form of a file entry.
func fileOf(e storage.Entry, etag string) catalog.SyncFile {
	return catalog.SyncFile{
		StorageID: e.ID, Name: e.Name, Path: e.Path,
		Size: normSize(e.Size), ETag: etag, ModTime: modTime(e.ModTime),
		MIME: e.MIME, Native: e.Native,
	}
}

// addBuffer gathers the new assets of a batch for multi-row inserts. It
// is written out before any op that could depend on them.
type addBuffer struct {
	folders []*int64
	files   []catalog.SyncFile
}

func (b *addBuffer) reset() { b.folders, b.files = b.folders[:0], b.files[:0] }

func (b *addBuffer) write(tx *catalog.SyncTx) error {
	if len(b.files) == 0 {
		return nil
	}
	err := tx.AddAssets(b.folders, b.files)
	b.reset()
	return err
}

// folderCache maps folder storage IDs to catalog IDs, bounded: it is
// dropped whole when full (parents of nearby entries are looked up again).
type folderCache struct {
	m   map[string]int64
	max int
}

func newFolderCache(max int) *folderCache { return &folderCache{m: make(map[string]int64), max: max} }

func (c *folderCache) get(sid string) (int64, bool) { id, ok := c.m[sid]; return id, ok }

func (c *folderCache) put(sid string, id int64) {
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[sid] = id
}

func (c *folderCache) reset() { clear(c.m) }
