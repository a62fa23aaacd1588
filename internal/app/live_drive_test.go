package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/config"
	"github.com/shelf-dam/shelf/internal/live"
)

// connectDrive connects a Drive folder of the env's fake with a service
// account and waits for the initial sync; it returns the folder's ID.
func (e *env) connectDrive(c *apitest.Client, acct int64) string {
	e.t.Helper()
	folder := e.drive.CreateFolder(e.drive.RootID(), "Shelf")
	e.drive.CreateFile(folder, "first.jpg", "image/jpeg", []byte("first"))
	key, err := e.drive.ServiceAccountKey("shelf@project.iam.gserviceaccount.com")
	if err != nil {
		e.t.Fatal(err)
	}
	r := c.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "gdrive", "folder_id": folder, "service_account_json": string(key)})
	if run := e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"])); run.State != catalog.RunSucceeded {
		e.t.Fatalf("initial sync: %+v", run)
	}
	return folder
}

// Drive push: with a public URL Drive can post to, a changes.watch channel
// is open, and a file added in Drive shows at once — the feed's polling is
// set to an hour here, so only the push can bring it. Disconnecting the
// watch stops the channel.
func TestLiveDrivePush(t *testing.T) {
	t.Parallel()
	e := startLive(t, "sqlite", `drive_live_poll = "1h"`)
	c, acct, _ := e.signup("push@example.com", "Drive push")
	folder := e.connectDrive(c, acct)
	st := e.waitWatched(c)
	e.waitCaughtUp(c)
	if st["live_mode"] != "push" || !strings.Contains(st["live_note"].(string), "Drive tells Shelf") {
		t.Fatalf("sync status of a pushed Drive: %v", st)
	}
	id := e.drive.CreateFile(folder, "pushed.jpg", "image/jpeg", []byte("pushed"))
	waitFor(t, "a file added in Drive shows by push", func() bool { _, ok := e.asset(acct, id); return ok })
	moved := e.drive.CreateFolder(folder, "moved")
	if err := e.drive.Move(id, moved); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a file moved in Drive shows in its new folder", func() bool { a, ok := e.asset(acct, id); return ok && a.Path == "moved/pushed.jpg" })
	if err := e.drive.Delete(id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a file deleted in Drive goes", func() bool { _, ok := e.asset(acct, id); return !ok })
	if n := e.drive.Calls("changes.watch"); n < 1 {
		t.Fatalf("changes.watch calls: %d", n)
	}
}

// Drive push channels expire: Shelf opens a new one before the old one
// ends and stops the old one, so pushes keep coming. Channels live 4 s
// here (renewed half-way); the feed's polling is an hour, so a change
// made after the first channel has expired can only arrive by the
// renewed channel's push.
func TestLiveDriveChannelRenewed(t *testing.T) {
	t.Parallel()
	e := startLive(t, "sqlite", `drive_live_poll = "1h"`, func(c *live.Config) { c.DriveChannelTTL = 4 * time.Second })
	c, acct, _ := e.signup("renew@example.com", "Drive renewal")
	folder := e.connectDrive(c, acct)
	e.waitWatched(c)
	e.waitCaughtUp(c)
	first := e.drive.Calls("changes.watch")
	waitFor(t, "a second channel opened and the first stopped", func() bool {
		return e.drive.Calls("changes.watch") > first && e.drive.Calls("channels.stop") >= 1
	})
	time.Sleep(4 * time.Second) // the first channel has expired by now
	id := e.drive.CreateFile(folder, "after-renewal.jpg", "image/jpeg", []byte("renewed"))
	waitFor(t, "a file added after the renewal shows by push", func() bool { _, ok := e.asset(acct, id); return ok })
	if st := c.Must(200, "GET", "/api/v1/sync", nil).Body; st["live_mode"] != "push" {
		t.Fatalf("live mode after renewals: %v", st["live_mode"])
	}
}

// Drive without a public https URL: the feed is polled (every second
// here), the Sync page says so, and a change still shows.
func TestLiveDrivePolling(t *testing.T) {
	t.Parallel()
	e := startLive(t, "sqlite", `drive_live_poll = "1s"`, func(c *config.Config) { c.PublicURL = "http://shelf.example.invalid" })
	c, acct, _ := e.signup("poll@example.com", "Drive poll")
	folder := e.connectDrive(c, acct)
	st := e.waitWatched(c)
	if st["live_mode"] != "polling" || !strings.Contains(st["live_note"].(string), "every 1s") {
		t.Fatalf("sync status of a polled Drive: %v", st)
	}
	id := e.drive.CreateFile(folder, "polled.jpg", "image/jpeg", []byte("polled"))
	waitFor(t, "a file added in Drive shows by polling", func() bool { _, ok := e.asset(acct, id); return ok })
	if n := e.drive.Calls("changes.watch"); n != 0 {
		t.Fatalf("a channel was opened without a public URL: %d changes.watch calls", n)
	}
}
