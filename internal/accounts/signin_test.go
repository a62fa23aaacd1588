package accounts_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/accounts"
)

const wrongPassword = "wrong password!!"

// retryAfter returns the wait of a refusal for too many attempts, failing
// the test on anything else.
func retryAfter(t *testing.T, err error, what string) time.Duration {
	t.Helper()
	wantRefusal(t, err, accounts.ErrTooManyAttempts, "", what)
	var ae *accounts.Error
	errors.As(err, &ae)
	if ae.RetryAfter <= 0 {
		t.Fatalf("%s: retry after %s", what, ae.RetryAfter)
	}
	return ae.RetryAfter
}

// TestSignInLimits: guesses are limited per email and client address and
// per client address; an email guessed at from many addresses is slowed by
// a growing delay, never locked, so its owner's right password from a fresh
// address gets in.
func TestSignInLimits(t *testing.T) {
	forEachDialect(t, func(t *testing.T, url string) {
		f := setupOn(t, url, true)
		for _, email := range []string{"ann@example.com", "bob@example.com"} {
			if _, _, err := f.svc.SignUp(f.ctx, accounts.SignUp{Email: email, Password: goodPassword, AccountName: email}); err != nil {
				t.Fatal(err)
			}
		}
		signIn := func(email, password, ip string) error {
			_, _, err := f.svc.SignIn(f.ctx, email, password, ip)
			return err
		}

		// One address guessing at one email: after the limit even the
		// right password waits there, until the window has passed.
		for i := 0; i < accounts.MaxSignInFailures; i++ {
			wantRefusal(t, signIn("ann@example.com", wrongPassword, "10.0.0.2"), accounts.ErrBadCredentials, "", "wrong password")
		}
		if wait := retryAfter(t, signIn("ann@example.com", goodPassword, "10.0.0.2"), "the right password from the guessing address"); wait > accounts.SignInWindow {
			t.Errorf("retry after %s, want within the window", wait)
		}

		// The owner, from another address, is not locked out: at most a
		// short wait after the latest guess.
		err := signIn("ann@example.com", goodPassword, "10.0.0.3")
		if err != nil {
			wait := retryAfter(t, err, "the right password from a fresh address")
			if wait > accounts.SignInDelay {
				t.Fatalf("the right password from a fresh address waits %s, want at most %s", wait, accounts.SignInDelay)
			}
			f.advance(wait)
			if err := signIn("ann@example.com", goodPassword, "10.0.0.3"); err != nil {
				t.Fatalf("the right password from a fresh address after the wait: %v", err)
			}
		}
		retryAfter(t, signIn("ann@example.com", goodPassword, "10.0.0.2"), "the guessing address after the owner signed in elsewhere")

		// Guesses at one email from ever new addresses: each waits a delay
		// after the latest that doubles, up to the maximum; guesses made
		// before the wait is over are refused unchecked and do not count.
		for i := 0; i < accounts.SlowSignInAfter; i++ {
			wantRefusal(t, signIn("bob@example.com", wrongPassword, fmt.Sprintf("10.1.0.%d", i)), accounts.ErrBadCredentials, "", "a first guess")
		}
		var waits []time.Duration
		for i := 0; i < 8; i++ {
			ip := fmt.Sprintf("10.2.0.%d", i)
			wait := retryAfter(t, signIn("bob@example.com", wrongPassword, ip), "a guess at a slowed email")
			retryAfter(t, signIn("bob@example.com", wrongPassword, ip), "a guess before the wait is over")
			waits = append(waits, wait)
			f.advance(wait)
			wantRefusal(t, signIn("bob@example.com", wrongPassword, ip), accounts.ErrBadCredentials, "", "a guess after the wait")
		}
		want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60}
		for i := range want {
			want[i] *= time.Second
		}
		if fmt.Sprint(waits) != fmt.Sprint(want) {
			t.Errorf("waits %v, want %v", waits, want)
		}
		f.advance(accounts.MaxSignInDelay)
		if err := signIn("bob@example.com", goodPassword, "10.3.0.1"); err != nil {
			t.Fatalf("the owner of a slowed email, after the wait: %v", err)
		}

		// One address guessing at many emails.
		for i := 0; i < accounts.MaxSignInFailuresPerIP; i++ {
			wantRefusal(t, signIn(fmt.Sprintf("guess%d@example.com", i), wrongPassword, "10.9.9.9"), accounts.ErrBadCredentials, "", "a guessed email")
		}
		retryAfter(t, signIn("bob@example.com", goodPassword, "10.9.9.9"), "the right password from an address guessing at many emails")
		if err := signIn("bob@example.com", goodPassword, "10.3.0.2"); err != nil {
			t.Fatalf("another address while one is limited: %v", err)
		}

		// Everything is forgotten after the window.
		f.advance(accounts.SignInWindow)
		for _, ip := range []string{"10.0.0.2", "10.9.9.9"} {
			if err := signIn("ann@example.com", goodPassword, ip); err != nil {
				t.Errorf("sign-in from %s after the window: %v", ip, err)
			}
		}
	})
}

