package browser

import (
	"context"
	"net/http"
	"testing"
)

// The two widths every page is checked at.
type width struct {
	name  string
	phone bool
}

var widths = []width{{"desktop", false}, {"phone", true}}

// setWidth sizes the tab as a 1366×900 desktop or a 390×844 phone.
func (b *browser) setWidth(ctx context.Context, w width) {
	b.t.Helper()
	if w.phone {
		b.phone(ctx)
	} else {
		b.desktop(ctx)
	}
}

// sitePage is one page of the app the layout and accessibility tests visit.
type sitePage struct{ name, path string }

// settled is true once a page's script has filled what it loads after
// the page itself (the webhook list, the notifications).
const settled = `!/Loading…/.test(document.querySelector('main').innerText)`

// tourPages signs up on s, connects the sample library and gives every
// page something to show (a team member, an API token, a webhook, a
// notification from the first sync); it returns the signed-in pages,
// from the library to the 404 page. Signed-out pages are visited by
// visitSignedOut before signing up.
func tourPages(t *testing.T, b *browser, ctx context.Context, s *shelf, visitSignedOut func(sitePage)) []sitePage {
	t.Helper()
	for _, p := range []sitePage{{"signin", "/signin"}, {"signup", "/signup"}} {
		b.open(ctx, s.URL, p.path)
		visitSignedOut(p)
	}
	b.signUp(ctx, s.URL, "tour@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/users", map[string]any{"email": "member.with.a.long.address@example.com", "password": "the member's long password", "role": "editor"}},
		{"/tokens", map[string]any{"name": "nightly backup script"}},
		{"/webhooks", map[string]any{"url": "http://127.0.0.1:9/a/rather/long/path/to/the/receiver/of/shelf/events?token=abcdef0123456789", "events": []string{"sync.*", "asset.*", "folder.*"}}},
	} {
		if code, body := apiJSON(b, ctx, "POST", c.path, c.body); code != http.StatusCreated {
			t.Fatalf("POST %s: %d %v", c.path, code, body)
		}
	}
	b.open(ctx, s.URL, "/library")
	studio := studioFolder(b, ctx)
	b.open(ctx, s.URL, studio)
	asset := eval[string](b, ctx, `document.querySelector('#items .card a').getAttribute('href')`)
	return []sitePage{
		{"library", "/library"}, {"folder", studio}, {"list-view", studio + "?view=list"},
		{"search", "/library?q=studio&scope=all"}, {"asset", asset}, {"sync", "/settings/sync"},
		{"storage", "/settings/storage"}, {"team", "/team"}, {"tokens", "/tokens"},
		{"webhooks", "/settings/webhooks"}, {"notifications", "/notifications"}, {"not-found", "/no/such/page"},
	}
}

// studioFolder is the path of the sample library's Photography/Studio
// folder, found through the tree of the library page open in the tab.
func studioFolder(b *browser, ctx context.Context) string {
	b.t.Helper()
	studio := eval[string](b, ctx, `(async () => {
		const ph = [...document.querySelectorAll('#tree a')].find(a => a.textContent.trim() === 'Photography');
		const html = await (await fetch('/library/tree?parent=' + ph.closest('li').dataset.folder)).text();
		const m = html.match(/href="(\/library\/folder\/\d+)">Studio</);
		return m ? m[1] : '';
	})()`)
	if studio == "" {
		b.t.Fatal("Photography/Studio is not in the tree")
	}
	return studio
}

// openSettled opens a page and waits for what its script loads.
func (b *browser) openSettled(ctx context.Context, base, path string) {
	b.t.Helper()
	b.open(ctx, base, path)
	b.waitFor(ctx, path+" to finish loading", settled)
}
