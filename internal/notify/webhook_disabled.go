package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// WebhookDisabled is the kind of the notice sent to an account's admins
// when one of its webhooks turned itself off after failed deliveries.
const WebhookDisabled = "webhook.disabled"

// webhookDisabled tells the account's admins that a webhook was disabled:
// a notification for each admin (viewers and editors cannot fix it) and,
// when SMTP is configured, an email, as a failed sync does. Failures are
// logged; the webhook's state on the Webhooks page says it as well.
func (d *Dispatcher) webhookDisabled(ctx context.Context, hook catalog.Webhook, reason string) {
	users, err := d.cfg.Store.ListUsers(ctx, hook.AccountID)
	if err != nil {
		d.logger.ErrorContext(ctx, "listing the admins to tell of a disabled webhook", slog.Int64("account_id", hook.AccountID), slog.Any("err", err))
		return
	}
	// The URL may hold credentials or tokens (in its user, path or
	// query): notices and emails name only its scheme and host.
	site := webhookSite(hook.URL)
	reason = hideURL(reason, hook.URL, site)
	msg := fmt.Sprintf("Webhook to %s was %s in Settings → Webhooks.", site, reason)
	data := MarshalData(map[string]any{"webhook_id": hook.ID, "url": site, "reason": reason})
	var to []string
	for _, u := range users {
		if u.Role != catalog.RoleAdmin {
			continue
		}
		to = append(to, u.Email)
		if _, err := d.cfg.Store.CreateNotification(ctx, catalog.Notification{
			AccountID: hook.AccountID, UserID: &u.ID, Kind: WebhookDisabled, Message: msg, Data: data, CreatedAt: d.now().UTC(),
		}); err != nil {
			d.logger.ErrorContext(ctx, "keeping the disabled-webhook notification", slog.Int64("account_id", hook.AccountID), slog.Any("err", err))
		}
	}
	if len(to) == 0 || !d.cfg.Mailer.Enabled() {
		return
	}
	var body strings.Builder
	fmt.Fprintf(&body, "Shelf stopped sending events to the webhook %s: it was %s.\n\n", site, reason)
	body.WriteString("Events are not queued for it while it is disabled. Fix the receiver, then enable the webhook again in Settings → Webhooks.\n")
	if d.cfg.PublicURL != "" {
		fmt.Fprintf(&body, "\n%s/settings/webhooks\n", strings.TrimRight(d.cfg.PublicURL, "/"))
	}
	if err := d.enqueueJob(ctx, EmailArgs{To: to, Subject: "Shelf: a webhook was disabled", Body: body.String()}); err != nil {
		d.logger.ErrorContext(ctx, "queueing the disabled-webhook email", slog.Int64("account_id", hook.AccountID), slog.Any("err", err))
	}
}

// webhookSite is the scheme and host of a webhook URL ("https://example.com"),
// without the user, path or query that may hold secrets.
func webhookSite(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(an invalid URL)"
	}
	return u.Scheme + "://" + u.Host
}

// hideURL replaces the webhook's full URL (as given, or as Go's HTTP
// client quotes it in errors) in text with site.
func hideURL(text, raw, site string) string {
	forms := []string{raw}
	if u, err := url.Parse(raw); err == nil {
		forms = append(forms, u.Redacted(), u.String())
	}
	for _, f := range forms {
		if f != "" {
			text = strings.ReplaceAll(text, f, site)
		}
	}
	return text
}
