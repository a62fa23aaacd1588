package live

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/syncrun"
)

type failing struct {
	mu    sync.Mutex
	times []time.Time
}

func (f *failing) LiveBatch(context.Context, int64, []string) (syncrun.LiveResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.times = append(f.times, time.Now())
	return syncrun.LiveResult{}, errors.New("the bucket is gone")
}

// A live batch that keeps failing is retried every 2 s for ever: the
// backoff is computed from the time left of the previous one, which is
// always zero when the next attempt runs, so it never grows.
func TestLiveBackoffGrows(t *testing.T) {
	s := openStore(t, "sqlite")
	ids, pol := liveAccounts(t, s, 1)
	f := &failing{}
	svc := newService(t, s, pol, "node-a", f)
	stop := run(t, svc)
	time.Sleep(11 * time.Second)
	stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	var gaps []time.Duration
	for i := 1; i < len(f.times); i++ {
		gaps = append(gaps, f.times[i].Sub(f.times[i-1]).Round(100*time.Millisecond))
	}
	t.Logf("account %d: %d attempts, gaps %v", ids[0], len(f.times), gaps)
	if len(gaps) >= 3 && gaps[len(gaps)-1] <= gaps[0] {
		t.Errorf("the retry delay does not grow: %v", gaps)
	}
}
