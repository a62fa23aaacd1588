package web

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/shelf-dam/shelf/internal/accounts"
	"github.com/shelf-dam/shelf/internal/auth"
	"github.com/shelf-dam/shelf/internal/catalog"
)

// userJSON is a user as the API shows it (never the password hash).
func userJSON(u catalog.User) map[string]any {
	return map[string]any{
		"id":          u.ID,
		"email":       u.Email,
		"name":        u.Name,
		"role":        u.Role,
		"is_operator": u.IsOperator,
		"created_at":  rfc3339(u.CreatedAt),
	}
}

func accountJSON(a catalog.Account) map[string]any {
	return map[string]any{
		"id":                a.ID,
		"name":              a.Name,
		"plan":              a.Plan,
		"trial_ends_at":     timeOrNil(a.TrialEndsAt),
		"next_auto_sync_at": timeOrNil(a.NextAutoSyncAt),
		"created_at":        rfc3339(a.CreatedAt),
	}
}

type signupRequest struct {
	Email       string `json:"email"`
	Password    string `json:"password"`
	AccountName string `json:"account_name"`
	Name        string `json:"name"`
}

// handleSignup creates an account on the trial plan and its first admin
// (not when another site's page asks: see signin_guard.go).
func (s *Server) handleSignup(w http.ResponseWriter, r *http.Request) {
	if err := s.checkSameOrigin(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.accounts.SignupAllowed(); err != nil {
		s.writeError(w, r, accountsAPIError(err))
		return
	}
	var req signupRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	acct, user, err := s.accounts.SignUp(r.Context(), accounts.SignUp{Email: req.Email, Password: req.Password, AccountName: req.AccountName, Name: req.Name})
	if err != nil {
		s.writeError(w, r, accountsAPIError(err))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"user": userJSON(user), "account": accountJSON(acct)})
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	APIToken bool   `json:"api_token"`
}

// handleLogin checks email and password, then sets a session cookie, or
// returns a new personal API token when api_token is true (not when
// another site's page asks: see signin_guard.go).
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if err := s.checkSameOrigin(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	user, acct, err := s.accounts.SignIn(r.Context(), req.Email, req.Password, s.clientIP(r))
	if err != nil {
		s.writeError(w, r, accountsAPIError(err))
		return
	}
	if req.APIToken {
		token, err := s.issueAPIToken(r, user.ID, "sign-in token")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"token": token, "user": userJSON(user), "account": accountJSON(acct)})
		return
	}
	sess, err := s.startSession(w, r, user.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": userJSON(user), "account": accountJSON(acct), "csrf_token": sess.CSRFToken})
}

// accountsAPIError is the API error of a refusal of the accounts service;
// other failures are returned as they are (a logged 500).
func accountsAPIError(err error) error {
	var ae *accounts.Error
	if !errors.As(err, &ae) {
		return err
	}
	status, code := http.StatusBadRequest, ""
	switch ae.Kind {
	case accounts.ErrInvalidEmail:
		code = "invalid_email"
	case accounts.ErrMissingField:
		code = "missing_field"
	case accounts.ErrInvalidField:
		code = "invalid_field"
	case accounts.ErrWeakPassword:
		code = "weak_password"
	case accounts.ErrInvalidRole:
		code = "invalid_role"
	case accounts.ErrEmailTaken:
		status, code = http.StatusConflict, "email_taken"
	case accounts.ErrLastAdmin:
		return errorf(http.StatusConflict, "last_admin", "%s", ae.Message)
	case accounts.ErrNotFound:
		return errorf(http.StatusNotFound, "not_found", "%s", ae.Message)
	case accounts.ErrSignupClosed:
		return errForbidden("%s", ae.Message)
	case accounts.ErrBadCredentials:
		return errorf(http.StatusUnauthorized, "invalid_credentials", "%s", ae.Message)
	case accounts.ErrTooManyAttempts:
		return &apiError{Status: http.StatusTooManyRequests, Code: "too_many_attempts", Message: ae.Message, RetryAfter: ae.RetryAfter}
	default:
		return err
	}
	return &apiError{Status: status, Code: code, Message: ae.Message, Field: ae.Field}
}

// startSession creates a session for userID and sets its cookies.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, userID int64) (catalog.Session, error) {
	raw, err := auth.NewSecret(32)
	if err != nil {
		return catalog.Session{}, err
	}
	csrf, err := auth.NewSecret(24)
	if err != nil {
		return catalog.Session{}, err
	}
	now := s.now()
	sess := catalog.Session{TokenHash: auth.HashToken(raw), UserID: userID, CSRFToken: csrf, CreatedAt: now, ExpiresAt: now.Add(sessionTTL), LastSeenAt: now}
	if err := s.store.CreateSession(r.Context(), sess); err != nil {
		return catalog.Session{}, err
	}
	secure := s.secureCookies(r)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: raw, Path: "/", MaxAge: int(sessionTTL / time.Second), HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	// The CSRF token is readable by the page's script, which echoes it in
	// the X-CSRF-Token header; another site can neither read nor set it.
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: csrf, Path: "/", MaxAge: int(sessionTTL / time.Second), Secure: secure, SameSite: http.SameSiteStrictMode})
	return sess, nil
}

func (s *Server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.cfg.PublicURL, "https://")
}

func clearSessionCookies(w http.ResponseWriter) {
	for _, name := range []string{sessionCookie, csrfCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: name == sessionCookie, SameSite: http.SameSiteLaxMode})
	}
}

// handleLogout ends the current session (API tokens are revoked separately).
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, p *principal) {
	if p.Session != nil {
		if err := s.store.DeleteSession(r.Context(), p.Session.TokenHash); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	clearSessionCookies(w)
	w.WriteHeader(http.StatusNoContent)
}

// handleMe describes the signed-in user and account.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request, p *principal) {
	body := map[string]any{"user": userJSON(p.User), "account": accountJSON(p.Account)}
	if p.Session != nil {
		body["csrf_token"] = p.Session.CSRFToken
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) handleGetAccount(w http.ResponseWriter, r *http.Request, p *principal) {
	acc, err := s.accountSettingsJSON(r, p.Account)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": acc})
}

// clientIP is the address of the client a request comes from, for the
// sign-in limits: the connection's, or — when the connection comes from a
// trusted reverse proxy (SHELF_TRUSTED_PROXIES) — the nearest address in
// X-Forwarded-For that is not a trusted proxy. A client cannot choose its
// address by sending the header itself: it is read only from trusted
// proxies, from the right (the entries a proxy appended).
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trustedProxy(peer) {
		return host
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return host // a malformed chain: the proxy's own address
		}
		if !s.trustedProxy(a) {
			return a.Unmap().String()
		}
	}
	return host
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
