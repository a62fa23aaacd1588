package web

import (
	"net/http"
	"strings"
)

// authView is the content of the sign-in and sign-up pages.
type authView struct {
	Next       string
	SignupOpen bool
	Email      string
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/library"
	}
	return next
}

// handleSignIn shows the sign-in form; the page's script posts it to
// POST /api/v1/login, which sets the session cookie.
func (p *pages) handleSignIn(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, err := p.s.authenticate(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	v := &view{Title: "Sign in", Static: "?v=" + p.staticVersion,
		Data: authView{Next: next, SignupOpen: p.s.cfg.SignupOpen, Email: r.URL.Query().Get("email")}}
	if err := p.render(w, http.StatusOK, "signin", v); err != nil {
		p.renderError(w, r, err)
	}
}

// handleSignUp shows the sign-up form (POST /api/v1/signup, then sign-in).
func (p *pages) handleSignUp(w http.ResponseWriter, r *http.Request) {
	v := &view{Title: "Create your library", Static: "?v=" + p.staticVersion,
		Data: authView{Next: "/settings/storage", SignupOpen: p.s.cfg.SignupOpen}}
	if err := p.render(w, http.StatusOK, "signup", v); err != nil {
		p.renderError(w, r, err)
	}
}

// handleSignOut ends the session from the header's sign-out form (it
// carries the CSRF token as a form field, so it works without script).
func (p *pages) handleSignOut(w http.ResponseWriter, r *http.Request, pr *principal) {
	if pr.Session != nil {
		if err := p.s.store.DeleteSession(r.Context(), pr.Session.TokenHash); err != nil {
			p.renderError(w, r, err)
			return
		}
	}
	clearSessionCookies(w)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
