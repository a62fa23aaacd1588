package catalog

import (
	"context"
	"fmt"
	"time"
)

const sessionColumns = `token_hash, user_id, csrf_token, created_at, expires_at, last_seen_at`

func scanSession(row interface{ Scan(...any) error }) (Session, error) {
	var (
		se                      Session
		created, expires, lastS int64
	)
	if err := row.Scan(&se.TokenHash, &se.UserID, &se.CSRFToken, &created, &expires, &lastS); err != nil {
		return Session{}, mapErr(err)
	}
	se.CreatedAt, se.ExpiresAt, se.LastSeenAt = fromMS(created), fromMS(expires), fromMS(lastS)
	return se, nil
}

// CreateSession stores a new sign-in session.
func (s *Store) CreateSession(ctx context.Context, se Session) error {
	if se.LastSeenAt.IsZero() {
		se.LastSeenAt = se.CreatedAt
	}
	_, err := s.exec(ctx, s.db, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		se.TokenHash, se.UserID, se.CSRFToken, ms(se.CreatedAt), ms(se.ExpiresAt), ms(se.LastSeenAt))
	if err != nil {
		return fmt.Errorf("creating session: %w", err)
	}
	return nil
}

// GetSession returns the session with the token hash; an expired one (at
// now) gives ErrNotFound.
func (s *Store) GetSession(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	return scanSession(s.queryRow(ctx, s.db, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ? AND expires_at > ?`, tokenHash, ms(now)))
}

// TouchSession records activity on a session and moves its expiry to
// expiresAt (sliding expiry; pass the current expiry to keep it).
func (s *Store) TouchSession(ctx context.Context, tokenHash string, now, expiresAt time.Time) error {
	return s.execOne(ctx, s.db, `UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE token_hash = ?`, ms(now), ms(expiresAt), tokenHash)
}

// DeleteSession ends one session (sign-out). Deleting a missing session is
// not an error.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := s.exec(ctx, s.db, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	return err
}

// DeleteUserSessions ends every session of a user (password change, removal).
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) error {
	_, err := s.exec(ctx, s.db, `DELETE FROM sessions WHERE user_id = ?`, userID)
	return err
}

// PurgeExpiredSessions deletes the sessions expired at now and says how many.
func (s *Store) PurgeExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.exec(ctx, s.db, `DELETE FROM sessions WHERE expires_at <= ?`, ms(now))
	if err != nil {
		return 0, fmt.Errorf("purging expired sessions: %w", err)
	}
	return res.RowsAffected()
}
