package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrIntentExpired: a library write took longer than its write intent's
// time to live, so a sync may have run meanwhile; the storage holds the
// change and the next sync brings it into the catalog.
var ErrIntentExpired = errors.New("the write took too long and its reservation expired; the next sync will pick the change up")

// How a library write-through uses the store (write intents keep a sync from
// scanning while a write is half done; the lease keeps writes out while a
// sync runs; an intent's claimed paths keep other writes of those paths
// out, in every process):
//
//	claim := catalog.PathClaim{Paths: []string{"docs/a.txt"}}
//	id, err := store.BeginWriteIntentOn(ctx, acct, user, "upload", claim, now, ttl) // *LockedError: 423, *PathBusyError: 409
//	defer store.EndWriteIntent(ctx, acct, id)                                     // no-op once applied
//	... check the path is free, write to storage ...
//	asset, err := store.PutUploadedAsset(ctx, acct, id, a, now)                   // re-checks the intent, ends it
//
// A sync that takes the lease while the write is in flight waits for the
// intent to end (CountOpenWriteIntents) before it scans, so the write lands
// first and nothing is lost. Metadata edits touch no storage and call
// UpdateAssetMetadata directly: they only check the lease.

// BeginWriteIntent records a library write about to change the storage.
// It returns *LockedError while a sync holds an unexpired lease. The intent
// lasts until now+ttl unless ended earlier. It claims no paths; library
// writes use BeginWriteIntentOn.
func (s *Store) BeginWriteIntent(ctx context.Context, accountID, userID int64, op string, now time.Time, ttl time.Duration) (int64, error) {
	return s.BeginWriteIntentOn(ctx, accountID, userID, op, PathClaim{}, now, ttl)
}

// EndWriteIntent drops a write intent (the write failed or is done). Ending
// an intent that is already gone is not an error.
func (s *Store) EndWriteIntent(ctx context.Context, accountID, intentID int64) error {
	if _, err := s.exec(ctx, s.db, `DELETE FROM write_intents WHERE id = ? AND account_id = ?`, intentID, accountID); err != nil {
		return fmt.Errorf("ending write intent: %w", err)
	}
	return nil
}

// liveWaitLimit bounds how long a library write waits for a live batch to
// release the library (a batch holds it for its own transaction: usually
// milliseconds).
const liveWaitLimit = 10 * time.Second

// waitLive runs try and, while it fails because a live batch holds the
// library, runs it again a moment later (now moved on by the time waited),
// for up to liveWaitLimit: user writes wait for a live batch instead of
// being turned away with 423.
func waitLive(ctx context.Context, now time.Time, try func(now time.Time) error) error {
	start := time.Now()
	delay := 10 * time.Millisecond
	for {
		err := try(now.Add(time.Since(start)))
		var locked *LockedError
		if !errors.As(err, &locked) || !locked.Live || time.Since(start) >= liveWaitLimit {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}

// checkUnlocked returns *LockedError when a sync holds an unexpired lease.
func (s *Store) checkUnlocked(ctx context.Context, q querier, accountID int64, now time.Time) error {
	l, err := s.currentLease(ctx, q, accountID, now)
	switch {
	case err == nil:
		return &LockedError{RunID: l.RunID, Live: l.Live()}
	case errors.Is(err, ErrNotFound):
		return nil
	default:
		return fmt.Errorf("checking the library lock: %w", err)
	}
}

// libraryWrite runs fn in a transaction that re-checks the lock first.
// A write holding a live intent (intentID, unexpired at now) goes ahead even
// if a sync took the lease after the intent began: that sync is waiting for
// the intent to end before it scans, and the intent ends in this same
// transaction, so the sync sees the write either wholly done or not begun.
// Without an intent (intentID 0: metadata edits) or with one that expired,
// a lease refuses the write with *LockedError; an expired intent without a
// lease gives ErrIntentExpired.
func (s *Store) libraryWrite(ctx context.Context, accountID, intentID int64, now time.Time, fn func(tx *sql.Tx) error) error {
	return waitLive(ctx, now, func(now time.Time) error { return s.libraryWriteOnce(ctx, accountID, intentID, now, fn) })
}

func (s *Store) libraryWriteOnce(ctx context.Context, accountID, intentID int64, now time.Time, fn func(tx *sql.Tx) error) error {
	return s.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockAccount(ctx, tx, accountID); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `UPDATE accounts SET library_version = library_version + 1 WHERE id = ?`, accountID); err != nil {
			return fmt.Errorf("counting the library write: %w", err)
		}
		live := 0
		if intentID != 0 {
			if err := s.queryRow(ctx, tx, `SELECT COUNT(*) FROM write_intents WHERE id = ? AND account_id = ? AND expires_at > ?`,
				intentID, accountID, ms(now)).Scan(&live); err != nil {
				return fmt.Errorf("checking write intent: %w", mapErr(err))
			}
		}
		if live == 0 {
			if err := s.checkUnlocked(ctx, tx, accountID, now); err != nil {
				return err
			}
			if intentID != 0 {
				return ErrIntentExpired
			}
		}
		if err := fn(tx); err != nil {
			return err
		}
		if intentID != 0 {
			if _, err := s.exec(ctx, tx, `DELETE FROM write_intents WHERE id = ?`, intentID); err != nil {
				return fmt.Errorf("ending write intent: %w", err)
			}
		}
		return nil
	})
}

