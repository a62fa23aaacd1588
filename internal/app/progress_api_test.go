package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/syncer"
	"github.com/shelf-dam/shelf/internal/syncrun"
)

// pauser holds a sync at its first progress report until released.
type pauser struct {
	mu      sync.Mutex
	armed   bool
	paused  chan struct{}
	release chan struct{}
}

func newPauser() *pauser {
	return &pauser{paused: make(chan struct{}), release: make(chan struct{})}
}

// arm makes the next sync stop at its first progress report.
func (p *pauser) arm() { p.mu.Lock(); p.armed = true; p.mu.Unlock() }

func (p *pauser) take() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ok := p.armed
	p.armed = false
	return ok
}

// tweak wraps the sync service's engine.
func (p *pauser) tweak(c *syncrun.Config) {
	c.Engine = pausingEngine{p: p, next: c.Engine}
}

// pausingEngine holds the armed sync at its first progress report.
type pausingEngine struct {
	p    *pauser
	next syncrun.Engine
}

func (e pausingEngine) Run(ctx context.Context, job syncer.Job) (syncer.Result, error) {
	if e.p.take() {
		report, first := job.Progress, true
		job.Progress = func(pr catalog.RunProgress) {
			if first {
				first = false
				close(e.p.paused)
				<-e.p.release
			}
			report(pr)
		}
	}
	return e.next.Run(ctx, job)
}

// waitPaused waits for the armed sync to reach its first report.
func (p *pauser) waitPaused(t *testing.T) {
	t.Helper()
	select {
	case <-p.paused:
	case <-time.After(30 * time.Second):
		t.Fatal("the sync reported no progress within 30 s of starting")
	}
}

// TestRunViewShowsProgressWhileRunning: while a sync runs, its run (alone,
// in the history and in the sync state) says which phase it is in, the
// estimate from the previous listing, and no rate or time left before one
// is known; once finished it says done and drops rate and time left.
func TestRunViewShowsProgressWhileRunning(t *testing.T) {
	t.Parallel()
	p := newPauser()
	e := startWith(t, "sqlite", nil, p.tweak)
	c, acct, _ := e.signup("progress@example.com", "P")
	for i := range 12 {
		e.writeFile(fmt.Sprintf("prog/d%d/f%02d.txt", i%3, i), "x")
	}
	first := e.connectLocal(c, acct, "prog")
	if first.State != catalog.RunSucceeded || first.Counts.Seen != 15 {
		t.Fatalf("initial sync: %+v", first)
	}
	r := c.Must(200, "GET", fmt.Sprintf("/api/v1/sync/runs/%d", first.ID), nil).Obj("run")
	if r["phase"] != "done" || r["rate_per_second"] != nil || r["eta_seconds"] != nil {
		t.Fatalf("a finished run: %v; want phase done, no rate, no time left", r)
	}
	if _, ok := r["estimate"]; !ok || r["estimate"] != nil {
		t.Fatalf("the first sync's estimate: %v; want null (nothing was listed before)", r)
	}

	p.arm()
	started := c.Must(202, "POST", "/api/v1/sync", nil).Obj("run")
	id := apitest.Num(started["id"])
	p.waitPaused(t)
	defer func() {
		select {
		case <-p.release:
		default:
			close(p.release)
		}
	}()
	run := c.Must(200, "GET", fmt.Sprintf("/api/v1/sync/runs/%d", id), nil).Obj("run")
	if run["state"] != "running" || run["phase"] != "listing" || apitest.Num(run["estimate"]) != 15 {
		t.Fatalf("the running run: %v; want running, listing, an estimate of the 15 entries listed last time", run)
	}
	for _, k := range []string{"rate_per_second", "eta_seconds"} {
		if v, ok := run[k]; !ok || v != nil {
			t.Errorf("%s = %v (present %v); want null before a rate is known", k, v, ok)
		}
	}
	runs := c.Must(200, "GET", "/api/v1/sync/runs", nil).List("runs")
	if len(runs) < 2 || apitest.Num(runs[0].(map[string]any)["id"]) != id || runs[0].(map[string]any)["phase"] != "listing" {
		t.Fatalf("history while running: %v; want the running run first", runs)
	}
	st := c.Must(200, "GET", "/api/v1/sync", nil)
	if rr := st.Obj("running_run"); st.Body["state"] != "running" || rr["phase"] != "listing" {
		t.Fatalf("sync state while running: %s", st.Raw)
	}
	close(p.release)
	done := e.waitRun(acct, id)
	if done.State != catalog.RunSucceeded {
		t.Fatalf("the run: %+v", done)
	}
	run = c.Must(200, "GET", fmt.Sprintf("/api/v1/sync/runs/%d", id), nil).Obj("run")
	if run["phase"] != "done" || run["rate_per_second"] != nil || run["eta_seconds"] != nil || apitest.Num(run["estimate"]) != 15 {
		t.Fatalf("the finished run: %v", run)
	}
}

// TestEndEventCarriesTheEstimate: the sync.completed event shows the run
// as the API does — its estimate (the previous listing's count) included;
// it used to carry the worker's copy, whose estimate was null.
func TestEndEventCarriesTheEstimate(t *testing.T) {
	t.Parallel()
	e := start(t, "sqlite")
	c, acct, _ := e.signup("estimate@example.com", "E")
	e.writeFile("est/a.txt", "a")
	e.writeFile("est/b.txt", "b")
	if run := e.connectLocal(c, acct, "est"); run.State != catalog.RunSucceeded {
		t.Fatalf("first sync: %+v", run)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan map[string]any, 100)
	go readEvents(ctx, t, c, events)
	time.Sleep(200 * time.Millisecond) // the stream is open
	r := c.Must(202, "POST", "/api/v1/sync", nil)
	id := apitest.Num(r.Obj("run")["id"])
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev["type"] != "sync.completed" {
				continue
			}
			data, _ := ev["data"].(map[string]any)
			if apitest.Num(data["id"]) != id {
				continue
			}
			if est, ok := data["estimate"].(float64); !ok || est != 2 {
				t.Fatalf("sync.completed estimate = %v, want the previous listing's 2", data["estimate"])
			}
			return
		case <-deadline:
			t.Fatal("no sync.completed event within 30 s")
		}
	}
}
