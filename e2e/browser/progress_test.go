package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
)

// desktop and phone are the two widths every page is checked at.
func (b *browser) desktop(ctx context.Context) {
	b.t.Helper()
	b.do(ctx, "desktop width", chromedp.EmulateViewport(1366, 900))
}

func (b *browser) phone(ctx context.Context) {
	b.t.Helper()
	b.do(ctx, "phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
}

// publishRun sends a live sync event of the account, its data the run as
// the API shows it.
func publishRun(t *testing.T, s *shelf, acct, runID int64, typ string, run map[string]any) {
	t.Helper()
	run["id"], run["account_id"] = runID, acct
	data, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Svc.Hub.Publish(context.Background(), notify.Event{Type: typ, AccountID: acct, RunID: runID, Data: data}); err != nil {
		t.Fatal(err)
	}
}

// textOf is the text of the first element matching a selector ("" when none).
func textOf(sel string) string {
	return fmt.Sprintf(`((document.querySelector(%q) || {}).textContent || '')`, sel)
}

// waitIdleAfter waits until the account has no running sync and its latest
// run is newer than run afterID, and returns that run.
func waitIdleAfter(b *browser, ctx context.Context, afterID float64) map[string]any {
	b.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		run := waitIdle(b, ctx)
		if id, _ := run["id"].(float64); id > afterID {
			return run
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no run after %v finished within %s: latest %v", afterID, waitLimit, run)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestSyncPageFollowsARunningSync: while a sync runs, the Sync page shows
// its phase, counts with thousands separators, the estimate as "about",
// the rate and the time left, updated live and never going back; the run
// is at the top of History from its start; the Manual sync line says a
// sync is running and Sync now is not offered. When it completes the
// banner goes, and after a Sync now the "Sync started." note goes with the
// completion message.
func TestSyncPageFollowsARunningSync(t *testing.T) {
	s := startShelf(t)
	b := newBrowser(t)
	ctx := b.ctx
	b.desktop(ctx)
	b.signUp(ctx, s.URL, "progress@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)
	acct := accountID(b, ctx)
	b.open(ctx, s.URL, "/settings/sync")
	b.waitFor(ctx, "the live event stream", "window.shelf.live === true")
	b.waitFor(ctx, "a manual sync to be available", textOf("#sync-manual")+".includes('Available now')")

	// A sync starts after the page was loaded (the lease taken directly in
	// the catalog, its events published as the worker does).
	store := s.App.Store
	now := time.Now().UTC()
	run, err := store.CreateSyncRun(context.Background(), catalog.SyncRun{AccountID: acct, Trigger: catalog.TriggerAuto, State: catalog.RunRunning, StartedAt: &now}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.AcquireLease(context.Background(), acct, run.ID, "browser-test", now, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	released := false
	t.Cleanup(func() {
		if !released {
			_ = store.ReleaseLease(context.Background(), acct, run.ID, "browser-test")
		}
	})
	view := func(state, phase string, counts map[string]any, extra map[string]any) map[string]any {
		v := map[string]any{"trigger": "auto", "state": state, "phase": phase, "started_at": now.Format(time.RFC3339Nano),
			"created_at": now.Format(time.RFC3339Nano), "finished_at": nil, "error": nil, "counts": counts,
			"estimate": nil, "rate_per_second": nil, "eta_seconds": nil}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	zero := map[string]any{"seen": 0, "added": 0, "updated": 0, "moved": 0, "removed": 0, "errors": 0}
	publishRun(t, s, acct, run.ID, notify.SyncStarted, view("running", "listing", zero, map[string]any{"estimate": 100000}))

	row := fmt.Sprintf(`#runs tr[data-run="%d"]`, run.ID)
	b.waitFor(ctx, "the running run at the top of History", fmt.Sprintf(`document.querySelector('#runs tr') === document.querySelector(%q) && document.querySelector(%q).textContent.includes('Running')`, row, row))
	b.waitFor(ctx, "the Manual sync line to say a sync runs", textOf("#sync-manual")+".toLowerCase().includes('running') && !"+textOf("#sync-manual")+".includes('Available now') && document.getElementById('sync-now').disabled")

	publishRun(t, s, acct, run.ID, notify.SyncProgress, view("running", "listing",
		map[string]any{"seen": 12345, "added": 1234, "updated": 0, "moved": 0, "removed": 0, "errors": 0},
		map[string]any{"estimate": 100000, "total_estimate": 100000, "rate_per_second": 2500, "eta_seconds": 35}))
	banner := textOf("#sync-progress")
	b.waitFor(ctx, "the banner to show the listing's progress", banner+".includes('12,345 seen') && "+banner+".includes('about 100,000')")
	text := eval[string](b, ctx, banner)
	for _, want := range []string{"Listing", "1,234 added", "2,500", "35 s left"} {
		if !strings.Contains(text, want) {
			t.Errorf("the banner %q does not show %q", text, want)
		}
	}
	b.waitFor(ctx, "the History row to follow the counts", fmt.Sprintf(`document.querySelector(%q).textContent.includes('12,345 seen')`, row))
	b.checkPage(ctx, "sync-running")
	b.phone(ctx)
	b.checkPage(ctx, "phone-sync-running")
	b.desktop(ctx)

	// The run row in the catalog lags behind the live events: asking the
	// server again must not take the counts back.
	eval[chromedp.Void](b, ctx, "shelf.reconcile()")
	if text := eval[string](b, ctx, banner); !strings.Contains(text, "12,345 seen") {
		t.Errorf("the counts went back after the page asked the server again: %q", text)
	}

	publishRun(t, s, acct, run.ID, notify.SyncProgress, view("running", "applying",
		map[string]any{"seen": 100000, "added": 5000, "updated": 0, "moved": 0, "removed": 0, "errors": 0},
		map[string]any{"estimate": 100000, "apply_total": 20000, "rate_per_second": 1000, "eta_seconds": 15}))
	b.waitFor(ctx, "the banner to show the applying phase", banner+".includes('Applying') && "+banner+".includes('5,000') && "+banner+".includes('20,000') && "+banner+".includes('15 s left')")

	// The run completes.
	if err := store.ReleaseLease(context.Background(), acct, run.ID, "browser-test"); err != nil {
		t.Fatal(err)
	}
	released = true
	end := time.Now().UTC()
	run.State, run.FinishedAt = catalog.RunSucceeded, &end
	run.Counts = catalog.Counts{Seen: 100000, Added: 20000}
	if err := store.UpdateSyncRun(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	publishRun(t, s, acct, run.ID, notify.SyncCompleted, view("succeeded", "done",
		map[string]any{"seen": 100000, "added": 20000, "updated": 0, "moved": 0, "removed": 0, "errors": 0},
		map[string]any{"finished_at": end.Format(time.RFC3339Nano)}))
	b.waitFor(ctx, "the completion message", `[...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.includes('Sync completed'))`)
	b.waitFor(ctx, "the banner to go and the run to show succeeded", fmt.Sprintf(`document.getElementById('sync-banner').hidden && document.querySelector(%q).textContent.includes('Succeeded')`, row))
	b.waitFor(ctx, "a manual sync to be available again", textOf("#sync-manual")+".includes('Available now') && !document.getElementById('sync-now').disabled")

	// Sync now: "Sync started." goes when the completion message comes.
	eval[chromedp.Void](b, ctx, `document.querySelectorAll('#toasts .toast').forEach(t => t.remove())`)
	b.do(ctx, "pressing Sync now", chromedp.Click(chromedp.ID("sync-now")))
	b.waitFor(ctx, "the completion message with the note gone", `[...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.includes('Sync completed')) && document.getElementById('sync-now-msg').textContent.trim() === ''`)
	if latest := waitIdleAfter(b, ctx, float64(run.ID)); latest["state"] != "succeeded" {
		t.Fatalf("the Sync now run: %v", latest)
	}
}

// TestMassRemovalConfirmationPanel: a sync that would remove most of the
// library stops and the Sync page says so in plain words, with the count
// and the first 100 paths; Confirm removals is disabled once pressed and
// the new run's progress shows instead, without an error.
func TestMassRemovalConfirmationPanel(t *testing.T) {
	s := startShelf(t)
	for i := range 120 {
		p := filepath.Join(s.Root, "Bulk", fmt.Sprintf("f%03d.txt", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("bulk file\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t)
	ctx := b.ctx
	b.desktop(ctx)
	b.signUp(ctx, s.URL, "held@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	initial := waitIdle(b, ctx)
	if err := os.RemoveAll(filepath.Join(s.Root, "Bulk")); err != nil {
		t.Fatal(err)
	}

	b.open(ctx, s.URL, "/settings/sync")
	b.waitFor(ctx, "Sync now to be enabled", "!document.getElementById('sync-now').disabled")
	b.do(ctx, "pressing Sync now", chromedp.Click(chromedp.ID("sync-now")))
	held := waitIdleAfter(b, ctx, initial["id"].(float64))
	if held["state"] != "needs_confirmation" {
		t.Fatalf("the sync was not held for confirmation: %v", held)
	}
	b.waitFor(ctx, "the confirmation panel", `document.querySelector('#confirm-panel') && document.querySelectorAll('#confirm-panel li').length === 100`)
	panel := eval[string](b, ctx, `document.getElementById('confirm-panel').innerText`)
	for _, want := range []string{"120", "Bulk/f000.txt", "Bulk/f099.txt", "20 more"} {
		if !strings.Contains(panel, want) {
			t.Errorf("the confirmation panel does not show %q:\n%s", want, panel)
		}
	}
	if strings.Contains(panel, "Bulk/f100.txt") {
		t.Errorf("the panel lists more than the first 100 paths:\n%s", panel)
	}
	if page := eval[string](b, ctx, `document.querySelector('main').innerText`); strings.Contains(page, "needs_confirmation") {
		t.Errorf("the page shows the raw state needs_confirmation:\n%s", page)
	}
	b.checkPage(ctx, "confirm-panel")
	b.phone(ctx)
	b.checkPage(ctx, "phone-confirm-panel")
	b.desktop(ctx)

	eval[chromedp.Void](b, ctx, `document.querySelectorAll('#toasts .toast').forEach(t => t.remove())`)
	b.do(ctx, "pressing Confirm removals", chromedp.Click(chromedp.ID("confirm-removals")))
	b.waitFor(ctx, "the confirmation dialog", `document.querySelector('dialog[open] button.danger')`)
	b.do(ctx, "confirming", chromedp.Click(chromedp.CSS("dialog[open] button.danger")))
	// Disabled at once — or already gone, when the confirmed run ended
	// (and the page redrew) before this looks.
	b.waitFor(ctx, "the button to be disabled", `(() => { const b = document.getElementById('confirm-removals'); return !b || b.disabled; })()`)
	eval[chromedp.Void](b, ctx, `(() => {
		window.__rec = { reenabled: false };
		const check = () => {
			const btn = document.getElementById('confirm-removals');
			if (btn && !btn.disabled) __rec.reenabled = true;
		};
		new MutationObserver(check).observe(document.body, { attributes: true, subtree: true, childList: true });
	})()`)
	heldID := int64(held["id"].(float64))
	b.waitFor(ctx, "the new run at the top of History", fmt.Sprintf(`Number(document.querySelector('#runs tr').dataset.run) > %d`, heldID))
	b.waitFor(ctx, "the completion message", `[...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.includes('Sync completed'))`)
	b.waitFor(ctx, "the panel to go", `!document.querySelector('#confirm-panel') || !document.getElementById('confirm-removals') || document.getElementById('confirm-removals').disabled`)
	if rec := eval[map[string]any](b, ctx, "window.__rec"); rec["reenabled"] == true {
		t.Error("Confirm removals was enabled again after use")
	}
	if errs := eval[string](b, ctx, `[...document.querySelectorAll('#toasts .toast.error')].map(t => t.textContent).join(' | ')`); errs != "" {
		t.Errorf("an error was shown after confirming: %s", errs)
	}
	done := waitIdleAfter(b, ctx, float64(heldID))
	if done["state"] != "succeeded" || int64(done["id"].(float64)) <= heldID {
		t.Fatalf("the confirmed run: %v", done)
	}
	counts, _ := done["counts"].(map[string]any)
	if counts["removed"].(float64) < 120 {
		t.Errorf("the confirmed run removed %v, want the 120 files", counts["removed"])
	}
	b.checkPage(ctx, "confirmed")
}
