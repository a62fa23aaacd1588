package app_test

import (
	"net/http"
	"testing"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

// TestSyncNowAfterATemporaryFailure: a sync that failed with a temporary
// storage error waits for River's retry (an hour in these tests). Once the
// storage is back, Sync now must sync now — one new run, answered at once
// and run at once — not hand back the failed run (issue 9, defect 1).
func TestSyncNowAfterATemporaryFailure(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		admin, acct, _ := e.signup("admin@example.com", "A")
		folder := e.drive.CreateFolder(e.drive.RootID(), "Shared with Shelf")
		key, err := e.drive.ServiceAccountKey("shelf@project.iam.gserviceaccount.com")
		if err != nil {
			t.Fatal(err)
		}
		r := admin.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "gdrive", "folder_id": folder, "service_account_json": string(key)})
		if run := e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"])); run.State != catalog.RunSucceeded {
			t.Fatalf("first sync: %+v", run)
		}

		// Drive answers 503 to everything: the sync fails, retryable.
		e.drive.FailRandomly("", 1, drivefake.FaultUnavailable)
		r = admin.Must(http.StatusAccepted, "POST", "/api/v1/sync", nil)
		failed := e.waitRun(acct, apitest.Num(r.Obj("run")["id"]))
		if failed.State != catalog.RunFailed {
			t.Fatalf("sync during the outage: %+v", failed)
		}

		// Drive is back, and a file was added meanwhile.
		e.drive.ClearFaults()
		e.drive.CreateFile(folder, "brief.txt", "text/plain", []byte("brief"))
		r = admin.Must(http.StatusAccepted, "POST", "/api/v1/sync", nil)
		run := r.Obj("run")
		id := apitest.Num(run["id"])
		if id == failed.ID || run["state"] != catalog.RunQueued || r.Body["started"] != true {
			t.Fatalf("Sync now after the outage answered %s; want a new queued run, started", r.Raw)
		}
		done := e.waitRun(acct, id)
		if done.State != catalog.RunSucceeded || done.Counts.Added != 1 {
			t.Fatalf("the run Sync now started: %+v", done)
		}
		runs := admin.Must(200, "GET", "/api/v1/sync/runs", nil).List("runs")
		if len(runs) != 3 {
			t.Fatalf("%d runs in the history, want 3 (initial, failed, Sync now): one run per sync, the retry replaced", len(runs))
		}
	})
}
