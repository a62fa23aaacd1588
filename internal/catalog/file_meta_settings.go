package catalog

import (
	"context"
	"fmt"
	"time"
)

// WriteMetadataToFiles reports the account setting write_metadata_to_files:
// whether edits of title, description, tags and rating are written into
// the files.
func (s *Store) WriteMetadataToFiles(ctx context.Context, accountID int64) (bool, error) {
	var on bool
	if err := s.queryRow(ctx, s.db, `SELECT write_metadata_to_files FROM accounts WHERE id = ?`, accountID).Scan(&on); err != nil {
		return false, fmt.Errorf("reading the write-back setting of account %d: %w", accountID, mapErr(err))
	}
	return on, nil
}

// SetWriteMetadataToFiles changes the account setting
// write_metadata_to_files.
func (s *Store) SetWriteMetadataToFiles(ctx context.Context, accountID int64, on bool, now time.Time) error {
	if err := s.execOne(ctx, s.db, `UPDATE accounts SET write_metadata_to_files = ?, updated_at = ? WHERE id = ?`, on, ms(now), accountID); err != nil {
		return fmt.Errorf("changing the write-back setting of account %d: %w", accountID, err)
	}
	return nil
}
