package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// authView is the content of the sign-in and sign-up pages.
type authView struct {
	Next       string
	SignupOpen bool
	Email      string
	Error      string // why the last attempt failed (sign-in without script)
	// FormToken is the no-script sign-in form's pre-session token.
	FormToken string
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	// Browsers drop tabs and newlines from URLs and read a backslash as
	// "/", so "/<tab>/evil.example" or "/<backslash>evil.example" would leave
	// the site: any control character or backslash is refused, not only a
	// leading "//".
	bad := next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') ||
		strings.IndexFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
	if !bad {
		u, err := url.Parse(next)
		bad = err != nil || u.Scheme != "" || u.Host != ""
	}
	if bad {
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
	p.renderSignIn(w, r, http.StatusOK, authView{Next: next, Email: r.URL.Query().Get("email")})
}

// renderSignIn shows the sign-in form with a pre-session token.
func (p *pages) renderSignIn(w http.ResponseWriter, r *http.Request, status int, av authView) {
	token, err := p.s.signinFormToken(w, r)
	if err != nil {
		p.renderError(w, r, err)
		return
	}
	av.FormToken, av.SignupOpen = token, p.s.accounts.SignupOpen()
	v := &view{Title: "Sign in", Static: "?v=" + p.staticVersion, Data: av}
	if err := p.render(w, status, "signin", v); err != nil {
		p.renderError(w, r, err)
	}
}

// handleSignUp shows the sign-up form (POST /api/v1/signup, then sign-in).
func (p *pages) handleSignUp(w http.ResponseWriter, r *http.Request) {
	v := &view{Title: "Create your library", Static: "?v=" + p.staticVersion,
		Data: authView{Next: "/settings/storage", SignupOpen: p.s.accounts.SignupOpen()}}
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

// handleSignInForm signs in from the plain form, for browsers without
// script: the same sign-in as the API's (same checks, rate limits and
// session cookie), then a redirect, or the form again with the reason. The
// form must come from Shelf's own sign-in page (its origin and its
// pre-session token), or it signs no one in.
func (p *pages) handleSignInForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	if err := r.ParseForm(); err != nil {
		p.renderError(w, r, errBadRequest("invalid_form", "the sign-in form could not be read; reload the page and try again"))
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	next := safeNext(r.PostFormValue("next"))
	if p.s.checkSameOrigin(r) != nil || !signinFormTokenOK(r) {
		p.renderSignIn(w, r, http.StatusForbidden, authView{Next: next, Email: email,
			Error: "This sign-in form expired or did not come from this Shelf's sign-in page; sign in again here."})
		return
	}
	user, _, err := p.s.accounts.SignIn(r.Context(), email, r.PostFormValue("password"), p.s.clientIP(r))
	if err == nil {
		if _, err = p.s.startSession(w, r, user.ID); err == nil {
			clearSigninCookie(w)
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
	}
	var ae *apiError
	if !errors.As(accountsAPIError(err), &ae) {
		ae = p.s.classify(err)
	}
	if ae.Status >= 500 {
		p.s.logger.ErrorContext(r.Context(), "form sign-in failed", slog.Any("err", err))
	}
	setRetryAfter(w, ae.RetryAfter)
	p.renderSignIn(w, r, ae.Status, authView{Next: next, Email: email, Error: ae.Message})
}
