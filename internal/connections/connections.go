// Package connections turns an account's stored storage connection into a
// live storage.Connector, and connects new storage: it validates what an
// admin typed (listing the root and probing a write), encrypts the secrets
// and stores the connection. It is the one place that knows how each kind
// of connection is configured and where its secrets live.
package connections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/config"
	"github.com/shelf-dam/shelf/internal/secrets"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive"
	"github.com/shelf-dam/shelf/internal/storage/localfs"
	"github.com/shelf-dam/shelf/internal/storage/s3"
)

// Service builds and connects storage.
type Service struct {
	Store  *catalog.Store
	Box    *secrets.Box
	Cfg    *config.Config
	Logger *slog.Logger
	Now    func() time.Time
	// HTTPClient carries storage requests (tests point it at fakes);
	// nil means the libraries' defaults.
	HTTPClient *http.Client
	// OnNeedsReconnect is told when stored credentials stopped working
	// (revoked grant, rotated keys), after the connection was marked.
	OnNeedsReconnect func(ctx context.Context, accountID int64, message string)

	sharedOnce sync.Once
	shared     *http.Client
}

// s3HTTPClient is the client every S3 connector of the process shares
// (HTTPClient when set): a connector is built per sync, preview and
// request, and each with a transport of its own would keep its idle
// connections open — thousands after a burst of previews.
func (s *Service) s3HTTPClient() *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	s.sharedOnce.Do(func() {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 64
		s.shared = &http.Client{Transport: t}
	})
	return s.shared
}

// The stored, non-secret settings of each kind (catalog Connection.Config).
type s3Settings struct {
	Bucket                string `json:"bucket"`
	Prefix                string `json:"prefix"`
	Region                string `json:"region"`
	Endpoint              string `json:"endpoint"`
	PathStyle             bool   `json:"path_style"`
	UseDefaultCredentials bool   `json:"use_default_credentials"`
}

type localSettings struct {
	Path string `json:"path"`
}

type driveSettings struct {
	FolderID   string `json:"folder_id"`
	FolderName string `json:"folder_name,omitempty"`
	Auth       string `json:"auth"` // "oauth" | "service_account"
}

// The encrypted secrets of each kind (catalog Connection.Secret); Drive
// stores gdrive.Credentials.
type s3Secret struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
}

// secretContext binds a sealed secret to its account's storage row.
func secretContext(accountID int64) string { return "storage:" + strconv.FormatInt(accountID, 10) }

// Connector returns a live connector for the account's stored connection.
// It fails with ErrNoStorage when none is set up.
func (s *Service) Connector(ctx context.Context, accountID int64) (storage.Connector, error) {
	conn, err := s.Store.GetConnection(ctx, accountID)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, ErrNoStorage
	}
	if err != nil {
		return nil, err
	}
	return s.Open(ctx, conn)
}

// ErrNoStorage: the account has not connected storage yet.
var ErrNoStorage = errors.New("no storage is connected to this library yet; an admin can connect one under Settings → Storage")

// Open builds the connector of a stored connection.
func (s *Service) Open(ctx context.Context, conn catalog.Connection) (storage.Connector, error) {
	switch storage.Kind(conn.Kind) {
	case storage.KindLocal:
		var st localSettings
		if err := json.Unmarshal(conn.Config, &st); err != nil {
			return nil, fmt.Errorf("reading local storage settings: %w", err)
		}
		return localfs.New(st.Path, s.Cfg.LocalRoots, localfs.WithLogger(s.Logger))
	case storage.KindS3:
		var st s3Settings
		if err := json.Unmarshal(conn.Config, &st); err != nil {
			return nil, fmt.Errorf("reading S3 storage settings: %w", err)
		}
		var sec s3Secret
		if err := s.open(conn, &sec); err != nil {
			return nil, err
		}
		cfg := s.s3Config(st, sec)
		cfg.Uploads = uploadTracker{store: s.Store, accountID: conn.AccountID, now: s.now}
		return s3.New(ctx, cfg, s.Logger)
	case storage.KindGDrive:
		var st driveSettings
		if err := json.Unmarshal(conn.Config, &st); err != nil {
			return nil, fmt.Errorf("reading Google Drive storage settings: %w", err)
		}
		var cr gdrive.Credentials
		if err := s.open(conn, &cr); err != nil {
			return nil, err
		}
		return s.driveConnector(ctx, conn.AccountID, st.FolderID, cr, true)
	}
	return nil, fmt.Errorf("unknown storage kind %q", conn.Kind)
}

func (s *Service) s3Config(st s3Settings, sec s3Secret) s3.Config {
	return s3.Config{
		Bucket: st.Bucket, Prefix: st.Prefix, Region: st.Region, Endpoint: st.Endpoint, PathStyle: st.PathStyle,
		AccessKeyID: sec.AccessKeyID, SecretAccessKey: sec.SecretAccessKey,
		UseDefaultChain:  st.UseDefaultCredentials && s.Cfg.S3AllowDefaultChain,
		ParallelPrefixes: 8,
		HTTPClient:       s.s3HTTPClient(),
	}
}

// now is the service's clock (Now, or time.Now when unset).
func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// open decrypts a connection's secret into v.
func (s *Service) open(conn catalog.Connection, v any) error {
	if len(conn.Secret) == 0 {
		return nil
	}
	pt, err := s.Box.Open(conn.Secret, secretContext(conn.AccountID))
	if err != nil {
		return fmt.Errorf("reading the stored storage credentials: %w", err)
	}
	if err := json.Unmarshal(pt, v); err != nil {
		return fmt.Errorf("reading the stored storage credentials: %w", err)
	}
	return nil
}

// seal encrypts v as a connection secret.
func (s *Service) seal(accountID int64, v any) ([]byte, error) {
	pt, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return s.Box.Seal(pt, secretContext(accountID))
}

// MarkFailure records that using the account's storage failed. Rejected
// credentials mark the connection "needs reconnect" and tell the admins;
// other failures are left to the sync run's error.
func (s *Service) MarkFailure(ctx context.Context, accountID int64, err error) {
	if !errors.Is(err, storage.ErrAuth) {
		return
	}
	msg := "the storage no longer accepts Shelf's credentials (revoked access, expired grant or changed keys); an admin must reconnect it under Settings → Storage"
	if uerr := s.Store.SetConnectionStatus(ctx, accountID, catalog.ConnNeedsReconnect, msg, s.Now()); uerr != nil {
		s.Logger.ErrorContext(ctx, "marking storage as needing reconnect", slog.Int64("account_id", accountID), slog.Any("err", uerr))
		return
	}
	if s.OnNeedsReconnect != nil {
		s.OnNeedsReconnect(ctx, accountID, msg)
	}
}

// Describe renders a connection for the API: kind, status and the
// non-secret settings. Secrets never appear.
func Describe(conn catalog.Connection) map[string]any {
	settings := map[string]any{}
	_ = json.Unmarshal(conn.Config, &settings)
	return map[string]any{
		"kind":           conn.Kind,
		"status":         conn.Status,
		"status_message": conn.StatusMessage,
		"root":           conn.RootKey,
		"config":         settings,
		"connected_at":   conn.CreatedAt.UTC().Format(time.RFC3339),
		"updated_at":     conn.UpdatedAt.UTC().Format(time.RFC3339),
	}
}
