package connections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/shelf-dam/shelf/internal/auth"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive"
)

// oauthStateTTL is how long an admin has to finish Google's consent screen.
const oauthStateTTL = 15 * time.Minute

// ErrOAuthOff: the operator configured no Google OAuth client.
var ErrOAuthOff = errors.New("Google Drive sign-in is not configured on this server (SHELF_GOOGLE_CLIENT_ID and SHELF_GOOGLE_CLIENT_SECRET); connect with a service-account key instead, or ask the operator")

// ErrDriveNotAuthorized: the folder picker was asked for folders before
// any Google authorization (or Drive connection) exists.
var ErrDriveNotAuthorized = errors.New("authorize Google Drive first (Connect Google Drive), then pick a folder")

// ErrOAuthState: the callback's state is unknown, expired, used or not the
// caller's.
var ErrOAuthState = errors.New("this Google authorization link is not valid any more (expired, used twice or started by someone else); start again from Settings → Storage")

func (s *Service) oauthConfig() gdrive.OAuthConfig {
	return gdrive.OAuthConfig{
		ClientID: s.Cfg.GoogleClientID, ClientSecret: s.Cfg.GoogleClientSecret,
		AuthURL: s.Cfg.GoogleAuthURL, TokenURL: s.Cfg.GoogleTokenURL,
		RedirectURL: s.Cfg.PublicURL + "/oauth/google/callback",
		HTTPClient:  s.HTTPClient,
	}
}

func grantContext(accountID int64) string { return "oauth-grant:" + strconv.FormatInt(accountID, 10) }

// DriveAuthURL starts Google's authorization (code + PKCE) for an admin:
// it records the state and the verifier and returns the consent URL.
func (s *Service) DriveAuthURL(ctx context.Context, accountID, userID int64) (string, error) {
	if !s.Cfg.GoogleOAuthEnabled() {
		return "", ErrOAuthOff
	}
	state, err := auth.NewSecret(24)
	if err != nil {
		return "", err
	}
	url, verifier := s.oauthConfig().AuthCodeURL(state)
	now := s.Now()
	if err := s.Store.CreateOAuthState(ctx, catalog.OAuthState{State: state, AccountID: accountID, UserID: userID, Verifier: verifier, CreatedAt: now, ExpiresAt: now.Add(oauthStateTTL)}); err != nil {
		return "", err
	}
	return url, nil
}

// DriveCallback finishes the authorization: the state must be the caller's
// and fresh; the code is exchanged (with the PKCE verifier) for a token,
// which is kept encrypted as the account's pending grant until a folder is
// connected.
func (s *Service) DriveCallback(ctx context.Context, accountID, userID int64, state, code string) error {
	st, err := s.Store.TakeOAuthState(ctx, state, s.Now())
	if errors.Is(err, catalog.ErrNotFound) || (err == nil && (st.AccountID != accountID || st.UserID != userID)) {
		return ErrOAuthState
	}
	if err != nil {
		return err
	}
	tok, err := s.oauthConfig().Exchange(ctx, code, st.Verifier)
	if err != nil {
		return fmt.Errorf("Google refused the authorization: %w", err)
	}
	data, err := json.Marshal(tok)
	if err != nil {
		return err
	}
	sealed, err := s.Box.Seal(data, grantContext(accountID))
	if err != nil {
		return err
	}
	return s.Store.PutOAuthGrant(ctx, catalog.OAuthGrant{AccountID: accountID, Provider: "google", Token: sealed, CreatedAt: s.Now()})
}

// pendingCredentials returns the account's pending OAuth grant, or, when
// the account is connected to Drive by OAuth already, that connection's
// credentials (to pick another folder without authorizing again); ok is
// false when there are neither.
func (s *Service) pendingCredentials(ctx context.Context, accountID int64) (cr gdrive.Credentials, ok bool, err error) {
	g, err := s.Store.GetOAuthGrant(ctx, accountID)
	if err == nil {
		data, err := s.Box.Open(g.Token, grantContext(accountID))
		if err != nil {
			return cr, false, err
		}
		var tok oauth2.Token
		if err := json.Unmarshal(data, &tok); err != nil {
			return cr, false, fmt.Errorf("reading the pending Google authorization: %w", err)
		}
		return gdrive.Credentials{OAuthToken: &tok}, true, nil
	}
	if !errors.Is(err, catalog.ErrNotFound) {
		return cr, false, err
	}
	conn, err := s.Store.GetConnection(ctx, accountID)
	if err == nil && storage.Kind(conn.Kind) == storage.KindGDrive {
		if err := s.open(conn, &cr); err != nil {
			return cr, false, err
		}
		if cr.OAuthToken != nil {
			return gdrive.Credentials{OAuthToken: cr.OAuthToken}, true, nil
		}
	}
	return gdrive.Credentials{}, false, nil
}