// MetadataUpdate changes an asset's team metadata; nil fields stay.
type MetadataUpdate struct {
	Title       *string
	Description *string
	Tags        *[]string // replaced as a whole, normalised (trimmed, lower-cased, deduplicated)
	Rating      *int      // 0 to 5
	Custom      map[string]string
	// AddTags and RemoveTags change the asset's tags as they are when the
	// change is written (after Tags), so concurrent edits are not lost;
	// normalised like Tags. Removing wins over adding the same tag.
	AddTags    []string
	RemoveTags []string
	// MaxTags, when above 0, refuses (*TooManyTagsError) a change that
	// leaves the asset with more tags.
	MaxTags int
}

// TooManyTagsError refuses a metadata change that would leave an asset
// with more than Max tags.
type TooManyTagsError struct {
	Count, Max int
}

func (e *TooManyTagsError) Error() string {
	return fmt.Sprintf("the asset would have %d tags; the limit is %d", e.Count, e.Max)
}

// Retagged is tags with remove taken out and add put in at the end, all
// normalised.
func Retagged(tags, add, remove []string) []string {
	drop := map[string]bool{}
	for _, t := range normalizeTags(remove) {
		drop[t] = true
	}
	var out []string
	for _, t := range normalizeTags(append(append([]string{}, tags...), add...)) {
		if !drop[t] {
			out = append(out, t)
		}
	}
	return normalizeTags(out)
}

// UpdateAssetMetadata edits an asset's team metadata. It writes nothing to
// the storage, so it only checks the lock: *LockedError while a sync runs.
func (s *Store) UpdateAssetMetadata(ctx context.Context, accountID, assetID int64, m MetadataUpdate, now time.Time) (Asset, error) {
	if m.Rating != nil && (*m.Rating < 0 || *m.Rating > 5) {
		return Asset{}, fmt.Errorf("rating %d is out of range; give 0 to 5", *m.Rating)
	}
	var out Asset
	err := s.libraryWrite(ctx, accountID, 0, now, func(tx *sql.Tx) (err error) {
		out, err = s.updateMetadata(ctx, tx, accountID, assetID, m, now)
		return err
	})
	return out, err
}

