package notify

import (
	"context"
	"sync"
	"time"
)

// throttle holds the coalescing state of one run's progress events.
type throttle struct {
	mu      sync.Mutex
	last    time.Time
	pending *Event
	timer   *time.Timer
	ended   bool
}

func (t *throttle) cancel() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ended = true
	t.pending = nil
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
}

// throttled publishes a progress event at once when the run's previous one
// is older than the interval, and otherwise keeps it as the pending one,
// sent when the interval is over (a newer event replaces it meanwhile).
func (h *Hub) throttled(ev Event) error {
	h.throttleMu.Lock()
	t := h.throttles[ev.RunID]
	if t == nil {
		t = &throttle{}
		h.throttles[ev.RunID] = t
	}
	h.throttleMu.Unlock()

	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return nil
	}
	now := time.Now()
	if t.pending == nil && now.Sub(t.last) >= h.interval {
		t.last = now
		// Sent under t.mu so that a later end-of-run event cannot overtake it.
		return h.send(context.Background(), ev)
	}
	t.pending = &ev
	if t.timer == nil {
		wait := h.interval - now.Sub(t.last)
		t.timer = time.AfterFunc(wait, func() { h.flush(t) })
	}
	return nil
}

// flush sends a run's pending progress event.
func (h *Hub) flush(t *throttle) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.timer = nil
	if t.ended || t.pending == nil {
		return
	}
	ev := *t.pending
	t.pending = nil
	t.last = time.Now()
	if err := h.send(context.Background(), ev); err != nil {
		h.logger.Warn("publishing coalesced sync progress", "run_id", ev.RunID, "error", err)
	}
}

// endThrottle forgets a run's progress state and drops its pending event:
// the end-of-run event that follows carries the final counts.
func (h *Hub) endThrottle(runID int64) {
	h.throttleMu.Lock()
	t := h.throttles[runID]
	delete(h.throttles, runID)
	h.throttleMu.Unlock()
	if t != nil {
		t.cancel()
	}
}
