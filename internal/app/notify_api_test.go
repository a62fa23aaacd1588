package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/catalog"
)

// TestNoNotificationForSyncsThatChangedNothing: the bell counts news. A
// sync that changed nothing adds no unread notification; one that added a
// file does (issue 9, defect 4: the badge went from 2 to 10 in 19 minutes of
// trial auto-syncs).
func TestNoNotificationForSyncsThatChangedNothing(t *testing.T) {
	t.Parallel()
	e := start(t, "sqlite")
	admin, acct, _ := e.signup("admin@example.com", "A")
	e.writeFile("a.txt", "a")
	if run := e.connectLocal(admin, acct, ""); run.State != catalog.RunSucceeded {
		t.Fatalf("initial sync: %+v", run)
	}
	// Messages follow a run's end: wait until the count reaches want
	// (or a generous bound passes), then report it.
	unread := func(want float64) float64 {
		t.Helper()
		var n float64
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if n, _ = admin.Must(200, "GET", "/api/v1/notifications", nil).Body["unread"].(float64); n >= want {
				break
			}
		}
		return n
	}
	before := unread(1)
	if before != 1 {
		t.Fatalf("%v unread after the initial sync that added a file, want 1", before)
	}
	for range 3 { // the trial plan has no manual cooldown
		r := admin.Must(http.StatusAccepted, "POST", "/api/v1/sync", nil)
		if run := e.waitRun(acct, apitest.Num(r.Obj("run")["id"])); run.State != catalog.RunSucceeded {
			t.Fatalf("no-op sync: %+v", run)
		}
	}
	e.writeFile("b.txt", "b")
	r := admin.Must(http.StatusAccepted, "POST", "/api/v1/sync", nil)
	e.waitRun(acct, apitest.Num(r.Obj("run")["id"]))
	// The syncs that changed nothing ended before this one: had they left
	// notifications, the count would be past before+1 by now.
	if n := unread(before + 1); n != before+1 {
		t.Fatalf("%v unread after three syncs that changed nothing and one that added a file, want %v", n, before+1)
	}
}