// updateMetadata is UpdateAssetMetadata inside the write's transaction.
func (s *Store) updateMetadata(ctx context.Context, tx *sql.Tx, accountID, assetID int64, m MetadataUpdate, now time.Time) (Asset, error) {
	a, err := s.getAsset(ctx, tx, accountID, assetID)
	if err != nil {
		return Asset{}, err
	}
	if m.Title != nil {
		a.Title = strings.TrimSpace(*m.Title)
	}
	if m.Description != nil {
		a.Description = *m.Description
	}
	if m.Rating != nil {
		a.Rating = *m.Rating
	}
	if m.Custom != nil {
		a.Custom = m.Custom
	}
	if m.Tags != nil || len(m.AddTags)+len(m.RemoveTags) > 0 {
		if m.Tags != nil {
			a.Tags = *m.Tags
		}
		a.Tags = Retagged(a.Tags, m.AddTags, m.RemoveTags)
		if m.MaxTags > 0 && len(a.Tags) > m.MaxTags {
			return Asset{}, &TooManyTagsError{Count: len(a.Tags), Max: m.MaxTags}
		}
		if err := s.setAssetTags(ctx, tx, accountID, a.ID, a.Tags); err != nil {
			return Asset{}, err
		}
	}
	if err := s.markShelfEdits(ctx, tx, accountID, a.ID, m, now); err != nil {
		return Asset{}, err
	}
	tags, err := encodeJSON(a.Tags)
	if err != nil {
		return Asset{}, err
	}
	custom, err := encodeJSON(a.Custom)
	if err != nil {
		return Asset{}, err
	}
	if err := s.execOne(ctx, tx, `UPDATE assets SET title = ?, description = ?, tags = ?, rating = ?, custom = ?, updated_at = ?
WHERE id = ? AND account_id = ?`, a.Title, a.Description, tags, a.Rating, custom, ms(now), a.ID, accountID); err != nil {
		return Asset{}, fmt.Errorf("saving asset metadata: %w", err)
	}
	return s.getAsset(ctx, tx, accountID, assetID)
}

// placePath is the path of name inside the folder (nil: the root), checking
// that the folder belongs to the account.
func (s *Store) placePath(ctx context.Context, tx *sql.Tx, accountID int64, folderID *int64, name string) (string, error) {
	if name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("invalid name %q: a name is not empty and has no slash", name)
	}
	if folderID == nil {
		return name, nil
	}
	f, err := s.getFolder(ctx, tx, accountID, *folderID)
	if err != nil {
		return "", fmt.Errorf("destination folder: %w", err)
	}
	return f.Path + "/" + name, nil
}

// purgeTombstoneAt deletes a tombstone holding storageID so a live row can
// take that identity.
func (s *Store) purgeTombstoneAt(ctx context.Context, tx *sql.Tx, accountID int64, storageID string) error {
	if _, err := s.exec(ctx, tx, `DELETE FROM assets WHERE account_id = ? AND storage_id = ? AND removed_at IS NOT NULL`, accountID, storageID); err != nil {
		return fmt.Errorf("clearing an old removed asset: %w", err)
	}
	return nil
}

// PutUploadedAsset records a file just written to the storage: a.FolderID
// (nil: the root), StorageID, Name and the file facts (Size, ETag, ModTime,
// MIME). The path is derived from the folder. An existing live asset with
// that storage identity is updated (team metadata kept, preview redone); a
// tombstone with the same content is brought back with its metadata; any
// other tombstone there is replaced. Lease and intent are re-checked.
func (s *Store) PutUploadedAsset(ctx context.Context, accountID, intentID int64, a Asset, now time.Time) (Asset, error) {
	var out Asset
	err := s.libraryWrite(ctx, accountID, intentID, now, func(tx *sql.Tx) (err error) {
		out, err = s.putUploaded(ctx, tx, accountID, a, now)
		return err
	})
	return out, err
}

