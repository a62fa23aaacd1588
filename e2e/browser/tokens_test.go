package browser

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAdminRevokesATeamMembersToken: an admin sees a team member's API
// token on the Tokens page and revokes it there; the token stops working.
func TestAdminRevokesATeamMembersToken(t *testing.T) {
	s := startShelf(t)
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "tokens-admin@example.com")
	if code, body := apiJSON(b, ctx, "POST", "/users", map[string]any{"email": "member@example.com", "password": "the member's long password", "role": "editor"}); code != http.StatusCreated {
		t.Fatalf("adding a member: %d %v", code, body)
	}
	req, _ := json.Marshal(map[string]any{"email": "member@example.com", "password": "the member's long password", "api_token": true})
	resp, err := http.Post(s.URL+"/api/v1/login", "application/json", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		Token string `json:"token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if err != nil || login.Token == "" {
		t.Fatalf("the member's token: HTTP %d %v", resp.StatusCode, err)
	}
	tokenStatus := func() int {
		req, _ := http.NewRequest("GET", s.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+login.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := tokenStatus(); code != http.StatusOK {
		t.Fatalf("the member's token before: HTTP %d", code)
	}

	b.open(ctx, s.URL, "/tokens")
	b.waitFor(ctx, "the member's token", `[...document.querySelectorAll('#team-tokens td')].some(td => td.textContent === 'member@example.com')`)
	b.checkPage(ctx, "tokens-admin")
	b.do(ctx, "revoking it", chromedp.Click(chromedp.CSS("#team-tokens .revoke-team-token")))
	b.waitFor(ctx, "the confirmation", "document.querySelector('dialog[open] button.danger')")
	b.do(ctx, "confirming", chromedp.Click(chromedp.CSS("dialog[open] button.danger")))
	b.waitFor(ctx, "the row to go", "!document.querySelector('#team-tokens .revoke-team-token')")
	if code := tokenStatus(); code != http.StatusUnauthorized {
		t.Errorf("the revoked token: HTTP %d, want 401", code)
	}
	b.open(ctx, s.URL, "/tokens")
	if eval[bool](b, ctx, `[...document.querySelectorAll('#team-tokens td')].some(td => td.textContent === 'member@example.com')`) {
		t.Error("the revoked token is still listed after a reload")
	}
}
