package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/catalog"
)

func TestMassDeleteWaitsForAdminConfirmation(t *testing.T) {
	t.Parallel()
	e := start(t, "sqlite")
	admin, acct, _ := e.signup("admin@example.com", "A")
	for i := 0; i < 120; i++ {
		e.writeFile(fmt.Sprintf("mass/f%03d.txt", i), "x")
	}
	if run := e.connectLocal(admin, acct, "mass"); run.Counts.Added != 120 {
		t.Fatalf("initial sync: %+v", run.Counts)
	}
	for i := 0; i < 80; i++ {
		if err := os.Remove(filepath.Join(e.local, fmt.Sprintf("mass/f%03d.txt", i))); err != nil {
			t.Fatal(err)
		}
	}
	r := admin.Must(202, "POST", "/api/v1/sync", nil)
	held := e.waitRun(acct, apitest.Num(r.Obj("run")["id"]))
	if held.State != catalog.RunNeedsConfirmation || held.Counts.Removed != 0 {
		t.Fatalf("mass delete was not held: %+v", held)
	}
	if n := len(admin.Must(200, "GET", "/api/v1/assets?limit=1000", nil).List("assets")); n != 120 {
		t.Fatalf("library lost assets before confirmation: %d", n)
	}
	// Editors cannot confirm; an unknown run is 404.
	admin.Must(201, "POST", "/api/v1/users", map[string]any{"email": "ed@example.com", "password": apitest.Password, "role": "editor"})
	ed := apitest.New(t, e.url)
	ed.Login("ed@example.com", apitest.Password)
	ed.Must(403, "POST", fmt.Sprintf("/api/v1/sync/runs/%d/confirm", held.ID), nil)
	admin.Must(404, "POST", "/api/v1/sync/runs/999999/confirm", nil)

	r = admin.Must(202, "POST", fmt.Sprintf("/api/v1/sync/runs/%d/confirm", held.ID), nil)
	done := e.waitRun(acct, apitest.Num(r.Obj("run")["id"]))
	if done.State != catalog.RunSucceeded || done.Counts.Removed != 80 {
		t.Fatalf("confirmed run: %+v", done)
	}
	if n := len(admin.Must(200, "GET", "/api/v1/assets?limit=1000", nil).List("assets")); n != 40 {
		t.Fatalf("after confirmation: %d assets, want 40", n)
	}
	// The confirmed run is no longer confirmable.
	admin.Must(409, "POST", fmt.Sprintf("/api/v1/sync/runs/%d/confirm", held.ID), nil)
}

