package catalog

import (
	"context"
	"fmt"
	"time"
)

// CreateOAuthState stores a pending OAuth authorization.
func (s *Store) CreateOAuthState(ctx context.Context, st OAuthState) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO oauth_states (state, account_id, user_id, verifier, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		st.State, st.AccountID, st.UserID, st.Verifier, ms(st.CreatedAt), ms(st.ExpiresAt))
	if err != nil {
		return fmt.Errorf("saving OAuth state: %w", err)
	}
	return nil
}

// TakeOAuthState returns and deletes a pending authorization, so each state
// is used once. An unknown or expired (at now) state gives ErrNotFound.
func (s *Store) TakeOAuthState(ctx context.Context, state string, now time.Time) (OAuthState, error) {
	var (
		st               OAuthState
		created, expires int64
	)
	err := s.queryRow(ctx, s.db, `DELETE FROM oauth_states WHERE state = ? RETURNING state, account_id, user_id, verifier, created_at, expires_at`, state).
		Scan(&st.State, &st.AccountID, &st.UserID, &st.Verifier, &created, &expires)
	if err != nil {
		return OAuthState{}, mapErr(err)
	}
	st.CreatedAt, st.ExpiresAt = fromMS(created), fromMS(expires)
	if !now.Before(st.ExpiresAt) {
		return OAuthState{}, ErrNotFound
	}
	return st, nil
}

// PurgeExpiredOAuthStates deletes the authorizations expired at now.
func (s *Store) PurgeExpiredOAuthStates(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.exec(ctx, s.db, `DELETE FROM oauth_states WHERE expires_at <= ?`, ms(now))
	if err != nil {
		return 0, fmt.Errorf("purging expired OAuth states: %w", err)
	}
	return res.RowsAffected()
}
