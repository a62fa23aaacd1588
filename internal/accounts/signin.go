package accounts

import (
	"context"
	"errors"

	"github.com/shelf-dam/shelf/internal/auth"
	"github.com/shelf-dam/shelf/internal/catalog"
)

// SignIn checks an email and password from the client at clientIP and
// returns the user and their account. Failed attempts are counted per
// email and per client address: after too many, attempts are refused
// (ErrTooManyAttempts, with the wait) before the password is looked at. An
// unknown email takes as long to refuse as a wrong password.
func (s *Service) SignIn(ctx context.Context, email, password, clientIP string) (catalog.User, catalog.Account, error) {
	addr, err := auth.NormalizeEmail(email)
	if err != nil || password == "" {
		return catalog.User{}, catalog.Account{}, refuse(ErrMissingField, "", "email and password are required")
	}
	keys := []string{"email:" + addr, "ip:" + clientIP}
	for _, key := range keys {
		if ok, wait := s.limiter.Allow(key); !ok {
			e := refuse(ErrTooManyAttempts, "", "too many failed sign-in attempts; wait %d seconds and try again", int(wait.Seconds())+1)
			e.RetryAfter = wait
			return catalog.User{}, catalog.Account{}, e
		}
	}
	u, err := s.cfg.Store.GetUserByEmail(ctx, addr)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return catalog.User{}, catalog.Account{}, err
	}
	if err != nil {
		auth.BurnPasswordCheck(password)
	}
	if err != nil || !auth.VerifyPassword(u.PasswordHash, password) {
		for _, key := range keys {
			s.limiter.Fail(key)
		}
		return catalog.User{}, catalog.Account{}, refuse(ErrBadCredentials, "", "wrong email or password")
	}
	s.limiter.Succeed(keys[0])
	acct, err := s.cfg.Store.GetAccount(ctx, u.AccountID)
	if err != nil {
		return catalog.User{}, catalog.Account{}, err
	}
	return u, acct, nil
}
