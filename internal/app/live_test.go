package app_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/config"
	"github.com/shelf-dam/shelf/internal/live"
)

// livePolicy makes the trial plan (every new account's) sync live.
const livePolicy = `
[plans.trial]
drive_auto = "live"
s3_auto = "live"
local_auto = "live"
`

// startLive starts a server whose trial plan syncs live; extra goes at the
// top of the policy file, mod (when set) adjusts the configuration.
func startLive(t *testing.T, dialect string, extra ...any) *env {
	t.Helper()
	text := livePolicy
	var mod func(*config.Config)
	var liveTweak func(*live.Config)
	for _, x := range extra {
		switch v := x.(type) {
		case string:
			text = v + "\n" + text
		case func(*config.Config):
			mod = v
		case func(*live.Config):
			liveTweak = v
		}
	}
	pf := filepath.Join(t.TempDir(), "policy.toml")
	if err := os.WriteFile(pf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return startWithLive(t, dialect, func(c *config.Config) {
		c.PolicyFile = pf
		if mod != nil {
			mod(c)
		}
	}, nil, liveTweak)
}

// asset returns the live asset at a storage path, or false.
func (e *env) asset(accountID int64, path string) (catalog.Asset, bool) {
	a, err := e.a.Store.GetAssetByStorageID(context.Background(), accountID, path)
	if errors.Is(err, catalog.ErrNotFound) || (err == nil && a.RemovedAt != nil) {
		return a, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return a, true
}

// waitWatched waits until a process watches the account live.
func (e *env) waitWatched(c *apitest.Client) map[string]any {
	e.t.Helper()
	var body map[string]any
	waitFor(e.t, "the account watched live", func() bool {
		r := c.Must(200, "GET", "/api/v1/sync", nil)
		body = r.Body
		return body["live_mode"] != nil && body["live_mode"] != "" && body["state"] == "idle"
	})
	return body
}

// waitCaughtUp waits until the catch-up a watcher starts with (a
// reconciliation of what changed while nobody watched: a queued sync, or
// for Drive a live batch reading the feed) was applied.
func (e *env) waitCaughtUp(c *apitest.Client) {
	e.t.Helper()
	e.waitWatched(c)
	acct := apitest.Num(c.Must(200, "GET", "/api/v1/account", nil).Obj("account")["id"])
	waitFor(e.t, "the live catch-up", func() bool {
		ctx := context.Background()
		if _, err := e.a.Store.ActiveSyncRun(ctx, acct); err == nil {
			return false
		}
		if n, err := e.a.Store.LiveEventsWaiting(ctx, acct); err != nil || n > 0 {
			return false
		}
		runs, err := e.a.Store.ListSyncRuns(ctx, acct, 20)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, r := range runs {
			if (r.Trigger == catalog.TriggerLive || r.Trigger == catalog.TriggerAuto) && r.State == catalog.RunSucceeded {
				return true
			}
		}
		return false
	})
}

// liveChanges sums the changes the account's live runs counted.
func (e *env) liveChanges(acct int64) int64 {
	e.t.Helper()
	runs, err := e.a.Store.ListSyncRuns(context.Background(), acct, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	var n int64
	for _, r := range runs {
		if r.Trigger == catalog.TriggerLive {
			n += r.Counts.Changes()
		}
	}
	return n
}

// A user on a live plan adds, changes, renames, moves and deletes files
// in a local folder and sees each change in the library within seconds,
// with moves keeping the team's tags; the catalog then equals what a full
// sync finds (a manual sync changes nothing).
func TestLiveLocalFolder(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := startLive(t, dialect)
		c, acct, _ := e.signup("live@example.com", "Live team")
		e.writeFile("lib/start.txt", "start")
		e.connectLocal(c, acct, "lib")
		st := e.waitWatched(c)
		if st["live"] != true || st["live_mode"] != "push" || !strings.Contains(st["live_note"].(string), "as they happen") {
			t.Fatalf("sync status of a live local folder: %v", st)
		}
		// The watcher's catch-up (a queued reconciliation) holds the
		// library while it runs: edits below would get 423.
		e.waitCaughtUp(c)

		// A new file.
		e.writeFile("lib/a.txt", "alpha")
		waitFor(t, "a new file shows", func() bool { _, ok := e.asset(acct, "a.txt"); return ok })
		a, _ := e.asset(acct, "a.txt")
		c.Must(200, "PATCH", "/api/v1/assets/"+itoa(a.ID), map[string]any{"tags": []string{"keep"}})

		// A folder created and filled at once.
		e.writeFile("lib/new/deep/x.txt", "x")
		e.writeFile("lib/new/deep/y.txt", "y")
		waitFor(t, "a folder created and filled at once shows", func() bool {
			_, x := e.asset(acct, "new/deep/x.txt")
			_, y := e.asset(acct, "new/deep/y.txt")
			return x && y
		})

		// A content change.
		e.writeFile("lib/a.txt", "alpha, longer now")
		waitFor(t, "a content change shows", func() bool { a, ok := e.asset(acct, "a.txt"); return ok && a.Size == 17 })

		// A rename of a file, then a move of a folder holding one: tags kept.
		if err := os.Rename(filepath.Join(e.local, "lib/a.txt"), filepath.Join(e.local, "lib/new/b.txt")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a moved file shows at its new path", func() bool { _, ok := e.asset(acct, "new/b.txt"); return ok })
		if _, ok := e.asset(acct, "a.txt"); ok {
			t.Fatal("the moved file is still at its old path")
		}
		if err := os.Rename(filepath.Join(e.local, "lib/new"), filepath.Join(e.local, "lib/renamed")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a renamed folder's files show under its new name", func() bool {
			_, b := e.asset(acct, "renamed/b.txt")
			_, x := e.asset(acct, "renamed/deep/x.txt")
			return b && x
		})
		moved, _ := e.asset(acct, "renamed/b.txt")
		if moved.ID != a.ID || len(moved.Tags) != 1 || moved.Tags[0] != "keep" {
			t.Fatalf("a file moved twice lost its identity or tags: %+v (was asset %d)", moved, a.ID)
		}

		// A whole subtree deleted.
		if err := os.RemoveAll(filepath.Join(e.local, "lib/renamed")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a deleted subtree goes", func() bool {
			_, b := e.asset(acct, "renamed/b.txt")
			_, x := e.asset(acct, "renamed/deep/y.txt")
			return !b && !x
		})

		// The history sums the batches in one live run of the hour, and
		// last_change_at is set.
		r := c.Must(200, "GET", "/api/v1/sync/runs", nil)
		live := 0
		for _, it := range r.List("runs") {
			if it.(map[string]any)["trigger"] == "live" {
				live++
			}
		}
		if live != 1 {
			t.Fatalf("want one live run in the history, got %d: %v", live, r.Body)
		}
		if st := c.Must(200, "GET", "/api/v1/sync", nil); st.Body["last_change_at"] == nil {
			t.Fatalf("last_change_at missing: %v", st.Body)
		}

		// Shelf's own write-through changes come back as events and change
		// nothing: after a folder made in Shelf and a rename of a file in
		// Shelf, a marker file written later shows, and the live run
		// counted the marker alone.
		e.writeFile("lib/own.txt", "own")
		waitFor(t, "own.txt shows", func() bool { _, ok := e.asset(acct, "own.txt"); return ok })
		before := e.liveChanges(acct)
		c.Must(201, "POST", "/api/v1/folders", map[string]any{"name": "made in shelf"})
		own, _ := e.asset(acct, "own.txt")
		c.Must(200, "PATCH", "/api/v1/assets/"+itoa(own.ID), map[string]any{"name": "renamed in shelf.txt"})
		e.writeFile("lib/marker.txt", "m")
		waitFor(t, "the marker shows", func() bool { _, ok := e.asset(acct, "marker.txt"); return ok })
		if _, ok := e.asset(acct, "renamed in shelf.txt"); !ok {
			t.Fatal("the rename made in Shelf is not in the catalog")
		}
		// A batch's rows are committed before its counts are summed into
		// the hour's run: wait for the count, then check it is the marker
		// alone.
		waitFor(t, "the marker counted in the live run", func() bool { return e.liveChanges(acct)-before >= 1 })
		if got := e.liveChanges(acct) - before; got != 1 {
			t.Fatalf("live batches changed %d rows after Shelf's own writes and a marker, want 1 (the marker)", got)
		}

		// Nothing was lost: a full sync finds nothing to change.
		rr := c.Must(202, "POST", "/api/v1/sync", nil)
		run := e.waitRun(acct, apitest.Num(rr.Obj("run")["id"]))
		if run.State != catalog.RunSucceeded || run.Counts.Changes() != 0 {
			t.Fatalf("a full sync after the live batches changed something: %+v", run)
		}
	})
}

