package storage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
)

// fakeClock records the waits a pacer asks for instead of sleeping.
type fakeClock struct{ waits []time.Duration }

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.waits = append(c.waits, d)
	return ctx.Err()
}

// ceilingJitter returns the ceiling itself so backoff is deterministic.
func ceilingJitter(c time.Duration) time.Duration { return c }

func newTestPacer(clock *fakeClock, attempts int) *storage.Pacer {
	return storage.NewPacer(storage.PacerConfig{
		MaxAttempts: attempts,
		BaseDelay:   100 * time.Millisecond,
		MaxDelay:    time.Second,
		Sleep:       clock.sleep,
		Jitter:      ceilingJitter,
	})
}

func retryable(n int) error {
	return storage.Classify(storage.ErrRetryable, "get", "a", fmt.Errorf("503 SlowDown #%d", n))
}

func TestPacerRetriesUntilSuccess(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{}
	p := newTestPacer(clock, 6)
	calls := 0
	err := p.Call(context.Background(), "get", func(context.Context) error {
		calls++
		if calls < 4 {
			return retryable(calls)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Call = %v, want success on the 4th attempt", err)
	}
	if calls != 4 {
		t.Fatalf("fn called %d times, want 4", calls)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
	if fmt.Sprint(clock.waits) != fmt.Sprint(want) {
		t.Fatalf("waits = %v, want exponential %v", clock.waits, want)
	}
}

func TestPacerBackoffIsCappedAndBounded(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{}
	p := newTestPacer(clock, 7)
	calls := 0
	err := p.Call(context.Background(), "list", func(context.Context) error {
		calls++
		return retryable(calls)
	})
	if !errors.Is(err, storage.ErrRetryable) {
		t.Fatalf("Call = %v, want the last error, still classified retryable", err)
	}
	if calls != 7 {
		t.Fatalf("fn called %d times, want MaxAttempts=7", calls)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
		800 * time.Millisecond, time.Second, time.Second}
	if fmt.Sprint(clock.waits) != fmt.Sprint(want) {
		t.Fatalf("waits = %v, want capped at MaxDelay: %v", clock.waits, want)
	}
}

func TestPacerDoesNotRetryPermanentErrors(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{}
	p := newTestPacer(clock, 5)
	for _, class := range []error{storage.ErrNotFound, storage.ErrAuth, storage.ErrPermission, storage.ErrFatal} {
		calls := 0
		err := p.Call(context.Background(), "stat", func(context.Context) error {
			calls++
			return storage.Classify(class, "stat", "x", nil)
		})
		if !errors.Is(err, class) || calls != 1 {
			t.Errorf("class %v: err=%v calls=%d, want the error after exactly 1 call", class, err, calls)
		}
	}
	if len(clock.waits) != 0 {
		t.Fatalf("pacer slept %v for permanent errors", clock.waits)
	}
}

func TestPacerHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	p := storage.NewPacer(storage.PacerConfig{
		MaxAttempts: 10,
		Sleep: func(ctx context.Context, d time.Duration) error {
			cancel() // the caller gives up while we wait
			return ctx.Err()
		},
	})
	err := p.Call(ctx, "put", func(context.Context) error {
		calls++
		return retryable(calls)
	})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, storage.ErrRetryable) {
		t.Fatalf("Call = %v, want both context.Canceled and the last storage error", err)
	}
	if calls != 1 {
		t.Fatalf("fn called %d times after cancellation, want 1", calls)
	}
}

type retryAfterErr struct{ d time.Duration }

func (e retryAfterErr) Error() string             { return "429 too many requests" }
func (e retryAfterErr) RetryAfter() time.Duration { return e.d }

func TestPacerHonoursRetryAfterHint(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{}
	p := newTestPacer(clock, 3)
	calls := 0
	_ = p.Call(context.Background(), "list", func(context.Context) error {
		calls++
		if calls == 1 {
			return storage.Classify(storage.ErrRetryable, "list", "", retryAfterErr{700 * time.Millisecond})
		}
		return nil
	})
	if len(clock.waits) != 1 || clock.waits[0] != 700*time.Millisecond {
		t.Fatalf("waits = %v, want the server's 700ms hint", clock.waits)
	}
}

func TestPacerDefaultJitterStaysBelowCeiling(t *testing.T) {
	t.Parallel()
	p := storage.NewPacer(storage.PacerConfig{BaseDelay: 10 * time.Millisecond, MaxDelay: 80 * time.Millisecond})
	for n := 1; n <= 8; n++ {
		ceiling := min(10*time.Millisecond<<(n-1), 80*time.Millisecond)
		for range 50 {
			if d := p.Backoff(n); d < 0 || d >= ceiling {
				t.Fatalf("Backoff(%d) = %v, want in [0, %v)", n, d, ceiling)
			}
		}
	}
}
