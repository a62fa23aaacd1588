package catalog

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ReplaceConnection stores c as the account's storage connection. When
// resetLibrary is set (the root changed: another bucket, prefix, folder or
// kind), the library mirrored from the old root — folders, assets and
// their tombstones — is removed in the same transaction, since none of it
// belongs to the new root. It refuses with *LockedError while a sync holds
// the account's lease.
func (s *Store) ReplaceConnection(ctx context.Context, c Connection, resetLibrary bool, now time.Time) (Connection, error) {
	var out Connection
	err := waitLive(ctx, now, func(now time.Time) error {
		var err error
		out, err = s.replaceConnection(ctx, c, resetLibrary, now)
		return err
	})
	return out, err
}

func (s *Store) replaceConnection(ctx context.Context, c Connection, resetLibrary bool, now time.Time) (Connection, error) {
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockAccount(ctx, tx, c.AccountID); err != nil {
			return err
		}
		l, err := s.currentLease(ctx, tx, c.AccountID, now)
		if err == nil {
			return &LockedError{RunID: l.RunID, Live: l.Live()}
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		if resetLibrary {
			for _, q := range []string{
				`DELETE FROM asset_tags WHERE account_id = ?`,
				`DELETE FROM assets WHERE account_id = ?`,
				`DELETE FROM folders WHERE account_id = ?`,
			} {
				if _, err := s.exec(ctx, tx, q, c.AccountID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return Connection{}, err
	}
	return s.PutConnection(ctx, c, now)
}

// SetConnectionSecret replaces the encrypted credentials of the account's
// connection (a refreshed OAuth token), keeping everything else.
func (s *Store) SetConnectionSecret(ctx context.Context, accountID int64, secret []byte, now time.Time) error {
	return s.execOne(ctx, s.db, `UPDATE storage_connections SET secret = ?, updated_at = ? WHERE account_id = ?`, secret, ms(now), accountID)
}
