package auth

import (
	"sync"
	"time"
)

// Limiter limits failed login attempts per key (an email, a client IP):
// after Max failures within Window, further attempts are refused until the
// oldest failure leaves the window. Successful logins clear the key.
type Limiter struct {
	Max    int
	Window time.Duration
	Now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewLimiter returns a Limiter allowing max failures per window.
func NewLimiter(max int, window time.Duration, now func() time.Time) *Limiter {
	return &Limiter{Max: max, Window: window, Now: now, failures: map[string][]time.Time{}}
}

// Allow reports whether another attempt for key may proceed now, and if
// not, how long until one may.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	recent := l.prune(key, now)
	if len(recent) < l.Max {
		return true, 0
	}
	return false, recent[0].Add(l.Window).Sub(now)
}

// Fail records a failed attempt for key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	l.failures[key] = append(l.prune(key, now), now)
	if len(l.failures) > 100_000 { // bound memory under a spray of keys
		for k := range l.failures {
			if len(l.prune(k, now)) == 0 {
				delete(l.failures, k)
			}
		}
	}
}

// Succeed clears the failures of key.
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

func (l *Limiter) prune(key string, now time.Time) []time.Time {
	fs := l.failures[key]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= l.Window {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(l.failures, key)
		return nil
	}
	l.failures[key] = fs
	return fs
}
