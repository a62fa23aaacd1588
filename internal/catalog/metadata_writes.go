package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// MetadataWrite is a background write-back of team metadata into many
// files (POST /api/v1/metadata-writes) with its counts.
type MetadataWrite struct {
	ID          int64      `json:"id"`
	AccountID   int64      `json:"-"`
	RequestedBy *int64     `json:"requested_by"`
	State       string     `json:"state"` // queued | running | done
	Total       int64      `json:"total"`
	Written     int64      `json:"written"`
	Failed      int64      `json:"failed"`
	CreatedAt   time.Time  `json:"created_at"`
	FinishedAt  *time.Time `json:"finished_at"`
}

// MetadataWriteItem is one file of a MetadataWrite and its result.
type MetadataWriteItem struct {
	AssetID  int64  `json:"asset_id"`
	Path     string `json:"path"`
	State    string `json:"state"` // pending | written | failed
	Error    string `json:"error"`
	Attempts int    `json:"attempts"`
}

const metadataWriteColumns = `id, account_id, requested_by, state, total, written, failed, created_at, finished_at`

func scanMetadataWrite(row interface{ Scan(...any) error }) (MetadataWrite, error) {
	var (
		w         MetadataWrite
		by, ended sql.NullInt64
		created   int64
	)
	if err := row.Scan(&w.ID, &w.AccountID, &by, &w.State, &w.Total, &w.Written, &w.Failed, &created, &ended); err != nil {
		return MetadataWrite{}, mapErr(err)
	}
	w.RequestedBy = nullInt64Ptr(by)
	w.CreatedAt = fromMS(created)
	w.FinishedAt = fromNullMS(ended)
	return w, nil
}

