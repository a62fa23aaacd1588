package catalog

import (
	"context"
	"strings"
)

// LiveAssetIDs returns which of ids are live (not removed) assets of the
// account. At most 1000 ids per call.
func (s *Store) LiveAssetIDs(ctx context.Context, accountID int64, ids []int64) (map[int64]bool, error) {
	known := make(map[int64]bool, len(ids))
	if len(ids) == 0 {
		return known, nil
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, accountID)
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := s.query(ctx, s.db, `SELECT id FROM assets WHERE account_id = ? AND removed_at IS NULL AND id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		known[id] = true
	}
	return known, rows.Err()
}
