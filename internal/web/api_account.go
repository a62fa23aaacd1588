package web

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

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

// handleSignup creates an account on the trial plan and its first admin.
func (s *Server) handleSignup(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.SignupOpen {
		s.writeError(w, r, errForbidden("sign-up is closed on this Shelf; ask its operator for an account"))
		return
	}
	var req signupRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	email, err := auth.NormalizeEmail(req.Email)
	if err != nil {
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid_email", Message: err.Error(), Field: "email"})
		return
	}
	name := strings.TrimSpace(req.AccountName)
	if name == "" {
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "missing_field", Message: "account_name is required: the name of your team's library", Field: "account_name"})
		return
	}
	if len(name) > 200 {
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Message: "account_name must be at most 200 characters", Field: "account_name"})
		return
	}
	if err := auth.CheckPasswordRules(req.Password, email); err != nil {
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "weak_password", Message: err.Error(), Field: "password"})
		return
	}
	hash, err := auth.HashPassword(req.Password)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.now()
	trialEnd := now.Add(s.cfg.TrialLength)
	acct, user, err := s.store.CreateAccountWithAdmin(r.Context(), catalog.NewAccount{
		Name: name, Plan: catalog.PlanTrial, TrialEndsAt: &trialEnd,
	}, catalog.NewUser{Email: email, Name: strings.TrimSpace(req.Name), PasswordHash: hash, Role: catalog.RoleAdmin}, now)
	if errors.Is(err, catalog.ErrConflict) {
		s.writeError(w, r, &apiError{Status: http.StatusConflict, Code: "email_taken", Message: "an account with this email already exists; sign in instead", Field: "email"})
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.logger.InfoContext(r.Context(), "account created", "account_id", acct.ID, "user_id", user.ID)
	writeJSON(w, http.StatusCreated, map[string]any{"user": userJSON(user), "account": accountJSON(acct)})
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	APIToken bool   `json:"api_token"`
}

// handleLogin checks email and password, then sets a session cookie, or
// returns a new personal API token when api_token is true.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	email, err := auth.NormalizeEmail(req.Email)
	if err != nil || req.Password == "" {
		s.writeError(w, r, errBadRequest("missing_field", "email and password are required"))
		return
	}
	ip := clientIP(r)
	for _, key := range []string{"email:" + email, "ip:" + ip} {
		if ok, wait := s.limiter.Allow(key); !ok {
			ae := errorf(http.StatusTooManyRequests, "too_many_attempts", "too many failed sign-in attempts; wait %d seconds and try again", int(wait.Seconds())+1)
			ae.RetryAfter = wait
			s.writeError(w, r, ae)
			return
		}
	}
	user, err := s.store.GetUserByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		s.writeError(w, r, err)
		return
	}
	if err != nil {
		auth.BurnPasswordCheck(req.Password)
	}
	if err != nil || !auth.VerifyPassword(user.PasswordHash, req.Password) {
		s.limiter.Fail("email:" + email)
		s.limiter.Fail("ip:" + ip)
		s.writeError(w, r, errorf(http.StatusUnauthorized, "invalid_credentials", "wrong email or password"))
		return
	}
	s.limiter.Succeed("email:" + email)
	acct, err := s.store.GetAccount(r.Context(), user.AccountID)
	if err != nil {
		s.writeError(w, r, err)
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
	writeJSON(w, http.StatusOK, map[string]any{"account": accountJSON(p.Account)})
}

// clientIP is the remote address without port (a proxy in front should be
// trusted explicitly before honouring X-Forwarded-For, so it is not here).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
