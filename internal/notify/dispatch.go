package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/queue"
)

// Store is the part of *catalog.Store the dispatcher and its workers use.
type Store interface {
	CreateNotification(ctx context.Context, n catalog.Notification) (catalog.Notification, error)
	ListUsers(ctx context.Context, accountID int64) ([]catalog.User, error)
	GetAccount(ctx context.Context, id int64) (catalog.Account, error)
	ListWebhooksForEvent(ctx context.Context, accountID int64, event string) ([]catalog.Webhook, error)
	GetWebhook(ctx context.Context, accountID, webhookID int64) (catalog.Webhook, error)
	RecordWebhookDelivery(ctx context.Context, accountID int64, d catalog.WebhookDelivery) (catalog.WebhookDelivery, error)
	RecordWebhookFailure(ctx context.Context, accountID, webhookID int64, now time.Time) (int, error)
	ResetWebhookFailures(ctx context.Context, accountID, webhookID int64, now time.Time) error
	DisableWebhook(ctx context.Context, accountID, webhookID int64, reason string, now time.Time) (bool, error)
}

var _ Store = (*catalog.Store)(nil)

// Defaults of DispatcherConfig.
const (
	DefaultWebhookMaxFailures = 15
	DefaultWebhookRetryBase   = 30 * time.Second
	DefaultWebhookTimeout     = 10 * time.Second
)

// DispatcherConfig configures a Dispatcher. Store is required.
type DispatcherConfig struct {
	Store Store
	// Queue carries webhook deliveries and emails; required.
	Queue *queue.Queue
	// Hub publishes Emit's events live; nil publishes none.
	Hub *Hub
	// OpenSecret decrypts a webhook's signing secret (Webhooks.Create
	// seals it with secrets.Box).
	OpenSecret func(w catalog.Webhook) ([]byte, error)
	// Mailer sends failure emails; nil or unconfigured: no email.
	Mailer *Mailer
	// HTTPClient delivers webhooks; nil: a client with DefaultWebhookTimeout
	// that refuses private and internal addresses unless
	// AllowPrivateWebhooks.
	HTTPClient *http.Client
	// AllowPrivateWebhooks lets webhooks reach loopback, private and
	// link-local addresses (SHELF_WEBHOOK_ALLOW_PRIVATE), for instances
	// whose receivers live on the operator's own network.
	AllowPrivateWebhooks bool
	// MaxFailures disables a webhook after this many failed deliveries in
	// a row.
	MaxFailures int
	// RetryBase is the wait before a webhook's first retry; each retry
	// waits twice as long as the one before (up to an hour).
	RetryBase time.Duration
	// PublicURL is where users reach Shelf, for links in emails.
	PublicURL string
	Logger    *slog.Logger
	Now       func() time.Time
}

// Dispatcher tells people about what happened beyond the live events: it
// keeps notifications, queues webhook deliveries and failure emails as
// jobs, and works those jobs (NewDispatcher registers its workers on
// DispatcherConfig.Queue).
type Dispatcher struct {
	cfg    DispatcherConfig
	logger *slog.Logger
	now    func() time.Time
	client *http.Client
}

