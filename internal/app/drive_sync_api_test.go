package app_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

// syncNow starts a manual sync through the API and waits for it.
func (e *env) syncNow(c *apitest.Client, accountID int64) catalog.SyncRun {
	e.t.Helper()
	r := c.Must(202, "POST", "/api/v1/sync", nil)
	if r.Body["started"] != true {
		e.t.Fatalf("POST /api/v1/sync did not start a sync: %s", r.Raw)
	}
	return e.waitRun(accountID, apitest.Num(r.Obj("run")["id"]))
}

// libraryPaths lists the paths of the account's assets, sorted.
func libraryPaths(c *apitest.Client) []string {
	var out []string
	for _, a := range c.Must(200, "GET", "/api/v1/assets?recursive=true", nil).List("assets") {
		out = append(out, a.(map[string]any)["path"].(string))
	}
	slices.Sort(out)
	return out
}

// TestDriveSyncAfterRefusedChangesToken: whichever way Drive refuses the
// saved changes token (400, 404, 410), POST /api/v1/sync succeeds with a
// full scan that brings the library up to date and saves a new token, and
// the sync after it reads the changes feed again.
func TestDriveSyncAfterRefusedChangesToken(t *testing.T) {
	t.Parallel()
	e := start(t, "sqlite")
	ctx := context.Background()
	admin, acct, _ := e.signup("admin@example.com", "A")
	folder := e.drive.CreateFolder(e.drive.RootID(), "Shelf")
	gone := e.drive.CreateFile(folder, "gone.jpg", "image/jpeg", []byte("deleted while the token lapsed"))
	e.drive.CreateFile(folder, "first.jpg", "image/jpeg", []byte("first"))
	key, err := e.drive.ServiceAccountKey("shelf@project.iam.gserviceaccount.com")
	if err != nil {
		t.Fatal(err)
	}
	r := admin.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "gdrive", "folder_id": folder, "service_account_json": string(key)})
	if run := e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"])); run.State != catalog.RunSucceeded {
		t.Fatalf("initial sync: %+v", run)
	}
	if err := e.drive.Delete(gone); err != nil {
		t.Fatal(err)
	}
	want := []string{"first.jpg"}
	for i, how := range []drivefake.TokenRejection{drivefake.TokenInvalid, drivefake.TokenNotFound, drivefake.TokenGone} {
		before, err := e.a.Store.GetConnection(ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("added-%d.jpg", i)
		e.drive.CreateFile(folder, name, "image/jpeg", []byte(name))
		want = append(want, name)
		slices.Sort(want)
		e.drive.RejectChangeTokens(how)

		run := e.syncNow(admin, acct)
		if run.State != catalog.RunSucceeded || run.Counts.Added != 1 {
			t.Fatalf("sync after Drive refused the token (%v): %+v", how, run)
		}
		if got := libraryPaths(admin); !slices.Equal(got, want) {
			t.Fatalf("library after the rescan (%v): %v, want %v", how, got, want)
		}
		after, err := e.a.Store.GetConnection(ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		if after.SyncCursor == "" || after.SyncCursor == before.SyncCursor || after.LastFullScanAt == nil || !after.LastFullScanAt.After(*before.LastFullScanAt) {
			t.Fatalf("after the rescan (%v): token %q (was %q), last full scan %v (was %v); want a new token from a new full scan",
				how, after.SyncCursor, before.SyncCursor, after.LastFullScanAt, before.LastFullScanAt)
		}
		if st := admin.Must(200, "GET", "/api/v1/storage", nil); st.Obj("storage")["status"] != "ok" {
			t.Fatalf("storage after the rescan: %s", st.Raw)
		}
	}

	before, err := e.a.Store.GetConnection(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	e.drive.CreateFile(folder, "last.jpg", "image/jpeg", []byte("last"))
	feedCalls := e.drive.Calls("changes.list")
	run := e.syncNow(admin, acct)
	after, err := e.a.Store.GetConnection(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != catalog.RunSucceeded || run.Counts.Added != 1 || e.drive.Calls("changes.list") == feedCalls || !after.LastFullScanAt.Equal(*before.LastFullScanAt) {
		t.Fatalf("sync after the rescans: %+v (changes.list %d → %d, last full scan %v → %v); want the changes feed adding last.jpg",
			run, feedCalls, e.drive.Calls("changes.list"), before.LastFullScanAt, after.LastFullScanAt)
	}
	if got := libraryPaths(admin); !slices.Contains(got, "last.jpg") {
		t.Fatalf("library after the feed sync: %v", got)
	}
}
