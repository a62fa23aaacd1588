package notify_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/queue"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// receiver is a webhook endpoint that verifies signatures and answers the
// statuses it is told to, in order (then 200).
type receiver struct {
	mu       sync.Mutex
	statuses []int
	requests []received
	got      chan received
	secret   []byte
}

type received struct {
	body      string
	delivery  string
	timestamp string
	sigErr    error
	status    int
}

func newReceiver(secret string, statuses ...int) (*receiver, *httptest.Server) {
	r := &receiver{statuses: statuses, got: make(chan received, 100), secret: []byte(secret)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		rec := received{body: string(body), delivery: req.Header.Get(notify.DeliveryHeader), timestamp: req.Header.Get(notify.TimestampHeader),
			sigErr: notify.Verify(r.secret, body, req.Header.Get(notify.SignatureHeader)), status: http.StatusOK}
		r.mu.Lock()
		if len(r.statuses) > 0 {
			rec.status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.requests = append(r.requests, rec)
		r.mu.Unlock()
		w.WriteHeader(rec.status)
		r.got <- rec
	}))
	return r, srv
}

func (r *receiver) next(t *testing.T) received {
	t.Helper()
	select {
	case rec := <-r.got:
		return rec
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook request within 30s")
	}
	return received{}
}

type fixture struct {
	store *catalog.Store
	disp  *notify.Dispatcher
	acct  catalog.Account
	admin catalog.User
}

type dialect struct {
	name string
	url  func(t *testing.T) string
}

var dialects = []dialect{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "shelf.db") }},
	{"postgres", func(t *testing.T) string { return testenv.PostgresURL(t) }},
}

func setup(t *testing.T, d dialect, cfg notify.DispatcherConfig) *fixture {
	t.Helper()
	return setupWorkers(t, d, cfg, 1)
}

// setupWorkers is setup with a queue running up to workers jobs at once.
func setupWorkers(t *testing.T, d dialect, cfg notify.DispatcherConfig, workers int) *fixture {
	t.Helper()
	ctx := context.Background()
	store, err := catalog.Open(ctx, d.url(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	acct, admin, err := store.CreateAccountWithAdmin(ctx, catalog.NewAccount{Name: "Acme Design"},
		catalog.NewUser{Email: "ada@acme.test", PasswordHash: "x"}, now)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = store
	cfg.AllowPrivateWebhooks = true // the test receivers listen on loopback
	cfg.OpenSecret = func(w catalog.Webhook) ([]byte, error) { return w.Secret, nil }
	q, err := queue.New(queue.Config{Store: store, Work: true, FetchPollInterval: 200 * time.Millisecond,
		Queues: map[string]int{river.QueueDefault: workers}})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Queue = q
	disp := notify.NewDispatcher(cfg)
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(sctx)
	})
	return &fixture{store: store, disp: disp, acct: acct, admin: admin}
}

func (f *fixture) webhook(t *testing.T, url, secret string, events ...string) catalog.Webhook {
	t.Helper()
	w, err := f.store.CreateWebhook(context.Background(), catalog.Webhook{AccountID: f.acct.ID, URL: url, Secret: []byte(secret), Events: events, Enabled: true}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (f *fixture) finishedRun(state, errMsg string) catalog.SyncRun {
	now := time.Now().UTC()
	return catalog.SyncRun{ID: 42, AccountID: f.acct.ID, Trigger: catalog.TriggerAuto, State: state, CreatedAt: now, StartedAt: &now, FinishedAt: &now,
		Counts: catalog.Counts{Seen: 10, Added: 2}, Error: errMsg}
}

// TestWebhookRetriesAfter500: a completed sync is posted, signed, to the
// account's webhook; the endpoint's 500 is retried and the second attempt
// delivers the same event. The attempts are logged and a notification is
// kept for the account's users.
func TestWebhookRetriesAfter500(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, d, notify.DispatcherConfig{RetryBase: 10 * time.Millisecond})
			recv, srv := newReceiver("s3cret", http.StatusInternalServerError)
			defer srv.Close()
			hook := f.webhook(t, srv.URL, "s3cret", "sync.*")
			other := f.webhook(t, srv.URL, "s3cret", "asset.*") // not for sync events

			ctx := context.Background()
			if err := f.disp.RunFinished(ctx, f.finishedRun(catalog.RunSucceeded, "")); err != nil {
				t.Fatal(err)
			}
			first, second := recv.next(t), recv.next(t)
			for i, rec := range []received{first, second} {
				if rec.sigErr != nil {
					t.Errorf("request %d: %v", i+1, rec.sigErr)
				}
				if !strings.Contains(rec.body, `"type":"sync.completed"`) || !strings.Contains(rec.body, `"added":2`) {
					t.Errorf("request %d body = %s", i+1, rec.body)
				}
				if rec.timestamp == "" {
					t.Errorf("request %d has no %s", i+1, notify.TimestampHeader)
				}
			}
			if first.status != 500 || second.status != 200 || first.delivery != second.delivery || first.body != second.body {
				t.Errorf("attempts: %d then %d, delivery %q then %q; want 500 then 200 of the same event", first.status, second.status, first.delivery, second.delivery)
			}

			var log []catalog.WebhookDelivery
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				var err error
				if log, err = f.store.ListWebhookDeliveries(ctx, f.acct.ID, hook.ID, 10); err != nil {
					t.Fatal(err)
				}
				if len(log) == 2 {
					break
				}
			}
			if len(log) != 2 || *log[1].StatusCode != 500 || log[1].Attempt != 1 || *log[0].StatusCode != 200 || log[0].Attempt != 2 {
				t.Fatalf("delivery log = %+v, want attempt 1 → 500, attempt 2 → 200", log)
			}
			if got, _ := f.store.GetWebhook(ctx, f.acct.ID, hook.ID); got.FailureCount != 0 || !got.Enabled {
				t.Errorf("after a good delivery: failures %d enabled %v; want 0, enabled", got.FailureCount, got.Enabled)
			}
			if log, _ := f.store.ListWebhookDeliveries(ctx, f.acct.ID, other.ID, 10); len(log) != 0 {
				t.Errorf("the asset.* webhook got %d sync deliveries", len(log))
			}
			notes, err := f.store.ListNotifications(ctx, f.acct.ID, f.admin.ID, false, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(notes) != 1 || notes[0].Kind != notify.SyncCompleted || !strings.Contains(notes[0].Message, "2 added") {
				t.Fatalf("notifications = %+v, want one sync.completed", notes)
			}
		})
	}
}

