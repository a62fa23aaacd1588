package library

import (
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// The catalog must hold exactly what a sync would store for an entry, or
// the next sync reports a difference. These mirror the sync engine's
// normalisation (internal/syncer): sizes below zero are stored as 0, times
// to the millisecond in UTC, a zero time as none, and local files carry no
// ETag until a move check hashes them.

// storedSize is the stored form of an entry's size.
func storedSize(n int64) int64 { return max(n, 0) }

// storedTime is the stored form of a modification time.
func storedTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = time.UnixMilli(t.UnixMilli()).UTC()
	return &t
}

// assetFromEntry is the catalog row for a file the storage just wrote into
// folder (nil: the root).
func assetFromEntry(folder *int64, e storage.Entry) catalog.Asset {
	return catalog.Asset{
		FolderID:  folder,
		StorageID: e.ID,
		Name:      e.Name,
		Size:      storedSize(e.Size),
		ETag:      e.ETag,
		ModTime:   storedTime(e.ModTime),
		MIME:      e.MIME,
		Native:    e.Native,
	}
}

// factsDiffer reports whether the storage's entry after a move has file
// facts other than the catalog row's (an S3 move is a copy: it gets a new
// modification time, and a multipart object a new ETag). Local files keep
// their size and time on a rename; their stored ETag is a content hash the
// connector does not report, so it is not compared.
func factsDiffer(kind storage.Kind, a catalog.Asset, e storage.Entry) bool {
	m := storedTime(e.ModTime)
	sameTime := (a.ModTime == nil && m == nil) || (a.ModTime != nil && m != nil && a.ModTime.Equal(*m))
	if a.Size != storedSize(e.Size) || !sameTime || a.MIME != e.MIME || a.Native != e.Native {
		return true
	}
	return kind != storage.KindLocal && a.ETag != e.ETag
}
