package notify_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/secrets"
)

// settingsStore is a fresh SQLite catalog and a secret box for the
// webhook settings.
func settingsStore(t *testing.T) (*catalog.Store, *secrets.Box) {
	t.Helper()
	store, err := catalog.Open(context.Background(), filepath.Join(t.TempDir(), "shelf.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	box, err := secrets.NewBox(bytes.Repeat([]byte{3}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return store, box
}

func TestWebhookSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, box := settingsStore(t)
	now := time.Now()
	var accts []catalog.Account
	for _, email := range []string{"a@acme.test", "b@acme.test"} {
		acct, _, err := store.CreateAccountWithAdmin(ctx, catalog.NewAccount{Name: email}, catalog.NewUser{Email: email, PasswordHash: "x"}, now)
		if err != nil {
			t.Fatal(err)
		}
		accts = append(accts, acct)
	}
	hooks := notify.NewWebhooks(store, box, nil)

	// The secret is answered once and stored sealed to its account.
	h, secret, err := hooks.Create(ctx, accts[0].ID, "https://hooks.example/in", []string{"sync.*"})
	if err != nil {
		t.Fatal(err)
	}
	if secret == "" || bytes.Contains(h.Secret, []byte(secret)) {
		t.Fatalf("secret %q stored as %q, want sealed", secret, h.Secret)
	}
	if plain, err := box.Open(h.Secret, notify.WebhookSecretContext(accts[0].ID)); err != nil || string(plain) != secret {
		t.Fatalf("sealed secret opens to %q, %v; want %q", plain, err, secret)
	}
	if _, err := box.Open(h.Secret, notify.WebhookSecretContext(accts[1].ID)); err == nil {
		t.Fatal("the secret opens in another account's context")
	}

	for _, tc := range []struct {
		url    string
		events []string
		field  string
	}{
		{"ftp://hooks.example/in", []string{"sync.*"}, "url"},
		{"https:///no-host", []string{"sync.*"}, "url"},
		{"https://hooks.example/in", nil, "events"},
		{"https://hooks.example/in", []string{"folder.renamed"}, "events"},
		{"https://hooks.example/" + strings.Repeat("a", notify.MaxWebhookURL), []string{"sync.*"}, "url"},
	} {
		_, _, err := hooks.Create(ctx, accts[0].ID, tc.url, tc.events)
		var we *notify.WebhookError
		if !errors.As(err, &we) || we.Field != tc.field || !errors.Is(err, notify.ErrInvalidWebhook) {
			t.Errorf("create %s %v: %v, want a refusal of %s", tc.url, tc.events, err, tc.field)
		}
	}
	for _, ev := range []string{notify.FolderCreated, notify.FolderMoved, notify.FolderDeleted, notify.StorageNeedsReconnect, "*"} {
		if _, _, err := hooks.Create(ctx, accts[0].ID, "http://hooks.example/in", []string{ev}); err != nil {
			t.Errorf("create for %s: %v", ev, err)
		}
	}

	// A URL of exactly the limit is taken; a longer one is refused with the
	// limit in the message, also when it replaces the URL.
	atLimit := "https://hooks.example/" + strings.Repeat("a", notify.MaxWebhookURL-len("https://hooks.example/"))
	if _, _, err := hooks.Create(ctx, accts[0].ID, atLimit, []string{"sync.*"}); err != nil {
		t.Errorf("create with a %d-character URL: %v", len(atLimit), err)
	}
	long := atLimit + "a"
	if _, err := hooks.Update(ctx, accts[0].ID, h.ID, notify.WebhookUpdate{URL: &long}); !errors.Is(err, notify.ErrInvalidWebhook) || !strings.Contains(err.Error(), "2048") {
		t.Errorf("update to a %d-character URL: %v, want a refusal naming the limit", len(long), err)
	}

	// Another account's webhook is not found; a refused change changes nothing.
	off := false
	if _, err := hooks.Update(ctx, accts[1].ID, h.ID, notify.WebhookUpdate{Enabled: &off}); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("update across accounts: %v, want not found", err)
	}
	bad := []string{"nope"}
	if _, err := hooks.Update(ctx, accts[0].ID, h.ID, notify.WebhookUpdate{Events: &bad, Enabled: &off}); !errors.Is(err, notify.ErrInvalidWebhook) {
		t.Fatalf("update with an unknown event: %v", err)
	}
	if got, _ := store.GetWebhook(ctx, accts[0].ID, h.ID); !got.Enabled {
		t.Fatal("a refused update disabled the webhook")
	}

	// Enabling a webhook again clears its failures.
	if _, err := store.DisableWebhook(ctx, accts[0].ID, h.ID, "too many failures", now); err != nil {
		t.Fatal(err)
	}
	if _, err := store.RecordWebhookFailure(ctx, accts[0].ID, h.ID, now); err != nil {
		t.Fatal(err)
	}
	on := true
	got, err := hooks.Update(ctx, accts[0].ID, h.ID, notify.WebhookUpdate{Enabled: &on})
	if err != nil || !got.Enabled || got.FailureCount != 0 || got.DisabledReason != "" {
		t.Fatalf("re-enabled: %+v %v", got, err)
	}
}
