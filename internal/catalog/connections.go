package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const connectionColumns = `account_id, kind, config, secret, root_key, status, status_message, sync_cursor, last_full_scan_at, created_at, updated_at, events_key, last_change_at`

func scanConnection(row interface{ Scan(...any) error }) (Connection, error) {
	var (
		c                Connection
		config           string
		fullScan, change sql.NullInt64
		created, updated int64
	)
	if err := row.Scan(&c.AccountID, &c.Kind, &config, &c.Secret, &c.RootKey, &c.Status, &c.StatusMessage, &c.SyncCursor, &fullScan, &created, &updated, &c.EventsKey, &change); err != nil {
		return Connection{}, mapErr(err)
	}
	c.Config = []byte(config)
	c.LastFullScanAt = fromNullMS(fullScan)
	c.LastChangeAt = fromNullMS(change)
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, nil
}

func checkConnStatus(status string) error {
	switch status {
	case ConnOK, ConnNeedsReconnect, ConnError:
		return nil
	}
	return fmt.Errorf("unknown connection status %q; use ok, needs_reconnect or error", status)
}

// GetConnection returns the account's storage connection, ErrNotFound when
// none is set up.
func (s *Store) GetConnection(ctx context.Context, accountID int64) (Connection, error) {
	return scanConnection(s.queryRow(ctx, s.db, `SELECT `+connectionColumns+` FROM storage_connections WHERE account_id = ?`, accountID))
}

// PutConnection creates or replaces the account's storage connection with
// every field of c (an empty Status means ok, empty Config "{}"). The
// creation time of an existing connection is kept, and so is the size of
// its last listing while the root stays the same.
func (s *Store) PutConnection(ctx context.Context, c Connection, now time.Time) (Connection, error) {
	if c.Status == "" {
		c.Status = ConnOK
	}
	if err := checkConnStatus(c.Status); err != nil {
		return Connection{}, err
	}
	config := string(c.Config)
	if config == "" {
		config = "{}"
	}
	out, err := scanConnection(s.queryRow(ctx, s.db, `INSERT INTO storage_connections (`+connectionColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
ON CONFLICT (account_id) DO UPDATE SET kind = excluded.kind, config = excluded.config, secret = excluded.secret,
    events_key = excluded.events_key, last_change_at = NULL,
    root_key = excluded.root_key, status = excluded.status, status_message = excluded.status_message,
    sync_cursor = excluded.sync_cursor, last_full_scan_at = excluded.last_full_scan_at, updated_at = excluded.updated_at,
    last_listed = CASE WHEN storage_connections.kind = excluded.kind AND storage_connections.root_key = excluded.root_key
        THEN storage_connections.last_listed END
RETURNING `+connectionColumns,
		c.AccountID, c.Kind, config, c.Secret, c.RootKey, c.Status, c.StatusMessage, c.SyncCursor, msPtr(c.LastFullScanAt), ms(now), ms(now), newEventsKey()))
	if err != nil {
		return Connection{}, fmt.Errorf("saving storage connection: %w", err)
	}
	return out, nil
}

// SetConnectionStatus records the connection's health and a message saying
// what to do about it.
func (s *Store) SetConnectionStatus(ctx context.Context, accountID int64, status, message string, now time.Time) error {
	if err := checkConnStatus(status); err != nil {
		return err
	}
	return s.execOne(ctx, s.db, `UPDATE storage_connections SET status = ?, status_message = ?, updated_at = ? WHERE account_id = ?`,
		status, message, ms(now), accountID)
}

// SetSyncCursor saves the storage's change cursor after its changes were
// applied; fullScanAt, when set, records a completed full scan.
func (s *Store) SetSyncCursor(ctx context.Context, accountID int64, cursor string, fullScanAt *time.Time, now time.Time) error {
	return s.setSyncCursor(ctx, s.db, accountID, cursor, fullScanAt, now)
}

// SetSyncCursorTx is SetSyncCursor inside the caller's transaction, so the
// cursor commits together with the changes it covers.
func (s *Store) SetSyncCursorTx(ctx context.Context, tx *sql.Tx, accountID int64, cursor string, fullScanAt *time.Time, now time.Time) error {
	return s.setSyncCursor(ctx, tx, accountID, cursor, fullScanAt, now)
}

func (s *Store) setSyncCursor(ctx context.Context, q querier, accountID int64, cursor string, fullScanAt *time.Time, now time.Time) error {
	return s.execOne(ctx, q, `UPDATE storage_connections SET sync_cursor = ?, last_full_scan_at = COALESCE(?, last_full_scan_at), updated_at = ? WHERE account_id = ?`,
		cursor, msPtr(fullScanAt), ms(now), accountID)
}

// DeleteConnection removes the account's storage connection.
func (s *Store) DeleteConnection(ctx context.Context, accountID int64) error {
	return s.execOne(ctx, s.db, `DELETE FROM storage_connections WHERE account_id = ?`, accountID)
}
