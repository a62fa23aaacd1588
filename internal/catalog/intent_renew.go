package catalog

import (
	"context"
	"fmt"
	"time"
)

// RenewWriteIntent extends a live write intent to now+ttl, so a long write
// (an upload streaming for minutes) can keep a short reservation: if its
// process dies, the intent lapses soon and a waiting sync goes on. An
// intent that already expired or ended gives ErrIntentExpired.
func (s *Store) RenewWriteIntent(ctx context.Context, accountID, intentID int64, now time.Time, ttl time.Duration) error {
	res, err := s.exec(ctx, s.db, `UPDATE write_intents SET expires_at = ? WHERE id = ? AND account_id = ? AND expires_at > ?`,
		ms(now.Add(ttl)), intentID, accountID, ms(now))
	if err != nil {
		return fmt.Errorf("renewing write intent: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("renewing write intent: %w", err)
	} else if n == 0 {
		return ErrIntentExpired
	}
	return nil
}
