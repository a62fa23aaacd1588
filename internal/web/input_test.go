package web

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRefusedInputChangesNothing checks that malformed, mistyped, oversized
// and misspelt request bodies are refused with a clear 400 (413 when too
// large) that names the problem, and that a request refused for one field applies none of the
// others.
func TestRefusedInputChangesNothing(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		a, _ := f.signup("admin@example.com", "A")
		code, body := a.do("POST", "/api/v1/users", map[string]any{"email": "ed@example.com", "password": "a good long password", "role": "editor"})
		if code != http.StatusCreated {
			t.Fatalf("create editor: %d %v", code, body)
		}
		editor := num(obj(body["user"])["id"])
		code, body = a.do("POST", "/api/v1/webhooks", map[string]any{"url": "http://127.0.0.1:1/hook", "events": []string{"sync.completed"}})
		if code != http.StatusCreated {
			t.Fatalf("create webhook: %d %v", code, body)
		}
		hook := num(obj(body["webhook"])["id"])

		huge := `{"url":"` + strings.Repeat("x", maxJSONBody) + `"}`
		for _, tc := range []struct {
			name, method, path string
			body               any
			code, field        string
			status             int
		}{
			{"role with a weak password", "PATCH", "/api/v1/users/" + itoa(editor), map[string]any{"role": "viewer", "password": "short"}, "weak_password", "password", http.StatusBadRequest},
			{"misspelt role", "PATCH", "/api/v1/users/" + itoa(editor), map[string]any{"rol": "viewer"}, "invalid_field", "rol", http.StatusBadRequest},
			{"misspelt enabled", "PATCH", "/api/v1/webhooks/" + itoa(hook), map[string]any{"enabeld": false}, "invalid_field", "enabeld", http.StatusBadRequest},
			{"enabled of the wrong type", "PATCH", "/api/v1/webhooks/" + itoa(hook), map[string]any{"enabled": "no"}, "invalid_json", "", http.StatusBadRequest},
			{"malformed webhook edit", "PATCH", "/api/v1/webhooks/" + itoa(hook), `{"enabled": false`, "invalid_json", "", http.StatusBadRequest},
			{"two JSON values", "PATCH", "/api/v1/webhooks/" + itoa(hook), `{"enabled": false} {}`, "invalid_json", "", http.StatusBadRequest},
			{"huge webhook edit", "PATCH", "/api/v1/webhooks/" + itoa(hook), huge, "body_too_large", "", http.StatusRequestEntityTooLarge},
			{"misspelt token name", "POST", "/api/v1/tokens", map[string]any{"nmae": "ci"}, "invalid_field", "nmae", http.StatusBadRequest},
			{"misspelt notification ids", "POST", "/api/v1/notifications/read", map[string]any{"id": []int{1}}, "invalid_field", "id", http.StatusBadRequest},
		} {
			code, body := a.do(tc.method, tc.path, tc.body)
			e := obj(body["error"])
			if code != tc.status || errCode(body) != tc.code || (tc.field != "" && e["field"] != tc.field) {
				t.Errorf("%s: %d %v, want %d %s (field %q)", tc.name, code, body, tc.status, tc.code, tc.field)
			}
		}
		u, err := f.store.GetUser(t.Context(), editor)
		if err != nil || u.Role != "editor" {
			t.Errorf("a refused user edit changed the role: %v %v", u.Role, err)
		}
		h, err := f.store.GetWebhook(t.Context(), u.AccountID, hook)
		if err != nil || !h.Enabled || h.URL != "http://127.0.0.1:1/hook" {
			t.Errorf("a refused webhook edit changed it: %+v %v", h, err)
		}
		_, toks := a.do("GET", "/api/v1/tokens", nil)
		if n := len(toks["tokens"].([]any)); n != 0 {
			t.Errorf("a refused token request made %d tokens", n)
		}
		// The signing secret is answered once, never again.
		_, list := a.do("GET", "/api/v1/webhooks", nil)
		if strings.Contains(mustJSON(list), "secret\"") {
			t.Errorf("the webhook list shows the secret: %v", list)
		}
	})
}

// TestHugeJSONBodyIs413 sends a 50 MB JSON body, as a misbehaving client
// might, and checks that it is refused as too large (413), not as a bad
// request, and that the server goes on answering.
func TestHugeJSONBodyIs413(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	a, _ := f.signup("big@example.com", "Big")
	body := io.MultiReader(strings.NewReader(`{"name":"`), io.LimitReader(zeros{}, 50<<20), strings.NewReader(`"}`))
	req, err := http.NewRequest("POST", f.srv.URL+"/api/v1/tokens", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(csrfHeader, a.csrf)
	resp, err := a.http.Do(req)
	if err != nil {
		t.Fatalf("POST of a 50 MB body: %v", err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(data), `"body_too_large"`) {
		t.Errorf("50 MB JSON body: HTTP %d %s; want 413 body_too_large", resp.StatusCode, data)
	}
	if code, body := a.do("GET", "/api/v1/me", nil); code != http.StatusOK {
		t.Errorf("after the huge body: GET /me %d %v", code, body)
	}
}

// zeros is an endless reader of '0' bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}