// CreateMetadataWrite records a write-back of the given assets (those of
// the account that are live; others are left out) and lets enqueue insert
// its job in the same transaction. It fails with ErrNotFound when none of
// the ids is a live asset of the account.
func (s *Store) CreateMetadataWrite(ctx context.Context, accountID int64, userID *int64, assetIDs []int64, now time.Time,
	enqueue func(ctx context.Context, t *QueueTx, w MetadataWrite) error) (MetadataWrite, error) {
	var out MetadataWrite
	err := s.InQueueTx(ctx, func(t *QueueTx) error {
		tx := t.tx
		var id int64
		if err := s.queryRow(ctx, tx, `INSERT INTO metadata_writes (account_id, requested_by, state, total, created_at) VALUES (?, ?, 'queued', 0, ?) RETURNING id`,
			accountID, int64PtrArg(userID), ms(now)).Scan(&id); err != nil {
			return fmt.Errorf("recording a metadata write: %w", mapErr(err))
		}
		var total int64
		for _, a := range assetIDs {
			res, err := s.exec(ctx, tx, `INSERT INTO metadata_write_items (write_id, asset_id, state, updated_at)
SELECT ?, id, 'pending', ? FROM assets WHERE id = ? AND account_id = ? AND removed_at IS NULL
ON CONFLICT (write_id, asset_id) DO NOTHING`, id, ms(now), a, accountID)
			if err != nil {
				return fmt.Errorf("recording the files of a metadata write: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		if total == 0 {
			return fmt.Errorf("%w: none of the assets is in this library", ErrNotFound)
		}
		if _, err := s.exec(ctx, tx, `UPDATE metadata_writes SET total = ? WHERE id = ?`, total, id); err != nil {
			return fmt.Errorf("recording a metadata write: %w", err)
		}
		w, err := scanMetadataWrite(s.queryRow(ctx, tx, `SELECT `+metadataWriteColumns+` FROM metadata_writes WHERE id = ?`, id))
		if err != nil {
			return err
		}
		out = w
		return enqueue(ctx, t, w)
	})
	return out, err
}

// GetMetadataWrite returns a write of the account.
func (s *Store) GetMetadataWrite(ctx context.Context, accountID, id int64) (MetadataWrite, error) {
	return scanMetadataWrite(s.queryRow(ctx, s.db, `SELECT `+metadataWriteColumns+` FROM metadata_writes WHERE id = ? AND account_id = ?`, id, accountID))
}

// ListMetadataWrites returns the account's latest writes, newest first.
func (s *Store) ListMetadataWrites(ctx context.Context, accountID int64, limit int) ([]MetadataWrite, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+metadataWriteColumns+` FROM metadata_writes WHERE account_id = ? ORDER BY id DESC LIMIT ?`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing metadata writes: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := []MetadataWrite{}
	for rows.Next() {
		w, err := scanMetadataWrite(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// ListMetadataWriteItems returns a write's files in asset order after
// afterAsset; state "" means every state.
func (s *Store) ListMetadataWriteItems(ctx context.Context, accountID, writeID int64, state string, afterAsset int64, limit int) ([]MetadataWriteItem, error) {
	rows, err := s.query(ctx, s.db, `SELECT i.asset_id, a.path, i.state, i.error, i.attempts
FROM metadata_write_items i JOIN metadata_writes w ON w.id = i.write_id JOIN assets a ON a.id = i.asset_id
WHERE i.write_id = ? AND w.account_id = ? AND (? = '' OR i.state = ?) AND i.asset_id > ?
ORDER BY i.asset_id LIMIT ?`, writeID, accountID, state, state, afterAsset, limit)
	if err != nil {
		return nil, fmt.Errorf("listing the files of metadata write %d: %w", writeID, err)
	}
	defer func() { _ = rows.Close() }()
	out := []MetadataWriteItem{}
	for rows.Next() {
		var it MetadataWriteItem
		if err := rows.Scan(&it.AssetID, &it.Path, &it.State, &it.Error, &it.Attempts); err != nil {
			return nil, fmt.Errorf("reading a file of metadata write %d: %w", writeID, err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// SetMetadataWriteItem records one file's result ("pending" with a
// temporary error counts an attempt) and keeps the write's counts and
// state in step: the counts move by this file's change alone (no
// recount of the write's files, which may be thousands).
func (s *Store) SetMetadataWriteItem(ctx context.Context, writeID, assetID int64, state, reason string, now time.Time) error {
	return s.InTx(ctx, func(tx *sql.Tx) error {
		var old string
		err := s.queryRow(ctx, tx, `SELECT state FROM metadata_write_items WHERE write_id = ? AND asset_id = ?`, writeID, assetID).Scan(&old)
		if err != nil {
			return fmt.Errorf("reading a file of metadata write %d: %w", writeID, mapErr(err))
		}
		attempt := 0
		if state == "pending" {
			attempt = 1
		}
		// Conditional on the state read: a concurrent change of this
		// file would make the counts move twice.
		if err := s.execOne(ctx, tx, `UPDATE metadata_write_items SET state = ?, error = ?, attempts = attempts + ?, updated_at = ? WHERE write_id = ? AND asset_id = ? AND state = ?`,
			state, reason, attempt, ms(now), writeID, assetID, old); err != nil {
			return fmt.Errorf("recording a file of metadata write %d (changed meanwhile; try again): %w", writeID, err)
		}
		delta := func(which string) int {
			return b2i(state == which) - b2i(old == which)
		}
		_, err = s.exec(ctx, tx, `UPDATE metadata_writes SET state = 'running', written = written + ?, failed = failed + ? WHERE id = ?`,
			delta("written"), delta("failed"), writeID)
		if err != nil {
			return fmt.Errorf("counting metadata write %d: %w", writeID, err)
		}
		return nil
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// FinishMetadataWrite marks a write done when none of its files is
// pending any more, and reports whether it is.
func (s *Store) FinishMetadataWrite(ctx context.Context, writeID int64, now time.Time) (bool, error) {
	res, err := s.exec(ctx, s.db, `UPDATE metadata_writes SET state = 'done', finished_at = ?
WHERE id = ? AND state <> 'done' AND NOT EXISTS (SELECT 1 FROM metadata_write_items WHERE write_id = ? AND state = 'pending')`, ms(now), writeID, writeID)
	if err != nil {
		return false, fmt.Errorf("finishing metadata write %d: %w", writeID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
