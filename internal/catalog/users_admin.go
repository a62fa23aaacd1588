package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrLastAdmin: the change would leave the account without an admin.
var ErrLastAdmin = errors.New("an account needs at least one admin; make another user admin first")

// SetRoleKeepingAdmin is SetRole refusing (ErrLastAdmin) to demote the
// account's last admin. The check and the change are one transaction that
// holds the account, so two admins demoting each other at once cannot
// both succeed.
func (s *Store) SetRoleKeepingAdmin(ctx context.Context, accountID, userID int64, role string, now time.Time) error {
	if err := checkRole(role); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *sql.Tx) error {
		if role != RoleAdmin {
			if err := s.checkAnotherAdmin(ctx, tx, accountID, userID); err != nil {
				return err
			}
		}
		return s.execOne(ctx, tx, `UPDATE users SET role = ?, updated_at = ? WHERE id = ? AND account_id = ?`, role, ms(now), userID, accountID)
	})
}

// DeleteUserKeepingAdmin is DeleteUser refusing (ErrLastAdmin) to delete
// the account's last admin, checked in the same transaction.
func (s *Store) DeleteUserKeepingAdmin(ctx context.Context, accountID, userID int64) error {
	return s.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkAnotherAdmin(ctx, tx, accountID, userID); err != nil {
			return err
		}
		return s.execOne(ctx, tx, `DELETE FROM users WHERE id = ? AND account_id = ?`, userID, accountID)
	})
}

// checkAnotherAdmin locks the account for the rest of tx (PostgreSQL: the
// account row; SQLite transactions begin IMMEDIATE and so already exclude
// other writers) and returns ErrLastAdmin when userID is an admin of it
// and no other user is.
func (s *Store) checkAnotherAdmin(ctx context.Context, tx *sql.Tx, accountID, userID int64) error {
	if s.dialect == DialectPostgres {
		var id int64
		if err := s.queryRow(ctx, tx, `SELECT id FROM accounts WHERE id = ? FOR UPDATE`, accountID).Scan(&id); err != nil {
			return mapErr(err)
		}
	}
	var isAdmin, others int
	err := s.queryRow(ctx, tx, `SELECT
  COALESCE(SUM(CASE WHEN id = ? THEN 1 ELSE 0 END), 0),
  COALESCE(SUM(CASE WHEN id <> ? THEN 1 ELSE 0 END), 0)
FROM users WHERE account_id = ? AND role = ?`, userID, userID, accountID, RoleAdmin).Scan(&isAdmin, &others)
	if err != nil {
		return fmt.Errorf("counting the account's admins: %w", mapErr(err))
	}
	if isAdmin > 0 && others == 0 {
		return ErrLastAdmin
	}
	return nil
}
