package web

import (
	"crypto/subtle"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/shelf-dam/shelf/internal/auth"
)

// Sign-in and sign-up refuse requests that another site's page sends
// (login CSRF: a page elsewhere signing the visitor's browser in to the
// attacker's account, whose library then receives the visitor's uploads).
// Three checks, each enough alone in today's browsers:
//   - where the browser says the request comes from (Sec-Fetch-Site, or
//     Origin in browsers without it) must be Shelf itself;
//   - the JSON calls take only application/json, which another site's page
//     cannot send without a CORS preflight that Shelf never grants;
//   - the no-script sign-in form carries a pre-session token that must match
//     a SameSite=Strict cookie set with the form.

// signinCookie holds the sign-in form's pre-session token.
const (
	signinCookie   = "shelf_signin"
	signinTokenTTL = 12 * time.Hour
)

// newOriginCheck returns the check of where browser requests come from: a
// request is Shelf's own when the browser says so (Sec-Fetch-Site:
// same-origin), when its Origin is the Host it was sent to, or when its
// Origin is publicURL's (a proxy in front may change the Host). Requests
// without those headers come from clients that are not browsers, which
// carry no ambient cookies, and pass.
func newOriginCheck(publicURL string, logger *slog.Logger) *http.CrossOriginProtection {
	c := http.NewCrossOriginProtection()
	if u, err := url.Parse(publicURL); err == nil && u.Scheme != "" && u.Hostname() != "" {
		if err := c.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			logger.Warn("SHELF_PUBLIC_URL is not an origin; sign-in is accepted from the Host browsers use only", slog.String("public_url", publicURL), slog.Any("err", err))
		}
	}
	return c
}

// checkSameOrigin refuses (403 cross_origin) a request that its browser
// says comes from another site's page.
func (s *Server) checkSameOrigin(r *http.Request) *apiError {
	if err := s.origins.Check(r); err != nil {
		return errorf(http.StatusForbidden, "cross_origin", "sign-in and sign-up are accepted only from Shelf's own pages; open Shelf's sign-in page and try again")
	}
	return nil
}

// checkJSONBody refuses (415) a body that is not declared as JSON.
func checkJSONBody(r *http.Request) *apiError {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the request body as JSON with the header 'Content-Type: application/json'")
	}
	return nil
}

// signinFormToken returns the sign-in form's pre-session token, the one
// the browser already holds (so that two open tabs both work) or a new
// one, and (re)sets its cookie.
func (s *Server) signinFormToken(w http.ResponseWriter, r *http.Request) (string, error) {
	token := ""
	if c, err := r.Cookie(signinCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
		token = c.Value
	} else if token, err = auth.NewSecret(24); err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: token, Path: "/signin", MaxAge: int(signinTokenTTL / time.Second),
		HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteStrictMode})
	return token, nil
}

// signinFormTokenOK reports whether the posted form carries the token of
// the browser's sign-in cookie (r's form is parsed).
func signinFormTokenOK(r *http.Request) bool {
	c, err := r.Cookie(signinCookie)
	got := r.PostFormValue(csrfFormField)
	return err == nil && c.Value != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) == 1
}

// clearSigninCookie drops the form's token once signed in.
func clearSigninCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: "", Path: "/signin", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}
