package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Pacer retries calls to a storage service that fail with a transient error
// (an error classified as ErrRetryable: rate limits, 5xx, network faults),
// waiting between attempts with exponential backoff and full jitter: before
// retry n (1-based) it sleeps a random duration in [0, min(MaxDelay,
// BaseDelay·2^(n-1))). A connector owns one Pacer and runs every request
// through Call. A Pacer is safe for concurrent use.
type Pacer struct {
	cfg PacerConfig
}

// PacerConfig tunes a Pacer. Zero fields take the defaults noted.
type PacerConfig struct {
	// MaxAttempts is how many times a call is tried in total, the first
	// try included (default 6).
	MaxAttempts int
	// BaseDelay is the backoff ceiling before the first retry (default
	// 200 ms); it doubles for each later retry.
	BaseDelay time.Duration
	// MaxDelay caps the backoff ceiling (default 20 s).
	MaxDelay time.Duration
	// Sleep waits for d or until ctx ends (default: a timer honouring ctx).
	// Tests inject a fake to run without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a random duration in [0, ceiling) (default: uniform
	// random). Tests inject a deterministic one.
	Jitter func(ceiling time.Duration) time.Duration
	// Logger receives one debug line per retry (default: discard).
	Logger *slog.Logger
}

// RetryAfterer is implemented by errors that carry the server's own
// "retry after" hint (an HTTP Retry-After header). The pacer then waits at
// least that long before the next attempt.
type RetryAfterer interface {
	RetryAfter() time.Duration
}

// NewPacer returns a Pacer with cfg, defaults filled in.
func NewPacer(cfg PacerConfig) *Pacer {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 6
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = 200 * time.Millisecond
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = 20 * time.Second
	}
	if cfg.MaxDelay < cfg.BaseDelay {
		cfg.MaxDelay = cfg.BaseDelay
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	if cfg.Jitter == nil {
		cfg.Jitter = func(ceiling time.Duration) time.Duration {
			if ceiling <= 0 {
				return 0
			}
			return rand.N(ceiling)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Pacer{cfg: cfg}
}

// Call runs fn until it succeeds, fails with an error that is not
// ErrRetryable, ctx ends, or MaxAttempts tries are used up. It returns nil
// or the last error; after the attempts are exhausted that error is still
// classified ErrRetryable (the caller may try again much later), and it
// says how many attempts were made. op names the call in logs.
func (p *Pacer) Call(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		if cerr := ctx.Err(); cerr != nil {
			if err != nil {
				return fmt.Errorf("%s: gave up retrying (%w) after: %w", op, cerr, err)
			}
			return cerr
		}
		err = fn(ctx)
		if err == nil || !IsRetryable(err) {
			return err
		}
		if attempt >= p.cfg.MaxAttempts {
			return fmt.Errorf("%s: still failing after %d attempts: %w", op, attempt, err)
		}
		wait := p.Backoff(attempt)
		var ra RetryAfterer
		if errors.As(err, &ra) && ra.RetryAfter() > wait {
			wait = min(ra.RetryAfter(), p.cfg.MaxDelay)
		}
		p.cfg.Logger.Debug("storage call failed, retrying",
			slog.String("op", op), slog.Int("attempt", attempt),
			slog.Duration("wait", wait), slog.String("error", err.Error()))
		if serr := p.cfg.Sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%s: gave up retrying (%w) after: %w", op, serr, err)
		}
	}
}

// Backoff returns the wait before retry number n (1-based): a random
// duration below min(MaxDelay, BaseDelay·2^(n-1)).
func (p *Pacer) Backoff(n int) time.Duration {
	ceiling := p.cfg.BaseDelay
	for i := 1; i < n && ceiling < p.cfg.MaxDelay; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.cfg.MaxDelay)
	return p.cfg.Jitter(ceiling)
}

// MaxAttempts reports how many tries Call makes at most.
func (p *Pacer) MaxAttempts() int { return p.cfg.MaxAttempts }

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
