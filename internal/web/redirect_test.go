package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestSignInNextStaysOnTheSite checks that the sign-in page's "next"
// redirect never leaves the site, including with the tricks browsers turn
// into "//host" (a tab or newline dropped, a backslash read as "/").
func TestSignInNextStaysOnTheSite(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	a, _ := f.signup("admin@example.com", "A")
	a.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for next, want := range map[string]string{
		"/%09/evil.example":     "/library",
		"/%0a/evil.example":     "/library",
		"/%0d%0a/evil.example":  "/library",
		"/%5c%5cevil.example":   "/library",
		"/%5cevil.example":      "/library",
		"//evil.example":        "/library",
		"https://evil.example/": "/library",
		"/library/folder/3?q=x": "/library/folder/3?q=x",
	} {
		req, _ := http.NewRequest("GET", f.srv.URL+"/signin?next="+strings.ReplaceAll(strings.ReplaceAll(next, "?", "%3F"), "=", "%3D"), nil)
		resp, err := a.http.Do(req)
		if err != nil {
			t.Errorf("next=%s: %v", next, err)
			continue
		}
		resp.Body.Close()
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != want {
			t.Errorf("next=%s: %d Location %q, want %q", next, resp.StatusCode, got, want)
		}
	}
}
