package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
)

// TestDisabledWebhookNotifiesAdmins: when failed deliveries disable a
// webhook, the account's admins get a notification saying which webhook,
// why and where to enable it again, and an email (SMTP configured); an
// editor, who cannot fix it, gets neither.
func TestDisabledWebhookNotifiesAdmins(t *testing.T) {
	t.Parallel()
	smtp := startSMTP(t)
	f := setup(t, dialects[0], notify.DispatcherConfig{MaxFailures: 2, RetryBase: time.Hour,
		Mailer:    notify.NewMailer(notify.SMTPConfig{Addr: smtp.Addr, From: "shelf@example.test"}),
		PublicURL: "https://shelf.example.test"})
	ctx := context.Background()
	editor, err := f.store.CreateUser(ctx, catalog.NewUser{AccountID: f.acct.ID, Email: "ed@acme.test", PasswordHash: "x", Role: catalog.RoleEditor}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	recv, srv := newReceiver("k", http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	defer srv.Close()
	// A URL holding a token: notices and emails name only the host.
	f.webhook(t, srv.URL+"/in/tok-path?token=s3cret", "k", "*")
	for range 2 {
		if err := f.disp.Emit(ctx, notify.Event{Type: notify.AssetCreated, AccountID: f.acct.ID}); err != nil {
			t.Fatal(err)
		}
	}
	recv.next(t)
	recv.next(t)

	var notes []catalog.Notification
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if notes, err = f.store.ListNotifications(ctx, f.acct.ID, f.admin.ID, false, 0, 10); err != nil {
			t.Fatal(err)
		}
		if len(notes) > 0 {
			break
		}
	}
	if len(notes) != 1 || notes[0].Kind != notify.WebhookDisabled {
		t.Fatalf("the admin's notifications = %+v, want one %s", notes, notify.WebhookDisabled)
	}
	for _, want := range []string{srv.URL + " was", "2 failed deliveries", "503", "Settings → Webhooks"} {
		if !strings.Contains(notes[0].Message, want) {
			t.Errorf("notification %q lacks %q", notes[0].Message, want)
		}
	}
	for _, secret := range []string{"tok-path", "s3cret"} {
		if strings.Contains(notes[0].Message, secret) || strings.Contains(string(notes[0].Data), secret) {
			t.Errorf("notification %q (data %s) shows the URL's %q", notes[0].Message, notes[0].Data, secret)
		}
	}
	if n, _ := f.store.ListNotifications(ctx, f.acct.ID, editor.ID, false, 0, 10); len(n) != 0 {
		t.Errorf("the editor got %+v, want nothing (only admins can fix a webhook)", n)
	}
	select {
	case m := <-smtp.got:
		if strings.Join(m.To, ",") != "ada@acme.test" {
			t.Errorf("email to %v, want the admin only", m.To)
		}
		for _, want := range []string{"Subject: Shelf: a webhook was disabled", srv.URL + ":", "https://shelf.example.test/settings/webhooks"} {
			if !strings.Contains(m.Data, want) {
				t.Errorf("email lacks %q:\n%s", want, m.Data)
			}
		}
		if strings.Contains(m.Data, "s3cret") || strings.Contains(m.Data, "tok-path") {
			t.Errorf("email shows the webhook's full URL:\n%s", m.Data)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no email within 30s")
	}
}

// Regression: failing deliveries running at once past the limit each
// disabled the webhook and each told the admins. Only the one that turned
// it off does.
func TestConcurrentFailuresDisableAndNotifyOnce(t *testing.T) {
	t.Parallel()
	const n = 3
	f := setupWorkers(t, dialects[0], notify.DispatcherConfig{MaxFailures: 1, RetryBase: time.Hour}, n)
	ctx := context.Background()
	// The receiver answers 503 only once all n deliveries are in flight,
	// so each read the webhook while it was still enabled.
	var mu sync.Mutex
	arrived, all := 0, make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		if arrived++; arrived == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(20 * time.Second):
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	hook := f.webhook(t, srv.URL+"/in", "k", "*")
	for range n {
		if err := f.disp.Emit(ctx, notify.Event{Type: notify.AssetCreated, AccountID: f.acct.ID}); err != nil {
			t.Fatal(err)
		}
	}
	// Each attempt is logged after its effects (disabling, notifying).
	for deadline := time.Now().Add(40 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		d, err := f.store.ListWebhookDeliveries(ctx, f.acct.ID, hook.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(d) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries logged within 40s", len(d), n)
		}
	}
	select {
	case <-all:
	default:
		t.Fatal("the deliveries did not run at once")
	}
	notes, err := f.store.ListNotifications(ctx, f.acct.ID, f.admin.ID, false, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 {
		t.Errorf("%d notifications for one disabled webhook, want 1", len(notes))
	}
}
