package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
)

// TestEventStreamEndsWhenTheUserIsRemoved checks that a removed user's open
// event stream ends instead of receiving the account's events.
func TestEventStreamEndsWhenTheUserIsRemoved(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		admin, acct, _ := e.signup("admin@example.com", "A")
		e.connectLocal(admin, acct, "ev")
		r := admin.Must(201, "POST", "/api/v1/users", map[string]any{"email": "gone@example.com", "password": apitest.Password, "role": "viewer"})
		goneID := apitest.Num(r.Obj("user")["id"])
		gone := apitest.New(t, e.url)
		gone.Login("gone@example.com", apitest.Password)

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		events := make(chan map[string]any, 100)
		ended := make(chan struct{})
		go func() {
			defer close(ended)
			readEvents(ctx, t, gone, events)
		}()
		time.Sleep(200 * time.Millisecond) // let the stream subscribe
		admin.Must(204, "DELETE", "/api/v1/users/"+itoa(goneID), nil)
		admin.Must(201, "POST", "/api/v1/folders", map[string]any{"name": "After removal"})
		for {
			select {
			case ev := <-events:
				if ev["type"] == "folder.created" {
					t.Fatalf("a removed user received %v", ev)
				}
			case <-ended:
				return
			case <-ctx.Done():
				t.Fatal("a removed user's event stream stayed open")
			}
		}
	})
}
