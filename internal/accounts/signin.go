package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/shelf-dam/shelf/internal/auth"
	"github.com/shelf-dam/shelf/internal/catalog"
)

// Sign-in limits. Attempts are counted in the catalog over SignInWindow,
// so every process on one database shares them:
//   - MaxSignInFailures failures for one email from one client address:
//     further attempts from there wait until the oldest leaves the window;
//   - MaxSignInFailuresPerIP failures from one client address, whatever the
//     emails: further attempts from there wait likewise;
//   - from SlowSignInAfter failures for one email, from any address, each
//     further attempt for it waits, after the latest, a delay that doubles
//     with each failure from SignInDelay up to MaxSignInDelay.
//
// An email is slowed, never locked: guesses at it from many addresses are
// held to about one per MaxSignInDelay, and its owner, from an address of
// their own, is asked to wait at most MaxSignInDelay at a time.
const (
	SignInWindow           = 15 * time.Minute
	MaxSignInFailures      = 5
	MaxSignInFailuresPerIP = 20
	SlowSignInAfter        = 5
	SignInDelay            = time.Second
	MaxSignInDelay         = time.Minute
)

// SignIn checks an email and password from the client at clientIP and
// returns the user and their account. Attempts over the limits above are
// refused (ErrTooManyAttempts, with the wait) before the password is looked
// at, and do not count. An unknown email takes as long to refuse as a
// wrong password and is counted the same.
func (s *Service) SignIn(ctx context.Context, email, password, clientIP string) (catalog.User, catalog.Account, error) {
	addr, err := auth.NormalizeEmail(email)
	if err != nil || password == "" {
		return catalog.User{}, catalog.Account{}, refuse(ErrMissingField, "", "email and password are required")
	}
	key := emailKey(addr)
	now := s.now()
	attempt, counts, err := s.cfg.Store.BeginSignInAttempt(ctx, key, clientIP, now, now.Add(-SignInWindow))
	if err != nil {
		return catalog.User{}, catalog.Account{}, err
	}
	if wait := signInWait(counts, now); wait > 0 {
		if err := s.cfg.Store.ForgetSignInAttempt(ctx, attempt); err != nil {
			return catalog.User{}, catalog.Account{}, err
		}
		e := refuse(ErrTooManyAttempts, "", "too many failed sign-in attempts; wait %d seconds and try again", int((wait+time.Second-1)/time.Second))
		e.RetryAfter = wait
		return catalog.User{}, catalog.Account{}, e
	}
	u, err := s.cfg.Store.GetUserByEmail(ctx, addr)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return catalog.User{}, catalog.Account{}, err
	}
	if err != nil {
		auth.BurnPasswordCheck(password)
	}
	if err != nil || !auth.VerifyPassword(u.PasswordHash, password) {
		// The attempt stays recorded: it is a failure.
		return catalog.User{}, catalog.Account{}, refuse(ErrBadCredentials, "", "wrong email or password")
	}
	if err := s.cfg.Store.ClearSignInFailures(ctx, key, clientIP); err != nil {
		return catalog.User{}, catalog.Account{}, err
	}
	acct, err := s.cfg.Store.GetAccount(ctx, u.AccountID)
	if err != nil {
		return catalog.User{}, catalog.Account{}, err
	}
	return u, acct, nil
}

// signInWait is how long an attempt with the earlier attempts c must wait
// at now; 0: it may go ahead.
func signInWait(c catalog.SignInCounts, now time.Time) time.Duration {
	var wait time.Duration
	if c.Pair >= MaxSignInFailures {
		wait = max(wait, c.PairOldest.Add(SignInWindow).Sub(now))
	}
	if c.IP >= MaxSignInFailuresPerIP {
		wait = max(wait, c.IPOldest.Add(SignInWindow).Sub(now))
	}
	if c.Email >= SlowSignInAfter {
		wait = max(wait, c.EmailLatest.Add(slowSignInDelay(c.Email)).Sub(now))
	}
	return wait
}

// slowSignInDelay is the wait after the latest of failures failed attempts
// for one email (failures >= SlowSignInAfter).
func slowSignInDelay(failures int) time.Duration {
	d := SignInDelay
	for i := SlowSignInAfter; i < failures && d < MaxSignInDelay; i++ {
		d *= 2
	}
	return min(d, MaxSignInDelay)
}

// emailKey is how the sign-in limits know an email: its SHA-256, so that
// what people type in the email field (sometimes a password) is not kept.
func emailKey(addr string) string {
	sum := sha256.Sum256([]byte(addr))
	return hex.EncodeToString(sum[:])
}
