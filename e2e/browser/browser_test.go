package browser

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/policy"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// accountID reads the signed-in user's account id through the API.
func accountID(b *browser, ctx context.Context) int64 {
	b.t.Helper()
	code, me := apiJSON(b, ctx, "GET", "/me", nil)
	acct, _ := me["account"].(map[string]any)
	id, _ := acct["id"].(float64)
	if code != http.StatusOK || id == 0 {
		b.t.Fatalf("GET /me: %d %v", code, me)
	}
	return int64(id)
}

// checkPage screenshots the page and checks what every page must have:
// a label for every form control and, at phone width, no sideways scroll.
func (b *browser) checkPage(ctx context.Context, name string) {
	b.t.Helper()
	unlabelled := eval[[]string](b, ctx, `[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
		.filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
		.map(el => el.outerHTML.slice(0, 120))`)
	for _, u := range unlabelled {
		b.t.Errorf("%s: form control without a label: %s", name, u)
	}
	overflow := eval[bool](b, ctx, `document.documentElement.scrollWidth > window.innerWidth + 1`)
	if overflow {
		b.t.Errorf("%s: the page scrolls sideways at width %d", name, eval[int](b, ctx, "window.innerWidth"))
	}
	b.screenshot(ctx, name)
}

// TestSyncNowLocksLibraryAndReportsLive: sign up, connect a local folder,
// press Sync now on Settings → Sync while the library is open in another
// tab: that tab shows the banner with every change control disabled, then
// the completion message arrives without a reload, the controls come back,
// and the tree shows the storage's nested folders with thumbnails.
func TestSyncNowLocksLibraryAndReportsLive(t *testing.T) {
	s := startShelf(t)
	b := newBrowser(t)
	lib := b.ctx
	b.signUp(lib, s.URL, "admin@example.com")
	b.connectLocal(lib, s.URL, s.Root)
	first := waitIdle(b, lib)
	if first["state"] != "succeeded" {
		t.Fatalf("the initial sync did not succeed: %v", first)
	}

	// The library tab watches its own lock state.
	b.open(lib, s.URL, "/library")
	b.waitFor(lib, "the live event stream", "window.shelf.live === true")
	eval[chromedp.Void](b, lib, `(() => {
		window.__noReload = 'still the same page';
		window.__rec = { locked: false, bannerShown: false, controls: 0, allDisabled: true };
		const check = () => {
			if (document.body.dataset.locked !== 'true') return;
			const ctrls = [...document.querySelectorAll('[data-change]')];
			__rec.locked = true;
			__rec.bannerShown = __rec.bannerShown || !document.getElementById('sync-banner').hidden;
			__rec.controls = Math.max(__rec.controls, ctrls.length);
			__rec.allDisabled = __rec.allDisabled && ctrls.every(c => c.disabled);
		};
		new MutationObserver(check).observe(document.body, { attributes: true, subtree: true, childList: true });
	})()`)

	// Another tab presses Sync now.
	syncTab := b.newTab()
	b.open(syncTab, s.URL, "/settings/sync")
	b.waitFor(syncTab, "a manual sync to be available", "document.getElementById('sync-manual').textContent.includes('Available now') && !document.getElementById('sync-now').disabled")
	b.do(syncTab, "pressing Sync now", chromedp.Click(chromedp.ID("sync-now")))

	b.waitFor(lib, "the completion message in the library tab", `[...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.includes('Sync completed'))`)
	if got := eval[string](b, lib, "window.__noReload || ''"); got != "still the same page" {
		t.Fatal("the library tab was reloaded; the message must arrive live")
	}
	rec := eval[map[string]any](b, lib, "window.__rec")
	if rec["locked"] != true || rec["bannerShown"] != true {
		t.Errorf("the library tab never showed the Syncing… banner: %v", rec)
	}
	if n, _ := rec["controls"].(float64); n == 0 || rec["allDisabled"] != true {
		t.Errorf("change controls were not all disabled while syncing: %v", rec)
	}
	b.waitFor(lib, "the controls to come back", `document.body.dataset.locked === 'false' && document.getElementById('sync-banner').hidden && [...document.querySelectorAll('[data-change]')].every(c => !c.disabled)`)
	b.waitFor(syncTab, "the completion message in the sync tab", `[...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.includes('Sync completed'))`)

	// The tree mirrors the storage's nested folders.
	for _, top := range []string{"Brand", "Campaigns", "Photography"} {
		b.waitFor(lib, "top-level folder "+top+" in the tree", fmt.Sprintf(`[...document.querySelectorAll('#tree a')].some(a => a.textContent.trim() === %q)`, top))
	}
	b.do(lib, "expanding Campaigns", chromedp.Click(chromedp.CSS(`#tree li[data-folder] > button[aria-label="Show folders in Campaigns"]`)))
	b.waitFor(lib, "Spring 2026 under Campaigns", `[...document.querySelectorAll('#tree li li a')].some(a => a.textContent.trim() === 'Spring 2026')`)
	b.checkPage(lib, "library")

	// A nested folder's grid shows real thumbnails (made in the background).
	studio := studioFolder(b, lib)
	deadline := time.Now().Add(waitLimit)
	for {
		b.open(lib, s.URL, studio)
		ready := eval[bool](b, lib, `(async () => {
			const imgs = [...document.querySelectorAll('#items img.thumb')];
			if (imgs.length !== 8) return false;
			for (const img of imgs) {
				const r = await fetch(img.src);
				if (!r.ok || !(r.headers.get('content-type') || '').startsWith('image/jpeg')) return false;
			}
			await Promise.all(imgs.map(i => i.decode().catch(() => null)));
			return imgs.every(i => i.complete && i.naturalWidth > 0);
		})()`)
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the 8 images of Photography/Studio did not get JPEG thumbnails within %s", waitLimit)
		}
		time.Sleep(500 * time.Millisecond)
	}
	b.checkPage(lib, "folder")

	// Screenshots of the other main pages, at desktop and phone widths.
	assetURL := eval[string](b, lib, `document.querySelector('#items .card a').getAttribute('href')`)
	pages := []struct{ name, path string }{
		{"asset", assetURL},
		{"list-view", studio + "?view=list"},
		{"search", "/library?q=studio&scope=all"},
		{"sync", "/settings/sync"},
		{"storage", "/settings/storage"},
		{"team", "/team"},
		{"tokens", "/tokens"},
		{"notifications", "/notifications"},
		{"webhooks", "/settings/webhooks"},
	}
	for _, p := range pages {
		b.open(lib, s.URL, p.path)
		b.checkPage(lib, p.name)
	}
	b.do(lib, "phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	for _, p := range []struct{ name, path string }{{"phone-library", studio}, {"phone-asset", assetURL}, {"phone-sync", "/settings/sync"}} {
		b.open(lib, s.URL, p.path)
		b.checkPage(lib, p.name)
	}
	b.do(lib, "opening the phone menu", chromedp.Click(chromedp.CSS(".nav-toggle")))
	b.waitFor(lib, "the menu to open", `getComputedStyle(document.getElementById('nav')).display !== 'none' && document.querySelector('.nav-toggle').getAttribute('aria-expanded') === 'true'`)
	b.screenshot(lib, "phone-menu")
	b.do(lib, "desktop width", chromedp.EmulateReset())
	b.open(lib, s.URL, "/signin")
	b.checkPage(lib, "signin")
}

