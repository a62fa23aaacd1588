package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

const webhookColumns = `id, account_id, url, secret, events, enabled, failure_count, disabled_reason, created_at, updated_at`

func scanWebhook(row interface{ Scan(...any) error }) (Webhook, error) {
	var (
		w                Webhook
		events           string
		created, updated int64
	)
	if err := row.Scan(&w.ID, &w.AccountID, &w.URL, &w.Secret, &events, &w.Enabled, &w.FailureCount, &w.DisabledReason, &created, &updated); err != nil {
		return Webhook{}, mapErr(err)
	}
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return Webhook{}, fmt.Errorf("decoding webhook events %q: %w", events, err)
	}
	w.CreatedAt, w.UpdatedAt = fromMS(created), fromMS(updated)
	return w, nil
}

// WantsEvent says whether the webhook subscribes to event: an exact name,
// a family pattern ("sync.*") or "*".
func (w Webhook) WantsEvent(event string) bool {
	for _, e := range w.Events {
		if e == "*" || e == event || (strings.HasSuffix(e, ".*") && strings.HasPrefix(event, strings.TrimSuffix(e, "*"))) {
			return true
		}
	}
	return false
}

func encodeEvents(events []string) (string, error) {
	if events == nil {
		events = []string{}
	}
	return encodeJSON(events)
}

// CreateWebhook stores a webhook (AccountID, URL, Secret, Events, Enabled).
func (s *Store) CreateWebhook(ctx context.Context, w Webhook, now time.Time) (Webhook, error) {
	if w.URL == "" || len(w.Secret) == 0 {
		return Webhook{}, fmt.Errorf("a webhook needs a URL and a signing secret")
	}
	events, err := encodeEvents(w.Events)
	if err != nil {
		return Webhook{}, err
	}
	out, err := scanWebhook(s.queryRow(ctx, s.db, `INSERT INTO webhooks (account_id, url, secret, events, enabled, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+webhookColumns, w.AccountID, w.URL, w.Secret, events, w.Enabled, ms(now), ms(now)))
	if err != nil {
		return Webhook{}, fmt.Errorf("creating webhook: %w", err)
	}
	return out, nil
}

// GetWebhook returns a webhook of the account.
func (s *Store) GetWebhook(ctx context.Context, accountID, webhookID int64) (Webhook, error) {
	return scanWebhook(s.queryRow(ctx, s.db, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ? AND account_id = ?`, webhookID, accountID))
}

