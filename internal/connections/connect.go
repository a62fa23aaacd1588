package connections

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/localfs"
	"github.com/shelf-dam/shelf/internal/storage/s3"
)

// Request is what an admin submits to connect storage (SPEC §6 field names).
type Request struct {
	Kind string `json:"kind"`

	Bucket                string `json:"bucket"`
	Prefix                string `json:"prefix"`
	Region                string `json:"region"`
	Endpoint              string `json:"endpoint"`
	PathStyle             bool   `json:"path_style"`
	AccessKeyID           string `json:"access_key_id"`
	SecretAccessKey       string `json:"secret_access_key"`
	UseDefaultCredentials bool   `json:"use_default_credentials"`

	Path string `json:"path"`

	FolderID           string `json:"folder_id"`
	ServiceAccountJSON string `json:"service_account_json"`

	// ConfirmRootChange acknowledges that replacing the root of a
	// connected library removes the library's catalog.
	ConfirmRootChange bool `json:"confirm_root_change"`
}

// ValidationError lists what is wrong with a Request, by field.
type ValidationError struct {
	Fields map[string]string
}

func (e *ValidationError) Error() string {
	var parts []string
	for f, m := range e.Fields {
		parts = append(parts, f+": "+m)
	}
	return "the storage settings do not work: " + strings.Join(parts, "; ")
}

func fieldError(field, format string, args ...any) *ValidationError {
	return &ValidationError{Fields: map[string]string{field: fmt.Sprintf(format, args...)}}
}

// RootChangeError: the request would connect another root to a library
// that has content, and was not confirmed.
type RootChangeError struct {
	From, To string
	Assets   int64
}

func (e *RootChangeError) Error() string {
	return fmt.Sprintf("this library is connected to %s and holds %d assets; connecting %s instead removes them with their tags and descriptions from Shelf (the files in storage are not touched). Send confirm_root_change: true to go ahead", e.From, e.Assets, e.To)
}

// Connect validates req against the storage at once (it lists the root and
// probes a write), then stores the connection with its secrets encrypted.
// It returns the stored connection and whether the library was reset
// because the root changed. Errors: *ValidationError (fix the fields),
// *RootChangeError (confirm), *catalog.LockedError (a sync is running).
func (s *Service) Connect(ctx context.Context, accountID int64, req Request) (catalog.Connection, bool, error) {
	var (
		conn catalog.Connection
		err  error
	)
	switch storage.Kind(req.Kind) {
	case storage.KindS3:
		conn, err = s.prepareS3(ctx, req)
	case storage.KindLocal:
		conn, err = s.prepareLocal(ctx, req)
	case storage.KindGDrive:
		conn, err = s.prepareDrive(ctx, accountID, req)
	case "":
		return catalog.Connection{}, false, fieldError("kind", "kind is required: s3, gdrive or local")
	default:
		return catalog.Connection{}, false, fieldError("kind", "unknown kind %q: use s3, gdrive or local", req.Kind)
	}
	if err != nil {
		return catalog.Connection{}, false, err
	}
	conn.AccountID = accountID
	conn.Status = catalog.ConnOK

	reset := false
	old, err := s.Store.GetConnection(ctx, accountID)
	switch {
	case err == nil && (old.RootKey != conn.RootKey || old.Kind != conn.Kind):
		some, _, err := s.Store.ListAssets(ctx, catalog.AssetQuery{AccountID: accountID, Recursive: true, Limit: 1})
		if err != nil {
			return catalog.Connection{}, false, err
		}
		if len(some) > 0 && !req.ConfirmRootChange {
			n, err := s.Store.CountAssets(ctx, catalog.AssetQuery{AccountID: accountID, Recursive: true})
			if err != nil {
				return catalog.Connection{}, false, err
			}
			return catalog.Connection{}, false, &RootChangeError{From: old.RootKey, To: conn.RootKey, Assets: n}
		}
		reset = true
	case err == nil:
		conn.SyncCursor, conn.LastFullScanAt = old.SyncCursor, old.LastFullScanAt
	case !errors.Is(err, catalog.ErrNotFound):
		return catalog.Connection{}, false, err
	}
	if conn.Secret, err = s.sealPending(accountID, conn); err != nil {
		return catalog.Connection{}, false, err
	}
	stored, err := s.Store.ReplaceConnection(ctx, conn, reset, s.Now())
	if err != nil {
		return catalog.Connection{}, false, err
	}
	if storage.Kind(conn.Kind) == storage.KindGDrive {
		if err := s.Store.DeleteOAuthGrant(ctx, accountID); err != nil {
			s.Logger.WarnContext(ctx, "removing the used OAuth grant", "err", err)
		}
	}
	return stored, reset, nil
}