// TestWebhookDisabledAfterFailures: consecutive failed deliveries disable
// the webhook with a reason; later events are not sent to it.
func TestWebhookDisabledAfterFailures(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, d, notify.DispatcherConfig{MaxFailures: 3, RetryBase: time.Hour})
			recv, srv := newReceiver("k", 500, 500, 500, 500, 500)
			defer srv.Close()
			hook := f.webhook(t, srv.URL, "k", "*")
			ctx := context.Background()
			for range 3 {
				if err := f.disp.RunFinished(ctx, f.finishedRun(catalog.RunFailed, "storage unreachable")); err != nil {
					t.Fatal(err)
				}
			}
			for range 3 {
				recv.next(t)
			}
			var got catalog.Webhook
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				got, _ = f.store.GetWebhook(ctx, f.acct.ID, hook.ID)
				if !got.Enabled {
					break
				}
			}
			if got.Enabled || !strings.Contains(got.DisabledReason, "3 failed deliveries") {
				t.Fatalf("webhook after 3 failures: enabled %v reason %q", got.Enabled, got.DisabledReason)
			}
			if err := f.disp.Emit(ctx, notify.Event{Type: notify.AssetCreated, AccountID: f.acct.ID}); err != nil {
				t.Fatal(err)
			}
			recv.mu.Lock()
			n := len(recv.requests)
			recv.mu.Unlock()
			if n != 3 {
				t.Fatalf("receiver got %d requests, want 3 (none after disabling)", n)
			}
		})
	}
}

// TestFailureEmail: a failed sync emails the account's admins when SMTP is
// configured.
func TestFailureEmail(t *testing.T) {
	t.Parallel()
	smtp := startSMTP(t)
	f := setup(t, dialects[0], notify.DispatcherConfig{
		Mailer:    notify.NewMailer(notify.SMTPConfig{Addr: smtp.Addr, From: "shelf@example.test"}),
		PublicURL: "https://shelf.example.test",
	})
	if err := f.disp.RunFinished(context.Background(), f.finishedRun(catalog.RunFailed, "storage credentials rejected")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-smtp.got:
		if strings.Join(m.To, ",") != "ada@acme.test" {
			t.Errorf("email to %v, want the admin", m.To)
		}
		for _, want := range []string{"Subject: Shelf: sync of Acme Design failed", "storage credentials rejected", "https://shelf.example.test/settings/sync"} {
			if !strings.Contains(m.Data, want) {
				t.Errorf("email lacks %q:\n%s", want, m.Data)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no email within 30s")
	}
	// A successful run sends no email.
	if err := f.disp.RunFinished(context.Background(), f.finishedRun(catalog.RunSucceeded, "")); err != nil {
		t.Fatal(err)
	}
}

// TestNoNotificationForASyncThatChangedNothing: an auto-sync that found
// nothing to do every few minutes must not fill the bell; failures,
// confirmations and syncs with changes keep their notification (issue 9,
// defect 4).
func TestNoNotificationForASyncThatChangedNothing(t *testing.T) {
	t.Parallel()
	f := setup(t, dialects[0], notify.DispatcherConfig{})
	ctx := context.Background()
	unread := func() int64 {
		t.Helper()
		n, err := f.store.CountUnreadNotifications(ctx, f.acct.ID, f.admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	noop := f.finishedRun(catalog.RunSucceeded, "")
	noop.Counts = catalog.Counts{Seen: 10}
	for range 3 {
		if err := f.disp.RunFinished(ctx, noop); err != nil {
			t.Fatal(err)
		}
	}
	if n := unread(); n != 0 {
		t.Fatalf("%d unread notifications after three syncs that changed nothing, want 0", n)
	}
	confirm := f.finishedRun(catalog.RunNeedsConfirmation, "would remove 300 files")
	confirm.Counts = catalog.Counts{Seen: 10}
	for i, run := range []catalog.SyncRun{f.finishedRun(catalog.RunSucceeded, ""), f.finishedRun(catalog.RunFailed, "storage unreachable"), confirm} {
		if err := f.disp.RunFinished(ctx, run); err != nil {
			t.Fatal(err)
		}
		if n := unread(); n != int64(i+1) {
			t.Fatalf("after %s run: %d unread notifications, want %d", run.State, n, i+1)
		}
	}
}
