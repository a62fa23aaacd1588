package gdrive_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive"
)

func TestCredentialsRoundTrip(t *testing.T) {
	t.Parallel()
	fake, cfg := oauthSetup(t)
	authURL, verifier := cfg.AuthCodeURL("s")
	tok, err := cfg.Exchange(context.Background(), consent(t, authURL).Get("code"), verifier)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := gdrive.Credentials{OAuthToken: tok}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var cr gdrive.Credentials
	if err := json.Unmarshal(stored, &cr); err != nil {
		t.Fatal(err)
	}
	var saved []gdrive.Credentials
	ts, err := cr.TokenSource(cfg, fake.Client(), func(c gdrive.Credentials) { saved = append(saved, c) })
	if err != nil {
		t.Fatal(err)
	}
	fake.ExpireAccessTokens()
	conn := connect(t, fake, "root", func(c *gdrive.Config) { c.TokenSource = ts })
	scanAll(t, conn)
	if len(saved) != 1 || saved[0].OAuthToken.RefreshToken != tok.RefreshToken || saved[0].OAuthToken.AccessToken == tok.AccessToken {
		t.Errorf("refresh saved %+v, want one new access token with the same refresh token", saved)
	}

	key, err := fake.ServiceAccountKey("sa@example.iam.gserviceaccount.com")
	if err != nil {
		t.Fatal(err)
	}
	sa := gdrive.Credentials{ServiceAccountJSON: key}
	stored, _ = sa.Marshal()
	cr = gdrive.Credentials{}
	if err := json.Unmarshal(stored, &cr); err != nil {
		t.Fatal(err)
	}
	ts, err = cr.TokenSource(gdrive.OAuthConfig{}, fake.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	scanAll(t, connect(t, fake, "root", func(c *gdrive.Config) { c.TokenSource = ts }))

	_, err = gdrive.Credentials{}.TokenSource(cfg, nil, nil)
	mustClass(t, err, storage.ErrAuth)
}
