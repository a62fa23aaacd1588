package browser

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// axeViolation is one axe-core rule broken on a page.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// axeSerious runs axe-core (testdata/axe.min.js, see testdata/AXE.md) on
// the tab's page and returns its serious and critical violations.
func (b *browser) axeSerious(ctx context.Context) []axeViolation {
	b.t.Helper()
	if !eval[bool](b, ctx, `typeof window.axe === 'object'`) {
		src, err := os.ReadFile("testdata/axe.min.js")
		if err != nil {
			b.t.Fatalf("reading axe-core: %v", err)
		}
		eval[chromedp.Void](b, ctx, string(src)+"\n;undefined")
	}
	return eval[[]axeViolation](b, ctx, `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
		.filter(v => v.impact === 'serious' || v.impact === 'critical')
		.map(v => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 160))})))`)
}

// axeClean fails the test for each serious or critical axe violation of
// the page as it is now (what, say "the open drawer", names the state),
// and returns how many there are.
func (b *browser) axeClean(ctx context.Context, what string) int {
	b.t.Helper()
	found := b.axeSerious(ctx)
	for _, v := range found {
		b.t.Errorf("%s: axe %s (%s): %s\n\t%s", what, v.ID, v.Impact, v.Help, strings.Join(v.Targets, "\n\t"))
	}
	return len(found)
}

// colorScheme makes the tab prefer a "dark" or "light" colour scheme.
func (b *browser) colorScheme(ctx context.Context, scheme string) {
	b.t.Helper()
	p := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, p); err != nil {
		b.t.Fatalf("preferring the %s colour scheme: %v", scheme, err)
	}
}

// fitsWidth reports what makes the page wider than the window (the
// elements whose right edge passes it), or "" when nothing does.
const fitsWidth = `(() => {
	if (document.scrollingElement.scrollWidth <= innerWidth) return '';
	const wide = [...document.querySelectorAll('body *')].filter(el => el.getBoundingClientRect().right > innerWidth + 0.5)
		.slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''));
	return document.scrollingElement.scrollWidth + 'px wide: ' + wide.join(', ');
})()`

// hiddenActions lists the buttons of tables and lists that cannot be
// seen or reached at the current width (cut off or not displayed).
const hiddenActions = `[...document.querySelectorAll('main table button, main .notifications button')]
	.filter(b => { const r = b.getBoundingClientRect(); return b.offsetParent === null || r.width === 0 || r.right > innerWidth || r.left < 0; })
	.map(b => b.textContent.trim() + ' (' + (b.closest('tr') || b).innerText.replace(/\s+/g, ' ').slice(0, 60) + ')')`

// TestEveryPageFitsAndPassesAxe visits every page of the app at 1366×900
// and at 390×844, light and dark: axe-core finds no serious or critical
// violation, and at
// phone width no page scrolls sideways and every action of a table (the
// Team page's Remove, the Tokens page's Revoke, the webhooks' buttons) is
// on screen.
func TestEveryPageFitsAndPassesAxe(t *testing.T) {
	s := startShelf(t)
	b := newBrowser(t)
	ctx := b.ctx
	// One row a page and width for the report: load time, page weight,
	// serious/critical axe violations.
	var report []string
	check := func(w width, p sitePage) {
		t.Helper()
		name := p.name + "-" + w.name
		n := b.axeClean(ctx, name)
		m := eval[map[string]float64](b, ctx, `(() => { const nav = performance.getEntriesByType('navigation')[0];
			const bytes = [nav, ...performance.getEntriesByType('resource')].reduce((s, e) => s + (e.encodedBodySize || 0), 0);
			return {ms: nav.loadEventEnd - nav.startTime, kb: bytes / 1024}; })()`)
		report = append(report, fmt.Sprintf("| %s | %s | %.0f ms | %.0f kB | %d |", p.name, w.name, m["ms"], m["kb"], n))
		if w.phone {
			if wide := eval[string](b, ctx, fitsWidth); wide != "" {
				t.Errorf("%s: the page scrolls sideways at 390: %s", name, wide)
			}
			for _, h := range eval[[]string](b, ctx, hiddenActions) {
				t.Errorf("%s: the action %s is not on screen at 390", name, h)
			}
		}
		b.screenshot(ctx, name)
	}
	pages := tourPages(t, b, ctx, s, func(p sitePage) {
		for _, w := range widths {
			b.setWidth(ctx, w)
			b.open(ctx, s.URL, p.path)
			check(w, p)
		}
	})
	for _, w := range widths {
		b.setWidth(ctx, w)
		for _, p := range pages {
			b.openSettled(ctx, s.URL, p.path)
			check(w, p)
		}
	}
	// Dark mode (prefers-color-scheme: dark) passes too, at both widths.
	b.colorScheme(ctx, "dark")
	for _, w := range widths {
		b.setWidth(ctx, w)
		for _, p := range pages {
			b.openSettled(ctx, s.URL, p.path)
			b.axeClean(ctx, p.name+"-"+w.name+"-dark")
			if p.name == "folder" || p.name == "webhooks" {
				b.screenshot(ctx, p.name+"-"+w.name+"-dark")
			}
		}
	}
	b.colorScheme(ctx, "light")
	t.Logf("page | width | load | weight | axe serious+critical\n%s", strings.Join(report, "\n"))
	// The webhook's delivery log opens inside its card, still on screen.
	b.setWidth(ctx, widths[1])
	b.openSettled(ctx, s.URL, "/settings/webhooks")
	b.do(ctx, "opening the delivery log", chromedp.Click(chromedp.CSS(`#webhooks button[aria-expanded]`)))
	b.waitFor(ctx, "the delivery log", `document.querySelector('#webhooks tr.deliveries td')`)
	if wide := eval[string](b, ctx, fitsWidth); wide != "" {
		t.Errorf("webhooks with the delivery log: the page scrolls sideways at 390: %s", wide)
	}
}