// putUploaded is PutUploadedAsset inside the write's transaction.
func (s *Store) putUploaded(ctx context.Context, tx *sql.Tx, accountID int64, a Asset, now time.Time) (Asset, error) {
	path, err := s.placePath(ctx, tx, accountID, a.FolderID, a.Name)
	if err != nil {
		return Asset{}, err
	}
	if a.StorageID == "" {
		return Asset{}, fmt.Errorf("an uploaded asset needs its storage identity")
	}
	var (
		id       int64
		etag     string
		size     int64
		removed  sql.NullInt64
		existing = true
	)
	err = s.queryRow(ctx, tx, `SELECT id, etag, size, removed_at FROM assets WHERE account_id = ? AND storage_id = ?`,
		accountID, a.StorageID).Scan(&id, &etag, &size, &removed)
	switch {
	case errors.Is(mapErr(err), ErrNotFound):
		existing = false
	case err != nil:
		return Asset{}, fmt.Errorf("looking up asset %q: %w", a.StorageID, mapErr(err))
	case removed.Valid && (etag != a.ETag || size != a.Size):
		if err := s.purgeTombstoneAt(ctx, tx, accountID, a.StorageID); err != nil {
			return Asset{}, err
		}
		existing = false
	}
	if existing {
		err = s.execOne(ctx, tx, `UPDATE assets SET folder_id = ?, name = ?, path = ?, size = ?, etag = ?, mod_time = ?, mime = ?, native = ?,
    preview_state = 'pending', preview_error = '', removed_at = NULL, updated_at = ?
WHERE id = ?`, int64PtrArg(a.FolderID), a.Name, path, a.Size, a.ETag, msPtr(a.ModTime), a.MIME, a.Native, ms(now), id)
	} else {
		err = s.queryRow(ctx, tx, `INSERT INTO assets (account_id, folder_id, storage_id, name, path, size, etag, mod_time, mime, native, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, accountID, int64PtrArg(a.FolderID), a.StorageID, a.Name, path,
			a.Size, a.ETag, msPtr(a.ModTime), a.MIME, a.Native, ms(now), ms(now)).Scan(&id)
	}
	if err != nil {
		return Asset{}, fmt.Errorf("saving uploaded asset %q: %w", path, mapErr(err))
	}
	return s.getAsset(ctx, tx, accountID, id)
}

// MoveAsset renames and/or moves an asset to folderID (nil: the root) under
// name; storageID is its new storage identity ("" keeps it: Drive IDs
// survive moves, S3 keys and local paths do not). Another live asset with
// that identity gives ErrConflict.
func (s *Store) MoveAsset(ctx context.Context, accountID, intentID, assetID int64, folderID *int64, name, storageID string, now time.Time) (Asset, error) {
	var out Asset
	err := s.libraryWrite(ctx, accountID, intentID, now, func(tx *sql.Tx) error {
		a, err := s.getAsset(ctx, tx, accountID, assetID)
		if err != nil {
			return err
		}
		path, err := s.placePath(ctx, tx, accountID, folderID, name)
		if err != nil {
			return err
		}
		if storageID == "" {
			storageID = a.StorageID
		}
		if storageID != a.StorageID {
			if err := s.purgeTombstoneAt(ctx, tx, accountID, storageID); err != nil {
				return err
			}
		}
		if err := s.execOne(ctx, tx, `UPDATE assets SET folder_id = ?, name = ?, path = ?, storage_id = ?, updated_at = ? WHERE id = ?`,
			int64PtrArg(folderID), name, path, storageID, ms(now), a.ID); err != nil {
			return fmt.Errorf("moving asset to %q: %w", path, err)
		}
		out, err = s.getAsset(ctx, tx, accountID, a.ID)
		return err
	})
	return out, err
}

// DeleteAsset removes an asset from the library, keeping it as a tombstone
// (its metadata is relinked if the file comes back).
func (s *Store) DeleteAsset(ctx context.Context, accountID, intentID, assetID int64, now time.Time) error {
	return s.libraryWrite(ctx, accountID, intentID, now, func(tx *sql.Tx) error {
		return s.execOne(ctx, tx, `UPDATE assets SET removed_at = ?, updated_at = ? WHERE id = ? AND account_id = ? AND removed_at IS NULL`,
			ms(now), ms(now), assetID, accountID)
	})
}

// CreateFolder records a folder just made in the storage, in parentID
// (nil: the root).
func (s *Store) CreateFolder(ctx context.Context, accountID, intentID int64, parentID *int64, name, storageID string, now time.Time) (Folder, error) {
	var out Folder
	err := s.libraryWrite(ctx, accountID, intentID, now, func(tx *sql.Tx) error {
		path, err := s.placePath(ctx, tx, accountID, parentID, name)
		if err != nil {
			return err
		}
		if storageID == "" {
			return fmt.Errorf("a new folder needs its storage identity")
		}
		out, err = scanFolder(s.queryRow(ctx, tx, `INSERT INTO folders (account_id, parent_id, storage_id, name, path, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+folderColumns, accountID, int64PtrArg(parentID), storageID, name, path, ms(now), ms(now)))
		if err != nil {
			return fmt.Errorf("creating folder %q: %w", path, err)
		}
		return nil
	})
	return out, err
}