// The events URL refuses what it must: an unknown key (404), a body that
// is not an S3 event (400), one over 1 MiB (413), an unsigned SNS message
// (403) — and none of them changes the library.
func TestStorageEventsRefusals(t *testing.T) {
	t.Parallel()
	e := startLive(t, "sqlite")
	post := func(key, body string, h map[string]string) int {
		req, _ := http.NewRequest("POST", e.url+"/api/v1/storage/events/"+key, strings.NewReader(body))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("no-such-key", `{"Records":[]}`, nil); got != 404 {
		t.Fatalf("unknown key: %d, want 404", got)
	}
	c, acct, _ := e.signup("ev@example.com", "Events team")
	e.writeFile("ev/a.txt", "a")
	e.connectLocal(c, acct, "ev")
	key, err := e.a.Store.EventsKey(context.Background(), acct)
	if err != nil {
		t.Fatal(err)
	}
	// A local folder's URL takes Drive notifications only.
	if got := post(key, `{"Records":[]}`, nil); got != 400 {
		t.Fatalf("S3 events for a local folder: %d, want 400", got)
	}
	big := bytes.Repeat([]byte("x"), 1<<20+1)
	if got := post(key, string(big), nil); got != 413 {
		t.Fatalf("a body over 1 MiB: %d, want 413", got)
	}
	// A Drive notification on a channel nobody opened.
	if got := post(key, "", map[string]string{"X-Goog-Channel-ID": "x", "X-Goog-Channel-Token": "y", "X-Goog-Resource-State": "change"}); got != 400 {
		t.Fatalf("a Drive notification for a local folder: %d, want 400", got)
	}
}

// Reconnecting the storage (another folder) makes the watcher follow: a
// file written into the new folder shows live.
func TestLiveReconnectWatchesTheNewFolder(t *testing.T) {
	t.Parallel()
	e := startLive(t, "sqlite")
	c, acct, _ := e.signup("reconnect@example.com", "Reconnect team")
	e.writeFile("first/a.txt", "a")
	e.connectLocal(c, acct, "first")
	e.waitCaughtUp(c)
	e.writeFile("second/b.txt", "b")
	r := c.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "local", "path": filepath.Join(e.local, "second"), "confirm_root_change": true})
	e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"]))
	waitFor(t, "the initial sync of the new folder", func() bool { _, ok := e.asset(acct, "b.txt"); return ok })
	e.waitWatched(c)
	e.writeFile("second/new.txt", "new")
	waitFor(t, "a file in the new folder shows live", func() bool { _, ok := e.asset(acct, "new.txt"); return ok })
}
