package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const apiTokenColumns = `id, user_id, name, token_hash, prefix, created_at, last_used_at, revoked_at`

func scanAPIToken(row interface{ Scan(...any) error }) (APIToken, error) {
	var (
		t             APIToken
		created       int64
		used, revoked sql.NullInt64
	)
	if err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.TokenHash, &t.Prefix, &created, &used, &revoked); err != nil {
		return APIToken{}, mapErr(err)
	}
	t.CreatedAt = fromMS(created)
	t.LastUsedAt = fromNullMS(used)
	t.RevokedAt = fromNullMS(revoked)
	return t, nil
}

// CreateAPIToken stores a personal access token (UserID, Name, TokenHash,
// Prefix, CreatedAt) and returns it with its id.
func (s *Store) CreateAPIToken(ctx context.Context, t APIToken) (APIToken, error) {
	out, err := scanAPIToken(s.queryRow(ctx, s.db, `INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at)
VALUES (?, ?, ?, ?, ?) RETURNING `+apiTokenColumns, t.UserID, t.Name, t.TokenHash, t.Prefix, ms(t.CreatedAt)))
	if err != nil {
		return APIToken{}, fmt.Errorf("creating API token: %w", err)
	}
	return out, nil
}

// GetAPITokenByHash returns the live token with the hash; a revoked one
// gives ErrNotFound.
func (s *Store) GetAPITokenByHash(ctx context.Context, tokenHash string) (APIToken, error) {
	return scanAPIToken(s.queryRow(ctx, s.db, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL`, tokenHash))
}

// ListAPITokens returns a user's tokens, revoked ones included, newest first.
func (s *Store) ListAPITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE user_id = ? ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("listing API tokens: %w", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, fmt.Errorf("reading API token: %w", err)
		}
		out = append(out, t)
	}
	return out, mapErr(rows.Err())
}

// RevokeAPIToken revokes one of the user's own tokens; another user's token
// or an already revoked one gives ErrNotFound.
func (s *Store) RevokeAPIToken(ctx context.Context, userID, tokenID int64, now time.Time) error {
	return s.execOne(ctx, s.db, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL`, ms(now), tokenID, userID)
}

// TouchAPIToken records that a token was just used.
func (s *Store) TouchAPIToken(ctx context.Context, tokenID int64, now time.Time) error {
	return s.execOne(ctx, s.db, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, ms(now), tokenID)
}
