package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SignInCounts are the sign-in attempts recorded besides one attempt,
// since some time: what the sign-in limits decide on. An attempt counts as
// failed until it is forgotten.
type SignInCounts struct {
	// Pair: attempts for the same email from the same client address.
	Pair       int
	PairOldest time.Time
	// IP: attempts from the same client address, whatever the email.
	IP       int
	IPOldest time.Time
	// Email: attempts for the same email, from any client address.
	Email       int
	EmailLatest time.Time
}

// purgeBatch bounds the expired attempts one new attempt deletes, so that
// the table stays small without a statement that grows with it.
const purgeBatch = 100

// BeginSignInAttempt records an attempt for emailKey from clientIP at now,
// counted as failed until ForgetSignInAttempt or ClearSignInFailures, and
// returns its id and the other attempts recorded since since. It also
// deletes some attempts older than since.
func (s *Store) BeginSignInAttempt(ctx context.Context, emailKey, clientIP string, now, since time.Time) (int64, SignInCounts, error) {
	if err := s.purgeSignInAttempts(ctx, since); err != nil {
		return 0, SignInCounts{}, err
	}
	var id int64
	err := s.queryRow(ctx, s.db, `INSERT INTO signin_attempts (email_key, client_ip, at) VALUES (?, ?, ?) RETURNING id`,
		emailKey, clientIP, ms(now)).Scan(&id)
	if err != nil {
		return 0, SignInCounts{}, fmt.Errorf("recording sign-in attempt: %w", mapErr(err))
	}
	var (
		c                                 SignInCounts
		pairOldest, ipOldest, emailLatest sql.NullInt64
	)
	// Every other attempt counts, also one recorded after this one: of two
	// parallel attempts at least one sees the other (each is recorded
	// before it counts), so parallel guesses cannot all pass a limit.
	err = s.queryRow(ctx, s.db, `SELECT
    COUNT(CASE WHEN email_key = ? AND client_ip = ? THEN 1 END),
    MIN(CASE WHEN email_key = ? AND client_ip = ? THEN at END),
    COUNT(CASE WHEN client_ip = ? THEN 1 END),
    MIN(CASE WHEN client_ip = ? THEN at END),
    COUNT(CASE WHEN email_key = ? THEN 1 END),
    MAX(CASE WHEN email_key = ? THEN at END)
FROM signin_attempts WHERE id <> ? AND at > ? AND (email_key = ? OR client_ip = ?)`,
		emailKey, clientIP, emailKey, clientIP, clientIP, clientIP, emailKey, emailKey, id, ms(since), emailKey, clientIP).
		Scan(&c.Pair, &pairOldest, &c.IP, &ipOldest, &c.Email, &emailLatest)
	if err != nil {
		return 0, SignInCounts{}, fmt.Errorf("counting sign-in attempts: %w", mapErr(err))
	}
	if pairOldest.Valid {
		c.PairOldest = fromMS(pairOldest.Int64)
	}
	if ipOldest.Valid {
		c.IPOldest = fromMS(ipOldest.Int64)
	}
	if emailLatest.Valid {
		c.EmailLatest = fromMS(emailLatest.Int64)
	}
	return id, c, nil
}

// ForgetSignInAttempt deletes an attempt that was refused before its
// password was checked (it does not count as failed).
func (s *Store) ForgetSignInAttempt(ctx context.Context, id int64) error {
	if _, err := s.exec(ctx, s.db, `DELETE FROM signin_attempts WHERE id = ?`, id); err != nil {
		return fmt.Errorf("forgetting sign-in attempt: %w", err)
	}
	return nil
}

// ClearSignInFailures deletes the attempts for emailKey from clientIP
// (the email signed in from there).
func (s *Store) ClearSignInFailures(ctx context.Context, emailKey, clientIP string) error {
	if _, err := s.exec(ctx, s.db, `DELETE FROM signin_attempts WHERE email_key = ? AND client_ip = ?`, emailKey, clientIP); err != nil {
		return fmt.Errorf("clearing sign-in failures: %w", err)
	}
	return nil
}

// purgeSignInAttempts deletes up to purgeBatch attempts older than before.
// On PostgreSQL rows another process is deleting are skipped, not waited
// for.
func (s *Store) purgeSignInAttempts(ctx context.Context, before time.Time) error {
	lock := ""
	if s.dialect == DialectPostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	_, err := s.exec(ctx, s.db, `DELETE FROM signin_attempts WHERE id IN (
    SELECT id FROM signin_attempts WHERE at <= ? ORDER BY at LIMIT ?`+lock+`)`, ms(before), purgeBatch)
	if err != nil {
		return fmt.Errorf("purging old sign-in attempts: %w", err)
	}
	return nil
}
