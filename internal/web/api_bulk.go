package web

import (
	"errors"
	"net/http"

	"github.com/shelf-dam/shelf/internal/library"
)

// Bulk actions on selected assets: one request per action, one result per
// asset. Each asset is its own library change (written through, under its
// own write intent); a request refused as a whole (bad input, or the sync
// lock before anything changed) answers an error like any other call.

// handleBulkTag adds and removes tags on many assets.
func (s *Server) handleBulkTag(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		AssetIDs []int64  `json:"asset_ids"`
		Add      []string `json:"add"`
		Remove   []string `json:"remove"`
	}
	if err := decodeJSONStrict(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.library.BulkTag(r.Context(), p.Account.ID, p.User.ID, req.AssetIDs, library.TagChange{Add: req.Add, Remove: req.Remove})
	s.writeBulk(w, r, res, err, true)
}

// handleBulkMove moves many assets into one folder (folder_id null: the
// top level); folder_id must be given.
func (s *Server) handleBulkMove(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		AssetIDs []int64 `json:"asset_ids"`
		FolderID jsonRaw `json:"folder_id"`
	}
	if err := decodeJSONStrict(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(req.FolderID) == 0 {
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "missing_field", Field: "folder_id",
			Message: "folder_id is required: the id of the destination folder, or null for the top level"})
		return
	}
	var folder *int64
	if err := req.FolderID.into(&folder); err != nil {
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Field: "folder_id", Message: "folder_id must be a folder id or null"})
		return
	}
	res, err := s.library.BulkMove(r.Context(), p.Account.ID, p.User.ID, req.AssetIDs, folder)
	s.writeBulk(w, r, res, err, true)
}

// handleBulkDelete deletes many assets from the storage and the library.
func (s *Server) handleBulkDelete(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		AssetIDs []int64 `json:"asset_ids"`
	}
	if err := decodeJSONStrict(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.library.BulkDelete(r.Context(), p.Account.ID, p.User.ID, req.AssetIDs)
	s.writeBulk(w, r, res, err, false)
}

// writeBulk answers a bulk action: 200 with each asset's result, or the
// error that refused the whole request.
func (s *Server) writeBulk(w http.ResponseWriter, r *http.Request, res []library.BulkResult, err error, withAsset bool) {
	if err != nil {
		s.writeError(w, r, libraryAPIError(err))
		return
	}
	out := make([]map[string]any, 0, len(res))
	succeeded, failed := 0, 0
	for _, br := range res {
		item := map[string]any{"asset_id": br.AssetID, "ok": br.Err == nil}
		switch {
		case br.Err == nil:
			succeeded++
			if withAsset {
				item["asset"] = assetJSON(br.Asset)
			}
		case errors.Is(br.Err, library.ErrDeferred):
			// Made in the storage; the library shows it after the sync.
			succeeded++
			item["ok"], item["deferred"] = true, true
			item["message"] = libraryMessage(br.Err)
		default:
			failed++
			item["error"] = s.bulkItemError(r, br.Err)
		}
		out = append(out, item)
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": out, "succeeded": succeeded, "failed": failed})
}

// bulkItemError is one asset's failure as {code, message}; an unexpected
// failure is logged and said in general words, as writeError does.
func (s *Server) bulkItemError(r *http.Request, err error) map[string]any {
	var ae *apiError
	if !errors.As(libraryAPIError(err), &ae) {
		s.logger.ErrorContext(r.Context(), "bulk action failed on one asset", "err", err)
		return map[string]any{"code": "internal", "message": "Shelf failed on this file; try again, and tell the operator if it persists."}
	}
	e := map[string]any{"code": ae.Code, "message": ae.Message}
	if ae.SyncRunID != nil {
		e["sync_run_id"] = *ae.SyncRunID
	}
	return e
}

func libraryMessage(err error) string {
	var le *library.Error
	if errors.As(err, &le) {
		return le.Message
	}
	return err.Error()
}
