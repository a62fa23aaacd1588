package drivefake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// oauthState is the fake Google OAuth 2.0 server's state: registered
// clients and service accounts, issued codes and tokens. Guarded by
// Server.mu.
type oauthState struct {
	clients  map[string]string // client ID → secret
	accounts map[string]*rsa.PublicKey
	codes    map[string]codeGrant
	refresh  map[string]*refreshGrant
	access   map[string]accessGrant
	ttl      time.Duration
	denyNext bool
}

type codeGrant struct {
	clientID, redirectURI, challenge, method, scope string
}

type refreshGrant struct {
	clientID string
	scope    string
	revoked  bool
}

type accessGrant struct {
	expires time.Time
	refresh string // "" for service-account tokens
}

func newOAuthState() *oauthState {
	return &oauthState{
		clients:  map[string]string{},
		accounts: map[string]*rsa.PublicKey{},
		codes:    map[string]codeGrant{},
		refresh:  map[string]*refreshGrant{},
		access:   map[string]accessGrant{},
		ttl:      time.Hour,
	}
}

// AuthURL is the fake's authorization endpoint. A GET there with
// client_id, redirect_uri, state and a PKCE code_challenge consents at once
// and redirects to redirect_uri with code and state.
func (s *Server) AuthURL() string { return s.URL() + "/oauth/authorize" }

// TokenURL is the fake's token endpoint (authorization_code,
// refresh_token and JWT-bearer grants).
func (s *Server) TokenURL() string { return s.URL() + "/oauth/token" }

// AddOAuthClient registers an OAuth client.
func (s *Server) AddOAuthClient(id, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.clients[id] = secret
}

// DenyNextConsent makes the next authorization answer error=access_denied,
// as when the user clicks "Cancel" on Google's consent screen.
func (s *Server) DenyNextConsent() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.denyNext = true
}

// RevokeRefreshToken revokes a refresh token and the access tokens issued
// from it: refreshing then answers invalid_grant, and Drive calls 401.
func (s *Server) RevokeRefreshToken(rt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.oauth.refresh[rt]; ok {
		g.revoked = true
	}
	for at, g := range s.oauth.access {
		if g.refresh == rt {
			delete(s.oauth.access, at)
		}
	}
}

// ExpireAccessTokens invalidates every access token issued so far, so
// clients must refresh.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.access = map[string]accessGrant{}
}

// IssueAccessToken mints a valid access token directly, for tests that do
// not go through an OAuth flow.
func (s *Server) IssueAccessToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueAccess("")
}

// ServiceAccountKey registers a service account and returns its JSON key
// file, whose token_uri points at the fake's token endpoint.
func (s *Server) ServiceAccountKey(email string) ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generating service account key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding service account key: %w", err)
	}
	s.mu.Lock()
	s.oauth.accounts[email] = &key.PublicKey
	s.mu.Unlock()
	return json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "shelf-test",
		"private_key_id": "fake-key-1",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   email,
		"client_id":      "1234567890",
		"auth_uri":       s.AuthURL(),
		"token_uri":      s.TokenURL(),
	})
}

func randomToken(prefix string) string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// issueAccess mints an access token. Called with s.mu held.
func (s *Server) issueAccess(refresh string) string {
	at := randomToken("ya29.")
	s.oauth.access[at] = accessGrant{expires: s.opts.Now().Add(s.oauth.ttl), refresh: refresh}
	return at
}

// checkAuth verifies a Drive call's Bearer token when auth is required.
func (s *Server) checkAuth(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.opts.RequireAuth {
		return true
	}
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	g, known := s.oauth.access[at]
	if !ok || !known || s.opts.Now().After(g.expires) {
		writeAuthError(w)
		return false
	}
	return true
}