// contrastJS defines ratio(a, b) of two CSS colours and bgOf(el), the
// colour behind an element (its first ancestor with an opaque background).
const contrastJS = `
	const rgb = c => (c.match(/[\d.]+/g) || []).map(Number);
	const lum = c => { const [r, g, b] = rgb(c).slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
	const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
	const bgOf = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor; const a = rgb(c); if (a.length === 3 || a[3] > 0.9) return c; } return 'rgb(255, 255, 255)'; };
`

// TestFocusRingsAndFieldBordersContrast: at both widths, on the sign-in,
// library and webhooks pages, every visible text field's border stands out
// 3:1 from what is around it, and the focus ring of each control reached
// with Tab is a solid outline at 3:1 or better against the page.
func TestFocusRingsAndFieldBordersContrast(t *testing.T) {
	s := startShelf(t)
	b := newBrowser(t)
	ctx := b.ctx
	checkPage := func(name string, tabs int) {
		t.Helper()
		borders := eval[[]string](b, ctx, `(() => {`+contrastJS+`
			return [...document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), select, textarea')]
				.filter(el => el.offsetParent !== null)
				.map(el => { const cs = getComputedStyle(el); const r = ratio(cs.borderTopColor, bgOf(el.parentElement)); return r < 3 ? (el.id || el.name) + ' border ' + cs.borderTopColor + ' is ' + r.toFixed(2) + ':1' : ''; })
				.filter(Boolean);
		})()`)
		for _, m := range borders {
			t.Errorf("%s: field %s, want 3:1", name, m)
		}
		if n := eval[int](b, ctx, `document.querySelectorAll('input:not([type=hidden]), select, textarea').length`); n == 0 {
			t.Fatalf("%s: no fields to check", name)
		}
		eval[chromedp.Void](b, ctx, `document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)`)
		for i := range tabs {
			b.do(ctx, "pressing Tab", chromedp.KeyEvent(kb.Tab))
			ring := eval[string](b, ctx, `(() => {`+contrastJS+`
				let el = document.activeElement;
				if (!el || el === document.body) return 'end';
				// A file input is invisible; its label shows the ring.
				if (el.type === 'file' && el.closest('label')) el = el.closest('label');
				const cs = getComputedStyle(el);
				const what = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + (el.textContent || el.value || '').trim().slice(0, 30) + '"';
				if (cs.outlineStyle === 'none' || parseFloat(cs.outlineWidth) < 2) return what + ': no focus outline (' + cs.outlineStyle + ' ' + cs.outlineWidth + ')';
				const r = ratio(cs.outlineColor, bgOf(el.parentElement));
				return r < 3 ? what + ': focus outline ' + cs.outlineColor + ' is ' + r.toFixed(2) + ':1 against ' + bgOf(el.parentElement) : '';
			})()`)
			if ring == "end" && i > 0 {
				break // past the last control of the page
			}
			if ring != "" {
				t.Errorf("%s, Tab %d: %s, want a 3:1 outline", name, i+1, ring)
			}
		}
	}
	for _, w := range widths {
		b.setWidth(ctx, w)
		b.open(ctx, s.URL, "/signin")
		checkPage("signin-"+w.name, 4)
	}
	b.signUp(ctx, s.URL, "focus@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)
	for _, w := range widths {
		b.setWidth(ctx, w)
		for _, p := range []string{"/library", "/settings/webhooks"} {
			b.openSettled(ctx, s.URL, p)
			checkPage(fmt.Sprintf("%s-%s", strings.Trim(strings.ReplaceAll(p, "/", "-"), "-"), w.name), 12)
		}
		b.screenshot(ctx, "focus-"+w.name)
	}
}
