package browser

import (
	"archive/zip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// clickWith clicks the middle of the element sel holding modifier keys.
func (b *browser) clickWith(ctx context.Context, sel string, mods ...chromedp.Modifier) {
	b.t.Helper()
	pt := eval[map[string]float64](b, ctx, fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.scrollIntoView({block: 'center'});
		const r = el.getBoundingClientRect(); return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()`, sel))
	b.do(ctx, "clicking "+sel, chromedp.MouseClickXY(pt["x"], pt["y"], chromedp.ButtonModifiers(mods...)))
}

// card is the selector of the n-th card (from 1) of the grid.
func card(n int) string { return fmt.Sprintf("#items article.card:nth-of-type(%d)", n) }

// selectedNames is the names of the selected cards, in grid order.
func selectedNames(b *browser, ctx context.Context) []string {
	b.t.Helper()
	return eval[[]string](b, ctx, `[...document.querySelectorAll('#items .card.selected')].map(c => c.dataset.name)`)
}

// openOn clicks the button sel until cond holds. The page refreshes the
// library's part of itself after the live events of a bulk action (app.js
// refreshView), which closes a drawer or menu opened just before: a click
// that lost that race is made again.
func openOn(b *browser, ctx context.Context, what, sel, cond string) {
	b.t.Helper()
	for try := 0; ; try++ {
		b.do(ctx, "opening "+what, chromedp.Click(chromedp.CSS(sel)))
		for range 20 {
			if eval[bool](b, ctx, "!!("+cond+")") {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		if try == 4 {
			b.waitFor(ctx, what+" open", cond) // fails, saying what the page shows
			return
		}
		hit := eval[string](b, ctx, fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect();
			const el = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); return el ? el.outerHTML.slice(0, 120) : 'nothing'; })()`, sel))
		b.t.Logf("%s did not open on click %d (at its centre: %s); clicking again", what, try+1, hit)
	}
}

// folderOf is the id of a folder of the account by its path.
func folderOf(t *testing.T, s *shelf, acct int64, path string) int64 {
	t.Helper()
	f, err := s.App.Store.GetFolderByPath(context.Background(), acct, path)
	if err != nil {
		t.Fatalf("folder %s: %v", path, err)
	}
	return f.ID
}

