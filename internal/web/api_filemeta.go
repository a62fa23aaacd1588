package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// fileMetaJSON is the "file_metadata" block of an asset: what its file's
// own metadata said at the last read, where each team field's value came
// from, and the last write-back's outcome.
func fileMetaJSON(f catalog.FileFacts) map[string]any {
	var gps any
	if f.GPSLat != nil && f.GPSLon != nil {
		gps = map[string]float64{"lat": *f.GPSLat, "lon": *f.GPSLon}
	}
	sources := map[string]any{}
	for field, src := range f.Sources {
		sources[field] = map[string]any{"source": src.Source, "changed_at": src.ChangedAt.UTC().Format(time.RFC3339)}
	}
	return map[string]any{
		"read_at": timeOrNil(f.ReadAt), "reader": f.Reader, "sidecar_path": f.SidecarPath, "notes": f.Notes,
		"creator": f.Creator, "copyright": f.Copyright, "lens": f.Lens, "gps": gps,
		"sources":     sources,
		"written_at":  timeOrNil(f.WrittenAt),
		"write_error": f.WriteError,
	}
}

// accountSettingsJSON adds the account's settings to its JSON.
func (s *Server) accountSettingsJSON(r *http.Request, a catalog.Account) (map[string]any, error) {
	body := accountJSON(a)
	on, err := s.store.WriteMetadataToFiles(r.Context(), a.ID)
	if err != nil {
		return nil, err
	}
	body["write_metadata_to_files"] = on
	return body, nil
}

// handlePatchAccount changes account settings (admin):
// {"write_metadata_to_files": bool}.
func (s *Server) handlePatchAccount(w http.ResponseWriter, r *http.Request, p *principal) {
	var body struct {
		WriteMetadataToFiles *bool `json:"write_metadata_to_files"`
	}
	if err := decodeJSONStrict(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	if body.WriteMetadataToFiles != nil {
		if err := s.store.SetWriteMetadataToFiles(r.Context(), p.Account.ID, *body.WriteMetadataToFiles, s.now()); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	acc, err := s.accountSettingsJSON(r, p.Account)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": acc})
}

// gpsText is a file's position as "52.50000, -13.40000" ("" when none).
func gpsText(f catalog.FileFacts) string {
	if f.GPSLat == nil || f.GPSLon == nil {
		return ""
	}
	return fmt.Sprintf("%.5f, %.5f", *f.GPSLat, *f.GPSLon)
}

// writeAssetWithFileMeta answers one asset with its file metadata block
// (after a PATCH it says whether the edit reached the file).
func (s *Server) writeAssetWithFileMeta(w http.ResponseWriter, r *http.Request, a catalog.Asset) {
	facts, err := s.store.GetFileFacts(r.Context(), a.AccountID, a.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body := assetJSON(a)
	body["file_metadata"] = fileMetaJSON(facts)
	writeJSON(w, http.StatusOK, map[string]any{"asset": body})
}

// handleStartMetadataWrite queues a background write-back of assets'
// metadata into their files: {"asset_ids":[…]} → 202 {"write"}.
func (s *Server) handleStartMetadataWrite(w http.ResponseWriter, r *http.Request, p *principal) {
	var body struct {
		AssetIDs []int64 `json:"asset_ids"`
	}
	if err := decodeJSONStrict(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	mw, err := s.library.StartMetadataWrite(r.Context(), p.Account.ID, p.User.ID, body.AssetIDs)
	if err != nil {
		s.libraryError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"write": mw})
}

// handleListMetadataWrites lists the account's latest write-backs.
func (s *Server) handleListMetadataWrites(w http.ResponseWriter, r *http.Request, p *principal) {
	list, err := s.store.ListMetadataWrites(r.Context(), p.Account.ID, 50)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"writes": list})
}

// handleGetMetadataWrite answers one write-back with a page of its files'
// results: ?state=pending|written|failed&after={asset id}.
func (s *Server) handleGetMetadataWrite(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("metadata write"))
		return
	}
	mw, err := s.store.GetMetadataWrite(r.Context(), p.Account.ID, id)
	if errors.Is(err, catalog.ErrNotFound) {
		s.writeError(w, r, errNotFound("metadata write"))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	state := r.URL.Query().Get("state")
	if state != "" && state != "pending" && state != "written" && state != "failed" {
		s.writeError(w, r, errBadRequest("invalid_field", "state is one of pending, written, failed"))
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	items, err := s.store.ListMetadataWriteItems(r.Context(), p.Account.ID, id, state, after, 500)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"write": mw, "items": items})
}

// sourceRow is one line of the asset page's "where the team metadata
// comes from".
type sourceRow struct {
	Field, Label, Source string
	ChangedAt            time.Time
}

// sourceRows lists the team fields with a known source, in the form's
// order.
func sourceRows(f catalog.FileFacts) []sourceRow {
	var out []sourceRow
	for _, field := range []struct{ name, label string }{
		{catalog.FieldTitle, "Title"}, {catalog.FieldDescription, "Description"}, {catalog.FieldTags, "Tags"}, {catalog.FieldRating, "Rating"},
	} {
		if src, ok := f.Sources[field.name]; ok {
			out = append(out, sourceRow{Field: field.name, Label: field.label, Source: src.Source, ChangedAt: src.ChangedAt})
		}
	}
	return out
}
