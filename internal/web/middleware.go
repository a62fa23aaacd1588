package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/shelf-dam/shelf/internal/auth"
	"github.com/shelf-dam/shelf/internal/catalog"
)

// Cookie and header names.
const (
	sessionCookie = "shelf_session"
	csrfCookie    = "shelf_csrf"
	csrfHeader    = "X-CSRF-Token"
	csrfFormField = "csrf_token"
)

// principal is who is asking: a user of an account, signed in by session
// cookie or API token.
type principal struct {
	User    catalog.User
	Account catalog.Account
	Session *catalog.Session // nil when authenticated by API token
}

type principalKey struct{}

// roleCheck decides whether a principal may call an endpoint.
type roleCheck func(p *principal) *apiError

func anyRole(*principal) *apiError { return nil }

func editorOrAdmin(p *principal) *apiError {
	if p.User.Role == catalog.RoleAdmin || p.User.Role == catalog.RoleEditor {
		return nil
	}
	return errForbidden("your role (%s) cannot change the library; ask an admin of your account for the editor role", p.User.Role)
}

func adminOnly(p *principal) *apiError {
	if p.User.Role == catalog.RoleAdmin {
		return nil
	}
	return errForbidden("only account admins can do this; your role is %s", p.User.Role)
}

func operatorOnly(p *principal) *apiError {
	if p.User.IsOperator {
		return nil
	}
	return errForbidden("only instance operators can do this")
}

type authedHandler func(w http.ResponseWriter, r *http.Request, p *principal)

// authed authenticates the request (session cookie or Bearer API token),
// enforces CSRF protection on cookie-authenticated writes, applies check,
// and calls h with the principal.
func (s *Server) authed(check roleCheck, h authedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if p.Session != nil && !safeMethod(r.Method) && !s.csrfOK(r, p.Session) {
			s.writeError(w, r, errorf(http.StatusForbidden, "csrf_failed",
				"missing or wrong CSRF token: send the %s header with the csrf_token from sign-in (or reload the page)", csrfHeader))
			return
		}
		if aerr := check(p); aerr != nil {
			s.writeError(w, r, aerr)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), p)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func (s *Server) csrfOK(r *http.Request, sess *catalog.Session) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		got = r.PostFormValue(csrfFormField)
	}
	if got == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		got = r.URL.Query().Get(csrfFormField)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) == 1
}

var errUnauthenticated = errorf(http.StatusUnauthorized, "unauthenticated", "sign in first: send the session cookie, or an API token as 'Authorization: Bearer <token>'")

// authenticate finds the principal of a request.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	ctx := r.Context()
	now := s.now()
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return nil, errorf(http.StatusUnauthorized, "unauthenticated", "the Authorization header must be 'Bearer <api token>'")
		}
		tok, err := s.store.GetAPITokenByHash(ctx, auth.HashToken(strings.TrimSpace(token)))
		if errors.Is(err, catalog.ErrNotFound) {
			return nil, errorf(http.StatusUnauthorized, "invalid_token", "this API token is unknown or was revoked; create a new one under your profile")
		}
		if err != nil {
			return nil, err
		}
		p, err := s.loadPrincipal(ctx, tok.UserID)
		if err != nil {
			return nil, err
		}
		if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > time.Minute {
			if err := s.store.TouchAPIToken(ctx, tok.ID, now); err != nil {
				s.logger.WarnContext(ctx, "recording API token use", slog.Any("err", err))
			}
		}
		return p, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, errUnauthenticated
	}
	sess, err := s.store.GetSession(ctx, auth.HashToken(c.Value), now)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, errorf(http.StatusUnauthorized, "session_expired", "your session has expired or ended; sign in again")
	}
	if err != nil {
		return nil, err
	}
	p, err := s.loadPrincipal(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	p.Session = &sess
	return p, nil
}

func (s *Server) loadPrincipal(ctx context.Context, userID int64) (*principal, error) {
	u, err := s.store.GetUser(ctx, userID)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, errUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	a, err := s.store.GetAccount(ctx, u.AccountID)
	if err != nil {
		return nil, err
	}
	return &principal{User: u, Account: a}, nil
}

// eventsPattern is the route of storage notifications, whose path carries
// a secret.
const eventsPattern = "POST /api/v1/storage/events/{key}"

// logPath is the request's path as logs show it: the secret of an events
// URL is left out.
func logPath(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/api/v1/storage/events/") {
		return "/api/v1/storage/events/{key}"
	}
	return r.URL.Path
}

// logRequests logs every request with slog and records metrics.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		d := time.Since(start)
		s.metrics.observe(r.Pattern, rec.status, d)
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", logPath(r)),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", d),
			slog.String("remote", r.RemoteAddr),
		}
		level := slog.LevelInfo
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" || strings.HasPrefix(r.URL.Path, "/static/") ||
			(r.Pattern == eventsPattern && rec.status == http.StatusOK) {
			// Storage notifications come in floods; the refused ones stay.
			level = slog.LevelDebug
		}
		s.logger.LogAttrs(r.Context(), level, "http request", attrs...)
	})
}

// recoverPanics turns a handler panic into a logged 500.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.ErrorContext(r.Context(), "handler panic", slog.Any("panic", v), slog.String("path", logPath(r)))
				s.writeError(w, r, errorf(http.StatusInternalServerError, "internal", "an internal error occurred; it has been logged"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
