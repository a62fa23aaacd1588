package library

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/storage"
)

// Upload writes a new file named name into folderID (nil: the root) of the
// account's storage, then records it in the catalog and queues its
// preview. size is the body's length (-1 when unknown); mimeType is the
// client's claim, passed to the storage (the catalog keeps the type the
// storage reports, as a sync would). A name already taken in the folder is
// ErrConflict, and so is one another upload (in any process) is writing:
// Upload never replaces files (UploadAs may, when asked to).
func (s *Service) Upload(ctx context.Context, accountID, userID int64, folderID *int64, name string,
	r io.Reader, size int64, mimeType string) (catalog.Asset, error) {
	res, err := s.UploadAs(ctx, accountID, userID, folderID, name, r, size, mimeType, ConflictFail)
	return res.Asset, err
}

// relocateAsset moves and/or renames asset a to name inside folderID; the
// asset keeps its id and team metadata.
func (s *Service) relocateAsset(ctx context.Context, accountID, userID int64, a catalog.Asset, folderID *int64, name string) (catalog.Asset, error) {
	if err := checkName(name); err != nil {
		return catalog.Asset{}, err
	}
	dir, err := s.folderPath(ctx, accountID, folderID)
	if err != nil {
		return catalog.Asset{}, err
	}
	to := storage.Join(dir, name)
	if to == a.Path {
		return a, nil
	}
	what := fmt.Sprintf("Moving %q to %q", a.Path, to)
	w, err := s.begin(ctx, accountID, userID, "move_asset", catalog.PathClaim{Paths: []string{a.Path, to}})
	if err != nil {
		return catalog.Asset{}, err
	}
	defer w.end(ctx)
	if err := s.assetUnmoved(ctx, a); err != nil {
		return catalog.Asset{}, err
	}
	if err := s.folderUnmoved(ctx, accountID, folderID, dir); err != nil {
		return catalog.Asset{}, err
	}
	if err := w.checkFree(ctx, to, what); err != nil {
		return catalog.Asset{}, err
	}
	e, err := w.conn.Move(ctx, a.Path, to)
	if err != nil {
		return catalog.Asset{}, fromStorage(err, what)
	}
	out, err := s.cfg.Catalog.MoveAsset(ctx, accountID, w.intentID, a.ID, folderID, e.Name, e.ID, s.cfg.Now())
	if err != nil {
		return catalog.Asset{}, afterStorage(err, fmt.Sprintf("The file %q", a.Path))
	}
	if factsDiffer(w.conn.Kind(), out, e) {
		// The storage made a new object (S3 copies): record its facts as a
		// sync would, and remake the preview of the new version.
		updated, err := s.cfg.Catalog.PutUploadedAsset(ctx, accountID, 0, assetFromEntry(folderID, e), s.cfg.Now())
		if err != nil {
			s.cfg.Logger.Info("recording the facts of a moved file failed; the next sync records them",
				slog.Int64("account_id", accountID), slog.Int64("asset_id", a.ID), slog.String("error", err.Error()))
		} else {
			out = updated
			s.enqueueThumb(ctx, accountID, out.ID)
		}
	}
	s.checkPlaced(accountID, out.Path, e.Path)
	s.publish(ctx, accountID, notify.AssetMoved, assetPayload(out, userID, a.Path))
	return out, nil
}

// DeleteAsset deletes an asset's file from the storage (Drive: to the
// trash) and removes it from the library, keeping its team metadata as a
// tombstone in case the file comes back.
func (s *Service) DeleteAsset(ctx context.Context, accountID, userID, assetID int64) error {
	a, err := s.cfg.Catalog.GetAsset(ctx, accountID, assetID)
	if err != nil {
		return fromCatalog(err, fmt.Sprintf("Asset %d", assetID))
	}
	what := fmt.Sprintf("Deleting %q", a.Path)
	w, err := s.begin(ctx, accountID, userID, "delete_asset", catalog.PathClaim{Paths: []string{a.Path}})
	if err != nil {
		return err
	}
	defer w.end(ctx)
	if err := s.assetUnmoved(ctx, a); err != nil {
		return err
	}
	// Already gone from the storage: the library catches up.
	if err := w.conn.Delete(ctx, a.Path); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fromStorage(err, what)
	}
	if err := s.cfg.Catalog.DeleteAsset(ctx, accountID, w.intentID, a.ID, s.cfg.Now()); err != nil {
		return afterStorage(err, fmt.Sprintf("The file %q", a.Path))
	}
	s.enqueueThumb(ctx, accountID, a.ID) // the preview job of a removed asset deletes its derived files
	s.publish(ctx, accountID, notify.AssetDeleted, assetPayload(a, userID, ""))
	return nil
}

