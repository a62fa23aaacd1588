package drivefake

import (
	"context"
	"sync"
)

// notifier runs push-notification deliveries one after another on a
// goroutine of its own, so that recording a change never waits for a
// receiver. It stops with the server.
type notifier struct {
	mu     sync.Mutex
	cond   *sync.Cond // signalled when jobs arrive, one ends, or it closes
	jobs   []func(context.Context)
	busy   bool
	closed bool
	ctx    context.Context // cancelled by close, ending a delivery in flight
	cancel context.CancelFunc
	done   chan struct{}
}

func newNotifier() *notifier {
	ctx, cancel := context.WithCancel(context.Background())
	n := &notifier{ctx: ctx, cancel: cancel, done: make(chan struct{})}
	n.cond = sync.NewCond(&n.mu)
	go n.run()
	return n
}

// enqueue adds a delivery; after close it is dropped.
func (n *notifier) enqueue(job func(context.Context)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	n.jobs = append(n.jobs, job)
	n.cond.Broadcast()
}

func (n *notifier) run() {
	defer close(n.done)
	for {
		n.mu.Lock()
		for len(n.jobs) == 0 && !n.closed {
			n.cond.Wait()
		}
		if n.closed {
			n.mu.Unlock()
			return
		}
		job := n.jobs[0]
		n.jobs[0] = nil
		n.jobs = n.jobs[1:]
		n.busy = true
		n.mu.Unlock()

		job(n.ctx)

		n.mu.Lock()
		n.busy = false
		n.cond.Broadcast()
		n.mu.Unlock()
	}
}

// flush waits until every delivery queued so far has ended (or the
// notifier is closed).
func (n *notifier) flush() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for (len(n.jobs) > 0 || n.busy) && !n.closed {
		n.cond.Wait()
	}
}

// close drops what is queued, cancels a delivery in flight and waits for
// the goroutine to end. It may be called more than once.
func (n *notifier) close() {
	n.mu.Lock()
	n.closed = true
	n.jobs = nil
	n.cond.Broadcast()
	n.mu.Unlock()
	n.cancel()
	<-n.done
}
