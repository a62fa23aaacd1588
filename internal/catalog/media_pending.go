package catalog

import (
	"context"
	"fmt"
)

// ListPendingPreviewIDs returns up to limit ids of the account's live assets
// whose previews are still to be made, in increasing id order after
// afterID (keyset paging for the preview backlog job).
func (s *Store) ListPendingPreviewIDs(ctx context.Context, accountID, afterID int64, limit int) ([]int64, error) {
	rows, err := s.query(ctx, s.db, `SELECT id FROM assets
 WHERE account_id = ? AND preview_state = 'pending' AND removed_at IS NULL AND id > ?
 ORDER BY id LIMIT ?`, accountID, afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// CountPendingPreviews counts the account's live assets whose previews are
// still to be made, up to limit (a backlog larger than that counts as
// limit).
func (s *Store) CountPendingPreviews(ctx context.Context, accountID int64, limit int64) (int64, error) {
	var n int64
	err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM (SELECT 1 FROM assets
 WHERE account_id = ? AND preview_state = 'pending' AND removed_at IS NULL LIMIT ?) x`, accountID, limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting the previews to make: %w", mapErr(err))
	}
	return n, nil
}