// UpdateMeta edits an asset's team metadata (title, description, tags,
// rating, custom fields; nil fields stay). It touches no storage, so it
// needs no write intent; the catalog refuses it while a sync runs.
func (s *Service) UpdateMeta(ctx context.Context, accountID, userID, assetID int64, patch catalog.MetadataUpdate) (catalog.Asset, error) {
	if err := checkMeta(patch); err != nil {
		return catalog.Asset{}, err
	}
	patch.MaxTags = maxTags
	if writesFileMeta(patch) {
		on, err := s.cfg.Catalog.WriteMetadataToFiles(ctx, accountID)
		if err != nil {
			return catalog.Asset{}, fromCatalog(err, "The account's settings")
		}
		if on {
			a, err := s.cfg.Catalog.GetAsset(ctx, accountID, assetID)
			if err != nil {
				return catalog.Asset{}, fromCatalog(err, fmt.Sprintf("Asset %d", assetID))
			}
			if len(patch.AddTags)+len(patch.RemoveTags) > 0 {
				// The file gets the whole list: resolve the change against
				// the asset as read (the write intent on the file keeps
				// other write-backs of it out meanwhile).
				base := a.Tags
				if patch.Tags != nil {
					base = *patch.Tags
				}
				tags := catalog.Retagged(base, patch.AddTags, patch.RemoveTags)
				patch.Tags, patch.AddTags, patch.RemoveTags = &tags, nil, nil
				if len(tags) > maxTags {
					return catalog.Asset{}, newError(ErrInvalid, nil, "%d tags after this change; the limit is %d.", len(tags), maxTags)
				}
			}
			return s.updateMetaWritingBack(ctx, accountID, userID, a, patch)
		}
	}
	a, err := s.cfg.Catalog.UpdateAssetMetadata(ctx, accountID, assetID, patch, s.cfg.Now())
	if err != nil {
		return catalog.Asset{}, fromCatalog(err, fmt.Sprintf("Asset %d", assetID))
	}
	s.publish(ctx, accountID, notify.AssetUpdated, assetPayload(a, userID, ""))
	return a, nil
}

// Limits on team metadata, so one request cannot bloat the catalog.
const (
	maxTitleLen       = 500
	maxDescriptionLen = 20_000
	maxTags           = 100
	maxTagLen         = 100
	maxCustomFields   = 50
	maxCustomKeyLen   = 100
	maxCustomValueLen = 2_000
)

func checkMeta(m catalog.MetadataUpdate) error {
	switch {
	case m.Title != nil && len(*m.Title) > maxTitleLen:
		return newError(ErrInvalid, nil, "The title is %d bytes long; the limit is %d.", len(*m.Title), maxTitleLen)
	case m.Description != nil && len(*m.Description) > maxDescriptionLen:
		return newError(ErrInvalid, nil, "The description is %d bytes long; the limit is %d.", len(*m.Description), maxDescriptionLen)
	case m.Rating != nil && (*m.Rating < 0 || *m.Rating > 5):
		return newError(ErrInvalid, nil, "The rating %d is out of range; give 0 to 5.", *m.Rating)
	case m.Tags != nil && len(*m.Tags) > maxTags:
		return newError(ErrInvalid, nil, "%d tags given; the limit is %d.", len(*m.Tags), maxTags)
	case len(m.Custom) > maxCustomFields:
		return newError(ErrInvalid, nil, "%d custom fields given; the limit is %d.", len(m.Custom), maxCustomFields)
	}
	if m.Tags != nil {
		for _, t := range *m.Tags {
			if len(t) > maxTagLen {
				return newError(ErrInvalid, nil, "The tag %.20q… is longer than %d bytes.", t, maxTagLen)
			}
		}
	}
	for k, v := range m.Custom {
		if k == "" || len(k) > maxCustomKeyLen || len(v) > maxCustomValueLen {
			return newError(ErrInvalid, nil, "The custom field %.20q needs a name of 1 to %d bytes and a value of at most %d.", k, maxCustomKeyLen, maxCustomValueLen)
		}
	}
	return nil
}

// checkPlaced logs when the catalog placed an item at another path than
// the storage did (a folder moved by another node in between); the next
// sync corrects the catalog.
func (s *Service) checkPlaced(accountID int64, catalogPath, storagePath string) {
	if catalogPath != storagePath {
		s.cfg.Logger.Warn("library write landed at a different path in the catalog than in the storage; the next sync corrects it",
			slog.Int64("account_id", accountID), slog.String("catalog_path", catalogPath), slog.String("storage_path", storagePath))
	}
}
