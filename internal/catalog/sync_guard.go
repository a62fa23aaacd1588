package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SyncRecentRemovals counts the account's assets removed (tombstoned) since
// windowStart, or since the last confirmation of removals when that is
// later: what the mass-removal guard adds to a run's own removals, so that
// a library is not emptied by several runs each under the limit.
func (s *Store) SyncRecentRemovals(ctx context.Context, accountID int64, windowStart time.Time) (int64, error) {
	var confirmed sql.NullInt64
	err := s.queryRow(ctx, s.db, `SELECT removals_confirmed_at FROM storage_connections WHERE account_id = ?`, accountID).Scan(&confirmed)
	if err != nil && mapErr(err) != ErrNotFound {
		return 0, fmt.Errorf("reading the last confirmed removal: %w", mapErr(err))
	}
	since := ms(windowStart)
	if confirmed.Valid && confirmed.Int64 > since {
		since = confirmed.Int64
	}
	var n int64
	if err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM assets WHERE account_id = ? AND removed_at IS NOT NULL AND removed_at > ?`,
		accountID, since).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting recent removals: %w", mapErr(err))
	}
	return n, nil
}

// SyncConfirmedRemovals records that an admin-confirmed sync applied its
// removals at: the guard's count of recent removals starts afresh.
func (s *Store) SyncConfirmedRemovals(ctx context.Context, accountID int64, at time.Time) error {
	if _, err := s.exec(ctx, s.db, `UPDATE storage_connections SET removals_confirmed_at = ? WHERE account_id = ?`, ms(at), accountID); err != nil {
		return fmt.Errorf("recording the confirmed removals: %w", err)
	}
	return nil
}