// TestParallelGuessesAreCounted: guesses sent at once, before any of them
// has failed, are counted as they arrive, so no more than the limit have
// their password checked.
func TestParallelGuessesAreCounted(t *testing.T) {
	forEachDialect(t, func(t *testing.T, url string) {
		f := setupOn(t, url, true)
		if _, _, err := f.svc.SignUp(f.ctx, accounts.SignUp{Email: "ann@example.com", Password: goodPassword, AccountName: "A"}); err != nil {
			t.Fatal(err)
		}
		const guesses = 3 * accounts.MaxSignInFailures
		errs := make([]error, guesses)
		var wg sync.WaitGroup
		for i := range guesses {
			wg.Go(func() { _, _, errs[i] = f.svc.SignIn(f.ctx, "ann@example.com", wrongPassword, "10.0.0.2") })
		}
		wg.Wait()
		checked := 0
		for _, err := range errs {
			if errors.Is(err, accounts.ErrBadCredentials) {
				checked++
			} else if !errors.Is(err, accounts.ErrTooManyAttempts) {
				t.Fatalf("a parallel guess: %v", err)
			}
		}
		if checked > accounts.MaxSignInFailures {
			t.Fatalf("%d of %d parallel guesses were checked, want at most %d", checked, guesses, accounts.MaxSignInFailures)
		}
	})
}

// TestSignInLimitsAcrossProcesses: two accounts services on one catalog,
// as two Shelf processes on one database, count the same attempts: the
// guesses made through one limit the other.
func TestSignInLimitsAcrossProcesses(t *testing.T) {
	forEachDialect(t, func(t *testing.T, url string) {
		f := setupOn(t, url, true)
		other := f.service(openStore(t, url), true)
		if _, _, err := f.svc.SignUp(f.ctx, accounts.SignUp{Email: "ann@example.com", Password: goodPassword, AccountName: "A"}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < accounts.MaxSignInFailures; i++ {
			_, _, err := f.svc.SignIn(f.ctx, "ann@example.com", wrongPassword, "10.0.0.2")
			wantRefusal(t, err, accounts.ErrBadCredentials, "", "a guess through the first process")
		}
		_, _, err := other.SignIn(f.ctx, "ann@example.com", wrongPassword, "10.0.0.2")
		retryAfter(t, err, "a guess through the second process after the limit")

		// Per address: half the guesses through each process.
		for i := 0; i < accounts.MaxSignInFailuresPerIP-accounts.MaxSignInFailures; i++ {
			svc := []*accounts.Service{f.svc, other}[i%2]
			_, _, err := svc.SignIn(f.ctx, fmt.Sprintf("guess%d@example.com", i), wrongPassword, "10.0.0.2")
			wantRefusal(t, err, accounts.ErrBadCredentials, "", "a guessed email")
		}
		for _, svc := range []*accounts.Service{f.svc, other} {
			_, _, err := svc.SignIn(f.ctx, "new@example.com", wrongPassword, "10.0.0.2")
			retryAfter(t, err, "a new email from the limited address")
		}
	})
}
