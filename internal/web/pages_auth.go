package web

import (
	"bytes"
	"encoding/json"
	"io"
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

// handleSignInForm signs in from the plain form, for browsers without
// script: it runs the API's sign-in (same checks, rate limits and session
// cookie) and redirects, or shows the form again with the reason.
func (p *pages) handleSignInForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	if err := r.ParseForm(); err != nil {
		p.renderError(w, r, errBadRequest("invalid_form", "the sign-in form could not be read; reload the page and try again"))
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	body, err := json.Marshal(map[string]string{"email": email, "password": r.PostFormValue("password")})
	if err != nil {
		p.renderError(w, r, err)
		return
	}
	api := r.Clone(r.Context())
	api.Body = io.NopCloser(bytes.NewReader(body))
	api.ContentLength = int64(len(body))
	api.Header.Set("Content-Type", "application/json")
	rec := &capturedResponse{header: http.Header{}}
	p.s.handleLogin(rec, api)
	if rec.status == http.StatusOK {
		for _, c := range rec.header.Values("Set-Cookie") {
			w.Header().Add("Set-Cookie", c)
		}
		http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
		return
	}
	var answer struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(rec.body.Bytes(), &answer)
	if answer.Error.Message == "" {
		answer.Error.Message = "signing in failed; try again"
	}
	if ra := rec.header.Get("Retry-After"); ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	v := &view{Title: "Sign in", Static: "?v=" + p.staticVersion,
		Data: authView{Next: safeNext(r.PostFormValue("next")), SignupOpen: p.s.cfg.SignupOpen, Email: email, Error: answer.Error.Message}}
	if err := p.render(w, rec.status, "signin", v); err != nil {
		p.renderError(w, r, err)
	}
}

// capturedResponse records an API handler's answer so a page can turn it
// into a redirect or a form error.
type capturedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *capturedResponse) Header() http.Header { return c.header }

func (c *capturedResponse) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *capturedResponse) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}