// TestUploadWritesThroughToStorage: a file uploaded through the page lands
// in the storage folder and in the grid; the next sync finds nothing
// changed.
func TestUploadWritesThroughToStorage(t *testing.T) {
	s := startShelf(t)
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "editor@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)

	// Go to Brand/Logos through the folder cards.
	b.open(ctx, s.URL, "/library")
	b.waitFor(ctx, "the Brand folder", `[...document.querySelectorAll('.subfolders a')].some(a => a.textContent.trim().endsWith('Brand'))`)
	brand := eval[string](b, ctx, `[...document.querySelectorAll('.subfolders a')].find(a => a.textContent.trim().endsWith('Brand')).getAttribute('href')`)
	b.open(ctx, s.URL, brand)
	logos := eval[string](b, ctx, `[...document.querySelectorAll('.subfolders a')].find(a => a.textContent.trim().endsWith('Logos')).getAttribute('href')`)
	b.open(ctx, s.URL, logos)
	before := eval[int](b, ctx, `document.querySelectorAll('#items .card').length`)

	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "uploaded-mark.png")
	if err := os.WriteFile(local, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b.do(ctx, "choosing the file", chromedp.SetUploadFiles(chromedp.ID("upload-input"), []string{local}))
	b.waitFor(ctx, "the upload to finish", `[...document.querySelectorAll('#uploads li')].some(li => li.textContent.includes('uploaded-mark.png') && li.textContent.includes('done'))`)
	b.waitFor(ctx, "the new file in the grid", `document.querySelector('#items .card[data-name="uploaded-mark.png"]')`)
	if after := eval[int](b, ctx, `document.querySelectorAll('#items .card').length`); after != before+1 {
		t.Errorf("the grid has %d cards after the upload, want %d", after, before+1)
	}
	stored, err := os.ReadFile(filepath.Join(s.Root, "Brand", "Logos", "uploaded-mark.png"))
	if err != nil || !bytes.Equal(stored, buf.Bytes()) {
		t.Fatalf("the uploaded file is not in the storage folder as sent: %v (%d bytes)", err, len(stored))
	}
	b.checkPage(ctx, "after-upload")

	// Several files dropped on the folder upload at once, each with its own
	// progress line.
	var dropped []string
	for i, body := range []string{"first dropped file\n", "second dropped file\n"} {
		p := filepath.Join(t.TempDir(), fmt.Sprintf("dropped-%d.txt", i+1))
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		dropped = append(dropped, p)
	}
	pt := eval[map[string]float64](b, ctx, `(() => { const r = document.getElementById('drop-hint').getBoundingClientRect(); return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()`)
	data := &input.DragData{Items: []*input.DragDataItem{}, Files: dropped, DragOperationsMask: 1}
	for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
		if _, err := chromedp.Call(ctx, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: pt["x"], Y: pt["y"], Data: data}); err != nil {
			t.Fatalf("dispatching %s: %v", typ, err)
		}
	}
	b.waitFor(ctx, "both dropped files to upload", `['dropped-1.txt', 'dropped-2.txt'].every(n => [...document.querySelectorAll('#uploads li')].some(li => li.textContent.includes(n) && li.textContent.includes('done')))`)
	b.waitFor(ctx, "the dropped files in the grid", `document.querySelector('#items .card[data-name="dropped-1.txt"]') && document.querySelector('#items .card[data-name="dropped-2.txt"]')`)
	for i := range 2 {
		name := fmt.Sprintf("dropped-%d.txt", i+1)
		if _, err := os.Stat(filepath.Join(s.Root, "Brand", "Logos", name)); err != nil {
			t.Errorf("%s is not in the storage folder: %v", name, err)
		}
	}

	// The next sync sees no difference.
	b.open(ctx, s.URL, "/settings/sync")
	b.waitFor(ctx, "Sync now to be enabled", "!document.getElementById('sync-now').disabled")
	b.do(ctx, "pressing Sync now", chromedp.Click(chromedp.ID("sync-now")))
	b.waitFor(ctx, "the completion message", `[...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.includes('Sync completed'))`)
	run := waitIdle(b, ctx)
	counts, _ := run["counts"].(map[string]any)
	for _, k := range []string{"added", "updated", "moved", "removed"} {
		if n, _ := counts[k].(float64); n != 0 {
			t.Errorf("the sync after the upload reports %s=%v, want nothing changed (run %v)", k, n, run)
		}
	}
	if run["trigger"] != "manual" || run["state"] != "succeeded" {
		t.Errorf("latest run is not the succeeded manual sync: %v", run)
	}
	toast := eval[string](b, ctx, `[...document.querySelectorAll('#toasts .toast')].map(t => t.textContent).join(' | ')`)
	if !strings.Contains(toast, "nothing changed") {
		t.Errorf("the completion message does not say nothing changed: %q", toast)
	}
}