func (s *Server) serveOAuth(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/oauth/authorize":
		s.serveAuthorize(w, r)
	case "/oauth/token":
		s.mu.Lock()
		s.counts["oauth.token"]++
		f := s.takeFault("oauth.token")
		s.mu.Unlock()
		if f != nil {
			f.write(w)
			return
		}
		s.serveToken(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	redirect, err := url.Parse(v.Get("redirect_uri"))
	if err != nil || redirect.Scheme == "" {
		http.Error(w, "Error 400: invalid_request — missing or bad redirect_uri", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	_, known := s.oauth.clients[v.Get("client_id")]
	deny := s.oauth.denyNext
	s.oauth.denyNext = false
	var code string
	if known && !deny {
		code = randomToken("4/")
		s.oauth.codes[code] = codeGrant{
			clientID: v.Get("client_id"), redirectURI: v.Get("redirect_uri"),
			challenge: v.Get("code_challenge"), method: v.Get("code_challenge_method"), scope: v.Get("scope"),
		}
	}
	s.mu.Unlock()
	if !known {
		http.Error(w, "Error 401: invalid_client — the OAuth client was not found", http.StatusUnauthorized)
		return
	}
	q := redirect.Query()
	if deny {
		q.Set("error", "access_denied")
	} else {
		q.Set("code", code)
		q.Set("scope", v.Get("scope"))
	}
	q.Set("state", v.Get("state"))
	redirect.RawQuery = q.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func tokenError(w http.ResponseWriter, code int, kind, desc string) {
	writeJSON(w, code, map[string]string{"error": kind, "error_description": desc})
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		tokenError(w, http.StatusMethodNotAllowed, "invalid_request", "POST required")
		return
	}
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "bad form body")
		return
	}
	if r.PostForm.Get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		s.serveJWTBearer(w, r.PostForm.Get("assertion"))
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if want, known := s.oauth.clients[id]; !known || want != secret {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "Unauthorized")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		g, ok := s.oauth.codes[code]
		delete(s.oauth.codes, code) // codes are single-use
		switch {
		case !ok || g.clientID != id:
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Malformed auth code.")
			return
		case g.redirectURI != r.PostForm.Get("redirect_uri"):
			tokenError(w, http.StatusBadRequest, "redirect_uri_mismatch", "Bad Request")
			return
		case !pkceOK(g, r.PostForm.Get("code_verifier")):
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid code verifier.")
			return
		}
		rt := randomToken("1//")
		s.oauth.refresh[rt] = &refreshGrant{clientID: id, scope: g.scope}
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": s.issueAccess(rt), "expires_in": int(s.oauth.ttl.Seconds()),
			"refresh_token": rt, "scope": g.scope, "token_type": "Bearer",
		})
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		g, ok := s.oauth.refresh[rt]
		if !ok || g.revoked || g.clientID != id {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": s.issueAccess(rt), "expires_in": int(s.oauth.ttl.Seconds()),
			"scope": g.scope, "token_type": "Bearer",
		})
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
	}
}

// pkceOK checks a PKCE verifier against the challenge sent with the
// authorization request (S256 or plain; no challenge means no PKCE).
func pkceOK(g codeGrant, verifier string) bool {
	switch {
	case g.challenge == "":
		return verifier == ""
	case g.method == "S256":
		sum := sha256.Sum256([]byte(verifier))
		return base64.RawURLEncoding.EncodeToString(sum[:]) == g.challenge
	default:
		return verifier == g.challenge
	}
}

// serveJWTBearer answers a service account's signed JWT assertion with an
// access token after checking its RS256 signature, audience and expiry.
func (s *Server) serveJWTBearer(w http.ResponseWriter, assertion string) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: malformed")
		return
	}
	var claims struct {
		Iss string `json:"iss"`
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(payload, &claims) != nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: undecodable claims")
		return
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pub, ok := s.oauth.accounts[claims.Iss]
	if !ok {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid grant: account not found")
		return
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) != nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT Signature.")
		return
	}
	if claims.Aud != s.TokenURL() || time.Unix(claims.Exp, 0).Before(s.opts.Now()) {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": s.issueAccess(""), "expires_in": int(s.oauth.ttl.Seconds()), "token_type": "Bearer",
	})
}
