package web

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/accounts"
	"github.com/shelf-dam/shelf/internal/config"
)

func TestSignupAndLogin(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		anon := f.newClient()
		code, body := anon.do("POST", "/api/v1/signup", map[string]any{"email": "Ann@Example.com", "password": "a good long password", "account_name": "Studio A"})
		if code != http.StatusCreated {
			t.Fatalf("signup: %d %v", code, body)
		}
		user, acct := obj(body["user"]), obj(body["account"])
		if user["email"] != "ann@example.com" || user["role"] != "admin" || acct["name"] != "Studio A" || acct["plan"] != "trial" {
			t.Fatalf("signup answer: %v", body)
		}
		if acct["trial_ends_at"] != "2026-03-15T12:00:00Z" {
			t.Fatalf("trial ends at %v, want 14 days after now", acct["trial_ends_at"])
		}
		if strings.Contains(mustJSON(body), "password") {
			t.Fatal("signup answer mentions the password")
		}

		// Session login sets an HttpOnly cookie and answers a CSRF token.
		c := f.newClient()
		code, body = c.do("POST", "/api/v1/login", map[string]any{"email": "ann@example.com", "password": "a good long password"})
		if code != http.StatusOK || body["csrf_token"] == "" {
			t.Fatalf("login: %d %v", code, body)
		}
		var sess *http.Cookie
		for _, ck := range c.http.Jar.Cookies(mustURL(f.srv.URL)) {
			if ck.Name == sessionCookie {
				sess = ck
			}
		}
		if sess == nil {
			t.Fatal("no session cookie")
		}
		if code, _ := c.do("GET", "/api/v1/me", nil); code != http.StatusOK {
			t.Fatalf("me with session: %d", code)
		}

		// A cookie-authenticated write without the CSRF token is refused.
		if code, body := c.do("POST", "/api/v1/tokens", map[string]any{"name": "ci"}); code != http.StatusForbidden || errCode(body) != "csrf_failed" {
			t.Fatalf("write without CSRF: %d %v", code, body)
		}
		c.csrf, _ = body["csrf_token"].(string)
		c.csrf = mustString(t, c, "/api/v1/me", "csrf_token")
		if code, body := c.do("POST", "/api/v1/tokens", map[string]any{"name": "ci"}); code != http.StatusCreated {
			t.Fatalf("write with CSRF: %d %v", code, body)
		}

		// API-token login, then Bearer use.
		code, body = anon.do("POST", "/api/v1/login", map[string]any{"email": "ann@example.com", "password": "a good long password", "api_token": true})
		tok, _ := body["token"].(string)
		if code != http.StatusOK || !strings.HasPrefix(tok, "shelf_") {
			t.Fatalf("token login: %d %v", code, body)
		}
		bc := f.newClient()
		bc.token = tok
		if code, body := bc.do("GET", "/api/v1/me", nil); code != http.StatusOK || obj(body["user"])["email"] != "ann@example.com" {
			t.Fatalf("me with token: %d %v", code, body)
		}
		// Bearer writes need no CSRF token (no ambient credentials).
		if code, body := bc.do("POST", "/api/v1/tokens", map[string]any{"name": "second"}); code != http.StatusCreated {
			t.Fatalf("token write: %d %v", code, body)
		}

		// Logout ends the session.
		if code, _ := c.do("POST", "/api/v1/logout", nil); code != http.StatusNoContent {
			t.Fatalf("logout: %d", code)
		}
		c.http.Jar.SetCookies(mustURL(f.srv.URL), []*http.Cookie{sess})
		if code, body := c.do("GET", "/api/v1/me", nil); code != http.StatusUnauthorized || errCode(body) != "session_expired" {
			t.Fatalf("me after logout: %d %v", code, body)
		}
	})
}

