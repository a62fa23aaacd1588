package gdrive_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

const redirect = "http://127.0.0.1:1/oauth/google/callback"

func oauthSetup(t *testing.T) (*drivefake.Server, gdrive.OAuthConfig) {
	fake := drivefake.New(t, drivefake.Options{RequireAuth: true})
	fake.AddOAuthClient("shelf-client", "shelf-secret")
	return fake, gdrive.OAuthConfig{
		ClientID: "shelf-client", ClientSecret: "shelf-secret",
		AuthURL: fake.AuthURL(), TokenURL: fake.TokenURL(), RedirectURL: redirect,
		HTTPClient: fake.Client(),
	}
}

// consent follows the auth URL as the browser would and returns the
// callback's query.
func consent(t *testing.T, authURL string) url.Values {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), redirect) {
		t.Fatalf("consent answered %d to %q, want a redirect to the callback", resp.StatusCode, loc)
	}
	return loc.Query()
}

func TestOAuthAuthorizationCodeWithPKCE(t *testing.T) {
	t.Parallel()
	fake, cfg := oauthSetup(t)
	ctx := context.Background()
	authURL, verifier := cfg.AuthCodeURL("state-123")
	u, _ := url.Parse(authURL)
	q := u.Query()
	sum := sha256.Sum256([]byte(verifier))
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") != base64.RawURLEncoding.EncodeToString(sum[:]) ||
		q.Get("access_type") != "offline" || q.Get("prompt") != "consent" || q.Get("state") != "state-123" {
		t.Fatalf("auth URL %s lacks PKCE S256, offline access, consent prompt or state", authURL)
	}

	cb := consent(t, authURL)
	if cb.Get("state") != "state-123" {
		t.Fatalf("callback state %q", cb.Get("state"))
	}
	// A wrong verifier is refused, and the code is then spent.
	_, err := cfg.Exchange(ctx, cb.Get("code"), oauth2.GenerateVerifier())
	mustClass(t, err, storage.ErrAuth)
	_, err = cfg.Exchange(ctx, cb.Get("code"), verifier)
	mustClass(t, err, storage.ErrAuth)

	authURL, verifier = cfg.AuthCodeURL("state-456")
	tok, err := cfg.Exchange(ctx, consent(t, authURL).Get("code"), verifier)
	if err != nil || tok.RefreshToken == "" || tok.AccessToken == "" {
		t.Fatalf("Exchange = %+v, %v; want access and refresh tokens", tok, err)
	}

	var refreshed atomic.Int32
	ts := cfg.TokenSource(tok, func(*oauth2.Token) { refreshed.Add(1) })
	conn := connect(t, fake, "root", func(c *gdrive.Config) { c.TokenSource = ts })
	fake.CreateFile("root", "a.txt", "text/plain", []byte("a"))
	if got := scanAll(t, conn); len(got) != 1 {
		t.Fatalf("scan with the OAuth token found %d entries", len(got))
	}

	// Access tokens expire early: the 401 makes the connector refresh once.
	fake.ExpireAccessTokens()
	if got := scanAll(t, conn); len(got) != 1 {
		t.Fatalf("scan after access tokens expired found %d entries", len(got))
	}
	if refreshed.Load() != 1 {
		t.Errorf("onRefresh called %d times, want 1", refreshed.Load())
	}

	// A revoked grant is ErrAuth: the connection needs reconnecting.
	fake.RevokeRefreshToken(tok.RefreshToken)
	err = conn.Scan(ctx, func(storage.Entry) error { return nil })
	mustClass(t, err, storage.ErrAuth)
}

func TestOAuthConsentDenied(t *testing.T) {
	t.Parallel()
	fake, cfg := oauthSetup(t)
	fake.DenyNextConsent()
	authURL, _ := cfg.AuthCodeURL("s")
	if cb := consent(t, authURL); cb.Get("error") != "access_denied" || cb.Get("code") != "" {
		t.Errorf("denied consent gave callback %v, want error=access_denied", cb)
	}
}

func TestOAuthWrongClientSecret(t *testing.T) {
	t.Parallel()
	_, cfg := oauthSetup(t)
	authURL, verifier := cfg.AuthCodeURL("s")
	code := consent(t, authURL).Get("code")
	cfg.ClientSecret = "wrong"
	_, err := cfg.Exchange(context.Background(), code, verifier)
	mustClass(t, err, storage.ErrAuth)
}

func TestServiceAccount(t *testing.T) {
	t.Parallel()
	fake := drivefake.New(t, drivefake.Options{RequireAuth: true})
	key, err := fake.ServiceAccountKey("shelf@project.iam.gserviceaccount.com")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := gdrive.ServiceAccountTokenSource(key, fake.Client())
	if err != nil {
		t.Fatal(err)
	}
	folder := fake.CreateFolder("root", "Shared with SA")
	fake.CreateFile(folder, "a.txt", "text/plain", []byte("a"))
	conn := connect(t, fake, folder, func(c *gdrive.Config) { c.TokenSource = ts })
	if got := scanAll(t, conn); len(got) != 1 {
		t.Fatalf("scan with a service account found %d entries", len(got))
	}
	if fake.Calls("oauth.token") != 1 {
		t.Errorf("token endpoint called %d times, want 1 (token cached)", fake.Calls("oauth.token"))
	}
	_, err = gdrive.ServiceAccountTokenSource([]byte(`{"type":"authorized_user"}`), nil)
	mustClass(t, err, storage.ErrAuth)
}

func TestDriveRejectsMissingToken(t *testing.T) {
	t.Parallel()
	fake := drivefake.New(t, drivefake.Options{RequireAuth: true})
	conn := connect(t, fake, "root", nil)
	err := conn.Scan(context.Background(), func(storage.Entry) error { return nil })
	mustClass(t, err, storage.ErrAuth)
}

func TestTokenEndpointOutageIsRetried(t *testing.T) {
	t.Parallel()
	fake, cfg := oauthSetup(t)
	authURL, verifier := cfg.AuthCodeURL("s")
	tok, err := cfg.Exchange(context.Background(), consent(t, authURL).Get("code"), verifier)
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, fake, "root", func(c *gdrive.Config) { c.TokenSource = cfg.TokenSource(tok, nil) })
	fake.ExpireAccessTokens()
	fake.FailNext("oauth.token", 2, drivefake.FaultUnavailable)
	if err := conn.Scan(context.Background(), func(storage.Entry) error { return nil }); err != nil {
		t.Fatalf("scan while the token endpoint briefly fails: %v", err)
	}
	if n := fake.Calls("oauth.token"); n != 1+3 {
		t.Errorf("token endpoint calls = %d, want 4 (exchange, two failures, a refresh)", n)
	}
}