// MoveFolder renames and/or moves a folder to parentID (nil: the root)
// under name, with storageID its new identity ("" keeps it). The paths of
// every folder and live asset under it follow; descendants whose storage
// identity is their path (S3, local) get the new one too. Moving a folder
// into itself or its own subtree is refused, and so is taking the path of
// a folder around it.
//
// A subtree of up to a batch of rows (FolderMoveTuning.BatchRows, 2,000 by
// default) is rewritten in the move's own transaction. A bigger one is
// rewritten after it, in batches that each hold the account only for
// themselves, so the account's other writes go ahead between batches; the
// move returns when the last batch is done. Meanwhile the move's old and
// new trees stay claimed (a write under either gets *PathBusyError) and a
// sync waits for it as for any write in flight. Readers see the folder in
// its new place at once and browsing by folder stays right throughout, but
// until the last batch some rows under it still carry the old path: a
// look-up by path or path-shaped storage ID (GetAssetByStorageID,
// GetFolderByPath) may miss them, search shows their old paths, and a
// recursive listing or count of the moved folder (which ranges over its
// path) shows only the rows already rewritten.
//
// If the rewrite stops part-way (the process dies, the database fails),
// nothing is lost: the rest is recorded in folder_moves and, once the
// rewrite's process has not renewed it for a while, finished by the next
// library write or sync of the account, before that sync looks at the
// catalog. MoveFolder then returns an error wrapping ErrMoveUnfinished.
func (s *Store) MoveFolder(ctx context.Context, accountID, intentID, folderID int64, parentID *int64, name, storageID string, now time.Time) (Folder, error) {
	var (
		out     Folder
		mv      folderMove
		batched bool
	)
	err := s.libraryWrite(ctx, accountID, intentID, now, func(tx *sql.Tx) error {
		batched = false
		f, err := s.getFolder(ctx, tx, accountID, folderID)
		if err != nil {
			return err
		}
		if parentID != nil {
			var inside int
			if err := s.queryRow(ctx, tx, folderSubtreeSQL+`SELECT COUNT(*) FROM tree WHERE id = ?`, folderID, accountID, accountID, *parentID).Scan(&inside); err != nil {
				return fmt.Errorf("checking the destination folder: %w", mapErr(err))
			}
			if inside > 0 {
				return fmt.Errorf("cannot move folder %q into itself or a folder inside it", f.Path)
			}
		}
		newPath, err := s.placePath(ctx, tx, accountID, parentID, name)
		if err != nil {
			return err
		}
		if strings.HasPrefix(f.Path, newPath+"/") {
			return fmt.Errorf("cannot move folder %q to %q, the path of a folder around it: %w", f.Path, newPath, ErrConflict)
		}
		// Another move still rewriting paths under either place would
		// race this one's rewrite (library writes are refused by their
		// claims before this).
		moves, _, err := s.pendingMoves(ctx, tx, accountID, now)
		if err != nil {
			return err
		}
		for _, m := range moves {
			for _, p := range []string{f.Path, newPath} {
				if overlaps(m, claimedPath{path: p, tree: true}) {
					return &PathBusyError{Path: m.path, Op: m.op}
				}
			}
		}
		if storageID == "" {
			storageID = f.StorageID
		}
		if err := s.execOne(ctx, tx, `UPDATE folders SET parent_id = ?, name = ?, path = ?, storage_id = ?, updated_at = ? WHERE id = ?`,
			int64PtrArg(parentID), name, newPath, storageID, ms(now), f.ID); err != nil {
			return fmt.Errorf("moving folder to %q: %w", newPath, err)
		}
		if newPath != f.Path {
			big, err := s.subtreeLarger(ctx, tx, accountID, f.ID, s.moveBatchRows())
			switch {
			case err != nil:
				return err
			case big:
				mv, err = s.startFolderMove(ctx, tx, accountID, f.ID, f.Path, newPath, now)
				if err != nil {
					return err
				}
				batched = true
			default:
				if err := s.rewriteSubtree(ctx, tx, accountID, f.ID, f.Path, newPath, now); err != nil {
					return err
				}
			}
		}
		out, err = s.getFolder(ctx, tx, accountID, f.ID)
		return err
	})
	if err != nil || !batched {
		return out, err
	}
	if err := s.runFolderMove(ctx, mv, now); err != nil {
		return Folder{}, fmt.Errorf("%w (%q to %q): %w", ErrMoveUnfinished, mv.oldPath, mv.newPath, err)
	}
	return out, nil
}

