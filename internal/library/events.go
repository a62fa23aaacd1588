package library

import (
	"context"
	"log/slog"

	"github.com/shelf-dam/shelf/internal/embedmeta"
	"github.com/shelf-dam/shelf/internal/media"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
)

// Folder event types (asset events use notify's asset.* names).
const (
	FolderCreated = notify.FolderCreated
	FolderMoved   = notify.FolderMoved
	FolderDeleted = notify.FolderDeleted
)

// AssetPayload is the data of an asset.* event: the asset as the API shows
// it, who changed it, and where it was before a move.
type AssetPayload struct {
	notify.AssetData
	UserID  int64  `json:"user_id,omitempty"`
	OldPath string `json:"old_path,omitempty"`
}

// FolderPayload is the data of a folder.* event.
type FolderPayload struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	Path          string `json:"path"`
	ParentID      *int64 `json:"parent_id"`
	UserID        int64  `json:"user_id,omitempty"`
	OldPath       string `json:"old_path,omitempty"`
	AssetsRemoved int64  `json:"assets_removed,omitempty"`
}

func assetPayload(a catalog.Asset, userID int64, oldPath string) AssetPayload {
	return AssetPayload{AssetData: notify.AssetDataOf(a), UserID: userID, OldPath: oldPath}
}

func folderPayload(f catalog.Folder, userID int64, oldPath string) FolderPayload {
	return FolderPayload{ID: f.ID, Name: f.Name, Path: f.Path, ParentID: f.ParentID, UserID: userID, OldPath: oldPath}
}

// publish sends an event; a failure is logged, never returned: the change
// is done and the page catches up on its next load.
func (s *Service) publish(ctx context.Context, accountID int64, typ string, data any) {
	if s.cfg.Publish == nil {
		return
	}
	ev := notify.Event{Type: typ, AccountID: accountID, Time: s.cfg.Now().UTC(), Data: notify.MarshalData(data)}
	if err := s.cfg.Publish(context.WithoutCancel(ctx), ev); err != nil {
		s.cfg.Logger.Warn("publishing a library event failed",
			slog.String("type", typ), slog.Int64("account_id", accountID), slog.String("error", err.Error()))
	}
}

// enqueueThumb asks for an asset's preview; a failure leaves the asset's
// preview pending and is logged.
func (s *Service) enqueueThumb(ctx context.Context, accountID, assetID int64) {
	if s.cfg.Jobs == nil {
		return
	}
	if err := s.cfg.Jobs.Enqueue(context.WithoutCancel(ctx), media.ThumbArgs{AccountID: accountID, AssetID: assetID}); err != nil {
		s.cfg.Logger.Warn("queueing a preview failed; the asset keeps its icon until the next sync or edit",
			slog.Int64("account_id", accountID), slog.Int64("asset_id", assetID), slog.String("error", err.Error()))
	}
	if err := s.cfg.Jobs.Enqueue(context.WithoutCancel(ctx), embedmeta.ReadArgs{AccountID: accountID, AssetID: assetID}); err != nil {
		s.cfg.Logger.Warn("queueing the reading of file metadata failed; the next sync reads it",
			slog.Int64("account_id", accountID), slog.Int64("asset_id", assetID), slog.String("error", err.Error()))
	}
}
