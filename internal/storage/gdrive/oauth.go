package gdrive

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/shelf-dam/shelf/internal/storage"
)

// DriveScope is the OAuth scope Shelf asks for: full Drive access, as it
// reads, writes, moves and trashes files in the connected folder.
const DriveScope = "https://www.googleapis.com/auth/drive"

// OAuthConfig is the Google OAuth 2.0 client Shelf uses to connect a
// user's Drive (authorization code flow with PKCE and offline access).
type OAuthConfig struct {
	ClientID, ClientSecret string
	// AuthURL and TokenURL default to Google's endpoints.
	AuthURL, TokenURL string
	// RedirectURL is Shelf's callback (…/oauth/google/callback).
	RedirectURL string
	// Scopes default to DriveScope.
	Scopes []string
	// HTTPClient carries token requests (default http.DefaultClient).
	HTTPClient *http.Client
}

func (o OAuthConfig) config() *oauth2.Config {
	ep := google.Endpoint
	if o.AuthURL != "" {
		ep.AuthURL = o.AuthURL
	}
	if o.TokenURL != "" {
		ep.TokenURL = o.TokenURL
	}
	scopes := o.Scopes
	if len(scopes) == 0 {
		scopes = []string{DriveScope}
	}
	return &oauth2.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, Endpoint: ep, RedirectURL: o.RedirectURL, Scopes: scopes}
}

// tokenContext carries the HTTP client for token requests. It is not tied
// to a request: token sources outlive the call that made them.
func (o OAuthConfig) tokenContext() context.Context {
	ctx := context.Background()
	if o.HTTPClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, o.HTTPClient)
	}
	return ctx
}

// AuthCodeURL returns the URL that sends the user to Google's consent
// screen, and the PKCE verifier the caller must keep (with state, e.g. in a
// short-lived signed cookie) until the callback exchanges the code. It asks
// for offline access and forces the consent prompt so Google returns a
// refresh token every time.
func (o OAuthConfig) AuthCodeURL(state string) (authURL, verifier string) {
	verifier = oauth2.GenerateVerifier()
	authURL = o.config().AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.ApprovalForce, oauth2.S256ChallengeOption(verifier))
	return authURL, verifier
}

// Exchange trades the code from the callback (with the verifier from
// AuthCodeURL) for a token holding a refresh token. A refused code is
// storage.ErrAuth.
func (o OAuthConfig) Exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
	if o.HTTPClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, o.HTTPClient)
	}
	tok, err := o.config().Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, classifyToken("oauth exchange", err)
	}
	if tok.RefreshToken == "" {
		return nil, storage.Classify(storage.ErrAuth, "oauth exchange", "", errors.New("Google returned no refresh token; remove Shelf's access in the Google account settings and connect again"))
	}
	return tok, nil
}

// TokenSource returns a token source for a stored token that refreshes it
// as needed and calls onRefresh (if not nil) with each new token so the
// caller can store it. A revoked or expired grant (invalid_grant) is
// storage.ErrAuth: the connection needs to be reconnected.
func (o OAuthConfig) TokenSource(tok *oauth2.Token, onRefresh func(*oauth2.Token)) oauth2.TokenSource {
	cfg, ctx := o.config(), o.tokenContext()
	refresh := tok.RefreshToken
	s := &cachedSource{onRefresh: onRefresh}
	if tok.AccessToken != "" {
		s.tok = tok
	}
	s.fetch = func() (*oauth2.Token, error) {
		s.mu.Lock()
		rt := refresh
		if s.tok != nil && s.tok.RefreshToken != "" {
			rt = s.tok.RefreshToken
		}
		s.mu.Unlock()
		// A token without an access token is always refreshed.
		return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	}
	return s
}

// ServiceAccountTokenSource returns a token source for a service-account
// JSON key. The key's token_uri is honoured, so tests can answer the JWT
// exchange locally. A malformed key is storage.ErrAuth with a message
// saying so.
func ServiceAccountTokenSource(jsonKey []byte, httpClient *http.Client, scopes ...string) (oauth2.TokenSource, error) {
	if len(scopes) == 0 {
		scopes = []string{DriveScope}
	}
	jc, err := google.JWTConfigFromJSON(jsonKey, scopes...)
	if err != nil {
		return nil, storage.Classify(storage.ErrAuth, "service account", "", fmt.Errorf("the service account key is not a valid JSON key file (%w); download a new key in the Google Cloud console", err))
	}
	ctx := OAuthConfig{HTTPClient: httpClient}.tokenContext()
	return &cachedSource{fetch: func() (*oauth2.Token, error) { return jc.TokenSource(ctx).Token() }}, nil
}

// cachedSource caches an access token until shortly before it expires,
// fetches a new one through fetch, and can be told to drop a token Drive
// rejected (Invalidate).
type cachedSource struct {
	mu        sync.Mutex
	tok       *oauth2.Token
	fetch     func() (*oauth2.Token, error)
	onRefresh func(*oauth2.Token)
}

// Token returns a valid access token, refreshing it when needed.
func (s *cachedSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	if s.tok != nil && s.tok.AccessToken != "" && (s.tok.Expiry.IsZero() || time.Until(s.tok.Expiry) > time.Minute) {
		tok := s.tok
		s.mu.Unlock()
		return tok, nil
	}
	s.mu.Unlock()
	tok, err := s.fetch()
	if err != nil {
		return nil, classifyToken("oauth refresh", err)
	}
	s.mu.Lock()
	s.tok = tok
	s.mu.Unlock()
	if s.onRefresh != nil {
		s.onRefresh(tok)
	}
	return tok, nil
}

// Invalidate drops the cached access token, so the next Token fetches a
// new one.
func (s *cachedSource) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil {
		t := *s.tok
		t.AccessToken = ""
		s.tok = &t
	}
}

// classifyToken classifies a token endpoint failure: a refused grant or
// client is ErrAuth, anything else (network, 5xx) is retryable.
func classifyToken(op string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch {
		case re.ErrorCode == "invalid_grant":
			return storage.Classify(storage.ErrAuth, op, "", fmt.Errorf("Google says the grant is expired or revoked (%w); reconnect Google Drive", err))
		case re.ErrorCode == "invalid_client", re.ErrorCode == "unauthorized_client":
			return storage.Classify(storage.ErrAuth, op, "", fmt.Errorf("Google refused the OAuth client (%w); check the configured client ID and secret", err))
		case re.ErrorCode != "", re.Response != nil && re.Response.StatusCode < 500 && re.Response.StatusCode != http.StatusTooManyRequests:
			return storage.Classify(storage.ErrAuth, op, "", fmt.Errorf("Google refused the token request (%w); reconnect Google Drive", err))
		}
	}
	return storage.Classify(storage.ErrRetryable, op, "", err)
}
