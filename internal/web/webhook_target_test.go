package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/config"
)

// TestWebhookToLoopbackRefusedByTheAPI: with the operator's default
// (SHELF_WEBHOOK_ALLOW_PRIVATE off) the API answers 400 on the url field,
// saying why and what the operator can do, and stores nothing.
func TestWebhookToLoopbackRefusedByTheAPI(t *testing.T) {
	t.Parallel()
	f := setupWith(t, "sqlite", fixtureOptions{config: func(c *config.Config) { c.WebhookAllowPrivate = false }})
	a, _ := f.signup("admin@example.com", "A")
	code, body := a.do("POST", "/api/v1/webhooks", map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"sync.*"}})
	e := obj(body["error"])
	msg, _ := e["message"].(string)
	if code != http.StatusBadRequest || e["field"] != "url" || !strings.Contains(msg, "loopback") || !strings.Contains(msg, "SHELF_WEBHOOK_ALLOW_PRIVATE") {
		t.Fatalf("a webhook to 127.0.0.1: %d %v, want 400 on url saying loopback and naming the setting", code, e)
	}
	if _, list := a.do("GET", "/api/v1/webhooks", nil); len(list["webhooks"].([]any)) != 0 {
		t.Fatalf("the refused webhook was stored: %v", list)
	}
}
