package notify_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
)

// fixedResolver answers host names from a table; others do not resolve.
func fixedResolver(table map[string]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		a, ok := table[host]
		if !ok {
			return nil, errors.New("no such host")
		}
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
}

// TestWebhookToPrivateAddressRefusedWhenAdded: a webhook whose host is, or
// resolves to, a loopback, private or link-local address is refused when
// it is added or changed, with the reason and the operator's setting in
// the message, instead of failing every delivery; the operator's opt-in
// (SHELF_WEBHOOK_ALLOW_PRIVATE) lets it through.
func TestWebhookToPrivateAddressRefusedWhenAdded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, box := settingsStore(t)
	acct, _, err := store.CreateAccountWithAdmin(ctx, catalog.NewAccount{Name: "Acme"}, catalog.NewUser{Email: "a@acme.test", PasswordHash: "x"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dns := notify.WithResolver(fixedResolver(map[string]string{
		"hooks.public.test": "93.184.216.34", "intranet.corp.test": "192.168.1.5", "metadata.cloud.test": "169.254.169.254",
	}))
	strict := notify.NewWebhooks(store, box, nil, dns)
	open := notify.NewWebhooks(store, box, nil, dns, notify.AllowPrivateTargets(true))
	events := []string{"sync.*"}

	refused := map[string]string{
		"http://127.0.0.1:8080/hook":          "loopback",
		"http://localhost/hook":               "loopback",
		"http://api.localhost/hook":           "loopback",
		"http://[::1]:9000/hook":              "loopback",
		"http://[::ffff:127.0.0.1]/hook":      "loopback",
		"https://10.0.0.7/hook":               "private",
		"https://172.16.5.4/hook":             "private",
		"https://100.64.0.1/hook":             "private",
		"http://169.254.169.254/latest":       "link-local",
		"https://intranet.corp.test/hook":     "private",
		"https://metadata.cloud.test/latest/": "link-local",
		"http://0.0.0.0/hook":                 "unspecified",
	}
	for u, kind := range refused {
		_, _, err := strict.Create(ctx, acct.ID, u, events)
		var we *notify.WebhookError
		if !errors.As(err, &we) || we.Field != "url" {
			t.Errorf("adding %s: %v, want a refusal of the url", u, err)
			continue
		}
		if !strings.Contains(we.Message, kind) || !strings.Contains(we.Message, "SHELF_WEBHOOK_ALLOW_PRIVATE=true") {
			t.Errorf("adding %s: message %q should name the %s address and the operator's setting", u, we.Message, kind)
		}
		if _, _, err := open.Create(ctx, acct.ID, u, events); err != nil {
			t.Errorf("adding %s with private targets allowed: %v", u, err)
		}
	}
	for _, u := range []string{"https://93.184.216.34/hook", "https://hooks.public.test/in", "https://not-resolvable.test/in"} {
		if _, _, err := strict.Create(ctx, acct.ID, u, events); err != nil {
			t.Errorf("adding %s: %v, want it taken", u, err)
		}
	}
	hooks, err := store.ListWebhooks(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(refused) + 3; len(hooks) != want {
		t.Fatalf("%d webhooks stored, want %d (the refused ones not at all)", len(hooks), want)
	}

	// Changing a webhook's URL to a private one is refused too, and so is
	// enabling one again that leads to a private address.
	h, _, err := strict.Create(ctx, acct.ID, "https://hooks.public.test/in", events)
	if err != nil {
		t.Fatal(err)
	}
	private := "http://192.168.0.10/in"
	if _, err := strict.Update(ctx, acct.ID, h.ID, notify.WebhookUpdate{URL: &private}); !errors.Is(err, notify.ErrInvalidWebhook) {
		t.Errorf("changing the URL to %s: %v, want a refusal", private, err)
	}
	if got, _ := store.GetWebhook(ctx, acct.ID, h.ID); got.URL != "https://hooks.public.test/in" {
		t.Errorf("the refused change was stored: %s", got.URL)
	}
	p, _, err := open.Create(ctx, acct.ID, private, events)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.DisableWebhook(ctx, acct.ID, p.ID, "failures", time.Now()); err != nil {
		t.Fatal(err)
	}
	on := true
	if _, err := strict.Update(ctx, acct.ID, p.ID, notify.WebhookUpdate{Enabled: &on}); !errors.Is(err, notify.ErrInvalidWebhook) {
		t.Errorf("enabling a webhook to %s again: %v, want a refusal", private, err)
	}
	off := false
	if _, err := strict.Update(ctx, acct.ID, p.ID, notify.WebhookUpdate{Enabled: &off}); err != nil {
		t.Errorf("disabling it: %v, want it taken", err)
	}
}
