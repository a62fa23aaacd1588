package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// A live batch whose removals the mass-removal guard held records
// needs_confirmation on the hour's live run; the very next live batch of
// the hour (any change) overwrites it with succeeded, so the admin can no
// longer confirm (409) and the held removals stay in the library until
// the daily reconciliation — even though the message told them to
// confirm.
func TestLiveHeldRemovalsStayConfirmable(t *testing.T) {
	e := startLive(t, "sqlite")
	c, acct, _ := e.signup("hold@example.com", "Hold team")
	for i := 0; i < 50; i++ {
		e.writeFile(fmt.Sprintf("lib/keep/%03d.txt", i), "k")
	}
	for i := 0; i < 70; i++ {
		e.writeFile(fmt.Sprintf("lib/drop/%03d.txt", i), "d")
	}
	e.connectLocal(c, acct, "lib")
	e.waitCaughtUp(c)

	if err := os.RemoveAll(filepath.Join(e.local, "lib/drop")); err != nil {
		t.Fatal(err)
	}
	var held catalog.SyncRun
	waitFor(t, "the live batch holds the removals", func() bool {
		runs, _ := e.a.Store.ListSyncRuns(context.Background(), acct, 10)
		for _, r := range runs {
			if r.Trigger == catalog.TriggerLive && r.State == catalog.RunNeedsConfirmation {
				held = r
				return true
			}
		}
		return false
	})
	t.Logf("held: run %d pending=%d error=%q", held.ID, held.PendingRemovals, held.Error)

	// Someone adds a file: the next live batch of the same hour.
	e.writeFile("lib/keep/new.txt", "n")
	waitFor(t, "the new file shows", func() bool { _, ok := e.asset(acct, "keep/new.txt"); return ok })

	cur, err := e.a.Store.GetSyncRun(context.Background(), acct, held.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.State != catalog.RunNeedsConfirmation {
		t.Errorf("the held removals' run is now %q (pending_removals=%d, error=%q): the confirmation is gone", cur.State, cur.PendingRemovals, cur.Error)
	}
	r := c.Do("POST", "/api/v1/sync/runs/"+itoa(held.ID)+"/confirm", nil)
	if r.Status != 202 {
		t.Errorf("confirming the held removals: %d %v", r.Status, r.Body)
	}
	if _, ok := e.asset(acct, "drop/000.txt"); !ok {
		t.Log("(removal applied)")
	}
}

// Stopping a process (a deploy, SIGTERM) while live batches run is no
// failure: no live run is marked failed and nobody is told a sync failed.
func TestLiveShutdownIsNoFailure(t *testing.T) {
	e := startLive(t, "sqlite")
	c, acct, user := e.signup("stop@example.com", "Stop team")
	for i := 0; i < 4000; i++ {
		e.writeFile(fmt.Sprintf("lib/d%02d/%04d.txt", i%40, i), "x")
	}
	e.connectLocal(c, acct, "lib")
	e.waitWatched(c)
	// New files while watched: batches keep coming; catch one in flight.
	go func() {
		for i := 0; i < 2000; i++ {
			p := filepath.Join(e.local, fmt.Sprintf("lib/more/%04d.txt", i))
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			_ = os.WriteFile(p, []byte("m"), 0o644)
		}
	}()
	waitFor(t, "live batches under way", func() bool {
		_, ok := e.asset(acct, "more/0000.txt")
		return ok
	})
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = e.svc.Stop(sctx)
	runs, _ := e.a.Store.ListSyncRuns(context.Background(), acct, 10)
	for _, r := range runs {
		t.Logf("run %d %s %s %q", r.ID, r.Trigger, r.State, r.Error)
		if r.Trigger == catalog.TriggerLive && r.State == catalog.RunFailed {
			t.Errorf("a graceful stop failed the live run: %q", r.Error)
		}
	}
	ns, _ := e.a.Store.ListNotifications(context.Background(), acct, user, false, 0, 10)
	for _, n := range ns {
		if strings.HasPrefix(n.Kind, "sync.failed") {
			t.Errorf("a graceful stop sent a failure notification: %+v", n)
		}
	}
}
