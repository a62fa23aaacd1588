package library

import (
	"context"
	"fmt"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// CheckName reports whether name can be given to a new or renamed file or
// folder (an ErrInvalid error saying why not), so callers can refuse a bad
// name before they change anything else.
func CheckName(name string) error { return checkName(name) }

// RelocateFolder renames and/or moves a folder in one step: it ends up
// named name inside parentID (nil: the root), with everything inside.
// Nothing changes when any part of the request is refused.
func (s *Service) RelocateFolder(ctx context.Context, accountID, userID, folderID int64, parentID *int64, name string) (catalog.Folder, error) {
	f, err := s.cfg.Catalog.GetFolder(ctx, accountID, folderID)
	if err != nil {
		return catalog.Folder{}, fromCatalog(err, fmt.Sprintf("Folder %d", folderID))
	}
	return s.relocateFolder(ctx, accountID, userID, f, parentID, name)
}

// RelocateAsset renames and/or moves an asset in one step: it ends up
// named name inside folderID (nil: the root), keeping its id and team
// metadata.
func (s *Service) RelocateAsset(ctx context.Context, accountID, userID, assetID int64, folderID *int64, name string) (catalog.Asset, error) {
	a, err := s.cfg.Catalog.GetAsset(ctx, accountID, assetID)
	if err != nil {
		return catalog.Asset{}, fromCatalog(err, fmt.Sprintf("Asset %d", assetID))
	}
	return s.relocateAsset(ctx, accountID, userID, a, folderID, name)
}

// CheckMeta reports whether a metadata edit is within the limits (an
// ErrInvalid error saying which is not), as UpdateMeta checks it.
func CheckMeta(m catalog.MetadataUpdate) error { return checkMeta(m) }
