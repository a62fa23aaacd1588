package web

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// limiter is an admission budget: at most total requests of its class run
// at once in this process, and at most perAccount of one account. A request
// over budget waits in a first-come queue (at most queue per account, and
// queue×8 in all) for up to wait, then is refused. Whoever is refused is
// told to come back after Retry-After, so a flood costs the server little
// and other accounts keep being served.
type limiter struct {
	class      string // "query" or "transfer": metrics and messages
	what       string // what the budget counts, for messages ("searches and listings")
	total      int
	perAccount int
	queue      int
	wait       time.Duration

	mu       sync.Mutex
	running  int
	accounts map[int64]*accountLoad
	waiters  []*waiter // first come, first served among those that fit
}

// accountLoad is one account's share of a limiter.
type accountLoad struct{ running, waiting int }

// waiter is a request waiting for a slot; ready is closed when it got one.
type waiter struct {
	account int64
	ready   chan struct{}
	granted bool
}

func newLimiter(class, what string, total, perAccount, queue int, wait time.Duration) *limiter {
	return &limiter{class: class, what: what, total: max(total, 1), perAccount: max(min(perAccount, total), 1),
		queue: max(queue, 0), wait: wait, accounts: map[int64]*accountLoad{}}
}

// Refusal reasons, also the metric's label values.
const (
	refusedAccount = "account" // the account used its share: 429
	refusedServer  = "server"  // the process is full: 503
)

// acquire waits for a slot of account's share. It returns the function
// that gives the slot back, or the refusal (429, 503 with Retry-After), or
// ctx's error when the client went away while waiting.
func (l *limiter) acquire(ctx context.Context, account int64) (release func(), reason string, err error) {
	l.mu.Lock()
	a := l.load(account)
	if l.running < l.total && a.running < l.perAccount {
		l.running++
		a.running++
		l.mu.Unlock()
		return l.releaser(account), "", nil
	}
	if a.waiting >= l.queue || len(l.waiters) >= l.queue*8 {
		reason := l.reason(a)
		l.forget(account, a)
		l.mu.Unlock()
		return nil, reason, l.refusal(reason)
	}
	w := &waiter{account: account, ready: make(chan struct{})}
	l.waiters = append(l.waiters, w)
	a.waiting++
	l.mu.Unlock()

	timer := time.NewTimer(l.wait)
	defer timer.Stop()
	select {
	case <-w.ready:
		return l.releaser(account), "", nil
	case <-timer.C:
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w.granted { // given a slot while timing out
		return l.releaser(account), "", nil
	}
	for i, o := range l.waiters {
		if o == w {
			l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
			break
		}
	}
	a.waiting--
	reason = l.reason(a)
	l.forget(account, a)
	if ctx.Err() != nil {
		return nil, "", ctx.Err()
	}
	return nil, reason, l.refusal(reason)
}

// reason says whose budget was short: the account's own, or the process's.
func (l *limiter) reason(a *accountLoad) string {
	if a.running >= l.perAccount {
		return refusedAccount
	}
	return refusedServer
}

func (l *limiter) refusal(reason string) *apiError {
	after := max(l.wait.Round(time.Second), time.Second)
	if reason == refusedAccount {
		return &apiError{Status: http.StatusTooManyRequests, Code: "too_many_requests", RetryAfter: after,
			Message: fmt.Sprintf("your account already has %d %s running and more waiting; try again in %d s, or send fewer at once", l.perAccount, l.what, int(after.Seconds()))}
	}
	return &apiError{Status: http.StatusServiceUnavailable, Code: "server_busy", RetryAfter: after, quiet: true,
		Message: fmt.Sprintf("the server is busy with %s of other accounts; try again in %d s", l.what, int(after.Seconds()))}
}

func (l *limiter) load(account int64) *accountLoad {
	a := l.accounts[account]
	if a == nil {
		a = &accountLoad{}
		l.accounts[account] = a
	}
	return a
}

// forget drops an idle account's entry so the map holds active ones only.
func (l *limiter) forget(account int64, a *accountLoad) {
	if a.running == 0 && a.waiting == 0 {
		delete(l.accounts, account)
	}
}

// releaser returns the function that gives account's slot back (once).
func (l *limiter) releaser(account int64) func() {
	var once sync.Once
	return func() { once.Do(func() { l.release(account) }) }
}

// release gives a slot back and hands free slots to the waiters that
// fit, in their order of arrival; one whose account is at its share does
// not hold up the others.
func (l *limiter) release(account int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.running--
	a := l.accounts[account]
	a.running--
	l.forget(account, a)
	for i := 0; i < len(l.waiters) && l.running < l.total; {
		w := l.waiters[i]
		wa := l.accounts[w.account]
		if wa.running >= l.perAccount {
			i++
			continue
		}
		l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
		wa.waiting--
		wa.running++
		l.running++
		w.granted = true
		close(w.ready)
	}
}

// usage is the number of requests running and waiting, for metrics.
func (l *limiter) usage() (running, waiting int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.running, len(l.waiters)
}