// TestFreePlanShowsWhenSyncNowIsNextAvailable: on the free plan, after a
// manual sync, Settings → Sync shows when the next one is allowed and
// which plan would allow it now, and keeps Sync now disabled.
func TestFreePlanShowsWhenSyncNowIsNextAvailable(t *testing.T) {
	s := startShelf(t)
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "free@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)
	if _, err := s.App.SetPlan(context.Background(), accountID(b, ctx), policy.PlanFree); err != nil {
		t.Fatal(err)
	}
	b.open(ctx, s.URL, "/settings/sync")
	b.waitFor(ctx, "the first manual sync to be available", "document.getElementById('sync-manual').textContent.includes('Available now') && !document.getElementById('sync-now').disabled")
	b.do(ctx, "pressing Sync now", chromedp.Click(chromedp.ID("sync-now")))
	b.waitFor(ctx, "the completion message", `[...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.includes('Sync completed'))`)
	b.waitFor(ctx, "the next availability", "document.getElementById('sync-manual').textContent.includes('Next available in')")
	text := eval[string](b, ctx, "document.getElementById('sync-manual').textContent")
	if !strings.Contains(text, "plan would allow it now") {
		t.Errorf("the availability does not name a plan that allows a sync now: %q", text)
	}
	if !eval[bool](b, ctx, "document.getElementById('sync-now').disabled") {
		t.Error("Sync now is enabled during the free plan's cooldown")
	}
	// A fresh load shows the same, from the server's state.
	b.open(ctx, s.URL, "/settings/sync")
	b.waitFor(ctx, "the next availability after a reload", "document.getElementById('sync-manual').textContent.includes('Next available in') && document.getElementById('sync-now').disabled")
	b.checkPage(ctx, "sync-cooldown")
	// The server renders the same without script.
	html := eval[string](b, ctx, `fetch('/settings/sync').then(r => r.text())`)
	if !strings.Contains(html, "Next available at") || !strings.Contains(html, "plan would allow it now") || !regexp.MustCompile(`id="sync-now"[^>]*disabled`).MatchString(html) {
		t.Errorf("the server-rendered sync page does not show the cooldown:\n%s", html)
	}
}

