package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

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
