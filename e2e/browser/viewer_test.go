package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// focusedCard is the grid index of the card holding the focus (-1: none).
func focusedCard(b *browser, ctx context.Context) int {
	b.t.Helper()
	return eval[int](b, ctx, `[...document.querySelectorAll('#items [data-asset]')].indexOf(document.activeElement && document.activeElement.closest('#items [data-asset]'))`)
}

// viewportShot saves what the window shows (the viewer covers the
// window, not the whole page) under the artifact directory.
func (b *browser) viewportShot(ctx context.Context, name string) {
	b.t.Helper()
	b.shoot(ctx, name, chromedp.CaptureScreenshot())
}

func (b *browser) key(ctx context.Context, keys string) {
	b.t.Helper()
	b.do(ctx, fmt.Sprintf("pressing %q", keys), chromedp.KeyEvent(keys))
}

// TestViewerAndKeyboard: at desktop and phone width, "Skip to assets" is
// the page's first stop and lands on the first file; the arrow keys move
// through the grid (up and down by rows); Enter opens the viewer on the
// file's large preview, ← / → go through the folder's files with the
// neighbours' previews loaded ahead, zoom works by key, button,
// double-click, wheel and (phone) pinch, Esc closes it and gives the focus
// back to the card; "?" lists the shortcuts.
func TestViewerAndKeyboard(t *testing.T) {
	s := startShelf(t)
	// A folder of more files than a page of the grid holds.
	const many = 70
	if err := os.MkdirAll(filepath.Join(s.Root, "Many"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range many {
		if err := os.WriteFile(filepath.Join(s.Root, "Many", fmt.Sprintf("note-%03d.txt", i)), []byte("note"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "viewer@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)
	acct := accountID(b, ctx)
	studio := fmt.Sprintf("/library/folder/%d", folderOf(t, s, acct, "Photography/Studio"))

	for _, width := range []string{"desktop", "phone"} {
		if width == "desktop" {
			b.desktop(ctx)
		} else {
			b.phone(ctx)
		}
		b.open(ctx, s.URL, studio)
		ids := eval[[]string](b, ctx, `[...document.querySelectorAll('#items [data-asset]')].map(c => c.dataset.asset)`)
		names := eval[[]string](b, ctx, `[...document.querySelectorAll('#items [data-asset]')].map(c => c.dataset.name)`)
		if len(ids) != 8 {
			t.Fatalf("%s: %d files in Studio, want 8", width, len(ids))
		}

		// The skip link is the first stop and lands on the first file.
		b.key(ctx, kb.Tab)
		if got := eval[string](b, ctx, `document.activeElement.id + ':' + document.activeElement.textContent`); got != "skip-assets:Skip to assets" {
			t.Errorf("%s: the first Tab stop is %q, want the skip link", width, got)
		}
		b.key(ctx, kb.Enter)
		if got := focusedCard(b, ctx); got != 0 {
			t.Errorf("%s: after Skip to assets the focus is on card %d, want 0", width, got)
		}

		// Arrow keys: right, down a row (same column), up, End, Home.
		cols := eval[int](b, ctx, `(() => { const c = [...document.querySelectorAll('#items [data-asset]')]; return c.filter(x => x.offsetTop === c[0].offsetTop).length; })()`)
		b.key(ctx, kb.ArrowRight)
		if got := focusedCard(b, ctx); got != 1 {
			t.Errorf("%s: → moved to card %d, want 1", width, got)
		}
		b.key(ctx, kb.ArrowDown)
		if got := focusedCard(b, ctx); got != 1+cols {
			t.Errorf("%s: ↓ from card 1 (%d columns) moved to card %d, want %d", width, cols, got, 1+cols)
		}
		b.key(ctx, kb.ArrowUp)
		b.key(ctx, kb.End)
		if got := focusedCard(b, ctx); got != len(ids)-1 {
			t.Errorf("%s: End moved to card %d", width, got)
		}
		b.key(ctx, kb.Home)
		b.key(ctx, kb.ArrowRight)
		if got := focusedCard(b, ctx); got != 1 {
			t.Fatalf("%s: Home, → moved to card %d, want 1", width, got)
		}
		// Space selects and unselects the focused file.
		b.key(ctx, " ")
		if got := selectedNames(b, ctx); len(got) != 1 || got[0] != names[1] {
			t.Errorf("%s: Space selected %q", width, got)
		}
		b.key(ctx, " ")

		// Enter opens the viewer on the focused file's large preview.
		b.key(ctx, kb.Enter)
		b.waitFor(ctx, "the viewer on the second file", fmt.Sprintf(`document.getElementById('viewer').open && document.getElementById('viewer-pos').textContent === '2 of 8'
			&& document.getElementById('viewer-img').src.includes('/assets/%s/thumb') && document.getElementById('viewer-img').src.includes('size=preview')
			&& document.getElementById('viewer-img').complete && document.getElementById('viewer-img').naturalWidth > 0`, ids[1]))
		// The large preview, not the type icon: a preview still being made
		// when the viewer opened is swapped in when it is ready.
		b.waitFor(ctx, "the large preview in the viewer", `document.getElementById('viewer-img').complete && document.getElementById('viewer-img').naturalWidth >= 900`)
		if location := eval[string](b, ctx, `location.pathname`); location != studio {
			t.Errorf("%s: opening the viewer left the page for %s", width, location)
		}
		b.waitFor(ctx, "the neighbours' previews loaded ahead", fmt.Sprintf(`['%s', '%s'].every(id => performance.getEntriesByType('resource').some(e => e.name.includes('/assets/' + id + '/thumb') && e.name.includes('size=preview')))`, ids[0], ids[2]))
		b.viewportShot(ctx, width+"-viewer")
		b.key(ctx, kb.ArrowRight)
		b.waitFor(ctx, "→ in the viewer", fmt.Sprintf(`document.getElementById('viewer-pos').textContent === '3 of 8' && document.getElementById('viewer-name').textContent === %q`, names[2]))

		// Zoom: keys, buttons, double-click, wheel.
		zoom := func() float64 { return eval[float64](b, ctx, `+document.getElementById('viewer').dataset.zoom`) }
		b.key(ctx, "+")
		if z := zoom(); z <= 1 {
			t.Errorf("%s: + left the zoom at %v", width, z)
		}
		b.key(ctx, "0")
		if z := zoom(); z != 1 {
			t.Errorf("%s: 0 left the zoom at %v", width, z)
		}
		b.do(ctx, "zoom in button", chromedp.Click(chromedp.ID("viewer-zoom-in")))
		if z := zoom(); z <= 1 {
			t.Errorf("%s: the zoom-in button left the zoom at %v", width, z)
		}
		b.do(ctx, "fit button", chromedp.Click(chromedp.ID("viewer-zoom-reset")))
		b.do(ctx, "double-click", chromedp.DoubleClick(chromedp.ID("viewer-img")))
		b.waitFor(ctx, "double-click zooms", `+document.getElementById('viewer').dataset.zoom > 2`)
		b.viewportShot(ctx, width+"-viewer-zoomed")
		b.do(ctx, "double-click", chromedp.DoubleClick(chromedp.ID("viewer-img")))
		b.waitFor(ctx, "double-click again fits", `+document.getElementById('viewer').dataset.zoom === 1`)
		eval[bool](b, ctx, `(() => { const r = document.getElementById('viewer-stage').getBoundingClientRect();
			document.getElementById('viewer-stage').dispatchEvent(new WheelEvent('wheel', {deltaY: -300, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true, cancelable: true}));
			return true; })()`)
		if z := zoom(); z <= 1 {
			t.Errorf("%s: the wheel left the zoom at %v", width, z)
		}
		b.key(ctx, "0")
		if width == "phone" {
			pinch(b, ctx)
			if z := zoom(); z <= 1.5 {
				t.Errorf("phone: a pinch left the zoom at %v", z)
			}
		}

		// Esc closes and gives the focus to the card last shown.
		b.key(ctx, kb.Escape)
		b.waitFor(ctx, "the viewer closed, the focus on the card last shown", fmt.Sprintf(`!document.getElementById('viewer').open && document.activeElement.closest('[data-asset]') && document.activeElement.closest('[data-asset]').dataset.asset === %q`, ids[2]))

		// ? lists the shortcuts.
		b.key(ctx, "?")
		b.waitFor(ctx, "the shortcut list", `document.getElementById('shortcuts').open && document.getElementById('shortcuts').textContent.includes('Select a range of files')`)
		b.screenshot(ctx, width+"-shortcuts")
		b.key(ctx, kb.Escape)
		b.waitFor(ctx, "the shortcut list closed", `!document.getElementById('shortcuts').open`)

		// → past the last file the grid has loaded loads the next page.
		b.open(ctx, s.URL, fmt.Sprintf("/library/folder/%d", folderOf(t, s, acct, "Many")))
		loaded := eval[int](b, ctx, `document.querySelectorAll('#items [data-asset]').length`)
		if loaded >= many {
			t.Fatalf("%s: all %d files on the first page; nothing to page", width, loaded)
		}
		eval[bool](b, ctx, `(() => { const c = [...document.querySelectorAll('#items [data-asset]')]; shelfViewer.open(c[c.length - 1].dataset.asset); return true; })()`)
		b.waitFor(ctx, "the viewer on the last loaded file", fmt.Sprintf(`document.getElementById('viewer').open && document.getElementById('viewer-pos').textContent === '%d of %d' && !document.getElementById('viewer-next').disabled`, loaded, loaded))
		b.key(ctx, kb.ArrowRight)
		b.waitFor(ctx, "the first file of the next page", fmt.Sprintf(`document.getElementById('viewer-name').textContent === 'note-%03d.txt' && document.getElementById('viewer-pos').textContent.startsWith('%d of ')`, loaded, loaded+1))
		b.key(ctx, kb.Escape)
	}
}

// pinch spreads two fingers apart over the viewer's image, with touch
// emulation on for the gesture.
func pinch(b *browser, ctx context.Context) {
	b.t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: true, MaxTouchPoints: 2}); err != nil {
		b.t.Fatal(err)
	}
	defer func() {
		if _, err := chromedp.Call(ctx, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: false}); err != nil {
			b.t.Fatal(err)
		}
	}()
	c := eval[map[string]float64](b, ctx, `(() => { const r = document.getElementById('viewer-stage').getBoundingClientRect(); return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()`)
	points := func(d float64) []*input.TouchPoint {
		id0, id1 := 0.0, 1.0
		return []*input.TouchPoint{{X: c["x"] - d, Y: c["y"], ID: &id0}, {X: c["x"] + d, Y: c["y"], ID: &id1}}
	}
	touch := func(typ input.DispatchTouchEventType, tp []*input.TouchPoint) {
		if _, err := chromedp.Call(ctx, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: tp}); err != nil {
			b.t.Fatalf("touch %s: %v", typ, err)
		}
	}
	touch(input.DispatchTouchEventTypeTouchStart, points(20))
	for d := 30.0; d <= 80; d += 10 {
		touch(input.DispatchTouchEventTypeTouchMove, points(d))
	}
	touch(input.DispatchTouchEventTypeTouchEnd, []*input.TouchPoint{})
}
