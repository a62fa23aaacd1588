package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/storage"
)

// AssetStore is the part of the catalog the preview service uses.
type AssetStore interface {
	// GetAsset returns a live asset of the account, or an error matching
	// catalog.ErrNotFound (also for removed assets).
	GetAsset(ctx context.Context, accountID, assetID int64) (catalog.Asset, error)
	// SetAssetPreview records preview state and content facts for the
	// version of the asset that was read (seen); it reports false, writing
	// nothing, when the asset changed or disappeared in the meantime.
	SetAssetPreview(ctx context.Context, seen catalog.Asset, p catalog.PreviewUpdate, now time.Time) (bool, error)
}

// ConnectorFactory opens the storage connector of an account.
type ConnectorFactory func(ctx context.Context, accountID int64) (storage.Connector, error)

// ServiceConfig holds a Service's dependencies.
type ServiceConfig struct {
	Store     AssetStore
	Connect   ConnectorFactory
	Generator *Generator
	Thumbs    *ThumbStore
	Logger    *slog.Logger
	// OnMissLimit bounds how many previews a web node regenerates at once
	// when it lacks a file another node made (default 2).
	OnMissLimit int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Publish sends a live event (typically notify.Dispatcher.Emit): an
	// asset.updated event when an asset's preview state changes, so open
	// pages show the new thumbnail or the reason there is none. Optional.
	Publish func(ctx context.Context, ev notify.Event) error
}

// Service makes an asset's previews and records its facts in the catalog.
type Service struct {
	cfg    ServiceConfig
	onMiss chan struct{}
	flight singleflight.Group
	// retried holds the assets whose old, noteless icon was retried.
	retried onceSet
}

// NewService returns a Service; Store, Connect, Generator and Thumbs are
// required.
func NewService(cfg ServiceConfig) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OnMissLimit <= 0 {
		cfg.OnMissLimit = 2
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, onMiss: make(chan struct{}, cfg.OnMissLimit)}
}

// Thumbs returns the store of derived images.
func (s *Service) Thumbs() *ThumbStore { return s.cfg.Thumbs }

// maxVersionRetries bounds how often Generate starts over when the file
// changed while its preview was being made.
const maxVersionRetries = 3

// Generate makes the previews of one asset from its current content in
// storage and records the outcome (state, error, facts). For an asset
// that is gone or removed it deletes the derived files. A returned error is worth retrying later
// (storage unreachable, context ended); undecodable content is recorded,
// not returned.
func (s *Service) Generate(ctx context.Context, accountID, assetID int64) error {
	for range maxVersionRetries {
		a, err := s.cfg.Store.GetAsset(ctx, accountID, assetID)
		if errors.Is(err, catalog.ErrNotFound) {
			// Deleted or removed: its derived files go too (a relinked
			// tombstone gets them back on the next miss).
			s.cfg.Thumbs.Remove(catalog.Asset{AccountID: accountID, ID: assetID})
			return nil
		}
		if err != nil {
			return fmt.Errorf("loading asset %d for its preview failed: %w", assetID, err)
		}
		if a.RemovedAt != nil {
			s.cfg.Thumbs.Remove(a)
			return nil
		}
		res, err := s.produce(ctx, a)
		if err != nil {
			return err
		}
		if res.State == StateReady {
			if err := s.cfg.Thumbs.Write(a, res.Thumb, res.Preview); err != nil {
				return err
			}
		} else {
			s.cfg.Thumbs.Remove(a)
		}
		if res.State == StateError {
			s.cfg.Logger.Warn("no preview for an asset",
				slog.Int64("account_id", accountID), slog.Int64("asset_id", assetID),
				slog.String("path", a.Path), slog.String("error", res.Error), slog.String("detail", res.Detail))
		}
		ok, err := s.cfg.Store.SetAssetPreview(ctx, a, toUpdate(res), s.cfg.Now())
		if err != nil {
			return fmt.Errorf("recording the preview of asset %d failed: %w", assetID, err)
		}
		if ok {
			if a.PreviewState != res.State || a.PreviewError != res.Error {
				a.PreviewState, a.PreviewError = res.State, res.Error
				s.published(ctx, a)
			}
			return nil
		}
		// The file changed while we read it: start over with the new version.
	}
	return fmt.Errorf("asset %d kept changing while its preview was made; will try again later", assetID)
}

// produce reads the asset's content from storage and makes its previews.
func (s *Service) produce(ctx context.Context, a catalog.Asset) (Result, error) {
	if a.Native {
		return Result{State: StateIcon}, nil
	}
	conn, err := s.cfg.Connect(ctx, a.AccountID)
	if err != nil {
		return Result{}, fmt.Errorf("opening the storage of account %d failed: %w", a.AccountID, err)
	}
	rc, err := conn.Open(ctx, a.Path)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		// The next sync removes it; a re-added file gets a new job.
		return Result{State: StateError, Error: "The file is no longer in the storage; the next sync removes it from the library."}, nil
	case errors.Is(err, storage.ErrPermission):
		return Result{State: StateError, Error: msgNoPermission, Detail: err.Error()}, nil
	case err != nil:
		return Result{}, fmt.Errorf("reading %q from storage failed: %w", a.Path, err)
	}
	defer func() { _ = rc.Close() }()
	return s.cfg.Generator.Make(ctx, a.Name, a.MIME, rc)
}

func toUpdate(r Result) catalog.PreviewUpdate {
	return catalog.PreviewUpdate{
		State:      r.State,
		Error:      r.Error,
		Width:      r.Facts.Width,
		Height:     r.Facts.Height,
		DurationMS: r.Facts.DurationMS,
		TakenAt:    r.Facts.TakenAt,
		Camera:     r.Facts.Camera,
	}
}