// ListWebhooks returns the account's webhooks, oldest first.
func (s *Store) ListWebhooks(ctx context.Context, accountID int64) ([]Webhook, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+webhookColumns+` FROM webhooks WHERE account_id = ? ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("listing webhooks: %w", err)
	}
	defer rows.Close()
	var out []Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("reading webhook: %w", err)
		}
		out = append(out, w)
	}
	return out, mapErr(rows.Err())
}

// ListWebhooksForEvent returns the account's enabled webhooks that want
// event.
func (s *Store) ListWebhooksForEvent(ctx context.Context, accountID int64, event string) ([]Webhook, error) {
	all, err := s.ListWebhooks(ctx, accountID)
	if err != nil {
		return nil, err
	}
	var out []Webhook
	for _, w := range all {
		if w.Enabled && w.WantsEvent(event) {
			out = append(out, w)
		}
	}
	return out, nil
}

// UpdateWebhook writes URL, Events and Enabled (and Secret when not empty).
// Enabling clears the failure count and the reason it was disabled.
func (s *Store) UpdateWebhook(ctx context.Context, w Webhook, now time.Time) (Webhook, error) {
	events, err := encodeEvents(w.Events)
	if err != nil {
		return Webhook{}, err
	}
	out, err := scanWebhook(s.queryRow(ctx, s.db, `UPDATE webhooks SET url = ?, events = ?, secret = COALESCE(?, secret),
    failure_count = CASE WHEN ? AND NOT enabled THEN 0 ELSE failure_count END,
    disabled_reason = CASE WHEN ? THEN '' ELSE disabled_reason END,
    enabled = ?, updated_at = ?
WHERE id = ? AND account_id = ? RETURNING `+webhookColumns,
		w.URL, events, nonEmptyBytes(w.Secret), w.Enabled, w.Enabled, w.Enabled, ms(now), w.ID, w.AccountID))
	if err != nil {
		return Webhook{}, fmt.Errorf("updating webhook: %w", err)
	}
	return out, nil
}

func nonEmptyBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// DeleteWebhook removes a webhook and its delivery log.
func (s *Store) DeleteWebhook(ctx context.Context, accountID, webhookID int64) error {
	return s.execOne(ctx, s.db, `DELETE FROM webhooks WHERE id = ? AND account_id = ?`, webhookID, accountID)
}

// RecordWebhookFailure counts one more failed delivery in a row and
// returns the new count.
func (s *Store) RecordWebhookFailure(ctx context.Context, accountID, webhookID int64, now time.Time) (int, error) {
	var n int
	err := s.queryRow(ctx, s.db, `UPDATE webhooks SET failure_count = failure_count + 1, updated_at = ? WHERE id = ? AND account_id = ? RETURNING failure_count`,
		ms(now), webhookID, accountID).Scan(&n)
	if err != nil {
		return 0, mapErr(err)
	}
	return n, nil
}

// ResetWebhookFailures clears the failure count after a good delivery.
func (s *Store) ResetWebhookFailures(ctx context.Context, accountID, webhookID int64, now time.Time) error {
	return s.execOne(ctx, s.db, `UPDATE webhooks SET failure_count = 0, updated_at = ? WHERE id = ? AND account_id = ?`, ms(now), webhookID, accountID)
}

// DisableWebhook turns an enabled webhook off with the reason shown to
// admins. It reports whether this call disabled it: false when it was
// already off (another delivery disabled it first), so only one caller
// tells the admins.
func (s *Store) DisableWebhook(ctx context.Context, accountID, webhookID int64, reason string, now time.Time) (bool, error) {
	res, err := s.exec(ctx, s.db, `UPDATE webhooks SET enabled = FALSE, disabled_reason = ?, updated_at = ? WHERE id = ? AND account_id = ? AND enabled = TRUE`,
		reason, ms(now), webhookID, accountID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("counting changed rows: %w", err)
	}
	if n > 0 {
		return true, nil
	}
	if _, err := s.GetWebhook(ctx, accountID, webhookID); err != nil {
		return false, err
	}
	return false, nil
}

const deliveryColumns = `id, webhook_id, event, payload, attempt, status_code, error, created_at`

// RecordWebhookDelivery logs one delivery attempt (WebhookID, Event,
// Payload, Attempt, StatusCode, Error, CreatedAt) of a webhook of the
// account.
func (s *Store) RecordWebhookDelivery(ctx context.Context, accountID int64, d WebhookDelivery) (WebhookDelivery, error) {
	var out WebhookDelivery
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := s.queryRow(ctx, tx, `SELECT COUNT(*) FROM webhooks WHERE id = ? AND account_id = ?`, d.WebhookID, accountID).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n == 0 {
			return ErrNotFound
		}
		var err error
		out, err = scanDelivery(s.queryRow(ctx, tx, `INSERT INTO webhook_deliveries (webhook_id, event, payload, attempt, status_code, error, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+deliveryColumns, d.WebhookID, d.Event, string(d.Payload), d.Attempt, intPtrArg(d.StatusCode), d.Error, ms(d.CreatedAt)))
		return err
	})
	if err != nil {
		return WebhookDelivery{}, fmt.Errorf("recording webhook delivery: %w", err)
	}
	return out, nil
}

func scanDelivery(row interface{ Scan(...any) error }) (WebhookDelivery, error) {
	var (
		d       WebhookDelivery
		payload string
		status  sql.NullInt64
		created int64
	)
	if err := row.Scan(&d.ID, &d.WebhookID, &d.Event, &payload, &d.Attempt, &status, &d.Error, &created); err != nil {
		return WebhookDelivery{}, mapErr(err)
	}
	d.Payload = []byte(payload)
	d.StatusCode = nullIntPtr(status)
	d.CreatedAt = fromMS(created)
	return d, nil
}

// ListWebhookDeliveries returns a webhook's latest delivery attempts,
// newest first.
func (s *Store) ListWebhookDeliveries(ctx context.Context, accountID, webhookID int64, limit int) ([]WebhookDelivery, error) {
	if limit <= 0 {
		limit = 50
	}
	if _, err := s.GetWebhook(ctx, accountID, webhookID); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, s.db, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?`, webhookID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing webhook deliveries: %w", err)
	}
	defer rows.Close()
	var out []WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("reading webhook delivery: %w", err)
		}
		out = append(out, d)
	}
	return out, mapErr(rows.Err())
}