// rewriteSubtree replaces the oldPath prefix by newPath in the paths (and
// path-shaped storage identities) of everything under folder id.
func (s *Store) rewriteSubtree(ctx context.Context, tx *sql.Tx, accountID, id int64, oldPath, newPath string, now time.Time) error {
	cut := utf8.RuneCountInString(oldPath) + 1 // SQL substr counts characters from 1
	tree := []any{id, accountID, accountID}
	// Tombstones sitting on the identities the moved assets take are dropped.
	if _, err := s.exec(ctx, tx, folderSubtreeSQL+`DELETE FROM assets WHERE account_id = ? AND removed_at IS NOT NULL AND storage_id IN (
    SELECT ? || substr(a.storage_id, ?) FROM assets a
    WHERE a.account_id = ? AND a.removed_at IS NULL AND a.storage_id = a.path AND a.folder_id IN (SELECT id FROM tree))`,
		append(tree, accountID, newPath, cut, accountID)...); err != nil {
		return fmt.Errorf("clearing removed assets in the way of the move: %w", err)
	}
	if _, err := s.exec(ctx, tx, folderSubtreeSQL+`UPDATE folders SET
    storage_id = CASE WHEN storage_id = path THEN ? || substr(path, ?) ELSE storage_id END,
    path = ? || substr(path, ?), updated_at = ?
WHERE account_id = ? AND id <> ? AND id IN (SELECT id FROM tree)`,
		append(tree, newPath, cut, newPath, cut, ms(now), accountID, id)...); err != nil {
		return fmt.Errorf("rewriting folder paths under %q: %w", newPath, err)
	}
	if _, err := s.exec(ctx, tx, folderSubtreeSQL+`UPDATE assets SET
    storage_id = CASE WHEN storage_id = path THEN ? || substr(path, ?) ELSE storage_id END,
    path = ? || substr(path, ?), updated_at = ?
WHERE account_id = ? AND removed_at IS NULL AND folder_id IN (SELECT id FROM tree)`,
		append(tree, newPath, cut, newPath, cut, ms(now), accountID)...); err != nil {
		return fmt.Errorf("rewriting asset paths under %q: %w", newPath, err)
	}
	return nil
}

// DeleteFolder removes a folder and its subtree from the library: the
// folders go, the live assets in them become tombstones. It returns how many
// assets were removed.
func (s *Store) DeleteFolder(ctx context.Context, accountID, intentID, folderID int64, now time.Time) (int64, error) {
	var removed int64
	err := s.libraryWrite(ctx, accountID, intentID, now, func(tx *sql.Tx) error {
		if _, err := s.getFolder(ctx, tx, accountID, folderID); err != nil {
			return err
		}
		res, err := s.exec(ctx, tx, folderSubtreeSQL+`UPDATE assets SET removed_at = ?, updated_at = ?
WHERE account_id = ? AND removed_at IS NULL AND folder_id IN (SELECT id FROM tree)`,
			folderID, accountID, accountID, ms(now), ms(now), accountID)
		if err != nil {
			return fmt.Errorf("removing the assets of the folder: %w", err)
		}
		removed, _ = res.RowsAffected()
		// Child folders go by ON DELETE CASCADE on parent_id.
		return s.execOne(ctx, tx, `DELETE FROM folders WHERE id = ? AND account_id = ?`, folderID, accountID)
	})
	return removed, err
}
