package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// MarkNotificationsRead marks several notifications read for the user, as
// MarkNotificationRead does one, in one transaction: when any of them is
// not the user's to see, it returns ErrNotFound and marks none.
func (s *Store) MarkNotificationsRead(ctx context.Context, accountID, userID int64, ids []int64, now time.Time) error {
	return s.InTx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			var owner sql.NullInt64
			err := s.queryRow(ctx, tx, `SELECT user_id FROM notifications WHERE id = ? AND account_id = ? AND (user_id IS NULL OR user_id = ?)`,
				id, accountID, userID).Scan(&owner)
			if err != nil {
				return mapErr(err)
			}
			if owner.Valid {
				_, err = s.exec(ctx, tx, `UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE id = ?`, ms(now), id)
			} else {
				_, err = s.exec(ctx, tx, `INSERT INTO notification_reads (notification_id, user_id, read_at) VALUES (?, ?, ?)
ON CONFLICT (notification_id, user_id) DO NOTHING`, id, userID, ms(now))
			}
			if err != nil {
				return fmt.Errorf("marking notification %d read: %w", id, err)
			}
		}
		return nil
	})
}