// TestBulkActions: at desktop and phone width, files are selected with the
// box, shift-click (a range), Ctrl-click and "Select all in view"; the
// selection is tagged, moved (a name taken in the destination fails that
// file only, and the dialog says why), deleted after a confirmation, and
// downloaded as one zip; the grid updates without a reload. While a sync
// holds the library the action is refused and nothing changes.
func TestBulkActions(t *testing.T) {
	s := startShelf(t)
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "bulk@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)
	acct := accountID(b, ctx)
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ width, folder, dest, destName string }{
		{"desktop", "Photography/Studio", "Campaigns/Autumn 2026", "Autumn 2026"},
		{"phone", "Photography/Outdoor/Mountains", "Photography/Outdoor/Coast", "Coast"},
	} {
		if tc.width == "desktop" {
			b.desktop(ctx)
		} else {
			b.phone(ctx)
		}
		b.open(ctx, s.URL, fmt.Sprintf("/library/folder/%d", folderOf(t, s, acct, tc.folder)))
		eval[bool](b, ctx, `window.__sameLoad = true`)
		names := eval[[]string](b, ctx, `[...document.querySelectorAll('#items .card')].map(c => c.dataset.name)`)
		if len(names) < 5 {
			t.Fatalf("%s: %d files in %s", tc.width, len(names), tc.folder)
		}

		// Box, then shift-click: a range; Ctrl-click adds and removes one.
		b.clickWith(ctx, card(1)+" .select-box")
		b.clickWith(ctx, card(3)+" a.thumb-link", chromedp.ModifierShift)
		if got := selectedNames(b, ctx); !slices.Equal(got, names[:3]) {
			t.Errorf("%s: after a shift-click %q are selected, want %q", tc.width, got, names[:3])
		}
		b.clickWith(ctx, card(5)+" a.thumb-link", chromedp.ModifierCtrl)
		if got := selectedNames(b, ctx); len(got) != 4 || got[3] != names[4] {
			t.Errorf("%s: Ctrl-click did not add %s: %q", tc.width, names[4], got)
		}
		b.clickWith(ctx, card(5)+" a.thumb-link", chromedp.ModifierCtrl)
		b.waitFor(ctx, "the bar saying 3 selected", `!document.getElementById('bulk-bar').hidden && document.getElementById('bulk-count').textContent === '3 selected'`)
		if eval[bool](b, ctx, `document.getElementById('viewer').open || location.pathname.startsWith('/assets/')`) {
			t.Fatalf("%s: a click that selects opened the file", tc.width)
		}
		b.screenshot(ctx, tc.width+"-selected")

		// Tag the three.
		b.do(ctx, "tagging", chromedp.Click(chromedp.ID("bulk-tag")),
			chromedp.SendKeys(chromedp.ID("bulk-tag-add"), "launch, Q3"),
			chromedp.Click(chromedp.CSS("#bulk-tag-dialog button[type=submit]")))
		b.waitFor(ctx, "the tag toast", `[...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.includes('Tagged 3 files'))`)
		b.waitFor(ctx, "the selection cleared after tagging", `document.getElementById('bulk-bar').hidden`)
		for _, n := range names[:3] {
			a, err := s.App.Store.GetAssetByStorageID(context.Background(), acct, tc.folder+"/"+n)
			if err != nil || !slices.Contains(a.Tags, "launch") || !slices.Contains(a.Tags, "q3") {
				t.Errorf("%s: %s tags %q (%v)", tc.width, n, a.Tags, err)
			}
		}

		// Select all in view, then clear.
		b.clickWith(ctx, card(2)+" .select-box")
		b.do(ctx, "selecting all", chromedp.Click(chromedp.ID("bulk-all")))
		if got := selectedNames(b, ctx); len(got) != len(names) {
			t.Errorf("%s: select all selected %d of %d", tc.width, len(got), len(names))
		}
		b.do(ctx, "clearing", chromedp.Click(chromedp.ID("bulk-clear")))
		b.waitFor(ctx, "nothing selected", `!document.querySelector('#items .card.selected') && document.getElementById('bulk-bar').hidden`)
		// The same by keyboard: Ctrl+A in the grid, Esc.
		b.do(ctx, "focusing the first file", chromedp.Focus(chromedp.CSS(card(1)+" a.thumb-link")))
		b.do(ctx, "Ctrl+A", chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
		if got := selectedNames(b, ctx); len(got) != len(names) {
			t.Errorf("%s: Ctrl+A selected %d of %d", tc.width, len(got), len(names))
		}
		b.do(ctx, "Esc", chromedp.KeyEvent(kb.Escape))
		b.waitFor(ctx, "Esc clears the selection", `!document.querySelector('#items .card.selected') && document.getElementById('bulk-bar').hidden`)

		// Enter on a focused file opens it in the viewer even while
		// something is selected (before, the keyboard's click toggled it).
		b.clickWith(ctx, card(1)+" .select-box")
		b.do(ctx, "focusing the second file", chromedp.Focus(chromedp.CSS(card(2)+" a.thumb-link")))
		b.do(ctx, "Enter", chromedp.KeyEvent(kb.Enter))
		b.waitFor(ctx, "Enter opens the viewer", `document.getElementById('viewer').open`)
		if got := selectedNames(b, ctx); !slices.Equal(got, names[:1]) {
			t.Errorf("%s: Enter on a file changed the selection to %q", tc.width, got)
		}
		b.do(ctx, "closing the viewer", chromedp.KeyEvent(kb.Escape))
		b.waitFor(ctx, "the viewer closed", `!document.getElementById('viewer').open`)
		if tc.width == "phone" {
			// Esc closes the folder drawer or the folder menu and keeps the
			// selection; Ctrl+A in the drawer does not select the files.
			// The page's refresh after the tagging above (live events,
			// coalesced for 0.8 s) would close the drawer: let it pass.
			time.Sleep(1500 * time.Millisecond)
			openOn(b, ctx, "the folders", ".drawer-toggle", `document.querySelector('.library.drawer-open') && document.getElementById('folders-drawer').contains(document.activeElement)`)
			b.do(ctx, "Ctrl+A in the drawer", chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
			b.do(ctx, "Esc in the drawer", chromedp.KeyEvent(kb.Escape))
			b.waitFor(ctx, "the drawer closed", `!document.querySelector('.library.drawer-open')`)
			if got := selectedNames(b, ctx); !slices.Equal(got, names[:1]) {
				t.Errorf("phone: Ctrl+A and Esc in the drawer changed the selection to %q", got)
			}
			openOn(b, ctx, "the folder menu", ".menu-toggle", `document.querySelector('.menu-toggle').getAttribute('aria-expanded') === 'true'`)
			b.do(ctx, "Esc in the menu", chromedp.KeyEvent(kb.Escape))
			b.waitFor(ctx, "the menu closed", `document.querySelector('.menu-toggle').getAttribute('aria-expanded') === 'false'`)
			if got := selectedNames(b, ctx); !slices.Equal(got, names[:1]) {
				t.Errorf("phone: Esc in the folder menu changed the selection to %q", got)
			}
		}
		b.do(ctx, "clearing", chromedp.Click(chromedp.ID("bulk-clear")))
		b.waitFor(ctx, "nothing selected", `document.getElementById('bulk-bar').hidden`)

		// Move two; the second's name is taken in the destination.
		taken := filepath.Join(s.Root, filepath.FromSlash(tc.dest), names[1])
		if err := os.WriteFile(taken, []byte("already here"), 0o644); err != nil {
			t.Fatal(err)
		}
		b.clickWith(ctx, card(1)+" .select-box")
		b.clickWith(ctx, card(2)+" .select-box", chromedp.ModifierShift)
		b.do(ctx, "opening Move", chromedp.Click(chromedp.ID("bulk-move")))
		for _, step := range strings.Split(tc.dest, "/") {
			b.waitFor(ctx, "folder "+step+" in the picker", fmt.Sprintf(`[...document.querySelectorAll('#bulk-move-folders button')].some(x => x.textContent === %q)`, step))
			eval[bool](b, ctx, fmt.Sprintf(`(() => { [...document.querySelectorAll('#bulk-move-folders button')].find(x => x.textContent === %q).click(); return true; })()`, step))
			b.waitFor(ctx, "into "+step, fmt.Sprintf(`document.getElementById('bulk-move-where').textContent.endsWith(%q)`, step))
		}
		b.do(ctx, "moving here", chromedp.Click(chromedp.ID("bulk-move-here")))
		b.waitFor(ctx, "the per-file result", fmt.Sprintf(`document.getElementById('bulk-result').open && document.getElementById('bulk-result-list').textContent.includes(%q) && document.getElementById('bulk-result-list').textContent.includes('already exists')`, names[1]))
		b.screenshot(ctx, tc.width+"-move-result")
		b.do(ctx, "closing the result", chromedp.Click(chromedp.CSS("#bulk-result button.primary")))
		b.waitFor(ctx, "the moved file gone from the grid", fmt.Sprintf(`!document.querySelector('#items .card[data-name=%q]') && document.querySelector('#items .card[data-name=%q].selected')`, names[0], names[1]))
		if _, err := os.Stat(filepath.Join(s.Root, filepath.FromSlash(tc.dest), names[0])); err != nil {
			t.Errorf("%s: %s is not in %s in the storage: %v", tc.width, names[0], tc.dest, err)
		}
		if data, _ := os.ReadFile(taken); string(data) != "already here" {
			t.Errorf("%s: the file in the way was changed", tc.width)
		}
		b.do(ctx, "clearing", chromedp.Click(chromedp.ID("bulk-clear")))

		// Delete one, confirmed.
		victim := names[2]
		b.clickWith(ctx, fmt.Sprintf(`#items .card[data-name=%q] .select-box`, victim))
		b.do(ctx, "deleting", chromedp.Click(chromedp.ID("bulk-delete")))
		b.waitFor(ctx, "the confirmation", `document.querySelector('dialog[open][role=alertdialog]')`)
		b.screenshot(ctx, tc.width+"-delete-confirm")
		b.do(ctx, "confirming", chromedp.Click(chromedp.CSS("dialog[open] button.danger")))
		b.waitFor(ctx, "the deleted file gone from the grid", fmt.Sprintf(`!document.querySelector('#items .card[data-name=%q]')`, victim))
		if _, err := os.Stat(filepath.Join(s.Root, filepath.FromSlash(tc.folder), victim)); !os.IsNotExist(err) {
			t.Errorf("%s: %s is still in the storage: %v", tc.width, victim, err)
		}

		// Download two as a zip.
		zipNames := []string{names[3], names[4]}
		b.waitFor(ctx, "nothing selected after the delete", `document.getElementById('bulk-bar').hidden`)
		for _, n := range zipNames {
			b.clickWith(ctx, fmt.Sprintf(`#items .card[data-name=%q] .select-box`, n))
		}
		before := listDir(t, downloads)
		b.do(ctx, "downloading", chromedp.Click(chromedp.ID("bulk-zip")))
		got := waitZip(t, downloads, before)
		slices.Sort(got)
		if !slices.Equal(got, zipNames) {
			t.Errorf("%s: the zip holds %q, want %q", tc.width, got, zipNames)
		}
		if !eval[bool](b, ctx, `window.__sameLoad === true`) {
			t.Errorf("%s: the page reloaded during the bulk actions", tc.width)
		}
		b.do(ctx, "clearing", chromedp.Click(chromedp.ID("bulk-clear")))

		// A zip that cannot be made says why, and the page stays.
		gone := names[3]
		b.clickWith(ctx, fmt.Sprintf(`#items .card[data-name=%q] .select-box`, gone))
		goneID := eval[float64](b, ctx, fmt.Sprintf(`+document.querySelector('#items .card[data-name=%q]').dataset.asset`, gone))
		if code, body := apiJSON(b, ctx, "DELETE", fmt.Sprintf("/assets/%d", int64(goneID)), nil); code != 204 {
			t.Fatalf("%s: deleting %s behind the page's back: %d %v", tc.width, gone, code, body)
		}
		b.do(ctx, "downloading a file gone", chromedp.Click(chromedp.ID("bulk-zip")))
		b.waitFor(ctx, "the refusal in a toast", `[...document.querySelectorAll('#toasts .toast.error')].some(t => t.textContent.includes('can be downloaded'))`)
		if !eval[bool](b, ctx, `window.__sameLoad === true && !!document.getElementById('items')`) {
			t.Errorf("%s: a refused zip replaced the page", tc.width)
		}
		b.waitFor(ctx, "the selection cleared after the refresh", `document.getElementById('bulk-bar').hidden`)
	}

	// A sync holds the library: the page offers no change, and a bulk
	// delete sent anyway is refused; the file stays.
	b.desktop(ctx)
	studio := folderOf(t, s, acct, "Photography/Studio")
	now := time.Now()
	run, err := s.App.Store.CreateSyncRun(context.Background(), catalog.SyncRun{AccountID: acct, Trigger: catalog.TriggerCLI, State: catalog.RunRunning, StartedAt: &now}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.Store.AcquireLease(context.Background(), acct, run.ID, "browser-test", now, time.Hour); err != nil {
		t.Fatal(err)
	}
	b.open(ctx, s.URL, fmt.Sprintf("/library/folder/%d", studio))
	name := eval[string](b, ctx, `document.querySelector('#items .card').dataset.name`)
	b.clickWith(ctx, card(1)+" .select-box")
	b.waitFor(ctx, "the bulk changes disabled", `['bulk-tag', 'bulk-move', 'bulk-delete'].every(id => document.getElementById(id).disabled) && !document.getElementById('bulk-zip').disabled`)
	code, body := apiJSON(b, ctx, "POST", "/assets/bulk/delete", map[string]any{"asset_ids": []float64{eval[float64](b, ctx, `+document.querySelector('#items .card').dataset.asset`)}})
	if code != 423 {
		t.Errorf("a bulk delete while locked: %d %v", code, body)
	}
	b.waitFor(ctx, "the locked message", `[...document.querySelectorAll('#toasts .toast')].some(t => t.textContent.includes('locked'))`)
	b.screenshot(ctx, "desktop-locked")
	if _, err := os.Stat(filepath.Join(s.Root, "Photography", "Studio", name)); err != nil {
		t.Errorf("a delete while locked removed %s: %v", name, err)
	}
	if err := s.App.Store.ReleaseLease(context.Background(), acct, run.ID, "browser-test"); err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	run.State, run.FinishedAt = catalog.RunSucceeded, &done
	if err := s.App.Store.UpdateSyncRun(context.Background(), run); err != nil {
		t.Fatal(err)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// waitZip waits for a new finished download in dir and returns the names
// of the files in it.
func waitZip(t *testing.T, dir string, before []string) []string {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		for _, name := range listDir(t, dir) {
			if slices.Contains(before, name) || strings.HasSuffix(name, ".crdownload") {
				continue
			}
			zr, err := zip.OpenReader(filepath.Join(dir, name))
			if err != nil {
				continue // still being written
			}
			var names []string
			for _, f := range zr.File {
				names = append(names, f.Name)
			}
			zr.Close()
			return names
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no zip was downloaded into %s within %s", dir, waitLimit)
	return nil
}
