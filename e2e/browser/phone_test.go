package browser

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// secondRowBottom is the bottom edge (px from the top of the window) of
// the second row of asset cards, or -1 when there are not two rows.
const secondRowBottom = `(() => {
	const rows = new Map();
	for (const c of document.querySelectorAll('#items .card')) {
		const r = c.getBoundingClientRect();
		const top = Math.round(r.top);
		rows.set(top, Math.max(rows.get(top) || 0, r.bottom));
	}
	const tops = [...rows.keys()].sort((a, b) => a - b);
	return tops.length < 2 ? -1 : rows.get(tops[1]);
})()`

// shown is true when the element of the selector is displayed, visible
// and inside the window's width.
func shown(sel string) string {
	return `(() => { const el = document.querySelector(` + "`" + sel + "`" + `); if (!el) return false;
		const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
		return el.offsetParent !== null && cs.visibility === 'visible' && r.width > 0 && r.left >= 0 && r.right <= innerWidth; })()`
}

// folderAction presses a folder action button (new-folder, rename-folder,
// delete-folder), opening the folder menu first where the actions are
// folded into one (phones).
func (b *browser) folderAction(ctx context.Context, id string) {
	b.t.Helper()
	if eval[bool](b, ctx, `getComputedStyle(document.querySelector('.menu-toggle')).display !== 'none'`) {
		b.do(ctx, "opening the folder menu", chromedp.Click(chromedp.CSS(".menu-toggle")))
		b.waitFor(ctx, "the folder menu", shown("#"+id))
	}
	b.do(ctx, "pressing "+id, chromedp.Click(chromedp.ID(id)))
}

// drawerClosed is true once the folder drawer has slid away.
const drawerClosed = `getComputedStyle(document.getElementById('folders-drawer')).visibility === 'hidden' && document.querySelector('.drawer-backdrop').hidden`

