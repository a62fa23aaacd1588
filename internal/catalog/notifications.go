package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CreateNotification stores a message for one user (UserID set) or for
// every user of the account (UserID nil), with Kind, Message, Data (JSON,
// empty means {}) and CreatedAt.
func (s *Store) CreateNotification(ctx context.Context, n Notification) (Notification, error) {
	return s.createNotification(ctx, s.db, n)
}

// CreateNotificationTx is CreateNotification inside the caller's
// transaction (with the run result it announces).
func (s *Store) CreateNotificationTx(ctx context.Context, tx *sql.Tx, n Notification) (Notification, error) {
	return s.createNotification(ctx, tx, n)
}

func (s *Store) createNotification(ctx context.Context, q querier, n Notification) (Notification, error) {
	if n.UserID != nil {
		var ok int
		if err := s.queryRow(ctx, q, `SELECT COUNT(*) FROM users WHERE id = ? AND account_id = ?`, *n.UserID, n.AccountID).Scan(&ok); err != nil {
			return Notification{}, fmt.Errorf("checking the notified user: %w", mapErr(err))
		}
		if ok == 0 {
			return Notification{}, fmt.Errorf("notifying user %d of account %d: %w", *n.UserID, n.AccountID, ErrNotFound)
		}
	}
	data := string(n.Data)
	if data == "" {
		data = "{}"
	}
	err := s.queryRow(ctx, q, `INSERT INTO notifications (account_id, user_id, kind, message, data, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		n.AccountID, int64PtrArg(n.UserID), n.Kind, n.Message, data, ms(n.CreatedAt)).Scan(&n.ID)
	if err != nil {
		return Notification{}, fmt.Errorf("creating notification: %w", mapErr(err))
	}
	n.Data = []byte(data)
	n.CreatedAt = fromMS(ms(n.CreatedAt))
	n.ReadAt = nil
	return n, nil
}

// notificationForUser selects the user's view of the account's
// notifications: their own and the account-wide ones, with the user's read
// time. Arguments: user id (for the read marks), account id, user id.
const notificationForUser = `SELECT n.id, n.account_id, n.user_id, n.kind, n.message, n.data, n.created_at,
    CASE WHEN n.user_id IS NULL THEN r.read_at ELSE n.read_at END AS read_at
FROM notifications n LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.user_id = ?
WHERE n.account_id = ? AND (n.user_id IS NULL OR n.user_id = ?)`

// ListNotifications returns what the user of the account sees, newest
// first: their own notifications and the account-wide ones, each with the
// user's read time. beforeID > 0 continues below that id; unreadOnly keeps
// the unread ones.
func (s *Store) ListNotifications(ctx context.Context, accountID, userID int64, unreadOnly bool, beforeID int64, limit int) ([]Notification, error) {
	if limit <= 0 {
		limit = 50
	}
	query := `SELECT * FROM (` + notificationForUser + `) v WHERE 1 = 1`
	args := []any{userID, accountID, userID}
	if beforeID > 0 {
		query += ` AND v.id < ?`
		args = append(args, beforeID)
	}
	if unreadOnly {
		query += ` AND v.read_at IS NULL`
	}
	query += ` ORDER BY v.id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.query(ctx, s.db, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var (
			n            Notification
			user, readAt sql.NullInt64
			data         string
			createdAtMS  int64
		)
		if err := rows.Scan(&n.ID, &n.AccountID, &user, &n.Kind, &n.Message, &data, &createdAtMS, &readAt); err != nil {
			return nil, fmt.Errorf("reading notification: %w", err)
		}
		n.UserID = nullInt64Ptr(user)
		n.Data = []byte(data)
		n.CreatedAt = fromMS(createdAtMS)
		n.ReadAt = fromNullMS(readAt)
		out = append(out, n)
	}
	return out, mapErr(rows.Err())
}

// CountUnreadNotifications counts what ListNotifications with unreadOnly
// would return.
func (s *Store) CountUnreadNotifications(ctx context.Context, accountID, userID int64) (int64, error) {
	var n int64
	err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM (`+notificationForUser+`) v WHERE v.read_at IS NULL`, userID, accountID, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting unread notifications: %w", mapErr(err))
	}
	return n, nil
}

// MarkNotificationRead marks one notification read for the user: their
// own notification, or their copy of an account-wide one (others still see
// it unread). A notification the user cannot see gives ErrNotFound.
func (s *Store) MarkNotificationRead(ctx context.Context, accountID, userID, notificationID int64, now time.Time) error {
	return s.InTx(ctx, func(tx *sql.Tx) error {
		var owner sql.NullInt64
		err := s.queryRow(ctx, tx, `SELECT user_id FROM notifications WHERE id = ? AND account_id = ? AND (user_id IS NULL OR user_id = ?)`,
			notificationID, accountID, userID).Scan(&owner)
		if err != nil {
			return mapErr(err)
		}
		if owner.Valid {
			_, err = s.exec(ctx, tx, `UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE id = ?`, ms(now), notificationID)
		} else {
			_, err = s.exec(ctx, tx, `INSERT INTO notification_reads (notification_id, user_id, read_at) VALUES (?, ?, ?)
ON CONFLICT (notification_id, user_id) DO NOTHING`, notificationID, userID, ms(now))
		}
		if err != nil {
			return fmt.Errorf("marking notification read: %w", err)
		}
		return nil
	})
}

// MarkAllNotificationsRead marks everything the user sees as read.
func (s *Store) MarkAllNotificationsRead(ctx context.Context, accountID, userID int64, now time.Time) error {
	return s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.exec(ctx, tx, `UPDATE notifications SET read_at = ? WHERE account_id = ? AND user_id = ? AND read_at IS NULL`,
			ms(now), accountID, userID); err != nil {
			return fmt.Errorf("marking notifications read: %w", err)
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO notification_reads (notification_id, user_id, read_at)
SELECT n.id, ?, ? FROM notifications n WHERE n.account_id = ? AND n.user_id IS NULL
ON CONFLICT (notification_id, user_id) DO NOTHING`, userID, ms(now), accountID); err != nil {
			return fmt.Errorf("marking account notifications read: %w", err)
		}
		return nil
	})
}

// PurgeNotifications deletes notifications created before cutoff.
func (s *Store) PurgeNotifications(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.exec(ctx, s.db, `DELETE FROM notifications WHERE created_at < ?`, ms(cutoff))
	if err != nil {
		return 0, fmt.Errorf("purging old notifications: %w", err)
	}
	return res.RowsAffected()
}
