package notify

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shelf-dam/shelf/internal/auth"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/secrets"
)

// Folder event types (published by internal/library).
const (
	FolderCreated = "folder.created"
	FolderMoved   = "folder.moved"
	FolderDeleted = "folder.deleted"
)

// webhookEvents are the event names and families a webhook may select.
var webhookEvents = []string{"*", "sync.*", SyncCompleted, SyncFailed, SyncStarted, SyncNeedsConfirmation,
	"asset.*", AssetCreated, AssetUpdated, AssetMoved, AssetDeleted,
	"folder.*", FolderCreated, FolderMoved, FolderDeleted, "storage.*", StorageNeedsReconnect}

// MaxWebhookURL is the longest webhook URL accepted, in bytes: longer ones
// are refused by many servers and proxies, and would bloat every delivery
// log line.
const MaxWebhookURL = 2048

// ErrInvalidWebhook matches a *WebhookError: a webhook's URL or events are
// refused.
var ErrInvalidWebhook = errors.New("invalid webhook")

// WebhookError says which field of a webhook is refused, and why.
type WebhookError struct {
	Field   string // "url" or "events"
	Message string
}

func (e *WebhookError) Error() string { return e.Message }

// Unwrap makes errors.Is(err, ErrInvalidWebhook) true.
func (e *WebhookError) Unwrap() error { return ErrInvalidWebhook }

// WebhookStore is the part of the catalog the webhook settings use;
// *catalog.Store implements it.
type WebhookStore interface {
	CreateWebhook(ctx context.Context, w catalog.Webhook, now time.Time) (catalog.Webhook, error)
	GetWebhook(ctx context.Context, accountID, webhookID int64) (catalog.Webhook, error)
	UpdateWebhook(ctx context.Context, w catalog.Webhook, now time.Time) (catalog.Webhook, error)
}

var _ WebhookStore = (*catalog.Store)(nil)

// Webhooks adds and changes an account's webhooks: it checks the URL and
// the events, and keeps the signing secret sealed with the secret box.
type Webhooks struct {
	store        WebhookStore
	box          *secrets.Box
	now          func() time.Time
	allowPrivate bool
	lookup       func(ctx context.Context, host string) ([]netip.Addr, error)
}

// NewWebhooks returns the webhook settings on store, sealing secrets with
// box; now is the clock (nil: time.Now). Webhooks to loopback, private and
// link-local addresses are refused unless opts allow them.
func NewWebhooks(store WebhookStore, box *secrets.Box, now func() time.Time, opts ...WebhooksOption) *Webhooks {
	if now == nil {
		now = time.Now
	}
	w := &Webhooks{store: store, box: box, now: now, lookup: systemLookup}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Create adds an enabled webhook and returns it with its signing secret,
// which is stored sealed and cannot be read back later.
func (w *Webhooks) Create(ctx context.Context, accountID int64, rawURL string, events []string) (catalog.Webhook, string, error) {
	if err := checkWebhook(rawURL, events); err != nil {
		return catalog.Webhook{}, "", err
	}
	if err := w.checkTarget(ctx, rawURL); err != nil {
		return catalog.Webhook{}, "", err
	}
	secret, err := auth.NewSecret(32)
	if err != nil {
		return catalog.Webhook{}, "", err
	}
	sealed, err := w.box.Seal([]byte(secret), WebhookSecretContext(accountID))
	if err != nil {
		return catalog.Webhook{}, "", err
	}
	h, err := w.store.CreateWebhook(ctx, catalog.Webhook{AccountID: accountID, URL: rawURL, Events: events, Secret: sealed, Enabled: true}, w.now().UTC())
	if err != nil {
		return catalog.Webhook{}, "", err
	}
	return h, secret, nil
}

// WebhookUpdate is a change of a webhook; nil fields stay.
type WebhookUpdate struct {
	URL     *string
	Events  *[]string
	Enabled *bool
}

// Update changes a webhook of the account (catalog.ErrNotFound for another
// account's). Enabling it again clears its failures.
func (w *Webhooks) Update(ctx context.Context, accountID, webhookID int64, u WebhookUpdate) (catalog.Webhook, error) {
	h, err := w.store.GetWebhook(ctx, accountID, webhookID)
	if err != nil {
		return catalog.Webhook{}, err
	}
	if u.URL != nil {
		h.URL = *u.URL
	}
	if u.Events != nil {
		h.Events = *u.Events
	}
	if err := checkWebhook(h.URL, h.Events); err != nil {
		return catalog.Webhook{}, err
	}
	// A new URL, or one enabled again, must lead somewhere deliverable.
	if u.URL != nil || (u.Enabled != nil && *u.Enabled) {
		if err := w.checkTarget(ctx, h.URL); err != nil {
			return catalog.Webhook{}, err
		}
	}
	if u.Enabled != nil {
		h.Enabled = *u.Enabled
		if h.Enabled {
			h.FailureCount, h.DisabledReason = 0, ""
		}
	}
	return w.store.UpdateWebhook(ctx, h, w.now().UTC())
}

// checkWebhook refuses a URL that is not http(s) or is longer than
// MaxWebhookURL, and events that are missing or unknown. (Where the URL
// leads is checked by checkTarget when saving and when delivering: see
// ssrf.go.)
func checkWebhook(rawURL string, events []string) error {
	if len(rawURL) > MaxWebhookURL {
		return &WebhookError{Field: "url", Message: fmt.Sprintf("url is %d characters long; the limit is %d: use a shorter URL", len(rawURL), MaxWebhookURL)}
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return &WebhookError{Field: "url", Message: "url must be an http:// or https:// URL"}
	}
	if len(events) == 0 {
		return &WebhookError{Field: "events", Message: "events is required, e.g. [\"sync.completed\", \"sync.failed\"] or [\"asset.*\"]"}
	}
	for _, e := range events {
		if !slices.Contains(webhookEvents, e) {
			return &WebhookError{Field: "events", Message: "unknown event " + strconv.Quote(e) + "; use " + strings.Join(webhookEvents, ", ")}
		}
	}
	return nil
}
