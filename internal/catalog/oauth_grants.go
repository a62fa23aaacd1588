package catalog

import (
	"context"
	"time"
)

// OAuthGrant is an authorised but not yet used OAuth token of an account
// (encrypted), kept while an admin picks the Drive folder to connect.
type OAuthGrant struct {
	AccountID int64
	Provider  string
	Token     []byte // encrypted
	CreatedAt time.Time
}

// PutOAuthGrant stores (or replaces) the account's pending grant.
func (s *Store) PutOAuthGrant(ctx context.Context, g OAuthGrant) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO oauth_grants (account_id, provider, token, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (account_id) DO UPDATE SET provider = excluded.provider, token = excluded.token, created_at = excluded.created_at`,
		g.AccountID, g.Provider, g.Token, ms(g.CreatedAt))
	return err
}

// GetOAuthGrant returns the account's pending grant, ErrNotFound if none.
func (s *Store) GetOAuthGrant(ctx context.Context, accountID int64) (OAuthGrant, error) {
	var g OAuthGrant
	var created int64
	err := s.queryRow(ctx, s.db, `SELECT account_id, provider, token, created_at FROM oauth_grants WHERE account_id = ?`, accountID).
		Scan(&g.AccountID, &g.Provider, &g.Token, &created)
	if err != nil {
		return OAuthGrant{}, mapErr(err)
	}
	g.CreatedAt = fromMS(created)
	return g, nil
}

// DeleteOAuthGrant removes the account's pending grant (no error if none).
func (s *Store) DeleteOAuthGrant(ctx context.Context, accountID int64) error {
	_, err := s.exec(ctx, s.db, `DELETE FROM oauth_grants WHERE account_id = ?`, accountID)
	return err
}
