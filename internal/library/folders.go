package library

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// CreateFolder makes a folder named name inside parentID (nil: the root)
// in the storage, then in the library. A name already taken there is
// ErrConflict.
func (s *Service) CreateFolder(ctx context.Context, accountID, userID int64, parentID *int64, name string) (catalog.Folder, error) {
	if err := checkName(name); err != nil {
		return catalog.Folder{}, err
	}
	dir, err := s.folderPath(ctx, accountID, parentID)
	if err != nil {
		return catalog.Folder{}, err
	}
	path := storage.Join(dir, name)
	what := fmt.Sprintf("Creating folder %q", path)
	w, err := s.begin(ctx, accountID, userID, "create_folder", catalog.PathClaim{Paths: []string{path}})
	if err != nil {
		return catalog.Folder{}, err
	}
	defer w.end(ctx)
	if err := s.folderUnmoved(ctx, accountID, parentID, dir); err != nil {
		return catalog.Folder{}, err
	}
	if err := w.checkFree(ctx, path, what); err != nil {
		return catalog.Folder{}, err
	}
	e, err := w.conn.MkDir(ctx, path)
	if err != nil {
		return catalog.Folder{}, fromStorage(err, what)
	}
	f, err := s.cfg.Catalog.CreateFolder(ctx, accountID, w.intentID, parentID, e.Name, e.ID, s.cfg.Now())
	if err != nil {
		return catalog.Folder{}, afterStorage(err, fmt.Sprintf("The folder %q", path))
	}
	s.checkPlaced(accountID, f.Path, e.Path)
	s.publish(ctx, accountID, FolderCreated, folderPayload(f, userID, ""))
	return f, nil
}

// relocateFolder moves and/or renames folder f to name inside parentID,
// with everything inside. The claim on the folder's old and new places
// lasts until the catalog has rewritten every path under it (see
// catalog.Store.MoveFolder): writes there get ErrConflict meanwhile, while
// the account's other writes go ahead.
func (s *Service) relocateFolder(ctx context.Context, accountID, userID int64, f catalog.Folder, parentID *int64, name string) (catalog.Folder, error) {
	if err := checkName(name); err != nil {
		return catalog.Folder{}, err
	}
	dir, err := s.folderPath(ctx, accountID, parentID)
	if err != nil {
		return catalog.Folder{}, err
	}
	to := storage.Join(dir, name)
	if to == f.Path {
		return f, nil
	}
	if dir == f.Path || strings.HasPrefix(dir, f.Path+"/") {
		return catalog.Folder{}, newError(ErrInvalid, nil, "The folder %q cannot move into itself or a folder inside it.", f.Path)
	}
	what := fmt.Sprintf("Moving folder %q to %q", f.Path, to)
	w, err := s.begin(ctx, accountID, userID, "move_folder", catalog.PathClaim{Trees: []string{f.Path, to}})
	if err != nil {
		return catalog.Folder{}, err
	}
	defer w.end(ctx)
	if err := s.folderUnmoved(ctx, accountID, &f.ID, f.Path); err != nil {
		return catalog.Folder{}, err
	}
	if err := s.folderUnmoved(ctx, accountID, parentID, dir); err != nil {
		return catalog.Folder{}, err
	}
	if err := w.checkFree(ctx, to, what); err != nil {
		return catalog.Folder{}, err
	}
	e, err := w.conn.Move(ctx, f.Path, to)
	if err != nil {
		return catalog.Folder{}, fromStorage(err, what)
	}
	// The storage has moved: the catalog records it to the end (a big
	// folder's paths are rewritten in batches, for a few seconds) even if
	// the caller stops waiting.
	out, err := s.cfg.Catalog.MoveFolder(context.WithoutCancel(ctx), accountID, w.intentID, f.ID, parentID, e.Name, e.ID, s.cfg.Now())
	if err != nil {
		return catalog.Folder{}, afterStorage(err, fmt.Sprintf("The folder %q", f.Path))
	}
	s.checkPlaced(accountID, out.Path, e.Path)
	if movesRewriteObjects(w.conn.Kind()) {
		s.refreshMovedFacts(ctx, accountID, w.conn, out)
	}
	s.publish(ctx, accountID, FolderMoved, folderPayload(out, userID, f.Path))
	return out, nil
}

// movesRewriteObjects reports whether moving a folder in this kind of
// storage makes new objects with new file facts: S3 has no rename, so a
// folder move copies every object (new modification times, and new ETags
// for multipart objects). Local folders and Drive keep the facts.
func movesRewriteObjects(kind storage.Kind) bool { return kind == storage.KindS3 }

// refreshMovedFacts records the storage's file facts for every asset under
// a folder that was just moved, as a sync would, and queues new previews
// for them. It stops quietly when a sync takes the library meanwhile: that
// sync records the facts itself.
func (s *Service) refreshMovedFacts(ctx context.Context, accountID int64, conn storage.Connector, f catalog.Folder) {
	q := catalog.AssetQuery{AccountID: accountID, FolderID: &f.ID, Recursive: true, Limit: catalog.MaxAssetPage}
	for {
		assets, next, err := s.cfg.Catalog.ListAssets(ctx, q)
		if err != nil {
			s.logRefreshStop(accountID, f, err)
			return
		}
		for _, a := range assets {
			e, err := conn.Stat(ctx, a.Path)
			if err != nil {
				s.logRefreshStop(accountID, f, err)
				return
			}
			if !factsDiffer(conn.Kind(), a, e) {
				continue
			}
			if _, err := s.cfg.Catalog.PutUploadedAsset(ctx, accountID, 0, assetFromEntry(a.FolderID, e), s.cfg.Now()); err != nil {
				s.logRefreshStop(accountID, f, err)
				return
			}
			s.enqueueThumb(ctx, accountID, a.ID)
		}
		if next == "" {
			return
		}
		q.Cursor = next
	}
}

func (s *Service) logRefreshStop(accountID int64, f catalog.Folder, err error) {
	s.cfg.Logger.Info("recording the file facts of a moved folder stopped; the next sync records them",
		slog.Int64("account_id", accountID), slog.String("folder", f.Path), slog.String("error", err.Error()))
}

// DeleteFolder deletes a folder with everything inside from the storage
// (Drive: to the trash) and from the library; its assets become tombstones
// that keep their team metadata for a while. It returns how many assets
// were removed.
func (s *Service) DeleteFolder(ctx context.Context, accountID, userID, folderID int64) (int64, error) {
	f, err := s.cfg.Catalog.GetFolder(ctx, accountID, folderID)
	if err != nil {
		return 0, fromCatalog(err, fmt.Sprintf("Folder %d", folderID))
	}
	what := fmt.Sprintf("Deleting folder %q", f.Path)
	w, err := s.begin(ctx, accountID, userID, "delete_folder", catalog.PathClaim{Trees: []string{f.Path}})
	if err != nil {
		return 0, err
	}
	defer w.end(ctx)
	if err := s.folderUnmoved(ctx, accountID, &f.ID, f.Path); err != nil {
		return 0, err
	}
	if err := w.conn.Delete(ctx, f.Path); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return 0, fromStorage(err, what)
	}
	n, err := s.cfg.Catalog.DeleteFolder(ctx, accountID, w.intentID, f.ID, s.cfg.Now())
	if err != nil {
		return 0, afterStorage(err, fmt.Sprintf("The folder %q", f.Path))
	}
	p := folderPayload(f, userID, "")
	p.AssetsRemoved = n
	s.publish(ctx, accountID, FolderDeleted, p)
	return n, nil
}
