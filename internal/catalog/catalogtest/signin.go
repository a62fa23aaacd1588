package catalogtest

import (
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// testSignInAttempts: an attempt sees the other attempts within the
// window, per email and address, per address and per email; forgotten and
// cleared attempts no longer count, and old ones are purged.
func testSignInAttempts(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, t0 := f.store, f.ctx, f.now
	since := t0.Add(-time.Hour)
	begin := func(email, ip string, at time.Time) (int64, catalog.SignInCounts) {
		t.Helper()
		id, c, err := s.BeginSignInAttempt(ctx, email, ip, at, since)
		must(t, err, "BeginSignInAttempt %s %s", email, ip)
		return id, c
	}
	want := func(what string, got, want catalog.SignInCounts) {
		t.Helper()
		if got.Pair != want.Pair || got.IP != want.IP || got.Email != want.Email ||
			!got.PairOldest.Equal(want.PairOldest) || !got.IPOldest.Equal(want.IPOldest) || !got.EmailLatest.Equal(want.EmailLatest) {
			t.Fatalf("%s: counts %+v, want %+v", what, got, want)
		}
	}

	_, c := begin("ann", "10.0.0.1", t0)
	want("the first attempt", c, catalog.SignInCounts{})
	_, c = begin("ann", "10.0.0.1", t0.Add(time.Second))
	want("the same email and address", c, catalog.SignInCounts{Pair: 1, PairOldest: t0, IP: 1, IPOldest: t0, Email: 1, EmailLatest: t0})
	_, c = begin("ann", "10.0.0.2", t0.Add(2*time.Second))
	want("the same email from elsewhere", c, catalog.SignInCounts{Email: 2, EmailLatest: t0.Add(time.Second)})
	bob, c := begin("bob", "10.0.0.1", t0.Add(3*time.Second))
	want("another email from the same address", c, catalog.SignInCounts{IP: 2, IPOldest: t0})

	// A forgotten attempt does not count; a sign-in clears its email and
	// address only.
	must(t, s.ForgetSignInAttempt(ctx, bob), "ForgetSignInAttempt")
	must(t, s.ClearSignInFailures(ctx, "ann", "10.0.0.1"), "ClearSignInFailures")
	_, c = begin("bob", "10.0.0.1", t0.Add(4*time.Second))
	want("after forgetting and clearing", c, catalog.SignInCounts{})
	_, c = begin("ann", "10.0.0.3", t0.Add(5*time.Second))
	want("ann after clearing one address", c, catalog.SignInCounts{Email: 1, EmailLatest: t0.Add(2 * time.Second)})

	// Attempts older than the window neither count nor stay.
	late := t0.Add(2 * time.Hour)
	_, c, err := s.BeginSignInAttempt(ctx, "ann", "10.0.0.2", late, late.Add(-time.Hour))
	must(t, err, "BeginSignInAttempt after the window")
	want("after the window", c, catalog.SignInCounts{})
	_, c = begin("ann", "10.0.0.2", late.Add(time.Second))
	want("old attempts purged", c, catalog.SignInCounts{Pair: 1, PairOldest: late, IP: 1, IPOldest: late, Email: 1, EmailLatest: late})
}
