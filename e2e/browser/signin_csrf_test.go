package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

const attackerPassword = "the attacker's long password"

// attackPages serves, from another origin, pages that try to sign the
// visiting browser in to the attacker's Shelf account as soon as they load.
func attackPages(shelfURL string) http.Handler {
	login, _ := json.Marshal(map[string]string{"email": "attacker@example.com", "password": attackerPassword})
	// A text/plain form posts "name=value": the name opens a JSON object
	// and the value closes it, so the body is JSON.
	plainName := strings.TrimSuffix(string(login), "}") + `,"pad":"`
	pages := map[string]string{
		// The no-script sign-in form.
		"/form": `<form id="f" method="post" action="` + shelfURL + `/signin">
<input name="email" value="attacker@example.com"><input name="password" value="` + attackerPassword + `"><input name="next" value="/library"></form>`,
		// The JSON sign-in, as a text/plain form (no CORS preflight).
		"/plain": `<form id="f" method="post" enctype="text/plain" action="` + shelfURL + `/api/v1/login">
<input name="` + html.EscapeString(plainName) + `" value='"}'></form>`,
	}
	mux := http.NewServeMux()
	for path, form := range pages {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><title>You won</title>%s<script>document.getElementById('f').submit()</script>`, form)
		})
	}
	// The JSON sign-in as a no-cors fetch that sends cookies and keeps those answered.
	mux.HandleFunc("GET /fetch", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>You won</title><script>
fetch(%q, {method: 'POST', mode: 'no-cors', credentials: 'include', headers: {'Content-Type': 'text/plain'}, body: %q})
  .catch(() => {}).finally(() => { document.title = 'sent'; });
</script>`, shelfURL+"/api/v1/login", string(login))
	})
	return mux
}

// TestAnotherSiteCannotSignTheBrowserIn: pages on another origin (another
// site, localhost, and another port of the same host, which browsers count
// as the same site) auto-submit sign-in to the attacker's account; the
// victim's Chromium must not end up signed in. Shelf's own sign-in page,
// with and without its script, still signs in.
func TestAnotherSiteCannotSignTheBrowserIn(t *testing.T) {
	s := startShelf(t)
	body, _ := json.Marshal(map[string]string{"email": "attacker@example.com", "password": attackerPassword, "account_name": "Attacker"})
	resp, err := http.Post(s.URL+"/api/v1/signup", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("attacker sign-up: HTTP %d", resp.StatusCode)
	}

	evil := httptest.NewServer(attackPages(s.URL))
	t.Cleanup(evil.Close)
	_, port, _ := net.SplitHostPort(evil.Listener.Addr().String())
	origins := map[string]string{
		"another site":                  "http://localhost:" + port,
		"another port of the same host": "http://127.0.0.1:" + port,
	}

	b := newBrowser(t)
	ctx := b.ctx
	for kind, origin := range origins {
		for _, page := range []string{"/form", "/plain", "/fetch"} {
			what := page + " from " + kind
			b.do(ctx, "clearing cookies", clearCookies())
			b.do(ctx, "opening "+what, chromedp.Navigate(origin+page))
			if page == "/fetch" {
				b.waitFor(ctx, "the fetch of "+what, "document.title === 'sent'")
			} else {
				b.waitFor(ctx, "the form of "+what+" to land on Shelf", fmt.Sprintf("location.href.startsWith(%q) && document.readyState === 'complete'", s.URL))
			}
			if me := whoAmI(b, ctx, s.URL); me != "" {
				t.Errorf("%s signed the browser in as %s", what, me)
			}
		}
	}

	// Shelf's own sign-in page signs in, by its script and by the plain
	// form (submitted past the script).
	for _, native := range []bool{false, true} {
		b.do(ctx, "clearing cookies", clearCookies())
		b.open(ctx, s.URL, "/signin")
		b.do(ctx, "filling the sign-in form",
			chromedp.SendKeys(chromedp.ID("email"), "attacker@example.com"),
			chromedp.SendKeys(chromedp.ID("password"), attackerPassword),
		)
		if native {
			eval[chromedp.Void](b, ctx, "HTMLFormElement.prototype.submit.call(document.getElementById('signin-form'))")
		} else {
			b.do(ctx, "signing in", chromedp.Click(chromedp.CSS("#signin-form button[type=submit]")))
		}
		b.waitFor(ctx, "the library after signing in", "location.pathname === '/library' && document.readyState === 'complete'")
		if me := whoAmI(b, ctx, s.URL); me != "attacker@example.com" {
			t.Errorf("signing in on Shelf's own page (plain form: %v): signed in as %q", native, me)
		}
	}
}

func clearCookies() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return err
	})
}

// whoAmI opens Shelf's /api/v1/me in the tab and returns the signed-in
// user's email, "" when not signed in.
func whoAmI(b *browser, ctx context.Context, base string) string {
	b.t.Helper()
	b.do(ctx, "opening /api/v1/me", chromedp.Navigate(base+"/api/v1/me"))
	text := eval[string](b, ctx, "document.body ? document.body.innerText : ''")
	var me struct {
		User struct {
			Email string `json:"email"`
		} `json:"user"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(text), &me); err != nil || (me.User.Email == "" && me.Error.Code == "") {
		b.t.Fatalf("/api/v1/me shows %q", text)
	}
	return me.User.Email
}