// TestLockedLibraryDisablesRenameAndExplainsRefusal: while a sync holds
// the lease, the asset page disables rename (and every change control);
// a forced attempt is refused by the server and the page shows why.
func TestLockedLibraryDisablesRenameAndExplainsRefusal(t *testing.T) {
	s := startShelf(t)
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "locked@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)
	acct := accountID(b, ctx)

	b.open(ctx, s.URL, "/library")
	b.waitFor(ctx, "README.txt in the grid", `document.querySelector('#items .card[data-name="README.txt"] a')`)
	assetURL := eval[string](b, ctx, `document.querySelector('#items .card[data-name="README.txt"] a').getAttribute('href')`)

	// A sync holds the library (the lease taken directly in the catalog).
	store := s.App.Store
	now := time.Now().UTC()
	run, err := store.CreateSyncRun(context.Background(), catalog.SyncRun{AccountID: acct, Trigger: catalog.TriggerManual, State: catalog.RunRunning, StartedAt: &now}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.AcquireLease(context.Background(), acct, run.ID, "browser-test", now, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.ReleaseLease(context.Background(), acct, run.ID, "browser-test") })

	b.open(ctx, s.URL, assetURL)
	if !eval[bool](b, ctx, "document.getElementById('rename-asset').disabled") {
		t.Fatal("rename is enabled while a sync holds the library")
	}
	if !eval[bool](b, ctx, "!document.getElementById('sync-banner').hidden && [...document.querySelectorAll('[data-change]')].every(c => c.disabled)") {
		t.Error("the banner is hidden or some change control is enabled while locked")
	}
	b.checkPage(ctx, "locked-asset")

	// Force the attempt: enable the button as a stale page would have it.
	eval[chromedp.Void](b, ctx, "(() => { const b = document.getElementById('rename-asset'); b.disabled = false; b.click(); })()")
	b.waitFor(ctx, "the rename dialog", "document.querySelector('dialog[open] #ask-input')")
	b.do(ctx, "typing the new name",
		chromedp.SetValue(chromedp.ID("ask-input"), "RENAMED.txt"),
		chromedp.Click(chromedp.CSS("dialog[open] button.primary")),
	)
	b.waitFor(ctx, "the lock message", `[...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.toLowerCase().includes('lock'))`)
	msg := eval[string](b, ctx, `[...document.querySelectorAll('#toasts .toast')].map(t => t.textContent).join(' | ')`)
	t.Logf("lock message shown: %s", msg)
	if !eval[bool](b, ctx, "document.getElementById('rename-asset').disabled") {
		t.Error("rename is enabled again after the refusal")
	}
	if _, err := os.Stat(filepath.Join(s.Root, "RENAMED.txt")); err == nil {
		t.Error("the file was renamed in storage while the library was locked")
	}
	if _, err := os.Stat(filepath.Join(s.Root, "README.txt")); err != nil {
		t.Errorf("README.txt is gone from storage: %v", err)
	}
	b.checkPage(ctx, "locked-refused")
}