// TestPhoneFolderShowsTwoRowsAndDrawer: inside a folder at 390×844 the
// first screen holds two full rows of thumbnails: the folder tree is in a
// drawer (a button opens it; Esc and the backdrop close it), the filters
// behind a button next to one search field, and the folder actions in a
// menu. At 1366×900 the tree, filters and actions show as before.
func TestPhoneFolderShowsTwoRowsAndDrawer(t *testing.T) {
	s := startShelf(t)
	b := newBrowser(t)
	ctx := b.ctx
	pages := tourPages(t, b, ctx, s, func(sitePage) {})
	var folder string
	for _, p := range pages {
		if p.name == "folder" {
			folder = p.path
		}
	}

	b.setWidth(ctx, widths[1])
	b.open(ctx, s.URL, folder)
	if n := eval[int](b, ctx, `document.querySelectorAll('#items .card').length`); n < 4 {
		t.Fatalf("the folder has %d assets, want at least 4 for two rows", n)
	}
	bottom := eval[float64](b, ctx, secondRowBottom)
	if bottom < 0 || bottom > 844 {
		t.Errorf("the second row of cards ends at y=%.0f, want two full rows within the 844 px screen", bottom)
	}
	for sel, want := range map[string]bool{
		"#tree": false, ".drawer-toggle": true, "#q": true, ".filters-toggle": true, "#tag": false, "#type": false,
		"#view-opts": false, ".file-button": true, ".menu-toggle": true, "#rename-folder": false, "#drop-hint": false,
	} {
		if got := eval[bool](b, ctx, shown(sel)); got != want {
			t.Errorf("at 390 wide %s shown = %v, want %v", sel, got, want)
		}
	}
	b.screenshot(ctx, "phone-folder")

	// The drawer: opened by its button, with focus inside; closed by Esc
	// (focus back on the button) and by the backdrop.
	b.do(ctx, "opening the folders", chromedp.Click(chromedp.CSS(".drawer-toggle")))
	b.waitFor(ctx, "the drawer to open", shown("#tree")+` && document.getElementById('folders-drawer').getBoundingClientRect().left >= 0`)
	if !eval[bool](b, ctx, `document.getElementById('folders-drawer').contains(document.activeElement) && document.querySelector('.drawer-toggle').getAttribute('aria-expanded') === 'true'`) {
		t.Error("the open drawer does not have the focus or its button does not say it is expanded")
	}
	if !eval[bool](b, ctx, `document.activeElement.getAttribute('aria-current') === 'page'`) {
		t.Error("the drawer does not focus the current folder")
	}
	b.axeClean(ctx, "the open drawer")
	b.screenshot(ctx, "phone-drawer")
	b.do(ctx, "pressing Esc", chromedp.KeyEvent(kb.Escape))
	b.waitFor(ctx, "the drawer to close on Esc", drawerClosed+` && document.activeElement === document.querySelector('.drawer-toggle')`)
	b.do(ctx, "opening the folders again", chromedp.Click(chromedp.CSS(".drawer-toggle")))
	b.waitFor(ctx, "the drawer to open", shown("#tree"))
	// A refresh of the library (after a change, a live event) replaces
	// the whole library element: the open drawer stays open.
	eval[bool](b, ctx, `window.shelf.refreshView().then(() => true)`)
	if !eval[bool](b, ctx, `!!document.querySelector('.library.drawer-open') && `+shown("#tree")+` && !document.querySelector('.drawer-backdrop').hidden`) {
		t.Error("a refresh of the library closed the open drawer")
	}
	b.do(ctx, "tapping the backdrop", chromedp.MouseClickXY(375, 500))
	b.waitFor(ctx, "the drawer to close on the backdrop", drawerClosed)

	// The filters, and sort and view, behind one button.
	b.do(ctx, "showing the filters", chromedp.Click(chromedp.CSS(".filters-toggle")))
	b.waitFor(ctx, "the filters", shown("#tag")+` && `+shown("#type")+` && `+shown("#scope")+` && `+shown("#view-opts"))
	b.axeClean(ctx, "the open filters")
	b.screenshot(ctx, "phone-filters")
	b.do(ctx, "hiding the filters", chromedp.Click(chromedp.CSS(".filters-toggle")))
	b.waitFor(ctx, "the filters to hide", `!`+shown("#tag"))

	// The folder actions in a menu: Esc closes it; a choice runs.
	b.do(ctx, "opening the folder menu", chromedp.Click(chromedp.CSS(".menu-toggle")))
	b.waitFor(ctx, "the folder menu", shown("#new-folder")+` && `+shown("#rename-folder")+` && `+shown("#delete-folder"))
	eval[bool](b, ctx, `window.shelf.refreshView().then(() => true)`)
	if !eval[bool](b, ctx, shown("#rename-folder")+` && document.querySelector('.menu-toggle').getAttribute('aria-expanded') === 'true'`) {
		t.Error("a refresh of the library closed the open folder menu")
	}
	b.axeClean(ctx, "the open folder menu")
	b.screenshot(ctx, "phone-folder-menu")
	b.do(ctx, "pressing Esc", chromedp.KeyEvent(kb.Escape))
	b.waitFor(ctx, "the menu to close", `!`+shown("#rename-folder")+` && document.activeElement === document.querySelector('.menu-toggle')`)
	b.folderAction(ctx, "rename-folder")
	b.waitFor(ctx, "the rename dialog", `document.querySelector('dialog[open] #ask-input') && document.getElementById('ask-input').value === 'Studio'`)
	b.do(ctx, "closing the dialog", chromedp.KeyEvent(kb.Escape))
	b.waitFor(ctx, "the dialog to close", `!document.querySelector('dialog[open]')`)

	// Desktop keeps the sidebar, the filters and the actions in view.
	b.setWidth(ctx, widths[0])
	b.open(ctx, s.URL, folder)
	for sel, want := range map[string]bool{
		"#tree": true, ".drawer-toggle": false, "#q": true, "#tag": true, "#type": true, "#scope": true, ".filters-toggle": false,
		"#view-opts": true, ".menu-toggle": false, "#new-folder": true, "#rename-folder": true, "#delete-folder": true, "#drop-hint": true,
	} {
		if got := eval[bool](b, ctx, shown(sel)); got != want {
			t.Errorf("at 1366 wide %s shown = %v, want %v", sel, got, want)
		}
	}
	b.screenshot(ctx, "desktop-folder")
}
