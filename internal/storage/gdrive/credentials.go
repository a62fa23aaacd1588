package gdrive

import (
	"encoding/json"
	"errors"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/shelf-dam/shelf/internal/storage"
)

// Credentials is what a Drive connection keeps secret (encrypted at rest
// by the caller): either the OAuth token of the user who connected, or a
// service-account JSON key.
type Credentials struct {
	OAuthToken         *oauth2.Token   `json:"oauth_token,omitempty"`
	ServiceAccountJSON json.RawMessage `json:"service_account_json,omitempty"`
}

// Marshal encodes the credentials for storing.
func (cr Credentials) Marshal() ([]byte, error) { return json.Marshal(cr) }

// TokenSource returns the token source for the credentials. For an OAuth
// token, oauth configures the client and onRefresh (if not nil) receives
// the credentials with each refreshed token, to be stored again. Missing
// credentials are storage.ErrAuth.
func (cr Credentials) TokenSource(oauth OAuthConfig, httpClient *http.Client, onRefresh func(Credentials)) (oauth2.TokenSource, error) {
	switch {
	case len(cr.ServiceAccountJSON) > 0:
		return ServiceAccountTokenSource(cr.ServiceAccountJSON, httpClient)
	case cr.OAuthToken != nil && cr.OAuthToken.RefreshToken != "":
		if oauth.HTTPClient == nil {
			oauth.HTTPClient = httpClient
		}
		var cb func(*oauth2.Token)
		if onRefresh != nil {
			cb = func(t *oauth2.Token) { onRefresh(Credentials{OAuthToken: t}) }
		}
		return oauth.TokenSource(cr.OAuthToken, cb), nil
	}
	return nil, storage.Classify(storage.ErrAuth, "credentials", "", errors.New("no Google Drive credentials are stored; connect Google Drive"))
}