// pendingSecret carries a not yet sealed secret inside a prepared
// connection (Connection.Secret holds the JSON plaintext until sealed).
func (s *Service) sealPending(accountID int64, conn catalog.Connection) ([]byte, error) {
	if len(conn.Secret) == 0 {
		return nil, nil
	}
	return s.Box.Seal(conn.Secret, secretContext(accountID))
}

func (s *Service) prepareLocal(ctx context.Context, req Request) (catalog.Connection, error) {
	if len(s.Cfg.LocalRoots) == 0 {
		return catalog.Connection{}, fieldError("kind", "local folders are not enabled on this server; the operator can allow folders with SHELF_LOCAL_ROOTS")
	}
	if strings.TrimSpace(req.Path) == "" {
		return catalog.Connection{}, fieldError("path", "path is required: the absolute path of a folder inside %s", strings.Join(s.Cfg.LocalRoots, " or "))
	}
	c, err := localfs.New(req.Path, s.Cfg.LocalRoots, localfs.WithLogger(s.Logger))
	if err != nil {
		msg := err.Error()
		if errors.Is(err, storage.ErrPermission) {
			msg = fmt.Sprintf("%s is not inside a folder this server allows (%s)", req.Path, strings.Join(s.Cfg.LocalRoots, ", "))
		}
		return catalog.Connection{}, fieldError("path", "%s", msg)
	}
	if err := probeWrite(ctx, c); err != nil {
		return catalog.Connection{}, fieldError("path", "Shelf cannot write in this folder (%v); give the server's user write access", err)
	}
	root, err := filepath.EvalSymlinks(filepath.Clean(req.Path))
	if err != nil {
		return catalog.Connection{}, fieldError("path", "%v", err)
	}
	settings, _ := jsonBytes(localSettings{Path: root})
	return catalog.Connection{Kind: string(storage.KindLocal), Config: settings, RootKey: root}, nil
}

func (s *Service) prepareS3(ctx context.Context, req Request) (catalog.Connection, error) {
	fields := map[string]string{}
	if strings.TrimSpace(req.Bucket) == "" {
		fields[s3.FieldBucket] = "bucket is required"
	}
	if req.UseDefaultCredentials && !s.Cfg.S3AllowDefaultChain {
		fields[s3.FieldCredentials] = "this server does not allow the default AWS credential chain; give an access key ID and secret access key"
	}
	if !req.UseDefaultCredentials {
		if strings.TrimSpace(req.AccessKeyID) == "" {
			fields[s3.FieldAccessKeyID] = "access_key_id is required"
		}
		if req.SecretAccessKey == "" {
			fields[s3.FieldSecretAccessKey] = "secret_access_key is required"
		}
	}
	if len(fields) > 0 {
		return catalog.Connection{}, &ValidationError{Fields: fields}
	}
	st := s3Settings{Bucket: strings.TrimSpace(req.Bucket), Prefix: strings.Trim(req.Prefix, "/"), Region: strings.TrimSpace(req.Region),
		Endpoint: strings.TrimSpace(req.Endpoint), PathStyle: req.PathStyle, UseDefaultCredentials: req.UseDefaultCredentials}
	sec := s3Secret{AccessKeyID: strings.TrimSpace(req.AccessKeyID), SecretAccessKey: req.SecretAccessKey}
	c, err := s3.New(ctx, s.s3Config(st, sec), s.Logger)
	if err != nil {
		var ve *s3.ValidationError
		if errors.As(err, &ve) {
			return catalog.Connection{}, fieldError(ve.Field, "%s", ve.Message)
		}
		return catalog.Connection{}, fieldError("endpoint", "%v", err)
	}
	if err := c.Validate(ctx); err != nil {
		var ve *s3.ValidationError
		if errors.As(err, &ve) {
			return catalog.Connection{}, fieldError(ve.Field, "%s", ve.Message)
		}
		return catalog.Connection{}, fieldError("endpoint", "cannot reach the S3 service: %v", err)
	}
	settings, _ := jsonBytes(st)
	secret, _ := jsonBytes(sec)
	if req.UseDefaultCredentials {
		secret = nil
	}
	root := "s3://" + st.Bucket + "/" + st.Prefix
	if st.Endpoint != "" {
		root += " at " + st.Endpoint
	}
	return catalog.Connection{Kind: string(storage.KindS3), Config: settings, Secret: secret, RootKey: root}, nil
}

// probeWrite writes and deletes a small file at the root, proving write
// access the way uploads will need it.
func probeWrite(ctx context.Context, c storage.Connector) error {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := ".shelf-write-probe-" + hex.EncodeToString(b)
	body := []byte("shelf write probe")
	if _, err := c.Put(ctx, name, bytes.NewReader(body), int64(len(body)), "text/plain"); err != nil {
		return err
	}
	return c.Delete(ctx, name)
}
