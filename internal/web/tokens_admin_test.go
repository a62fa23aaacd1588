package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestPasswordResetRevokesTokensAndAdminsManageThem: a password reset
// revokes the user's API tokens unless asked to keep them, and an admin
// lists and revokes the account's tokens, never another account's.
func TestPasswordResetRevokesTokensAndAdminsManageThem(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		admin, _ := f.signup("admin@example.com", "A")
		other, _ := f.signup("other@example.com", "B")
		code, body := admin.do("POST", "/api/v1/users", map[string]any{"email": "ed@example.com", "password": "a good long password", "role": "editor"})
		if code != http.StatusCreated {
			t.Fatalf("create editor: %d %v", code, body)
		}
		edID := num(obj(body["user"])["id"])
		ed := f.newClient()
		_, body = ed.do("POST", "/api/v1/login", map[string]any{"email": "ed@example.com", "password": "a good long password", "api_token": true})
		ed.token, _ = body["token"].(string)
		if ed.token == "" {
			t.Fatalf("token login: %v", body)
		}
		code, body = ed.do("POST", "/api/v1/tokens", map[string]any{"name": "laptop"})
		if code != http.StatusCreated {
			t.Fatalf("second token: %d %v", code, body)
		}
		laptop := f.newClient()
		laptop.token = body["token"].(string)

		// Admins list the account's live tokens with their users; others may not.
		code, body = admin.do("GET", "/api/v1/account/tokens", nil)
		toks, _ := body["tokens"].([]any)
		if code != http.StatusOK || len(toks) != 2 || obj(obj(toks[0])["user"])["email"] != "ed@example.com" || obj(toks[0])["name"] != "laptop" {
			t.Fatalf("the account's tokens: %d %v", code, body)
		}
		if strings.Contains(mustJSON(body), ed.token) || strings.Contains(mustJSON(body), "token_hash") {
			t.Fatal("the token list shows a token or its hash")
		}
		signIn := num(obj(toks[1])["id"])
		if code, body := ed.do("GET", "/api/v1/account/tokens", nil); code != http.StatusForbidden {
			t.Fatalf("an editor lists the account's tokens: %d %v", code, body)
		}
		if _, body := other.do("GET", "/api/v1/account/tokens", nil); len(body["tokens"].([]any)) != 0 {
			t.Fatalf("another account's admin sees tokens: %v", body)
		}
		if code, _ := other.do("DELETE", "/api/v1/account/tokens/"+itoa(signIn), nil); code != http.StatusNotFound {
			t.Fatalf("another account's admin revokes a token: %d", code)
		}
		if code, _ := ed.do("GET", "/api/v1/me", nil); code != http.StatusOK {
			t.Fatal("a refused revoke revoked the token")
		}

		// An admin revokes one token of a member.
		if code, body := admin.do("DELETE", "/api/v1/account/tokens/"+itoa(signIn), nil); code != http.StatusNoContent {
			t.Fatalf("revoke: %d %v", code, body)
		}
		if code, body := ed.do("GET", "/api/v1/me", nil); code != http.StatusUnauthorized || errCode(body) != "invalid_token" {
			t.Fatalf("the revoked token: %d %v", code, body)
		}
		if code, _ := admin.do("DELETE", "/api/v1/account/tokens/"+itoa(signIn), nil); code != http.StatusNotFound {
			t.Fatalf("revoking twice: %d", code)
		}

		// A reset keeping the tokens, then a reset.
		if code, body := admin.do("PATCH", "/api/v1/users/"+itoa(edID), map[string]any{"keep_api_tokens": true}); code != http.StatusBadRequest || obj(body["error"])["field"] != "keep_api_tokens" {
			t.Fatalf("keep_api_tokens without a password: %d %v", code, body)
		}
		if code, body := admin.do("PATCH", "/api/v1/users/"+itoa(edID), map[string]any{"password": "a new long password", "keep_api_tokens": true}); code != http.StatusOK {
			t.Fatalf("reset keeping tokens: %d %v", code, body)
		}
		if code, _ := laptop.do("POST", "/api/v1/tokens", map[string]any{"name": "still"}); code != http.StatusCreated {
			t.Fatalf("a kept token cannot write: %d", code)
		}
		if code, body := admin.do("PATCH", "/api/v1/users/"+itoa(edID), map[string]any{"password": "another new password"}); code != http.StatusOK {
			t.Fatalf("reset: %d %v", code, body)
		}
		if code, body := laptop.do("POST", "/api/v1/folders", map[string]any{"name": "after-reset"}); code != http.StatusUnauthorized || errCode(body) != "invalid_token" {
			t.Fatalf("a token write after the reset: %d %v", code, body)
		}
		if _, body := admin.do("GET", "/api/v1/account/tokens", nil); len(body["tokens"].([]any)) != 0 {
			t.Fatalf("tokens live after the reset: %v", body)
		}
		ed.token = ""
		ed.login("ed@example.com", "another new password")
		_, body = ed.do("GET", "/api/v1/tokens", nil)
		for _, tok := range body["tokens"].([]any) {
			if obj(tok)["revoked_at"] == nil {
				t.Errorf("the user's token list shows %v as live", tok)
			}
		}
	})
}

// TestTokensPageShowsTheTeamsTokensToAdmins: the Tokens page lists the
// other members' tokens, with a revoke button, to admins only.
func TestTokensPageShowsTheTeamsTokensToAdmins(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	admin, _ := f.signup("admin@example.com", "A")
	if code, body := admin.do("POST", "/api/v1/users", map[string]any{"email": "ed@example.com", "password": "a good long password", "role": "editor"}); code != http.StatusCreated {
		t.Fatalf("create editor: %d %v", code, body)
	}
	ed := f.newClient()
	ed.login("ed@example.com", "a good long password")
	if code, body := ed.do("POST", "/api/v1/tokens", map[string]any{"name": "ed-laptop"}); code != http.StatusCreated {
		t.Fatalf("token: %d %v", code, body)
	}
	_, _, page := admin.get("/tokens")
	if !strings.Contains(page, "Your team's tokens") || !strings.Contains(page, `<td data-label="Member">ed@example.com</td><td data-label="Name">ed-laptop</td>`) || !strings.Contains(page, `class="danger revoke-team-token"`) {
		t.Errorf("the admin's tokens page lacks ed's token and its revoke button")
	}
	_, _, page = ed.get("/tokens")
	if strings.Contains(page, "team-tokens") || !strings.Contains(page, "ed-laptop") {
		t.Errorf("the editor's tokens page shows the team's tokens, or not their own")
	}
}