// TestFormsMetadataTokensAndSignOut: a storage error shows beside its
// field; editors' metadata is saved and found by search; a new API token
// is shown once; signing out ends the session.
func TestFormsMetadataTokensAndSignOut(t *testing.T) {
	s := startShelf(t)
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "forms@example.com")

	// A folder outside the allowed roots: the error sits beside the field.
	b.open(ctx, s.URL, "/settings/storage")
	b.do(ctx, "connecting a folder outside the roots",
		chromedp.SetValue(chromedp.ID("local-path"), filepath.Join(t.TempDir(), "elsewhere")),
		chromedp.Click(chromedp.CSS("#local-form button[type=submit]")),
	)
	b.waitFor(ctx, "the error beside the path field", "!document.getElementById('local-path-error').hidden && document.getElementById('local-path-error').textContent.length > 0")
	if eval[string](b, ctx, "document.getElementById('local-path').getAttribute('aria-invalid') || ''") != "true" {
		t.Error("the path field is not marked invalid")
	}
	b.checkPage(ctx, "storage-field-error")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)

	// Team metadata on the asset page.
	b.open(ctx, s.URL, "/library")
	b.waitFor(ctx, "README.txt in the grid", `document.querySelector('#items .card[data-name="README.txt"] a')`)
	assetURL := eval[string](b, ctx, `document.querySelector('#items .card[data-name="README.txt"] a').getAttribute('href')`)
	b.open(ctx, s.URL, assetURL)
	b.do(ctx, "editing the metadata",
		chromedp.SendKeys(chromedp.ID("m-title"), "Read me first"),
		chromedp.SendKeys(chromedp.ID("m-description"), "How the studio library is organised"),
		chromedp.SendKeys(chromedp.ID("m-tags"), "docs, Onboarding"),
		chromedp.SetValue(chromedp.ID("m-rating"), "4"),
		chromedp.Click(chromedp.ID("add-custom")),
	)
	eval[chromedp.Void](b, ctx, `(() => { const r = document.querySelector('#custom-rows .custom-row:last-child'); r.querySelector('.ck').value = 'owner'; r.querySelector('.cv').value = 'design team'; })()`)
	b.do(ctx, "saving", chromedp.Click(chromedp.CSS("#meta-form button[type=submit]")))
	b.waitFor(ctx, "the saved message", `[...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.includes('Metadata saved'))`)
	b.open(ctx, s.URL, assetURL)
	got := eval[map[string]string](b, ctx, `({title: document.getElementById('m-title').value, tags: document.getElementById('m-tags').value,
		rating: document.getElementById('m-rating').value, owner: (document.querySelector('#custom-rows .cv') || {}).value || ''})`)
	if got["title"] != "Read me first" || !strings.Contains(strings.ToLower(got["tags"]), "onboarding") || got["rating"] != "4" || got["owner"] != "design team" {
		t.Errorf("the metadata did not persist: %v", got)
	}
	b.open(ctx, s.URL, "/library?tag=onboarding&scope=all")
	if !eval[bool](b, ctx, `!!document.querySelector('#items .card[data-name="README.txt"]') && document.querySelectorAll('#items .card').length === 1`) {
		t.Error("searching by the new tag does not find exactly README.txt")
	}
	b.open(ctx, s.URL, "/library?q=organised&scope=all")
	if !eval[bool](b, ctx, `!!document.querySelector('#items .card[data-name="README.txt"]')`) {
		t.Error("searching the description does not find README.txt")
	}

	// A personal API token is shown once.
	b.open(ctx, s.URL, "/tokens")
	b.do(ctx, "creating a token", chromedp.SendKeys(chromedp.ID("token-name"), "ci"), chromedp.Click(chromedp.CSS("#token-form button[type=submit]")))
	b.waitFor(ctx, "the new token", "document.getElementById('new-token-value').value.length > 20")
	token := eval[string](b, ctx, "document.getElementById('new-token-value').value")
	b.open(ctx, s.URL, "/tokens")
	if eval[bool](b, ctx, fmt.Sprintf("document.documentElement.outerHTML.includes(%q)", token)) {
		t.Error("the token is shown again after a reload")
	}
	if !eval[bool](b, ctx, `[...document.querySelectorAll('#tokens td')].some(td => td.textContent === 'ci')`) {
		t.Error("the token is not listed")
	}
	req, _ := http.NewRequest("GET", s.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the new token does not work: HTTP %d", resp.StatusCode)
	}

	// Team: add a viewer.
	b.open(ctx, s.URL, "/team")
	b.do(ctx, "adding a viewer",
		chromedp.SendKeys(chromedp.ID("u-email"), "viewer@example.com"),
		chromedp.SendKeys(chromedp.ID("u-password"), "another long password"),
		chromedp.SetValue(chromedp.ID("u-role"), "viewer"),
		chromedp.Click(chromedp.CSS("#user-form button[type=submit]")),
	)
	b.waitFor(ctx, "the viewer in the team", `[...document.querySelectorAll('#users tr')].some(tr => tr.textContent.includes('viewer@example.com') && tr.querySelector('select').value === 'viewer')`)

	// Webhooks: the signing secret is shown once and the hook is listed.
	b.open(ctx, s.URL, "/settings/webhooks")
	b.do(ctx, "adding a webhook",
		chromedp.SendKeys(chromedp.ID("wh-url"), "http://127.0.0.1:9/shelf-hook"),
		chromedp.Click(chromedp.CSS("#webhook-form button[type=submit]")),
	)
	b.waitFor(ctx, "the signing secret", "!document.getElementById('new-secret').hidden && document.getElementById('new-secret-value').value.length > 10")
	b.waitFor(ctx, "the webhook in the list", `[...document.querySelectorAll('#webhooks td')].some(td => td.textContent === 'http://127.0.0.1:9/shelf-hook')`)
	b.do(ctx, "opening the delivery log", chromedp.Click(chromedp.CSS(`#webhooks button[aria-expanded]`)))
	b.waitFor(ctx, "the delivery log", `document.querySelector('#webhooks tr.deliveries td')`)

	// Sign out.
	b.do(ctx, "signing out", chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)))
	b.waitFor(ctx, "the sign-in page", "location.pathname === '/signin'")
	b.open(ctx, s.URL, "/library")
	if p := eval[string](b, ctx, "location.pathname"); p != "/signin" {
		t.Errorf("after signing out /library shows %s, want the sign-in page", p)
	}

	// The viewer reads but is offered no change.
	b.do(ctx, "signing in as the viewer",
		chromedp.SendKeys(chromedp.ID("email"), "viewer@example.com"),
		chromedp.SendKeys(chromedp.ID("password"), "another long password"),
		chromedp.Click(chromedp.CSS("#signin-form button[type=submit]")),
	)
	b.waitFor(ctx, "the library after sign-in", "location.pathname === '/library' && document.readyState === 'complete' && window.shelf")
	for _, path := range []string{"/library", assetURL, "/settings/sync", "/team"} {
		b.open(ctx, s.URL, path)
		if n := eval[int](b, ctx, `document.querySelectorAll('[data-change], #sync-now, #upload-input, #user-form, .role-select, #meta-form').length`); n != 0 {
			t.Errorf("the viewer is offered %d change controls on %s", n, path)
		}
	}
	b.open(ctx, s.URL, assetURL)
	if !eval[bool](b, ctx, `document.body.textContent.includes('Read me first') && !!document.querySelector('a[href$="/download"]')`) {
		t.Error("the viewer does not see the metadata or the download")
	}
	b.screenshot(ctx, "viewer-asset")
}

