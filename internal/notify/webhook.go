package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/riverqueue/river"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// Job kinds of the dispatcher's workers.
const (
	KindWebhook = "shelf.webhook"
	KindEmail   = "shelf.email"
)

// webhookMaxAttempts bounds the retries of one delivery.
const webhookMaxAttempts = 8

// WebhookArgs is one event to deliver to one webhook.
type WebhookArgs struct {
	AccountID int64 `json:"account_id"`
	WebhookID int64 `json:"webhook_id"`
	Event     Event `json:"event"`
}

// Kind is the River job kind.
func (WebhookArgs) Kind() string { return KindWebhook }

// InsertOpts bounds the retries.
func (WebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: webhookMaxAttempts}
}

// webhookWorker POSTs an event to a webhook, signed, and logs the attempt.
type webhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	d *Dispatcher
}

// NextRetry doubles the wait after each failed attempt.
func (w *webhookWorker) NextRetry(job *river.Job[WebhookArgs]) time.Time {
	return time.Now().Add(webhookBackoff(w.d.cfg.RetryBase, job.Attempt))
}

func webhookBackoff(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Timeout covers one HTTP attempt.
func (w *webhookWorker) Timeout(*river.Job[WebhookArgs]) time.Duration {
	return DefaultWebhookTimeout + 5*time.Second
}

func (w *webhookWorker) Work(ctx context.Context, job *river.Job[WebhookArgs]) error {
	return w.d.deliver(ctx, job.Args, job.Attempt)
}

// deliver makes one delivery attempt. A nil error means delivered (or no
// longer wanted); river.JobCancel means the webhook was disabled now.
func (d *Dispatcher) deliver(ctx context.Context, a WebhookArgs, attempt int) error {
	hook, err := d.cfg.Store.GetWebhook(ctx, a.AccountID, a.WebhookID)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("reading webhook %d: %w", a.WebhookID, err)
	}
	if !hook.Enabled {
		return nil
	}
	if d.cfg.OpenSecret == nil {
		return river.JobCancel(errors.New("webhooks need a secret opener (DispatcherConfig.OpenSecret)"))
	}
	secret, err := d.cfg.OpenSecret(hook)
	if err != nil {
		return river.JobCancel(fmt.Errorf("opening the signing secret of webhook %d: %w", hook.ID, err))
	}
	body, err := json.Marshal(a.Event)
	if err != nil {
		return river.JobCancel(fmt.Errorf("encoding the event: %w", err))
	}

	status, postErr := d.post(ctx, hook.URL, secret, body, a.Event)
	now := d.now().UTC()
	rec := catalog.WebhookDelivery{WebhookID: hook.ID, Event: a.Event.Type, Payload: body, Attempt: attempt, CreatedAt: now}
	if status != 0 {
		rec.StatusCode = &status
	}
	if postErr != nil {
		rec.Error = postErr.Error()
	}
	// The log entry is written after the webhook's counters, so whoever
	// sees an attempt in the log sees its effect on the webhook too.
	defer func() {
		if _, err := d.cfg.Store.RecordWebhookDelivery(ctx, hook.AccountID, rec); err != nil {
			d.logger.Warn("logging a webhook delivery", "webhook_id", hook.ID, "error", err)
		}
	}()
	if postErr == nil {
		if hook.FailureCount > 0 {
			if err := d.cfg.Store.ResetWebhookFailures(ctx, hook.AccountID, hook.ID, now); err != nil {
				d.logger.Warn("resetting webhook failures", "webhook_id", hook.ID, "error", err)
			}
		}
		return nil
	}
	n, err := d.cfg.Store.RecordWebhookFailure(ctx, hook.AccountID, hook.ID, now)
	if err != nil {
		return fmt.Errorf("counting the failure of webhook %d: %w (delivery: %w)", hook.ID, err, postErr)
	}
	if n >= d.cfg.MaxFailures {
		reason := fmt.Sprintf("disabled after %d failed deliveries in a row (last: %s); fix the endpoint and enable the webhook again", n, postErr)
		changed, err := d.cfg.Store.DisableWebhook(ctx, hook.AccountID, hook.ID, reason, now)
		if err != nil {
			return fmt.Errorf("disabling webhook %d: %w", hook.ID, err)
		}
		// Concurrent failing deliveries: only the one that turned it off
		// tells the admins.
		if changed {
			d.logger.Warn("webhook disabled", "webhook_id", hook.ID, "account_id", hook.AccountID, "failures", n)
			d.webhookDisabled(ctx, hook, reason)
		}
		return river.JobCancel(postErr)
	}
	return postErr
}

// post sends one signed request; a non-2xx answer is an error.
func (d *Dispatcher) post(ctx context.Context, url string, secret, body []byte, ev Event) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("building the request to %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Shelf-Webhooks/1")
	req.Header.Set(EventHeader, ev.Type)
	req.Header.Set(DeliveryHeader, ev.ID)
	req.Header.Set(TimestampHeader, strconv.FormatInt(d.now().Unix(), 10))
	req.Header.Set(SignatureHeader, Sign(secret, body))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("posting to the webhook: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the webhook answered %s: %q", resp.Status, bytes.TrimSpace(snippet))
	}
	return resp.StatusCode, nil
}

// EmailArgs is one email to send.
type EmailArgs struct {
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Body    string   `json:"body"`
}

// Kind is the River job kind.
func (EmailArgs) Kind() string { return KindEmail }

// InsertOpts bounds the retries.
func (EmailArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

type emailWorker struct {
	river.WorkerDefaults[EmailArgs]
	d *Dispatcher
}

func (w *emailWorker) Work(ctx context.Context, job *river.Job[EmailArgs]) error {
	if !w.d.cfg.Mailer.Enabled() {
		return river.JobCancel(errors.New("SMTP is not configured any more; set SHELF_SMTP_ADDR and SHELF_SMTP_FROM"))
	}
	return w.d.cfg.Mailer.Send(ctx, Message{To: job.Args.To, Subject: job.Args.Subject, Body: job.Args.Body})
}
