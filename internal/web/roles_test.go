package web

import (
	"net/http"
	"testing"
)

// TestRolesMatchTheAPIDocs checks every endpoint's role check against
// docs/api.md: viewers cannot change the library or start syncs, editors
// cannot manage storage, users, webhooks or confirm runs, and only
// operators manage plans. Each refusal is a 403 "forbidden" before the
// handler runs.
func TestRolesMatchTheAPIDocs(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		admin, body := f.signup("admin@example.com", "A")
		acct := num(obj(body["account"])["id"])
		clients := map[string]*client{}
		for _, role := range []string{"viewer", "editor"} {
			email := role + "@example.com"
			if code, body := admin.do("POST", "/api/v1/users", map[string]any{"email": email, "password": "a good long password", "role": role}); code != http.StatusCreated {
				t.Fatalf("create %s: %d %v", role, code, body)
			}
			c := f.newClient()
			c.login(email, "a good long password")
			clients[role] = c
		}
		editorOnly := []struct{ method, path string }{
			{"POST", "/api/v1/sync"},
			{"POST", "/api/v1/folders"},
			{"PATCH", "/api/v1/folders/1"},
			{"DELETE", "/api/v1/folders/1"},
			{"POST", "/api/v1/assets"},
			{"PATCH", "/api/v1/assets/1"},
			{"DELETE", "/api/v1/assets/1"},
		}
		adminOnly := []struct{ method, path string }{
			{"GET", "/api/v1/storage"},
			{"PUT", "/api/v1/storage"},
			{"GET", "/api/v1/storage/gdrive/folders"},
			{"GET", "/oauth/google/start"},
			{"GET", "/oauth/google/callback"},
			{"POST", "/api/v1/sync/runs/1/confirm"},
			{"GET", "/api/v1/users"},
			{"POST", "/api/v1/users"},
			{"PATCH", "/api/v1/users/1"},
			{"DELETE", "/api/v1/users/1"},
			{"GET", "/api/v1/webhooks"},
			{"POST", "/api/v1/webhooks"},
			{"PATCH", "/api/v1/webhooks/1"},
			{"DELETE", "/api/v1/webhooks/1"},
			{"GET", "/api/v1/webhooks/1/deliveries"},
		}
		operatorOnly := []struct{ method, path string }{
			{"GET", "/api/v1/admin/accounts"},
			{"PUT", "/api/v1/admin/accounts/" + itoa(acct) + "/plan"},
		}
		check := func(who string, c *client, method, path string) {
			t.Helper()
			code, body := c.do(method, path, map[string]any{})
			if code != http.StatusForbidden || errCode(body) != "forbidden" {
				t.Errorf("%s: %s %s = %d %v, want 403 forbidden", who, method, path, code, body)
			}
		}
		for _, e := range editorOnly {
			check("viewer", clients["viewer"], e.method, e.path)
		}
		for _, e := range adminOnly {
			check("viewer", clients["viewer"], e.method, e.path)
			check("editor", clients["editor"], e.method, e.path)
		}
		for _, e := range operatorOnly {
			for who, c := range map[string]*client{"viewer": clients["viewer"], "editor": clients["editor"], "admin": admin} {
				check(who, c, e.method, e.path)
			}
		}
		// Reads every role may do.
		for _, p := range []string{"/api/v1/me", "/api/v1/account", "/api/v1/sync", "/api/v1/sync/runs", "/api/v1/folders", "/api/v1/assets", "/api/v1/notifications", "/api/v1/tokens"} {
			if code, body := clients["viewer"].do("GET", p, nil); code != http.StatusOK {
				t.Errorf("viewer: GET %s = %d %v, want 200", p, code, body)
			}
		}
	})
}
