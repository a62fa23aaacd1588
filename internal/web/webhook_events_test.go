package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestWebhooksMaySelectEveryEmittedEvent checks that a webhook can
// subscribe to each event type Shelf emits to webhooks, not only through
// "*": the mass-delete guard, folder changes and a storage needing
// reconnection.
func TestWebhooksMaySelectEveryEmittedEvent(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	a, _ := f.signup("admin@example.com", "A")
	for _, ev := range []string{"sync.needs_confirmation", "folder.*", "folder.created", "folder.moved", "folder.deleted", "storage.needs_reconnect"} {
		if code, body := a.do("POST", "/api/v1/webhooks", map[string]any{"url": "http://127.0.0.1:1/h", "events": []string{ev}}); code != http.StatusCreated {
			t.Errorf("webhook for %s: %d %v", ev, code, body)
		}
	}
	if code, body := a.do("POST", "/api/v1/webhooks", map[string]any{"url": "http://127.0.0.1:1/h", "events": []string{"folder.renamed"}}); code != http.StatusBadRequest {
		t.Errorf("unknown event: %d %v", code, body)
	}
}

// TestWebhookURLLength checks that a URL longer than the limit is refused
// with a 400 that names the field and the limit.
func TestWebhookURLLength(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	a, _ := f.signup("admin@example.com", "A")
	long := "https://hooks.example/" + strings.Repeat("a", 10_000)
	code, body := a.do("POST", "/api/v1/webhooks", map[string]any{"url": long, "events": []string{"sync.*"}})
	e := obj(body["error"])
	if code != http.StatusBadRequest || e["field"] != "url" || !strings.Contains(e["message"].(string), "2048") {
		t.Fatalf("a 10,000-character URL: %d %v, want 400 on url naming the 2048 limit", code, e)
	}
	if _, list := a.do("GET", "/api/v1/webhooks", nil); len(list["webhooks"].([]any)) != 0 {
		t.Fatalf("the refused webhook was stored: %v", list)
	}
}
