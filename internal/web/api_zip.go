package web

import (
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// handleZip streams the selected assets as one zip archive, each file read
// from the storage while the archive is written to the response (nothing
// is staged on disk). The selection comes as JSON {"asset_ids": [...]}
// (API clients) or as a form field asset_ids="1,2,3" with csrf_token (the
// library page submits a form, so the browser downloads the stream
// itself). The limits are checked before the first byte is sent; a file
// that breaks off part-way aborts the response, so a cut archive never
// passes for a whole one.
func (s *Server) handleZip(w http.ResponseWriter, r *http.Request, p *principal) {
	ids, aerr := zipIDs(r)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	z, err := s.library.PlanZip(r.Context(), p.Account.ID, ids, s.cfg.MaxZipBytes)
	if err != nil {
		s.writeError(w, r, libraryAPIError(err))
		return
	}
	name := fmt.Sprintf("shelf-%d-files.zip", z.Files())
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if err := z.Write(r.Context(), w); err != nil {
		if r.Context().Err() == nil {
			s.logger.WarnContext(r.Context(), "zip download stopped part-way", "account_id", p.Account.ID, "files", z.Files(), "err", err)
		}
		panic(http.ErrAbortHandler) // cut the connection: the client sees a failed download
	}
}

// zipIDs reads the asset ids of a zip request, JSON or form.
func zipIDs(r *http.Request) ([]int64, error) {
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ctype != "application/x-www-form-urlencoded" {
		var req struct {
			AssetIDs []int64 `json:"asset_ids"`
		}
		if err := decodeJSONStrict(r, &req); err != nil {
			return nil, err
		}
		return req.AssetIDs, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, errBadRequest("invalid_field", "the form could not be read: %v", err)
	}
	var ids []int64
	for _, v := range r.PostForm["asset_ids"] {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			id, err := strconv.ParseInt(part, 10, 64)
			if err != nil {
				return nil, &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Field: "asset_ids",
					Message: fmt.Sprintf("asset_ids must be asset ids separated by commas; %q is not one", part)}
			}
			ids = append(ids, id)
		}
	}
	return ids, nil
}