// answerDialog fills the page's text dialog (new folder, rename) and
// presses its main button.
func answerDialog(b *browser, ctx context.Context, value string) {
	b.t.Helper()
	b.waitFor(ctx, "the dialog", "document.querySelector('dialog[open] #ask-input')")
	b.do(ctx, "answering the dialog",
		chromedp.SetValue(chromedp.ID("ask-input"), value),
		chromedp.Click(chromedp.CSS("dialog[open] button.primary")),
	)
}

// TestFolderAndAssetChangesWriteThrough: create and rename a folder, move
// an asset into it and delete another through the pages; the storage holds
// each change and the next sync finds nothing to do.
func TestFolderAndAssetChangesWriteThrough(t *testing.T) {
	s := startShelf(t)
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "changes@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)

	// New folder "Selects" inside Photography.
	b.open(ctx, s.URL, "/library")
	photo := eval[string](b, ctx, `[...document.querySelectorAll('.subfolders a')].find(a => a.textContent.trim() === 'Photography').getAttribute('href')`)
	b.open(ctx, s.URL, photo)
	b.do(ctx, "new folder", chromedp.Click(chromedp.ID("new-folder")))
	answerDialog(b, ctx, "Selects")
	b.waitFor(ctx, "the new folder", `[...document.querySelectorAll('.subfolders a')].some(a => a.textContent.trim() === 'Selects')`)
	if fi, err := os.Stat(filepath.Join(s.Root, "Photography", "Selects")); err != nil || !fi.IsDir() {
		t.Fatalf("the new folder is not in storage: %v", err)
	}

	// Rename it to "Best of".
	selects := eval[string](b, ctx, `[...document.querySelectorAll('.subfolders a')].find(a => a.textContent.trim() === 'Selects').getAttribute('href')`)
	b.open(ctx, s.URL, selects)
	b.do(ctx, "rename folder", chromedp.Click(chromedp.ID("rename-folder")))
	answerDialog(b, ctx, "Best of")
	b.waitFor(ctx, "the renamed folder", `document.getElementById('folder-title').textContent.trim() === 'Best of'`)
	if _, err := os.Stat(filepath.Join(s.Root, "Photography", "Best of")); err != nil {
		t.Fatalf("the renamed folder is not in storage: %v", err)
	}
	bestOf := eval[string](b, ctx, "location.pathname")

	// Move Studio-01.jpg into it through the move dialog.
	b.open(ctx, s.URL, photo)
	studio := eval[string](b, ctx, `[...document.querySelectorAll('.subfolders a')].find(a => a.textContent.trim() === 'Studio').getAttribute('href')`)
	b.open(ctx, s.URL, studio)
	asset := eval[string](b, ctx, `document.querySelector('#items .card[data-name="Studio-01.jpg"] a').getAttribute('href')`)
	b.open(ctx, s.URL, asset)
	b.do(ctx, "open the move dialog", chromedp.Click(chromedp.ID("move-asset")))
	for _, name := range []string{"Photography", "Best of"} {
		b.waitFor(ctx, "folder "+name+" in the picker", fmt.Sprintf(`[...document.querySelectorAll('#move-folders button')].some(b => b.textContent.trim() === %q)`, name))
		eval[chromedp.Void](b, ctx, fmt.Sprintf(`[...document.querySelectorAll('#move-folders button')].find(b => b.textContent.trim() === %q).click()`, name))
	}
	b.waitFor(ctx, "the picker to show Best of", `document.getElementById('move-where').textContent.endsWith('Best of')`)
	b.do(ctx, "move here", chromedp.Click(chromedp.ID("move-here")))
	b.waitFor(ctx, "the asset in its new folder", `[...document.querySelectorAll('.crumbs a')].some(a => a.textContent.trim() === 'Best of')`)
	if _, err := os.Stat(filepath.Join(s.Root, "Photography", "Best of", "Studio-01.jpg")); err != nil {
		t.Fatalf("the moved file is not in its new storage folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Root, "Photography", "Studio", "Studio-01.jpg")); err == nil {
		t.Fatal("the moved file is still in its old storage folder")
	}

	// Delete Studio-02.jpg.
	b.open(ctx, s.URL, studio)
	asset2 := eval[string](b, ctx, `document.querySelector('#items .card[data-name="Studio-02.jpg"] a').getAttribute('href')`)
	b.open(ctx, s.URL, asset2)
	b.do(ctx, "delete", chromedp.Click(chromedp.ID("delete-asset")))
	b.waitFor(ctx, "the confirmation", "document.querySelector('dialog[open] button.danger')")
	b.do(ctx, "confirm delete", chromedp.Click(chromedp.CSS("dialog[open] button.danger")))
	b.waitFor(ctx, "back in the folder", "location.pathname === "+fmt.Sprintf("%q", studio))
	if eval[bool](b, ctx, `!!document.querySelector('#items .card[data-name="Studio-02.jpg"]')`) {
		t.Error("the deleted file is still in the grid")
	}
	if _, err := os.Stat(filepath.Join(s.Root, "Photography", "Studio", "Studio-02.jpg")); err == nil {
		t.Fatal("the deleted file is still in storage")
	}
	b.open(ctx, s.URL, bestOf)
	if !eval[bool](b, ctx, `!!document.querySelector('#items .card[data-name="Studio-01.jpg"]')`) {
		t.Error("the moved file is not in the grid of its new folder")
	}

	// The next sync sees no difference.
	code, body := apiJSON(b, ctx, "POST", "/sync", nil)
	started, _ := body["run"].(map[string]any)
	if code != http.StatusAccepted || started == nil {
		t.Fatalf("POST /sync: %d %v", code, body)
	}
	deadline := time.Now().Add(waitLimit)
	run := waitIdle(b, ctx)
	for run["id"] != started["id"] {
		if time.Now().After(deadline) {
			t.Fatalf("run %v did not finish; latest is %v", started["id"], run)
		}
		time.Sleep(100 * time.Millisecond)
		run = waitIdle(b, ctx)
	}
	counts, _ := run["counts"].(map[string]any)
	for _, k := range []string{"added", "updated", "moved", "removed"} {
		if n, _ := counts[k].(float64); n != 0 {
			t.Errorf("the sync after the changes reports %s=%v, want nothing changed (run %v)", k, n, run)
		}
	}
}

// TestInfiniteScrollShowsEveryAssetOnce: a folder bigger than one page
// fills as the reader scrolls, each file once, in name order.
func TestInfiniteScrollShowsEveryAssetOnce(t *testing.T) {
	s := startShelf(t)
	const n = 150
	dir := filepath.Join(s.Root, "Many")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("note-%03d.txt", i)), []byte(fmt.Sprintf("note %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "scroll@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)

	b.open(ctx, s.URL, "/library")
	many := eval[string](b, ctx, `[...document.querySelectorAll('.subfolders a')].find(a => a.textContent.trim() === 'Many').getAttribute('href')`)
	for _, view := range []string{"", "?view=list"} {
		b.open(ctx, s.URL, many+view)
		first := eval[int](b, ctx, `document.querySelectorAll('#items [data-asset]').length`)
		if first >= n {
			t.Fatalf("%s: the first page already holds %d of %d assets; no paging to test", view, first, n)
		}
		deadline := time.Now().Add(waitLimit)
		for eval[int](b, ctx, `window.scrollTo(0, document.body.scrollHeight), document.querySelectorAll('#items [data-asset]').length`) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s: scrolling did not load all %d assets", view, n)
			}
			time.Sleep(100 * time.Millisecond)
		}
		names := eval[[]string](b, ctx, `[...document.querySelectorAll('#items [data-asset]')].map(e => e.dataset.name)`)
		if len(names) != n {
			t.Fatalf("%s: %d cards after scrolling, want %d", view, len(names), n)
		}
		for i, name := range names {
			if want := fmt.Sprintf("note-%03d.txt", i); name != want {
				t.Fatalf("%s: card %d is %s, want %s (every asset once, in name order)", view, i, name, want)
			}
		}
		if eval[bool](b, ctx, `!!document.querySelector('#items [data-more]')`) {
			t.Errorf("%s: a 'Load more' link remains after the last page", view)
		}
	}
}