// NewDispatcher returns a dispatcher for cfg.
func NewDispatcher(cfg DispatcherConfig) *Dispatcher {
	d := &Dispatcher{cfg: cfg, logger: cfg.Logger, now: cfg.Now, client: cfg.HTTPClient}
	if d.logger == nil {
		d.logger = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.client == nil && cfg.AllowPrivateWebhooks {
		d.client = &http.Client{Timeout: DefaultWebhookTimeout}
	}
	if d.client == nil {
		d.client = publicOnlyClient(DefaultWebhookTimeout)
	}
	if d.cfg.MaxFailures <= 0 {
		d.cfg.MaxFailures = DefaultWebhookMaxFailures
	}
	if d.cfg.RetryBase <= 0 {
		d.cfg.RetryBase = DefaultWebhookRetryBase
	}
	queue.AddWorker(cfg.Queue, river.Worker[WebhookArgs](&webhookWorker{d: d}))
	queue.AddWorker(cfg.Queue, river.Worker[EmailArgs](&emailWorker{d: d}))
	return d
}

func (d *Dispatcher) enqueueJob(ctx context.Context, args river.JobArgs) error {
	if d.cfg.Queue == nil {
		return errors.New("the dispatcher has no job queue (DispatcherConfig.Queue)")
	}
	return d.cfg.Queue.Enqueue(ctx, args)
}

// RunFinished keeps a notification for every user of the account (unless
// the run succeeded and changed nothing), queues
// the account's webhooks for the run's event and, when the run failed and
// SMTP is configured, an email to the account's admins. The sync worker
// calls it after the run's row is final (syncrun.Config.Messages).
func (d *Dispatcher) RunFinished(ctx context.Context, run catalog.SyncRun) error {
	typ := RunEventType(run.State)
	if typ == "" || typ == SyncStarted {
		return nil
	}
	data, err := json.Marshal(ViewRun(run))
	if err != nil {
		return fmt.Errorf("encoding run %d: %w", run.ID, err)
	}
	now := d.now().UTC()
	var errs []error
	if worthNotifying(run) {
		if _, err := d.cfg.Store.CreateNotification(ctx, catalog.Notification{
			AccountID: run.AccountID, Kind: typ, Message: runMessage(run), Data: data, CreatedAt: now,
		}); err != nil {
			errs = append(errs, fmt.Errorf("keeping the notification of run %d: %w", run.ID, err))
		}
	}
	ev := Event{ID: newEventID(), Type: typ, AccountID: run.AccountID, RunID: run.ID, Time: now, Data: data}
	if err := d.queueWebhooks(ctx, ev); err != nil {
		errs = append(errs, err)
	}
	if run.State == catalog.RunFailed && d.cfg.Mailer.Enabled() {
		if err := d.queueFailureEmail(ctx, run); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// worthNotifying: a sync that succeeded and changed nothing is no news
// (auto-syncs every few minutes would fill the bell); failures,
// confirmations and syncs with changes are.
func worthNotifying(run catalog.SyncRun) bool {
	if run.State != catalog.RunSucceeded {
		return true
	}
	c := run.Counts
	return c.Added+c.Updated+c.Moved+c.Removed+c.Errors > 0
}

// Emit publishes an event live and queues the account's webhooks for it
// (asset.created, asset.updated, ... from library changes).
func (d *Dispatcher) Emit(ctx context.Context, ev Event) error {
	if ev.ID == "" {
		ev.ID = newEventID()
	}
	if ev.Time.IsZero() {
		ev.Time = d.now().UTC()
	}
	var errs []error
	if d.cfg.Hub != nil {
		if err := d.cfg.Hub.Publish(ctx, ev); err != nil {
			errs = append(errs, err)
		}
	}
	if err := d.queueWebhooks(ctx, ev); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (d *Dispatcher) queueWebhooks(ctx context.Context, ev Event) error {
	hooks, err := d.cfg.Store.ListWebhooksForEvent(ctx, ev.AccountID, ev.Type)
	if err != nil {
		return fmt.Errorf("listing the webhooks for %s: %w", ev.Type, err)
	}
	var errs []error
	for _, h := range hooks {
		if err := d.enqueueJob(ctx, WebhookArgs{AccountID: ev.AccountID, WebhookID: h.ID, Event: ev}); err != nil {
			errs = append(errs, fmt.Errorf("queueing webhook %d: %w", h.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (d *Dispatcher) queueFailureEmail(ctx context.Context, run catalog.SyncRun) error {
	users, err := d.cfg.Store.ListUsers(ctx, run.AccountID)
	if err != nil {
		return fmt.Errorf("listing the admins to email: %w", err)
	}
	var to []string
	for _, u := range users {
		if u.Role == catalog.RoleAdmin {
			to = append(to, u.Email)
		}
	}
	if len(to) == 0 {
		return nil
	}
	name := fmt.Sprintf("account %d", run.AccountID)
	if a, err := d.cfg.Store.GetAccount(ctx, run.AccountID); err == nil {
		name = a.Name
	}
	var body strings.Builder
	fmt.Fprintf(&body, "The %s sync of %s failed", run.Trigger, name)
	if run.FinishedAt != nil {
		fmt.Fprintf(&body, " at %s", run.FinishedAt.UTC().Format("2006-01-02 15:04 MST"))
	}
	fmt.Fprintf(&body, ".\n\nError: %s\n\nSeen %d, added %d, updated %d, moved %d, removed %d before it stopped.\n",
		run.Error, run.Counts.Seen, run.Counts.Added, run.Counts.Updated, run.Counts.Moved, run.Counts.Removed)
	body.WriteString("\nThe library is unlocked. Check the storage connection in Settings → Storage, then start a sync from Settings → Sync.\n")
	if d.cfg.PublicURL != "" {
		fmt.Fprintf(&body, "\n%s/settings/sync\n", strings.TrimRight(d.cfg.PublicURL, "/"))
	}
	return d.enqueueJob(ctx, EmailArgs{To: to, Subject: fmt.Sprintf("Shelf: sync of %s failed", name), Body: body.String()})
}

// runMessage is the one-line text of a finished run's notification.
func runMessage(r catalog.SyncRun) string {
	c := r.Counts
	switch r.State {
	case catalog.RunSucceeded:
		return fmt.Sprintf("Sync completed: %d added, %d updated, %d moved, %d removed.", c.Added, c.Updated, c.Moved, c.Removed)
	case catalog.RunNeedsConfirmation:
		return "Sync paused before removing files: " + r.Error
	default:
		return "Sync failed: " + r.Error
	}
}
