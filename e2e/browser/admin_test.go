package browser

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelf-dam/shelf/internal/config"
)

// TestAdminPagesKeepUp, at both widths: a new API token is listed at once
// (no reload) and can be revoked there; the token and a webhook's signing
// secret each have a Copy button and a field that shows them whole; a
// webhook to a loopback address is refused at the URL field with the
// reason, with the operator's default (SHELF_WEBHOOK_ALLOW_PRIVATE off).
func TestAdminPagesKeepUp(t *testing.T) {
	s := startShelfWith(t, func(c *config.Config) { c.WebhookAllowPrivate = false })
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "admin-pages@example.com")
	wholeAndCopy := func(field string) string {
		return `(() => { const f = document.getElementById('` + field + `');
			const copy = document.querySelector('button[data-copy="` + field + `"]');
			return f.value.length > 30 && f.scrollWidth <= f.clientWidth + 1 && f.scrollHeight <= f.clientHeight + 1 && !!copy && copy.offsetParent !== null; })()`
	}
	for _, w := range widths {
		b.setWidth(ctx, w)

		// Tokens: the new one appears in the list at once.
		b.open(ctx, s.URL, "/tokens")
		eval[chromedp.Void](b, ctx, `window.__samePage = true`)
		name := "deploy " + w.name
		b.do(ctx, "creating a token", chromedp.SendKeys(chromedp.ID("token-name"), name), chromedp.Click(chromedp.CSS("#token-form button[type=submit]")))
		b.waitFor(ctx, "the new token in the list", `[...document.querySelectorAll('#tokens tr')].some(tr => tr.querySelector('td') && tr.querySelector('td').textContent === '`+name+`' && tr.querySelector('.revoke-token'))`)
		if !eval[bool](b, ctx, `window.__samePage === true && !document.querySelector('#tokens .empty-row')`) {
			t.Errorf("%s: the token list was reloaded or still says there are no tokens", w.name)
		}
		if !eval[bool](b, ctx, wholeAndCopy("new-token-value")) {
			t.Errorf("%s: the new token is not shown whole with a Copy button", w.name)
		}
		b.do(ctx, "copying the token", chromedp.Click(chromedp.CSS(`button[data-copy="new-token-value"]`)))
		b.waitFor(ctx, "the copy to be confirmed", `[...document.querySelectorAll('#toasts .toast')].some(t => /Copied|Selected/.test(t.textContent))`)
		b.screenshot(ctx, "tokens-new-"+w.name)
		b.do(ctx, "revoking the new token", chromedp.Click(chromedp.CSS(`#tokens tr:first-child .revoke-token`)))
		b.waitFor(ctx, "the confirmation", "document.querySelector('dialog[open] button.danger')")
		b.do(ctx, "confirming", chromedp.Click(chromedp.CSS("dialog[open] button.danger")))
		b.waitFor(ctx, "the token to go", `![...document.querySelectorAll('#tokens td')].some(td => td.textContent === '`+name+`')`)

		// Webhooks: a loopback address is refused at the field.
		b.openSettled(ctx, s.URL, "/settings/webhooks")
		b.do(ctx, "adding a webhook to loopback",
			chromedp.SendKeys(chromedp.ID("wh-url"), "http://127.0.0.1:8080/hook"),
			chromedp.Click(chromedp.CSS("#webhook-form button[type=submit]")))
		b.waitFor(ctx, "the refusal at the URL field", `!document.getElementById('wh-url-error').hidden && /loopback/.test(document.getElementById('wh-url-error').textContent) && document.getElementById('wh-url').getAttribute('aria-invalid') === 'true'`)
		if !eval[bool](b, ctx, `document.getElementById('new-secret').hidden`) {
			t.Errorf("%s: a refused webhook showed a signing secret", w.name)
		}
		b.screenshot(ctx, "webhook-refused-"+w.name)
		b.do(ctx, "adding a webhook to a public address",
			chromedp.SetValue(chromedp.ID("wh-url"), "https://93.184.216.34/hooks/shelf-"+w.name),
			chromedp.Click(chromedp.CSS("#webhook-form button[type=submit]")))
		b.waitFor(ctx, "the signing secret", `!document.getElementById('new-secret').hidden && document.getElementById('wh-url-error').hidden`)
		b.waitFor(ctx, "the webhook in the list", `[...document.querySelectorAll('#webhooks td')].some(td => td.textContent === 'https://93.184.216.34/hooks/shelf-`+w.name+`')`)
		if !eval[bool](b, ctx, wholeAndCopy("new-secret-value")) {
			t.Errorf("%s: the signing secret is not shown whole with a Copy button", w.name)
		}
		b.screenshot(ctx, "webhook-secret-"+w.name)
	}
	if code, body := apiJSON(b, ctx, "GET", "/webhooks", nil); code != 200 || len(body["webhooks"].([]any)) != 2 {
		t.Errorf("webhooks stored: %d %v, want the two public ones only", code, body)
	}
}

// TestDisabledWebhookShowsInTheAdminsNotifications: a webhook whose
// receiver is down disables itself after 15 failed deliveries in a row;
// the admin then finds a notification saying which webhook and what to do,
// and the Webhooks page says it is disabled and offers Enable.
func TestDisabledWebhookShowsInTheAdminsNotifications(t *testing.T) {
	s := startShelf(t) // private targets allowed: the dead receiver is on loopback
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "hooks-admin@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)
	dead, deadHost := "http://127.0.0.1:9/receiver-is-down", "http://127.0.0.1:9"
	if code, body := apiJSON(b, ctx, "POST", "/webhooks", map[string]any{"url": dead, "events": []string{"folder.*"}}); code != 201 {
		t.Fatalf("adding the webhook: %d %v", code, body)
	}
	for i := range 15 {
		if code, body := apiJSON(b, ctx, "POST", "/folders", map[string]any{"parent_id": nil, "name": fmt.Sprintf("Event %02d", i)}); code != 201 {
			t.Fatalf("creating a folder: %d %v", code, body)
		}
	}
	for deadline := time.Now().Add(waitLimit); ; time.Sleep(200 * time.Millisecond) {
		_, body := apiJSON(b, ctx, "GET", "/notifications?limit=20", nil)
		notes, _ := body["notifications"].([]any)
		if slices.ContainsFunc(notes, func(n any) bool { m, _ := n.(map[string]any); return m["kind"] == "webhook.disabled" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no webhook.disabled notification within %s: %v", waitLimit, notes)
		}
	}
	for _, w := range widths {
		b.setWidth(ctx, w)
		b.openSettled(ctx, s.URL, "/notifications")
		// The notice names the webhook by scheme and host only: its path
		// and query may hold a token.
		if !eval[bool](b, ctx, `[...document.querySelectorAll('#notifications li')].some(li => li.textContent.includes('`+deadHost+`') && !li.textContent.includes('receiver-is-down') && li.textContent.includes('15 failed deliveries') && li.textContent.includes('Settings → Webhooks'))`) {
			t.Errorf("%s: the notifications page does not say which webhook was disabled and what to do: %s", w.name, eval[string](b, ctx, `document.getElementById('notifications').innerText`))
		}
		b.screenshot(ctx, "webhook-disabled-notification-"+w.name)
		b.openSettled(ctx, s.URL, "/settings/webhooks")
		if !eval[bool](b, ctx, `[...document.querySelectorAll('#webhooks tr')].some(tr => tr.textContent.includes('disabled after 15 failed deliveries') && [...tr.querySelectorAll('button')].some(b => b.textContent === 'Enable'))`) {
			t.Errorf("%s: the Webhooks page does not show the webhook disabled with Enable", w.name)
		}
	}
}