// DriveFolders lists folders for the folder picker (parent "" lists My
// Drive's top level and the shared drives), using the pending grant or the
// current Drive connection.
func (s *Service) DriveFolders(ctx context.Context, accountID int64, parent string) ([]gdrive.Folder, error) {
	cr, ok, err := s.pendingCredentials(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrDriveNotAuthorized
	}
	c, err := s.driveConnector(ctx, accountID, "", cr, false)
	if err != nil {
		return nil, err
	}
	return c.ListFolders(ctx, parent)
}

// driveConnector builds a connector for folderID. With persist, refreshed
// OAuth tokens are written back to the account's connection.
func (s *Service) driveConnector(ctx context.Context, accountID int64, folderID string, cr gdrive.Credentials, persist bool) (*gdrive.Conn, error) {
	if cr.OAuthToken != nil && !s.Cfg.GoogleOAuthEnabled() {
		return nil, storage.Classify(storage.ErrAuth, "connect", "", ErrOAuthOff)
	}
	var onRefresh func(gdrive.Credentials)
	if persist {
		onRefresh = func(c gdrive.Credentials) { s.saveCredentials(accountID, c) }
	}
	ts, err := cr.TokenSource(s.oauthConfig(), s.HTTPClient, onRefresh)
	if err != nil {
		return nil, err
	}
	return gdrive.New(ctx, gdrive.Config{FolderID: folderID, Endpoint: strings.TrimSuffix(s.Cfg.DriveEndpoint, "/"), TokenSource: ts, HTTPClient: s.HTTPClient}, s.Logger)
}

// saveCredentials stores refreshed credentials in the connection.
func (s *Service) saveCredentials(accountID int64, cr gdrive.Credentials) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sealed, err := s.seal(accountID, cr)
	if err == nil {
		err = s.Store.SetConnectionSecret(ctx, accountID, sealed, s.Now())
	}
	if err != nil {
		s.Logger.Warn("storing a refreshed Google token", slog.Int64("account_id", accountID), slog.Any("err", err))
	}
}

func (s *Service) prepareDrive(ctx context.Context, accountID int64, req Request) (catalog.Connection, error) {
	folderID := strings.TrimSpace(req.FolderID)
	if folderID == "" {
		return catalog.Connection{}, fieldError("folder_id", "folder_id is required: pick the Drive folder to connect")
	}
	var cr gdrive.Credentials
	settings := driveSettings{FolderID: folderID}
	credField := "folder_id"
	if strings.TrimSpace(req.ServiceAccountJSON) != "" {
		var probe struct {
			Type        string `json:"type"`
			ClientEmail string `json:"client_email"`
		}
		if err := json.Unmarshal([]byte(req.ServiceAccountJSON), &probe); err != nil || probe.Type != "service_account" || probe.ClientEmail == "" {
			return catalog.Connection{}, fieldError("service_account_json", "this is not a Google service-account key (a JSON file with \"type\": \"service_account\"); download one from the Google Cloud console")
		}
		cr.ServiceAccountJSON = json.RawMessage(req.ServiceAccountJSON)
		settings.Auth = "service_account"
		credField = "service_account_json"
	} else {
		pending, ok, err := s.pendingCredentials(ctx, accountID)
		if err != nil {
			return catalog.Connection{}, err
		}
		if !ok {
			return catalog.Connection{}, fieldError("folder_id", "authorize Google Drive first (Connect Google Drive), or give a service_account_json key")
		}
		cr = pending
		settings.Auth = "oauth"
	}
	c, err := s.driveConnector(ctx, accountID, folderID, cr, false)
	if err != nil {
		return catalog.Connection{}, fieldError(credField, "%v", err)
	}
	f, err := c.ValidateRoot(ctx, folderID)
	if err == nil {
		err = c.ProbeWrite(ctx)
	}
	if err != nil {
		field := "folder_id"
		if errors.Is(err, storage.ErrAuth) {
			field = credField
		}
		return catalog.Connection{}, fieldError(field, "%s", driveMessage(err))
	}
	settings.FolderID, settings.FolderName = f.ID, f.Name
	cfg, _ := jsonBytes(settings)
	secret, err := cr.Marshal()
	if err != nil {
		return catalog.Connection{}, err
	}
	return catalog.Connection{Kind: string(storage.KindGDrive), Config: cfg, Secret: secret, RootKey: "gdrive:" + f.ID}, nil
}

// driveMessage keeps the part of a classified error meant for people.
func driveMessage(err error) string {
	var ce *storage.ClassError
	if errors.As(err, &ce) && ce.Err != nil {
		return ce.Err.Error()
	}
	return err.Error()
}
