package web

import (
	"net/http"
	"testing"
)

// TestNULIsRefusedNot500 checks that a NUL character in a search or in a
// JSON text field is a 400 on both catalogs (PostgreSQL text cannot hold
// NUL: it used to fail the query with a 500), and that nothing is created.
func TestNULIsRefusedNot500(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		a, _ := f.signup("admin@example.com", "A")
		for _, p := range []string{"/api/v1/assets?q=%00", "/api/v1/assets?tag=a%00b", "/api/v1/assets?type=%00", "/api/v1/folders?parent=%00"} {
			if code, body := a.do("GET", p, nil); code != http.StatusBadRequest || errCode(body) != "invalid_field" {
				t.Errorf("GET %s: %d %v, want 400 invalid_field", p, code, body)
			}
		}
		req, _ := http.NewRequest("GET", f.srv.URL+"/library?q=%00", nil)
		resp, err := a.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("library page searching a NUL: %d, want 400", resp.StatusCode)
		}
		for _, b := range []struct{ method, path, body string }{
			{"POST", "/api/v1/tokens", `{"name":"a\u0000b"}`},
			{"POST", "/api/v1/users", `{"email":"x@example.com","password":"a good long password","role":"viewer","name":"a\u0000b"}`},
			{"POST", "/api/v1/signup", `{"email":"y@example.com","password":"a good long password","account_name":"a\u0000b"}`},
			{"POST", "/api/v1/login", `{"email":"admin\u0000@example.com","password":"a good long password"}`},
			{"POST", "/api/v1/webhooks", `{"url":"http://127.0.0.1/hook","events":["*"],"x\u0000":1}`},
		} {
			if code, body := a.do(b.method, b.path, b.body); code != http.StatusBadRequest || errCode(body) != "invalid_field" {
				t.Errorf("%s %s with a NUL: %d %v, want 400 invalid_field", b.method, b.path, code, body)
			}
		}
		_, toks := a.do("GET", "/api/v1/tokens", nil)
		_, users := a.do("GET", "/api/v1/users", nil)
		_, hooks := a.do("GET", "/api/v1/webhooks", nil)
		if len(toks["tokens"].([]any)) != 0 || len(users["users"].([]any)) != 1 || len(hooks["webhooks"].([]any)) != 0 {
			t.Errorf("a refused request created something: %v %v %v", toks, users, hooks)
		}
		// A backslash-escaped "\u0000" is text, not a NUL.
		if code, body := a.do("POST", "/api/v1/tokens", `{"name":"a\\u0000b"}`); code != http.StatusCreated {
			t.Errorf("token named a\\u0000b: %d %v", code, body)
		}
	})
}
