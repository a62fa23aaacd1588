package web

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// rawPost sends body with the content type and extra headers, without a
// cookie jar, and returns the answer with its body read.
func rawPost(t *testing.T, f *fixture, path, ctype, body string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func hasSessionCookie(resp *http.Response) bool {
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			return true
		}
	}
	return false
}

// TestJSONSignInAndSignUpTakeOnlyJSON: a page of another site can send a
// text/plain (or form-encoded) body without a CORS preflight; sign-in and
// sign-up refuse it (415) instead of setting a session cookie.
func TestJSONSignInAndSignUpTakeOnlyJSON(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.signup("attacker@example.com", "Attacker")
		login := `{"email":"attacker@example.com","password":"a good long password"}`
		for _, ctype := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
			resp, body := rawPost(t, f, "/api/v1/login", ctype, login, nil)
			if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(body, "unsupported_media_type") || !strings.Contains(body, "application/json") {
				t.Errorf("login as %q: %d %s, want 415 naming application/json", ctype, resp.StatusCode, body)
			}
			if hasSessionCookie(resp) {
				t.Errorf("login as %q set the session cookie", ctype)
			}
			resp, body = rawPost(t, f, "/api/v1/signup", ctype, `{"email":"new@example.com","password":"a good long password","account_name":"N"}`, nil)
			if resp.StatusCode != http.StatusUnsupportedMediaType {
				t.Errorf("signup as %q: %d %s, want 415", ctype, resp.StatusCode, body)
			}
		}
		if accts, _ := f.store.ListAccounts(t.Context()); len(accts) != 1 {
			t.Fatalf("refused sign-ups created accounts: %d", len(accts))
		}
		// JSON with a charset parameter is JSON.
		if resp, body := rawPost(t, f, "/api/v1/login", "application/json; charset=utf-8", login, nil); resp.StatusCode != http.StatusOK || !hasSessionCookie(resp) {
			t.Fatalf("login as JSON: %d %s", resp.StatusCode, body)
		}
	})
}

// TestSignInFromAnotherSiteIsRefused: a browser marks where a request
// comes from (Sec-Fetch-Site, Origin); sign-in and sign-up sent by another
// site's page are refused (403 cross_origin) and set no cookie, while
// Shelf's own pages and clients that are not browsers (no such headers)
// still sign in.
func TestSignInFromAnotherSiteIsRefused(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		f.signup("attacker@example.com", "Attacker")
		login := `{"email":"attacker@example.com","password":"a good long password"}`
		signup := `{"email":"new@example.com","password":"a good long password","account_name":"N"}`
		refused := []map[string]string{
			{"Sec-Fetch-Site": "cross-site"},
			{"Sec-Fetch-Site": "same-site"}, // another port or subdomain of the same site
			{"Sec-Fetch-Site": "cross-site", "Origin": f.srv.URL},
			{"Origin": "http://evil.example"},
			{"Origin": "null"},
			{"Origin": strings.Replace(f.srv.URL, "127.0.0.1", "localhost", 1)},
		}
		for _, h := range refused {
			resp, body := rawPost(t, f, "/api/v1/login", "application/json", login, h)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "cross_origin") || hasSessionCookie(resp) {
				t.Errorf("login with %v: %d %s, want 403 cross_origin and no cookie", h, resp.StatusCode, body)
			}
			if resp, body := rawPost(t, f, "/api/v1/signup", "application/json", signup, h); resp.StatusCode != http.StatusForbidden {
				t.Errorf("signup with %v: %d %s, want 403", h, resp.StatusCode, body)
			}
		}
		if accts, _ := f.store.ListAccounts(t.Context()); len(accts) != 1 {
			t.Fatalf("refused sign-ups created accounts: %d", len(accts))
		}
		for _, h := range []map[string]string{
			nil, // the CLI, curl, scripts
			{"Sec-Fetch-Site": "same-origin", "Origin": f.srv.URL},
			{"Origin": f.srv.URL}, // a browser that does not send Sec-Fetch-Site
		} {
			if resp, body := rawPost(t, f, "/api/v1/login", "application/json", login, h); resp.StatusCode != http.StatusOK || !hasSessionCookie(resp) {
				t.Errorf("login with %v: %d %s, want 200 and a session", h, resp.StatusCode, body)
			}
		}
	})
}

var formTokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signInForm loads the sign-in page with c and returns the form's token.
func signInForm(t *testing.T, c *client) string {
	t.Helper()
	code, _, page := c.get("/signin")
	m := formTokenRE.FindStringSubmatch(page)
	if code != http.StatusOK || m == nil {
		t.Fatalf("GET /signin: %d, form token %v", code, m)
	}
	return m[1]
}

// TestSignInFormNeedsItsToken: the no-script form carries a token tied to
// a cookie set with the form (SameSite=Strict), so a form another site
// submits, which cannot know it, signs no one in.
func TestSignInFormNeedsItsToken(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	f.signup("attacker@example.com", "Attacker")
	creds := "email=attacker%40example.com&password=a+good+long+password"

	// Without the page's cookie and token (what another site can send).
	resp, body := rawPost(t, f, "/signin", "application/x-www-form-urlencoded", creds, nil)
	if resp.StatusCode != http.StatusForbidden || hasSessionCookie(resp) || !strings.Contains(body, "sign in again") {
		t.Fatalf("form without token: %d, want 403 asking to sign in again, no session", resp.StatusCode)
	}
	if !formTokenRE.MatchString(body) {
		t.Fatal("the refusal's form carries no fresh token to sign in with")
	}

	c := f.newClient()
	tok := signInForm(t, c)
	var cookie *http.Cookie
	for _, ck := range c.http.Jar.Cookies(mustURL(f.srv.URL + "/signin")) {
		if ck.Name == signinCookie {
			cookie = ck
		}
	}
	if cookie == nil {
		t.Fatal("GET /signin set no sign-in form cookie")
	}
	withCookie := map[string]string{"Cookie": signinCookie + "=" + cookie.Value}

	// A token that does not match the cookie, or a cookie without the token.
	for _, form := range []string{creds + "&csrf_token=" + url.QueryEscape(tok+"x"), creds} {
		if resp, _ := rawPost(t, f, "/signin", "application/x-www-form-urlencoded", form, withCookie); resp.StatusCode != http.StatusForbidden || hasSessionCookie(resp) {
			t.Errorf("form %q: %d, want 403", form, resp.StatusCode)
		}
	}
	// The right token, but sent by another site's page.
	cross := map[string]string{"Cookie": withCookie["Cookie"], "Origin": "http://evil.example"}
	if resp, _ := rawPost(t, f, "/signin", "application/x-www-form-urlencoded", creds+"&csrf_token="+url.QueryEscape(tok), cross); resp.StatusCode != http.StatusForbidden || hasSessionCookie(resp) {
		t.Errorf("form from another origin: %d, want 403", resp.StatusCode)
	}
	// The page's own form signs in.
	resp, _ = rawPost(t, f, "/signin", "application/x-www-form-urlencoded", creds+"&csrf_token="+url.QueryEscape(tok), withCookie)
	if resp.StatusCode != http.StatusSeeOther || !hasSessionCookie(resp) {
		t.Fatalf("the page's form: %d, want 303 and a session", resp.StatusCode)
	}
	// Reloading the page keeps the token, so two open tabs both work.
	if again := signInForm(t, c); again != tok {
		t.Errorf("a reload changed the form token")
	}
}
