package web

import (
	"net/http"
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
