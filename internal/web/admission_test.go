package web

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// take acquires a slot that must be given at once.
func take(t *testing.T, l *limiter, account int64) func() {
	t.Helper()
	release, reason, err := l.acquire(context.Background(), account)
	if err != nil {
		t.Fatalf("account %d: refused (%s): %v; want a slot at once", account, reason, err)
	}
	return release
}

// acquireAsync acquires in a goroutine; the channel gets the outcome.
func acquireAsync(ctx context.Context, l *limiter, account int64) <-chan error {
	out := make(chan error, 1)
	go func() {
		release, _, err := l.acquire(ctx, account)
		if release != nil {
			defer release()
		}
		out <- err
	}()
	return out
}

// waitFor waits until l has n requests waiting.
func waitFor(t *testing.T, l *limiter, n int) {
	t.Helper()
	for range 500 {
		if _, w := l.usage(); w == n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	_, w := l.usage()
	t.Fatalf("%d requests waiting, want %d", w, n)
}

func status(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

func TestLimiterRefusesAnAccountOverItsShareWith429(t *testing.T) {
	t.Parallel()
	l := newLimiter("query", "searches", 10, 2, 1, time.Hour)
	take(t, l, 1)
	take(t, l, 1)
	waiting := acquireAsync(context.Background(), l, 1)
	waitFor(t, l, 1)
	// The queue of account 1 is full: refused at once, told when to retry.
	_, reason, err := l.acquire(context.Background(), 1)
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests || ae.RetryAfter <= 0 || reason != refusedAccount {
		t.Fatalf("third request of a full account: %v (%s); want 429 with Retry-After", err, reason)
	}
	// Another account is served at once.
	take(t, l, 2)()
	select {
	case err := <-waiting:
		t.Fatalf("the queued request ended (%v) while its account was still at its share", err)
	default:
	}
}

func TestLimiterAnswers503WhenTheServerIsFull(t *testing.T) {
	t.Parallel()
	l := newLimiter("query", "searches", 2, 1, 4, 50*time.Millisecond)
	take(t, l, 1)
	take(t, l, 2)
	_, reason, err := l.acquire(context.Background(), 3)
	if status(err) != http.StatusServiceUnavailable || reason != refusedServer {
		t.Fatalf("an idle account on a full server, after waiting: %v (%s); want 503", err, reason)
	}
}

func TestLimiterHandsFreedSlotsToWaitersThatFit(t *testing.T) {
	t.Parallel()
	l := newLimiter("query", "searches", 2, 1, 4, time.Hour)
	release1 := take(t, l, 1)
	release2 := take(t, l, 2)
	// Account 1 waits for its own share, account 3 for the server's.
	first := acquireAsync(context.Background(), l, 1)
	waitFor(t, l, 1)
	third := acquireAsync(context.Background(), l, 3)
	waitFor(t, l, 2)
	// Account 2's slot goes to account 3: account 1's earlier waiter is
	// held by its own share, and must not hold up the others.
	release2()
	if err := <-third; err != nil {
		t.Fatalf("account 3 after a slot was freed: %v", err)
	}
	release1()
	if err := <-first; err != nil {
		t.Fatalf("account 1 after its slot was freed: %v", err)
	}
	if r, w := l.usage(); r != 0 || w != 0 || len(l.accounts) != 0 {
		t.Errorf("after every release: %d running, %d waiting, %d accounts tracked; want none", r, w, len(l.accounts))
	}
}

func TestLimiterForgetsAWaiterWhoseClientLeft(t *testing.T) {
	t.Parallel()
	l := newLimiter("query", "searches", 1, 1, 4, time.Hour)
	release := take(t, l, 1)
	ctx, cancel := context.WithCancel(context.Background())
	gone := acquireAsync(ctx, l, 2)
	waitFor(t, l, 1)
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("a waiter whose client left: %v; want context.Canceled", err)
	}
	release()
	take(t, l, 3)()
	if r, w := l.usage(); r != 0 || w != 0 {
		t.Errorf("%d running, %d waiting; want none", r, w)
	}
}