func TestBadSignupAndLoginInput(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.signup("taken@example.com", "First")
		anon := f.newClient()
		cases := []struct {
			name string
			body any
			code int
			err  string
		}{
			{"malformed JSON", `{"email": "x@example.com",`, 400, "invalid_json"},
			{"empty body", "", 400, "invalid_json"},
			{"wrong type", `{"email": 5}`, 400, "invalid_json"},
			{"missing account name", map[string]any{"email": "x@example.com", "password": "a good long password"}, 400, "missing_field"},
			{"bad email", map[string]any{"email": "nope", "password": "a good long password", "account_name": "X"}, 400, "invalid_email"},
			{"weak password", map[string]any{"email": "x@example.com", "password": "short", "account_name": "X"}, 400, "weak_password"},
			{"duplicate email", map[string]any{"email": "TAKEN@example.com", "password": "a good long password", "account_name": "X"}, 409, "email_taken"},
		}
		for _, tc := range cases {
			code, body := anon.do("POST", "/api/v1/signup", tc.body)
			if code != tc.code || errCode(body) != tc.err {
				t.Errorf("%s: %d %v, want %d %s", tc.name, code, body, tc.code, tc.err)
			}
			if msg, _ := obj(body["error"])["message"].(string); msg == "" {
				t.Errorf("%s: no error message", tc.name)
			}
		}
		accts, err := f.store.ListAccounts(t.Context())
		if err != nil || len(accts) != 1 {
			t.Fatalf("bad sign-ups changed the accounts: %d %v", len(accts), err)
		}
		if code, body := anon.do("POST", "/api/v1/login", map[string]any{"email": "taken@example.com", "password": "wrong password!!"}); code != 401 || errCode(body) != "invalid_credentials" {
			t.Fatalf("wrong password: %d %v", code, body)
		}
		if code, body := anon.do("POST", "/api/v1/login", map[string]any{"email": "nobody@example.com", "password": "wrong password!!"}); code != 401 || errCode(body) != "invalid_credentials" {
			t.Fatalf("unknown user: %d %v", code, body)
		}
		if code, _ := anon.do("GET", "/api/v1/me", nil); code != 401 {
			t.Fatalf("anonymous me: %d", code)
		}
		anon.token = "shelf_not-a-token"
		if code, body := anon.do("GET", "/api/v1/me", nil); code != 401 || errCode(body) != "invalid_token" {
			t.Fatalf("unknown token: %d %v", code, body)
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	f.signup("ann@example.com", "A")
	c := f.newClient()
	for i := 0; i < accounts.MaxSignInFailures; i++ {
		if code, _ := c.do("POST", "/api/v1/login", map[string]any{"email": "ann@example.com", "password": "wrong password!!"}); code != 401 {
			t.Fatalf("attempt %d: %d", i, code)
		}
	}
	// Even the right password is refused while limited.
	code, body := c.do("POST", "/api/v1/login", map[string]any{"email": "ann@example.com", "password": "a good long password"})
	if code != http.StatusTooManyRequests || errCode(body) != "too_many_attempts" {
		t.Fatalf("limited login: %d %v", code, body)
	}
	f.advance(accounts.SignInWindow + time.Second)
	c.login("ann@example.com", "a good long password")
}

func TestExpiredSessionAndRevokedToken(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		c, _ := f.signup("ann@example.com", "A")
		code, body := c.do("POST", "/api/v1/tokens", map[string]any{"name": "script"})
		if code != 201 {
			t.Fatalf("create token: %d %v", code, body)
		}
		bc := f.newClient()
		bc.token = body["token"].(string)
		_, list := c.do("GET", "/api/v1/tokens", nil)
		toks := list["tokens"].([]any)
		if len(toks) != 1 || strings.Contains(mustJSON(list), bc.token) {
			t.Fatalf("token list: %v", list)
		}
		id := num(obj(toks[0])["id"])
		if code, _ := c.do("DELETE", "/api/v1/tokens/"+itoa(id), nil); code != 204 {
			t.Fatalf("revoke: %d", code)
		}
		if code, body := bc.do("GET", "/api/v1/me", nil); code != 401 || errCode(body) != "invalid_token" {
			t.Fatalf("revoked token: %d %v", code, body)
		}
		f.advance(sessionTTL + time.Minute)
		if code, body := c.do("GET", "/api/v1/me", nil); code != 401 || errCode(body) != "session_expired" {
			t.Fatalf("expired session: %d %v", code, body)
		}
	})
}

// TestSignInLimitsBehindATrustedProxy: behind a reverse proxy every client
// shares the proxy's address, so one client's failures used to lock every
// client out of signing in. With SHELF_TRUSTED_PROXIES the limits count per
// client (X-Forwarded-For, read from the right); without it the header is
// ignored, so a client cannot pick its own address.
func TestSignInLimitsBehindATrustedProxy(t *testing.T) {
	t.Parallel()
	guess := func(f *fixture, from string) *client {
		c := f.newClient()
		c.header = http.Header{"X-Forwarded-For": {"198.51.100.7, " + from}}
		for i := range accounts.MaxSignInFailuresPerIP {
			email := fmt.Sprintf("guess%02d@example.com", i)
			if code, _ := c.do("POST", "/api/v1/login", map[string]any{"email": email, "password": "wrong password!!"}); code != 401 {
				t.Fatalf("guess %d from %s: %d", i, from, code)
			}
		}
		if code, _ := c.do("POST", "/api/v1/login", map[string]any{"email": "x@example.com", "password": "wrong password!!"}); code != http.StatusTooManyRequests {
			t.Fatalf("guessing client %s not limited: %d", from, code)
		}
		return c
	}
	owner := func(f *fixture, from string) int {
		c := f.newClient()
		c.header = http.Header{"X-Forwarded-For": {from}}
		code, _ := c.do("POST", "/api/v1/login", map[string]any{"email": "ann@example.com", "password": "a good long password"})
		return code
	}

	trusted := setupWith(t, "sqlite", fixtureOptions{config: func(c *config.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}})
	trusted.signup("ann@example.com", "A")
	guess(trusted, "203.0.113.9")
	if code := owner(trusted, "203.0.113.50"); code != 200 {
		t.Fatalf("another client behind the trusted proxy: %d, want 200", code)
	}

	direct := setup(t, "sqlite")
	direct.signup("ann@example.com", "A")
	guess(direct, "203.0.113.9")
	if code := owner(direct, "203.0.113.50"); code != http.StatusTooManyRequests {
		t.Fatalf("without trusted proxies a made-up X-Forwarded-For chose the address: %d, want 429", code)
	}
}
