package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// WrittenFile is the file a metadata write-back changed in the storage:
// the asset's own file (Sidecar false: its new fingerprint) or its XMP
// sidecar (an asset of its own, hidden from listings, created or updated).
type WrittenFile struct {
	Sidecar   bool
	FolderID  *int64
	StorageID string
	Name      string
	Size      int64
	ETag      string
	ModTime   *time.Time
	MIME      string
}

// CommitMetadataWrite records, in one transaction that re-checks the lock
// and the write intent, a team edit whose fields were written into the
// storage: the edit itself (edit false: m holds the asset's current values,
// written as they are, and nothing is edited), the written file's new
// fingerprint (so the next sync sees no difference) and the file's
// metadata as now written (so the next read of it changes nothing).
func (s *Store) CommitMetadataWrite(ctx context.Context, accountID, intentID, assetID int64, m MetadataUpdate, edit bool, w WrittenFile, now time.Time) (Asset, error) {
	if m.Rating != nil && (*m.Rating < 0 || *m.Rating > 5) {
		return Asset{}, fmt.Errorf("rating %d is out of range; give 0 to 5", *m.Rating)
	}
	var out Asset
	err := s.libraryWrite(ctx, accountID, intentID, now, func(tx *sql.Tx) error {
		if edit {
			if _, err := s.updateMetadata(ctx, tx, accountID, assetID, m, now); err != nil {
				return err
			}
		}
		if w.Sidecar {
			sc, err := s.putUploaded(ctx, tx, accountID, Asset{FolderID: w.FolderID, StorageID: w.StorageID, Name: w.Name,
				Size: w.Size, ETag: w.ETag, ModTime: w.ModTime, MIME: w.MIME}, now)
			if err != nil {
				return err
			}
			// The sidecar's own row says "read": its content is what was
			// just written into the asset's row below.
			if err := s.putFileMeta(ctx, tx, sc, FileMeta{Reader: "sidecar"}, now); err != nil {
				return err
			}
		} else {
			if err := s.execOne(ctx, tx, `UPDATE assets SET size = ?, etag = ?, mod_time = ?, updated_at = ? WHERE id = ? AND account_id = ?`,
				w.Size, w.ETag, msPtr(w.ModTime), ms(now), assetID, accountID); err != nil {
				return fmt.Errorf("recording the new version of asset %d: %w", assetID, err)
			}
		}
		var err error
		if out, err = s.getAsset(ctx, tx, accountID, assetID); err != nil {
			return err
		}
		return s.recordWritten(ctx, tx, out, m, w, now)
	})
	return out, err
}

// recordWritten updates the asset's last read of its file metadata with
// what was written. A file never read keeps no read (at most a row with
// an earlier write's failure, cleared here): the reader reads it whole,
// and finds the asset's values already there.
func (s *Store) recordWritten(ctx context.Context, tx *sql.Tx, a Asset, m MetadataUpdate, w WrittenFile, now time.Time) error {
	prev, err := s.fileFacts(ctx, tx, a.AccountID, a.ID)
	if err != nil {
		return err
	}
	if prev.ReadAt == nil {
		// Only an earlier write's failure may be recorded: it no longer
		// holds.
		if _, err := s.exec(ctx, tx, `UPDATE asset_file_meta SET written_at = ?, write_error = '' WHERE asset_id = ? AND account_id = ?`,
			ms(now), a.ID, a.AccountID); err != nil {
			return fmt.Errorf("recording the write-back of asset %d: %w", a.ID, err)
		}
		return nil
	}
	fm := prev.FileMeta
	if m.Title != nil {
		fm.Title = &a.Title
	}
	if m.Description != nil {
		fm.Description = &a.Description
	}
	if m.Tags != nil {
		fm.Tags = a.Tags
	}
	if m.Rating != nil {
		fm.Rating = &a.Rating
	}
	if w.Sidecar {
		fm.SidecarPath = a.Path[:len(a.Path)-len(a.Name)] + w.Name
	}
	if err := s.putFileMeta(ctx, tx, a, fm, *prev.ReadAt); err != nil {
		return err
	}
	return s.execOne(ctx, tx, `UPDATE asset_file_meta SET written_at = ?, write_error = '' WHERE asset_id = ?`, ms(now), a.ID)
}

// SetMetadataWriteError records why a team edit could not be written into
// the asset's file (the edit itself is kept in the catalog).
func (s *Store) SetMetadataWriteError(ctx context.Context, accountID, assetID int64, reason string, now time.Time) error {
	return s.InTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE asset_file_meta SET write_error = ? WHERE asset_id = ? AND account_id = ?`, reason, assetID, accountID)
		if err != nil {
			return fmt.Errorf("recording the write-back failure of asset %d: %w", assetID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		// Never read yet: a row whose fingerprint matches no version (and
		// read_at 0: never read), so the reader still reads the file.
		a, err := s.getAsset(ctx, tx, accountID, assetID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = s.exec(ctx, tx, `INSERT INTO asset_file_meta (asset_id, account_id, etag, size, read_at, write_error) VALUES (?, ?, '', -1, 0, ?)`,
			a.ID, accountID, reason)
		if err != nil {
			return fmt.Errorf("recording the write-back failure of asset %d: %w", assetID, err)
		}
		return nil
	})
}