// TestHeldRemovalsListedOnTheRun: a run stopped by the mass-removal guard
// carries how many assets it would remove and the first 100 of their
// paths, in path order, so an admin can see what a confirmation removes.
func TestHeldRemovalsListedOnTheRun(t *testing.T) {
	t.Parallel()
	e := start(t, "sqlite")
	admin, acct, _ := e.signup("held@example.com", "H")
	for i := 0; i < 250; i++ {
		e.writeFile(fmt.Sprintf("held/d%d/f%03d.txt", i%2, i), "x")
	}
	e.connectLocal(admin, acct, "held")
	for i := 0; i < 150; i++ {
		if err := os.Remove(filepath.Join(e.local, fmt.Sprintf("held/d%d/f%03d.txt", i%2, i))); err != nil {
			t.Fatal(err)
		}
	}
	r := admin.Must(202, "POST", "/api/v1/sync", nil)
	held := e.waitRun(acct, apitest.Num(r.Obj("run")["id"]))
	if held.State != catalog.RunNeedsConfirmation {
		t.Fatalf("mass removal was not held: %+v", held)
	}
	run := admin.Must(200, "GET", fmt.Sprintf("/api/v1/sync/runs/%d", held.ID), nil).Obj("run")
	paths, _ := run["pending_removal_paths"].([]any)
	if apitest.Num(run["pending_removals"]) != 150 || len(paths) != 100 {
		t.Fatalf("held run: pending_removals %v, %d paths; want 150 and the first 100: %v", run["pending_removals"], len(paths), run)
	}
	// d0 holds the even files, d1 the odd ones: d0/f000 … d0/f148, then d1/….
	for i, p := range paths {
		if want := fmt.Sprintf("d0/f%03d.txt", 2*i); i < 75 && p != want {
			t.Fatalf("path %d is %v, want %s (paths in order): %v", i, p, want, paths)
		}
		if want := fmt.Sprintf("d1/f%03d.txt", 2*(i-75)+1); i >= 75 && p != want {
			t.Fatalf("path %d is %v, want %s (paths in order): %v", i, p, want, paths)
		}
	}
	// The notification (and the webhooks, and the live event) carry them too.
	var note map[string]any
	for deadline := time.Now().Add(10 * time.Second); note == nil; time.Sleep(20 * time.Millisecond) {
		for _, n := range admin.Must(200, "GET", "/api/v1/notifications", nil).List("notifications") {
			if m := n.(map[string]any); m["kind"] == "sync.needs_confirmation" {
				note = m
			}
		}
		if note == nil && time.Now().After(deadline) {
			t.Fatal("no sync.needs_confirmation notification within 10 s")
		}
	}
	data, _ := note["data"].(map[string]any)
	if notePaths, _ := data["pending_removal_paths"].([]any); apitest.Num(data["pending_removals"]) != 150 || len(notePaths) != 100 {
		t.Fatalf("the notification's run: %v", data)
	}
	list := admin.Must(200, "GET", "/api/v1/sync/runs", nil).List("runs")
	if top := list[0].(map[string]any); apitest.Num(top["pending_removals"]) != 150 {
		t.Fatalf("the history's held run: %v", top)
	}
	r = admin.Must(202, "POST", fmt.Sprintf("/api/v1/sync/runs/%d/confirm", held.ID), nil)
	done := e.waitRun(acct, apitest.Num(r.Obj("run")["id"]))
	after := admin.Must(200, "GET", fmt.Sprintf("/api/v1/sync/runs/%d", done.ID), nil).Obj("run")
	if done.State != catalog.RunSucceeded || done.Counts.Removed != 150 || apitest.Num(after["pending_removals"]) != 0 || after["pending_removal_paths"] != nil {
		t.Fatalf("the confirmed run: %+v %v", done, after)
	}
}

// TestEmptiedStorageCanBeConfirmed: a storage root emptied on purpose
// stops the sync for confirmation (not a failure), and the admin's confirm
// empties the library (issue 10, defect 12: the failed run told the admin
// to confirm, and confirm answered 409 not_confirmable).
func TestEmptiedStorageCanBeConfirmed(t *testing.T) {
	t.Parallel()
	e := start(t, "sqlite")
	admin, acct, _ := e.signup("admin@example.com", "A")
	for i := range 5 {
		e.writeFile(fmt.Sprintf("gone/f%d.txt", i), "x")
	}
	if run := e.connectLocal(admin, acct, "gone"); run.Counts.Added != 5 {
		t.Fatalf("initial sync: %+v", run.Counts)
	}
	for i := range 5 {
		if err := os.Remove(filepath.Join(e.local, fmt.Sprintf("gone/f%d.txt", i))); err != nil {
			t.Fatal(err)
		}
	}
	r := admin.Must(202, "POST", "/api/v1/sync", nil)
	held := e.waitRun(acct, apitest.Num(r.Obj("run")["id"]))
	if held.State != catalog.RunNeedsConfirmation || held.PendingRemovals != 5 {
		t.Fatalf("sync of an emptied root: %+v", held)
	}
	r = admin.Must(202, "POST", fmt.Sprintf("/api/v1/sync/runs/%d/confirm", held.ID), nil)
	if done := e.waitRun(acct, apitest.Num(r.Obj("run")["id"])); done.State != catalog.RunSucceeded || done.Counts.Removed != 5 {
		t.Fatalf("confirmed run: %+v", done)
	}
	if n := len(admin.Must(200, "GET", "/api/v1/assets?limit=1000", nil).List("assets")); n != 0 {
		t.Fatalf("after confirmation: %d assets, want 0", n)
	}
}
