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

// AccountAPIToken is a live API token with the user it acts as.
type AccountAPIToken struct {
	APIToken
	UserEmail string
	UserName  string
}

// ListAccountAPITokens returns the live tokens of every user of the
// account, newest first.
func (s *Store) ListAccountAPITokens(ctx context.Context, accountID int64) ([]AccountAPIToken, error) {
	rows, err := s.query(ctx, s.db, `SELECT t.id, t.user_id, t.name, t.token_hash, t.prefix, t.created_at, t.last_used_at, t.revoked_at, u.email, u.name
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE u.account_id = ? AND t.revoked_at IS NULL ORDER BY t.id DESC`, accountID)
	if err != nil {
		return nil, fmt.Errorf("listing the account's API tokens: %w", err)
	}
	defer rows.Close()
	var out []AccountAPIToken
	for rows.Next() {
		var (
			t             AccountAPIToken
			created       int64
			used, revoked sql.NullInt64
		)
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &t.TokenHash, &t.Prefix, &created, &used, &revoked, &t.UserEmail, &t.UserName); err != nil {
			return nil, fmt.Errorf("reading the account's API tokens: %w", mapErr(err))
		}
		t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromMS(created), fromNullMS(used), fromNullMS(revoked)
		out = append(out, t)
	}
	return out, mapErr(rows.Err())
}

// RevokeAccountAPIToken revokes a live token of any user of the account
// (an admin's revocation); another account's token or a revoked one gives
// ErrNotFound.
func (s *Store) RevokeAccountAPIToken(ctx context.Context, accountID, tokenID int64, now time.Time) error {
	return s.execOne(ctx, s.db, `UPDATE api_tokens SET revoked_at = ?
WHERE id = ? AND revoked_at IS NULL AND user_id IN (SELECT id FROM users WHERE account_id = ?)`, ms(now), tokenID, accountID)
}

// ChangePassword sets a user's password hash, ends the user's sessions
// and, unless keepAPITokens, revokes the user's API tokens, in one
// transaction; it returns how many tokens it revoked.
func (s *Store) ChangePassword(ctx context.Context, userID int64, passwordHash string, now time.Time, keepAPITokens bool) (int64, error) {
	var revoked int64
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.execOne(ctx, tx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, passwordHash, ms(now), userID); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("ending the user's sessions: %w", err)
		}
		if keepAPITokens {
			return nil
		}
		res, err := s.exec(ctx, tx, `UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, ms(now), userID)
		if err != nil {
			return fmt.Errorf("revoking the user's API tokens: %w", err)
		}
		revoked, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("changing the password of user %d: %w", userID, err)
	}
	return revoked, nil
}
