package syncer

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// normSize stores an unknown size (Google-native documents) as 0.
func normSize(n int64) int64 {
	if n < 0 {
		return 0
	}
	return n
}

// modTime is the stored form of a modification time: milliseconds, nil for
// none.
func modTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = time.UnixMilli(t.UnixMilli()).UTC()
	return &t
}

func sameTime(a *time.Time, b time.Time) bool {
	if a == nil || b.IsZero() {
		return a == nil && b.IsZero()
	}
	return a.UnixMilli() == b.UnixMilli()
}

func msOf(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// entryFingerprint is the move-matching key of a new file: its ETag and size
// (S3, Drive), or for local files — whose content hash is only computed for
// candidates — its size and modification time, which a rename keeps. ""
// means the file cannot be matched.
func (r *run) entryFingerprint(e storage.Entry) string {
	if r.local {
		return "s:" + strconv.FormatInt(normSize(e.Size), 10) + ":" + msOf(modTime(e.ModTime))
	}
	if e.ETag == "" {
		return ""
	}
	return "e:" + e.ETag + ":" + strconv.FormatInt(normSize(e.Size), 10)
}

// rowFingerprint is entryFingerprint for a catalog asset.
func (r *run) rowFingerprint(row catalog.SyncRow) string {
	if r.local {
		return "s:" + strconv.FormatInt(row.Size, 10) + ":" + msOf(row.ModTime)
	}
	if row.ETag == "" {
		return ""
	}
	return "e:" + row.ETag + ":" + strconv.FormatInt(row.Size, 10)
}

// contentChanged reports whether the file's content differs from what the
// catalog knows: ETag or size (S3, Drive; the modification time for
// documents without an ETag), or size and modification time (local).
func (r *run) contentChanged(row catalog.SyncRow, e storage.Entry) bool {
	if row.Size != normSize(e.Size) {
		return true
	}
	if r.local || (row.ETag == "" && e.ETag == "") {
		return !sameTime(row.ModTime, e.ModTime)
	}
	return row.ETag != e.ETag
}

// etagFor is the ETag to store for e replacing row: local files keep their
// known content hash while the content is unchanged.
func (r *run) etagFor(row *catalog.SyncRow, e storage.Entry, changed bool) string {
	if !r.local {
		return e.ETag
	}
	if row != nil && !changed {
		return row.ETag
	}
	return ""
}

// placeChanged reports whether the entry's name or parent differs from the
// row's (a move or rename, for ID-identified storage).
func placeChanged(row catalog.SyncRow, e storage.Entry) bool {
	return row.Name != e.Name || row.Path != e.Path || row.ParentStorageID != e.ParentID
}

// factsChanged reports whether any stored file fact differs.
func (r *run) factsChanged(row catalog.SyncRow, e storage.Entry) bool {
	return row.MIME != e.MIME || row.Native != e.Native || !sameTime(row.ModTime, e.ModTime) ||
		(!r.local && row.ETag != e.ETag) || row.Size != normSize(e.Size)
}

// existing handles an entry the catalog has a row for (same identity).
func (r *run) existing(ctx context.Context, row catalog.SyncRow, e storage.Entry) error {
	if row.IsDir != e.IsDir {
		// A Drive ID does not change type; a path key that did is a
		// different item.
		if err := r.gone(ctx, row); err != nil {
			return err
		}
		return r.added(ctx, e)
	}
	if e.IsDir {
		if placeChanged(row, e) {
			return r.push(ctx, op{kind: opUpdateFolder, row: row, e: e, count: countMoved})
		}
		return nil
	}
	changed := r.contentChanged(row, e)
	if row.Removed {
		return r.returned(ctx, row, e, changed)
	}
	switch {
	case placeChanged(row, e):
		return r.push(ctx, op{kind: opUpdateAsset, row: row, e: e, etag: r.etagFor(&row, e, changed), content: changed, count: countMoved})
	case changed || r.factsChanged(row, e):
		return r.push(ctx, op{kind: opUpdateAsset, row: row, e: e, etag: r.etagFor(&row, e, changed), content: changed, count: countUpdated})
	}
	return nil
}

// returned handles a file found where the catalog has a tombstone: the same
// file comes back (same Drive ID, or same key with the same content) and is
// relinked with its metadata; a different file at a tombstone's key
// replaces it.
func (r *run) returned(ctx context.Context, row catalog.SyncRow, e storage.Entry, changed bool) error {
	same := !r.byPath || !changed
	if r.local && same && row.ETag != "" {
		// A known content hash settles it.
		if h, err := r.hash(ctx, e.Path); err == nil {
			same = h == row.ETag
		}
	}
	if same {
		return r.push(ctx, op{kind: opUpdateAsset, row: row, e: e, etag: r.etagFor(&row, e, changed), content: changed, count: countAdded})
	}
	return r.push(ctx, op{kind: opReplaceAsset, row: row, e: e, etag: r.etagFor(nil, e, true), count: countAdded})
}

// added handles an entry the catalog has no row for.
func (r *run) added(ctx context.Context, e storage.Entry) error {
	if e.IsDir {
		return r.push(ctx, op{kind: opAddFolder, e: e, count: countAdded})
	}
	if r.byPath && r.stageAdds {
		if fp := r.entryFingerprint(e); fp != "" {
			return r.push(ctx, op{kind: opStage, stage: stageOf(catalog.StageNewAsset, e, fp)})
		}
	}
	return r.push(ctx, op{kind: opAddAsset, e: e, etag: r.etagFor(nil, e, true), count: countAdded})
}

// gone records a catalog row the storage no longer has; it is removed only
// once the scan completed.
func (r *run) gone(ctx context.Context, row catalog.SyncRow) error {
	if row.Removed {
		return nil
	}
	st := catalog.StageRow{StorageID: row.StorageID, RefID: row.ID, Path: row.Path, Name: row.Name, IsDir: row.IsDir,
		Size: row.Size, ETag: row.ETag, ModTime: row.ModTime}
	if row.IsDir {
		st.Kind = catalog.StageGoneFolder
	} else {
		st.Kind = catalog.StageGoneAsset
		st.Fingerprint = r.rowFingerprint(row)
	}
	return r.push(ctx, op{kind: opStage, stage: st})
}

// stageOf is the stage row of an entry.
func stageOf(kind string, e storage.Entry, fp string) catalog.StageRow {
	return catalog.StageRow{
		Kind: kind, StorageID: e.ID, ParentStorageID: e.ParentID, Path: e.Path, Name: e.Name, IsDir: e.IsDir,
		Size: e.Size, ETag: e.ETag, ModTime: modTime(e.ModTime), MIME: e.MIME, Native: e.Native, Fingerprint: fp,
	}
}

// entryOf turns a stage row back into the entry it was made from.
func entryOf(st catalog.StageRow) storage.Entry {
	e := storage.Entry{
		ID: st.StorageID, ParentID: st.ParentStorageID, Path: st.Path, Name: st.Name, IsDir: st.IsDir,
		Size: st.Size, ETag: st.ETag, MIME: st.MIME, Native: st.Native,
	}
	if st.ModTime != nil {
		e.ModTime = *st.ModTime
	}
	return e
}

// errNoHasher: the connector offers no content hash.
var errNoHasher = errors.New("the connector cannot hash content")

// hash returns the content hash of a local file, when the connector can
// compute one.
func (r *run) hash(ctx context.Context, path string) (string, error) {
	h, ok := r.job.Conn.(storage.Hasher)
	if !ok {
		return "", errNoHasher
	}
	return h.Hash(ctx, path)
}
