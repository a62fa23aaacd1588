package library

import (
	"context"
	"fmt"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// AssetEdit is one edit of an asset, as PATCH /api/v1/assets/{id} asks it:
// team metadata, a new name, a new folder, or any of them at once.
type AssetEdit struct {
	// Meta is the metadata to change (its nil fields stay); nil: none.
	Meta *catalog.MetadataUpdate
	// Name is the new file name (trimmed); nil: keep the name.
	Name *string
	// Move says FolderID applies: the asset moves into FolderID (nil: the
	// root). Without Move the asset stays in its folder.
	Move     bool
	FolderID *int64
}

// FolderEdit is one edit of a folder: a new name, a new parent, or both.
type FolderEdit struct {
	// Name is the new folder name (trimmed); nil: keep the name.
	Name *string
	// Move says ParentID applies (nil ParentID: the top level).
	Move     bool
	ParentID *int64
}

// EditAsset applies an edit to an asset. The whole edit is checked before
// anything changes: a bad name, an unknown folder or metadata over the
// limits leaves the asset as it was. The rename or move goes first, as one
// storage move: it is what a name taken in the folder or the storage may
// refuse, and then the metadata stays as it was.
func (s *Service) EditAsset(ctx context.Context, accountID, userID, assetID int64, e AssetEdit) (catalog.Asset, error) {
	a, err := s.cfg.Catalog.GetAsset(ctx, accountID, assetID)
	if err != nil {
		return catalog.Asset{}, fromCatalog(err, fmt.Sprintf("Asset %d", assetID))
	}
	name, folder := a.Name, a.FolderID
	if e.Name != nil {
		name = strings.TrimSpace(*e.Name)
	}
	if e.Move {
		folder = e.FolderID
	}
	relocate := name != a.Name || !sameID(folder, a.FolderID)
	if relocate {
		if err := checkName(name); err != nil {
			return catalog.Asset{}, err
		}
		if _, err := s.folderPath(ctx, accountID, folder); err != nil {
			return catalog.Asset{}, err
		}
	}
	if e.Meta != nil {
		if err := checkMeta(*e.Meta); err != nil {
			return catalog.Asset{}, err
		}
	}
	if relocate {
		if a, err = s.relocateAsset(ctx, accountID, userID, a, folder, name); err != nil {
			return catalog.Asset{}, err
		}
	}
	if e.Meta != nil {
		return s.UpdateMeta(ctx, accountID, userID, assetID, *e.Meta)
	}
	return a, nil
}

// EditFolder renames and/or moves a folder in one step, with everything
// inside. Nothing changes when any part of the edit is refused.
func (s *Service) EditFolder(ctx context.Context, accountID, userID, folderID int64, e FolderEdit) (catalog.Folder, error) {
	f, err := s.cfg.Catalog.GetFolder(ctx, accountID, folderID)
	if err != nil {
		return catalog.Folder{}, fromCatalog(err, fmt.Sprintf("Folder %d", folderID))
	}
	if e.Name == nil && !e.Move {
		return f, nil
	}
	name, parent := f.Name, f.ParentID
	if e.Name != nil {
		name = strings.TrimSpace(*e.Name)
	}
	if e.Move {
		parent = e.ParentID
	}
	return s.relocateFolder(ctx, accountID, userID, f, parent, name)
}

// sameID reports whether two optional ids are equal (both nil included).
func sameID(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
