package library

import (
	"context"
	"errors"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// MaxBulk is the most assets one bulk request (tag, move, delete, zip) may
// name, so one request cannot hold a server for long.
const MaxBulk = 1000

// BulkResult is what happened to one asset of a bulk request: Err is nil
// when the change was made (the asset as it is now in Asset, except after
// a delete), else a library *Error saying why this one was not changed. A
// deferred change (ErrDeferred) was made in the storage and shows in the
// library after the running sync.
type BulkResult struct {
	AssetID int64
	Asset   catalog.Asset
	Err     error
}

// TagChange adds and removes tags on many assets at once. Tags are
// compared without regard to case (the catalog keeps them lower-cased).
type TagChange struct {
	Add    []string
	Remove []string
}

// BulkTag adds and removes tags on each asset of ids. See bulk for how
// failures and the sync lock are reported.
func (s *Service) BulkTag(ctx context.Context, accountID, userID int64, ids []int64, c TagChange) ([]BulkResult, error) {
	add, remove := cleanTags(c.Add), cleanTags(c.Remove)
	if len(add)+len(remove) == 0 {
		return nil, newError(ErrInvalid, nil, "Give at least one tag to add or remove.")
	}
	for _, t := range append(append([]string{}, add...), remove...) {
		if len(t) > maxTagLen {
			return nil, newError(ErrInvalid, nil, "The tag %.20q… is longer than %d bytes.", t, maxTagLen)
		}
	}
	// The catalog applies the change to the tags as they are when it
	// writes, so concurrent tag edits of the same assets are all kept.
	return s.bulk(ids, func(id int64) (catalog.Asset, error) {
		return s.UpdateMeta(ctx, accountID, userID, id, catalog.MetadataUpdate{AddTags: add, RemoveTags: remove})
	})
}

// BulkMove moves each asset of ids into folderID (nil: the top level),
// keeping its name; a name already taken there fails that asset only.
func (s *Service) BulkMove(ctx context.Context, accountID, userID int64, ids []int64, folderID *int64) ([]BulkResult, error) {
	if _, err := s.folderPath(ctx, accountID, folderID); err != nil {
		return nil, err
	}
	return s.bulk(ids, func(id int64) (catalog.Asset, error) {
		return s.EditAsset(ctx, accountID, userID, id, AssetEdit{Move: true, FolderID: folderID})
	})
}

// BulkDelete deletes each asset of ids from the storage and the library.
func (s *Service) BulkDelete(ctx context.Context, accountID, userID int64, ids []int64) ([]BulkResult, error) {
	return s.bulk(ids, func(id int64) (catalog.Asset, error) {
		return catalog.Asset{}, s.DeleteAsset(ctx, accountID, userID, id)
	})
}

// bulk applies one to each asset of ids in turn, each a library change of
// its own (its own write intent), and reports each asset's result. A
// failure of one asset does not stop the others, except the sync lock:
// met before any asset was changed, the whole request is refused with
// ErrLocked; a sync that starts after some were changed leaves the assets
// not yet reached unchanged, each reported as locked.
func (s *Service) bulk(ids []int64, one func(id int64) (catalog.Asset, error)) ([]BulkResult, error) {
	ids, err := CheckBulkIDs(ids)
	if err != nil {
		return nil, err
	}
	out := make([]BulkResult, 0, len(ids))
	var locked error
	changed := false
	for _, id := range ids {
		if locked != nil {
			out = append(out, BulkResult{AssetID: id, Err: locked})
			continue
		}
		a, err := one(id)
		if errors.Is(err, ErrLocked) {
			if !changed {
				return nil, err
			}
			locked = err
		}
		changed = changed || err == nil || errors.Is(err, ErrDeferred)
		out = append(out, BulkResult{AssetID: id, Asset: a, Err: err})
	}
	return out, nil
}

// CheckBulkIDs validates the asset ids of a bulk request: 1 to MaxBulk
// positive ids. Repeated ids count once, in the order first given.
func CheckBulkIDs(ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, newError(ErrInvalid, nil, "Select at least one file.")
	}
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id <= 0 {
			return nil, newError(ErrInvalid, nil, "%d is not an asset id.", id)
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if len(out) > MaxBulk {
		return nil, newError(ErrInvalid, nil, "%d files selected; one request may name at most %d. Select fewer and repeat.", len(out), MaxBulk)
	}
	return out, nil
}

// cleanTags trims tags and drops empty and repeated ones (any case).
func cleanTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t != "" && !hasTag(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func hasTag(tags []string, t string) bool {
	for _, have := range tags {
		if strings.EqualFold(have, t) {
			return true
		}
	}
	return false
}
