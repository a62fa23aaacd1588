package browser

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelf-dam/shelf/internal/config"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
)

// livePolicy makes the trial plan (every new account's) sync live.
const livePolicy = `
[plans.trial]
local_auto = "live"
s3_auto = "live"
drive_auto = "live"
`

// liveChangeLimit is how soon a change made in the folder must show in an
// open page: seconds, not the next sync.
const liveChangeLimit = 15 * time.Second

// TestLiveFolderChangeShowsWithoutReload: on a plan that syncs live, a file
// and a folder written straight into the storage folder show in the open
// library page within seconds, without the page reloading; Settings → Sync
// says in plain words how changes arrive, lists the hour's live changes
// and still runs Sync now;
// Settings → Storage of an S3 account shows its events URL and setup. Both
// pages are checked at desktop and phone widths.
func TestLiveFolderChangeShowsWithoutReload(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "policy.toml")
	if err := os.WriteFile(pf, []byte(livePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startShelfWith(t, func(c *config.Config) { c.PolicyFile = pf })
	b := newBrowser(t)
	ctx := b.ctx
	b.desktop(ctx)
	b.signUp(ctx, s.URL, "live@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	first := waitIdle(b, ctx)
	if first["state"] != "succeeded" {
		t.Fatalf("the initial sync did not succeed: %v", first)
	}

	// The Sync page, open while the folder gets watched, comes to say so.
	b.waitFor(ctx, "the live sentence on the Sync page",
		`document.querySelector('#sync-live[data-mode="push"]') && `+textOf("#sync-live")+`.includes('Live: changes made in the folder show here within seconds (filesystem notifications).')`)
	if got := eval[string](b, ctx, textOf("#sync-live")); !strings.Contains(got, "still runs every 24 hours") {
		t.Errorf("the Sync page does not say that a full check still runs: %q", got)
	}
	// The watcher starts with a catch-up (a reconciliation of what changed
	// while nobody watched); once it is done, changes come by live batches
	// alone. On a busy machine it can run late and take the files below.
	firstID, _ := first["id"].(float64)
	waitIdleAfter(b, ctx, firstID)

	// The library, open; then files appear in the folder.
	b.open(ctx, s.URL, "/library")
	b.waitFor(ctx, "the live event stream", "window.shelf.live === true")
	eval[bool](b, ctx, `(window.__samePage = 'not reloaded', true)`)
	wrote := time.Now()
	if err := os.WriteFile(filepath.Join(s.Root, "live-arrival.txt"), []byte("written straight into the folder\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(s.Root, "Live drop"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Root, "Live drop", "note.txt"), []byte("in a new folder\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.waitFor(ctx, "the new file in the open library page", `document.querySelector('#items [data-name="live-arrival.txt"]')`)
	b.waitFor(ctx, "the new folder in the open library page", `[...document.querySelectorAll('#tree a')].some(a => a.textContent.trim() === 'Live drop')`)
	if took := time.Since(wrote); took > liveChangeLimit {
		t.Errorf("the change took %s to show; live sync should take seconds", took.Round(time.Millisecond))
	}
	if got := eval[string](b, ctx, "window.__samePage || ''"); got != "not reloaded" {
		t.Fatal("the library page was reloaded; a live change must show in the open page")
	}
	if locked := eval[string](b, ctx, "document.body.dataset.locked"); locked != "false" {
		t.Errorf("the library page is locked after a live change: %q", locked)
	}
	b.checkPage(ctx, "library")

	// The Sync page lists the hour's live changes and when the last came.
	b.open(ctx, s.URL, "/settings/sync")
	b.waitFor(ctx, "the live row in History", `[...document.querySelectorAll('#runs td')].some(td => td.textContent === 'Live changes (hourly total)')`)
	b.waitFor(ctx, "the time of the last change", `document.querySelector('#sync-last-change time')`)
	b.checkPage(ctx, "sync")
	// Sync now still runs a full sync on a live plan.
	b.waitFor(ctx, "Sync now to be offered", `!document.getElementById('sync-now').disabled`)
	b.do(ctx, "pressing Sync now", chromedp.Click(chromedp.ID("sync-now")))
	b.waitFor(ctx, "the manual sync to complete", `[...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.includes('Sync completed'))`)
	b.waitFor(ctx, "the manual run in History", `[...document.querySelectorAll('#runs td')].some(td => td.textContent === 'Manual')`)
	b.phone(ctx)
	b.open(ctx, s.URL, "/library")
	b.checkPage(ctx, "phone-library")
	b.open(ctx, s.URL, "/settings/sync")
	b.checkPage(ctx, "phone-sync")

	// An S3 bucket instead: its events URL and the setup to copy.
	s3 := s3fake.Start()
	t.Cleanup(s3.Close)
	if err := s3.CreateBucket("media"); err != nil {
		t.Fatal(err)
	}
	if err := s3.PutObject("media", "team/start.jpg", []byte("start")); err != nil {
		t.Fatal(err)
	}
	code, body := apiJSON(b, ctx, "PUT", "/storage", map[string]any{"kind": "s3", "bucket": "media", "prefix": "team/", "region": "eu-west-1",
		"endpoint": s3.URL, "path_style": true, "access_key_id": "k", "secret_access_key": "s", "confirm_root_change": true})
	if code != http.StatusOK {
		t.Fatalf("connecting S3: %d %v", code, body)
	}
	waitIdle(b, ctx)
	_, st := apiJSON(b, ctx, "GET", "/storage", nil)
	url, _ := st["storage"].(map[string]any)["events_url"].(string)
	if url == "" {
		t.Fatalf("GET /storage has no events_url: %v", st)
	}
	for _, width := range []string{"phone", "desktop"} {
		if width == "desktop" {
			b.desktop(ctx)
		}
		b.open(ctx, s.URL, "/settings/storage")
		if got := eval[string](b, ctx, `document.getElementById('events-url').value`); got != url {
			t.Fatalf("the Storage page shows events URL %q, the API %q", got, url)
		}
		eval[bool](b, ctx, `(document.querySelectorAll('details.setup').forEach(d => d.open = true), true)`)
		b.checkPage(ctx, width+"-storage-s3")
	}
	b.do(ctx, "copying the events URL", chromedp.Click(chromedp.CSS(`button[data-copy="events-url"]`)))
	b.waitFor(ctx, "the copy confirmation", `[...document.querySelectorAll('#toasts .toast')].some(t => /Copied|Selected/.test(t.textContent))`)
}
