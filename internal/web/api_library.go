package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/library"
	"github.com/shelf-dam/shelf/internal/media"
)

func folderJSON(f catalog.Folder) map[string]any {
	return map[string]any{"id": f.ID, "name": f.Name, "path": f.Path, "parent_id": f.ParentID}
}

func assetJSON(a catalog.Asset) map[string]any {
	tags := a.Tags
	if tags == nil {
		tags = []string{}
	}
	custom := a.Custom
	if custom == nil {
		custom = map[string]string{}
	}
	return map[string]any{
		"id": a.ID, "name": a.Name, "path": a.Path, "folder_id": a.FolderID,
		"size": a.Size, "mime": a.MIME, "native": a.Native,
		"title": a.Title, "description": a.Description, "tags": tags, "rating": a.Rating, "custom": custom,
		"width": a.Width, "height": a.Height, "duration_ms": a.DurationMS, "taken_at": timeOrNil(a.TakenAt), "camera": a.Camera,
		"modified_at": timeOrNil(a.ModTime), "preview_state": a.PreviewState, "preview_error": media.Reason(a.PreviewError),
		"thumb_url":    fmt.Sprintf("/api/v1/assets/%d/thumb?v=%s", a.ID, media.ThumbVersion(a)),
		"download_url": fmt.Sprintf("/api/v1/assets/%d/download", a.ID),
	}
}

// libraryError maps library failures to API errors.
func (s *Server) libraryError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeError(w, r, libraryAPIError(err))
}

// libraryAPIError is the API error of a library failure; failures that
// are not the user's to fix are returned as they are (a logged 500).
func libraryAPIError(err error) error {
	var le *library.Error
	msg := err.Error()
	if errors.As(err, &le) {
		msg = le.Message
	}
	switch {
	case errors.Is(err, library.ErrLocked):
		id, _ := library.RunID(err)
		return &apiError{Status: http.StatusLocked, Code: "library_locked", Message: msg, SyncRunID: &id}
	case errors.Is(err, library.ErrDeferred):
		ae := &apiError{Status: http.StatusAccepted, Code: "deferred", Message: msg}
		if id, ok := library.RunID(err); ok {
			ae.SyncRunID = &id
		}
		return ae
	case errors.Is(err, library.ErrNotFound):
		return errorf(http.StatusNotFound, "not_found", "%s", msg)
	case errors.Is(err, library.ErrConflict):
		return errorf(http.StatusConflict, "conflict", "%s", msg)
	case errors.Is(err, library.ErrWriteBackOff):
		return errorf(http.StatusConflict, "write_back_off", "%s", msg)
	case errors.Is(err, library.ErrInvalid):
		return errorf(http.StatusBadRequest, "invalid_field", "%s", msg)
	case errors.Is(err, library.ErrStorage):
		return errorf(http.StatusBadGateway, "storage_error", "%s", msg)
	case errors.Is(err, library.ErrTooLarge):
		return errorf(http.StatusRequestEntityTooLarge, "zip_too_large", "%s", msg)
	default:
		return err
	}
}

// optionalID parses an optional numeric query parameter; "" or "root"
// mean none.
func optionalID(v string) (*int64, bool) {
	if v == "" || v == "root" || v == "null" {
		return nil, true
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return nil, false
	}
	return &id, true
}

func (s *Server) handleListFolders(w http.ResponseWriter, r *http.Request, p *principal) {
	parent, ok := optionalID(r.URL.Query().Get("parent"))
	if !ok {
		s.writeError(w, r, errBadRequest("invalid_field", "parent must be a folder id"))
		return
	}
	if parent != nil {
		if _, err := s.store.GetFolder(r.Context(), p.Account.ID, *parent); err != nil {
			s.writeError(w, r, folderErr(err))
			return
		}
	}
	folders, err := s.store.ListFolders(r.Context(), p.Account.ID, parent)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(folders))
	for _, f := range folders {
		out = append(out, folderJSON(f))
	}
	writeJSON(w, http.StatusOK, map[string]any{"folders": out})
}

func folderErr(err error) error {
	if errors.Is(err, catalog.ErrNotFound) {
		return errNotFound("folder")
	}
	return err
}

func assetErr(err error) error {
	if errors.Is(err, catalog.ErrNotFound) {
		return errNotFound("asset")
	}
	return err
}

func (s *Server) handleGetFolder(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("folder"))
		return
	}
	f, err := s.store.GetFolder(r.Context(), p.Account.ID, id)
	if err != nil {
		s.writeError(w, r, folderErr(err))
		return
	}
	chain, err := s.store.FolderAncestry(r.Context(), p.Account.ID, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	crumbs := make([]map[string]any, 0, len(chain))
	for _, c := range chain {
		crumbs = append(crumbs, folderJSON(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"folder": folderJSON(f), "breadcrumbs": crumbs})
}

func (s *Server) handleCreateFolder(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		ParentID *int64 `json:"parent_id"`
		Name     string `json:"name"`
	}
	if err := decodeJSONStrict(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := nameFieldError(req.Name); err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := s.library.CreateFolder(r.Context(), p.Account.ID, p.User.ID, req.ParentID, strings.TrimSpace(req.Name))
	if err != nil {
		s.writeError(w, r, withField(libraryAPIError(err), "name"))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"folder": folderJSON(f)})
}

// handlePatchFolder renames and/or moves a folder. parent_id present and
// null moves it to the top level.
func (s *Server) handlePatchFolder(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("folder"))
		return
	}
	var req map[string]jsonRaw
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var edit library.FolderEdit
	for key, raw := range req {
		switch key {
		case "name":
			var name string
			if err := raw.into(&name); err != nil {
				s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Field: key, Message: "name must be a string"})
				return
			}
			if err := nameFieldError(name); err != nil {
				s.writeError(w, r, err)
				return
			}
			edit.Name = &name
		case "parent_id":
			if err := raw.into(&edit.ParentID); err != nil {
				s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Field: key, Message: "parent_id must be a folder id or null"})
				return
			}
			edit.Move = true
		default:
			s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Field: key,
				Message: fmt.Sprintf("unknown field %q; editable: name, parent_id", key)})
			return
		}
	}
	f, err := s.library.EditFolder(r.Context(), p.Account.ID, p.User.ID, id, edit)
	if err != nil {
		s.writeError(w, r, withField(libraryAPIError(err), soleField(edit.Name != nil && !edit.Move, "name")))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"folder": folderJSON(f)})
}

func (s *Server) handleDeleteFolder(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("folder"))
		return
	}
	if _, err := s.library.DeleteFolder(r.Context(), p.Account.ID, p.User.ID, id); err != nil {
		s.libraryError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleListAssets browses a folder or searches.
func (s *Server) handleListAssets(w http.ResponseWriter, r *http.Request, p *principal) {
	qv := r.URL.Query()
	folder, ok := optionalID(qv.Get("folder"))
	if !ok {
		s.writeError(w, r, errBadRequest("invalid_field", "folder must be a folder id"))
		return
	}
	q := catalog.AssetQuery{AccountID: p.Account.ID, FolderID: folder, Q: qv.Get("q"), Tag: qv.Get("tag"), MIME: qv.Get("type"),
		Sort: qv.Get("sort"), Desc: qv.Get("order") == "desc", Cursor: qv.Get("cursor")}
	q.Recursive = qv.Get("recursive") == "true" || (qv.Get("folder") == "" && (q.Q != "" || q.Tag != "" || q.MIME != ""))
	switch q.Sort {
	case "", "name", "date", "size":
	default:
		s.writeError(w, r, errBadRequest("invalid_field", "sort must be name, date or size"))
		return
	}
	if v := qv.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > catalog.MaxAssetPage {
			s.writeError(w, r, errBadRequest("invalid_field", "limit must be a number from 1 to %d", catalog.MaxAssetPage))
			return
		}
		q.Limit = n
	}
	if folder != nil {
		if _, err := s.store.GetFolder(r.Context(), p.Account.ID, *folder); err != nil {
			s.writeError(w, r, folderErr(err))
			return
		}
	}
	if s.assetQueryHook != nil {
		if err := s.assetQueryHook(r.Context(), q); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	assets, next, err := s.store.ListAssets(r.Context(), q)
	if err != nil {
		if errors.Is(err, catalog.ErrBadCursor) {
			s.writeError(w, r, errBadRequest("invalid_field", "cursor is not valid for this listing; start again without it"))
			return
		}
		s.writeError(w, r, err)
		return
	}
	total, capped, err := s.store.CountAssetsUpTo(r.Context(), q, searchCountBound)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(assets))
	for _, a := range assets {
		j := assetJSON(a)
		j["folder_path"] = assetFolderPath(a)
		out = append(out, j)
	}
	var nextCursor any
	if next != "" {
		nextCursor = next
	}
	writeJSON(w, http.StatusOK, map[string]any{"assets": out, "next_cursor": nextCursor, "total": total, "total_capped": capped})
}

func (s *Server) loadAsset(w http.ResponseWriter, r *http.Request, p *principal) (catalog.Asset, bool) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("asset"))
		return catalog.Asset{}, false
	}
	a, err := s.store.GetAsset(r.Context(), p.Account.ID, id)
	if err != nil {
		s.writeError(w, r, assetErr(err))
		return catalog.Asset{}, false
	}
	return a, true
}

func (s *Server) handleGetAsset(w http.ResponseWriter, r *http.Request, p *principal) {
	if a, ok := s.loadAsset(w, r, p); ok {
		s.writeAssetWithFileMeta(w, r, a)
	}
}

// handleDownload streams the original from the storage.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request, p *principal) {
	a, ok := s.loadAsset(w, r, p)
	if !ok {
		return
	}
	if a.Native {
		s.writeError(w, r, errorf(http.StatusConflict, "native_document", "%s is a Google document without a downloadable file; open it in Google Drive", a.Name))
		return
	}
	rc, ok := s.openOriginal(w, r, p, a)
	if !ok {
		return
	}
	defer rc.Close()
	ctype := a.MIME
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// An original opened as a page (an SVG or HTML file) runs nothing.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
	// No Content-Length from the catalog: the file may have changed in the
	// storage since the last sync, and a wrong length would cut it short.
	if _, err := io.Copy(w, rc); err != nil {
		s.logger.WarnContext(r.Context(), "download interrupted", "asset_id", a.ID, "err", err)
	}
}

func (s *Server) handleThumb(w http.ResponseWriter, r *http.Request, p *principal) {
	a, ok := s.loadAsset(w, r, p)
	if !ok {
		return
	}
	size := media.SizeThumb
	if r.URL.Query().Get("size") == "preview" {
		size = media.SizePreview
	}
	s.media.ServeThumb(w, r, a, size)
}

// handleUpload stores one or more files (multipart "file" parts) in a
// folder, each written to the storage first. A file is stored only when it
// arrived whole (see uploadBody): a body cut off, a file over the size
// limit or a client below the minimum rate leaves nothing of that file in
// the storage or the catalog.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, p *principal) {
	body, err := s.newUploadBody(w, r)
	if err != nil {
		s.writeError(w, r, errBadRequest("invalid_upload", "send the files as multipart/form-data with one or more \"file\" parts"))
		return
	}
	folderParam := r.URL.Query().Get("folder_id")
	mode, err := library.ParseOnConflict(r.URL.Query().Get("on_conflict"))
	if err != nil {
		s.writeError(w, r, libraryAPIError(err))
		return
	}
	out, results := []map[string]any{}, []map[string]any{}
	fail := func(err error) {
		if body.failed != nil {
			// What broke was the request body; the storage's or the
			// library's view of it says less.
			err = body.failed
			// The rest of the body is not worth reading.
			w.Header().Set("Connection", "close")
		}
		s.writeError(w, r, withUploaded(err, out))
	}
	for {
		part, err := body.nextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail(brokenBody("", err))
			return
		}
		switch part.FormName() {
		case "folder_id":
			v, _ := io.ReadAll(io.LimitReader(part, 32))
			folderParam = strings.TrimSpace(string(v))
			continue
		case "on_conflict":
			v, _ := io.ReadAll(io.LimitReader(part, 32))
			if mode, err = library.ParseOnConflict(strings.TrimSpace(string(v))); err != nil {
				fail(libraryAPIError(err))
				return
			}
			continue
		case "file":
		default:
			continue
		}
		folder, ok := optionalID(folderParam)
		if !ok {
			fail(errBadRequest("invalid_field", "folder_id must be a folder id"))
			return
		}
		name, aerr := uploadName(part)
		if aerr != nil {
			fail(aerr)
			return
		}
		ctype := part.Header.Get("Content-Type")
		res, err := s.library.UploadAs(r.Context(), p.Account.ID, p.User.ID, folder, name, body.file(part, name), -1, ctype, mode)
		if err != nil {
			fail(uploadAPIError(err, name))
			return
		}
		results = append(results, uploadResultJSON(name, res))
		if res.Outcome != library.OutcomeSkipped {
			out = append(out, assetJSON(res.Asset))
		}
	}
	if len(results) == 0 {
		s.writeError(w, r, errBadRequest("invalid_upload", "no \"file\" part in the upload"))
		return
	}
	status := http.StatusCreated
	if len(out) == 0 { // every file skipped: nothing was created
		status = http.StatusOK
	}
	writeJSON(w, status, map[string]any{"assets": out, "results": results})
}

// withUploaded adds to an upload's error the files of the same request
// that were stored before it failed ("assets"), so the client knows which
// to leave out when it tries again.
func withUploaded(err error, done []map[string]any) error {
	var ae *apiError
	if len(done) == 0 || !errors.As(err, &ae) {
		return err
	}
	with := *ae
	with.Message += fmt.Sprintf("; the %d file(s) before it were uploaded (listed in \"assets\")", len(done))
	with.Extra = map[string]any{"assets": done}
	for k, v := range ae.Extra {
		with.Extra[k] = v
	}
	return &with
}

// uploadName is the file name a multipart part was sent with, as sent: a
// name holding a path is refused rather than cut down to its last element
// (multipart.Part.FileName would turn "../x" into "x" and store the file
// under a name the user did not give).
func uploadName(part *multipart.Part) (string, *apiError) {
	_, params, err := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
	name := params["filename"]
	switch {
	case err != nil || name == "":
		return "", &apiError{Status: http.StatusBadRequest, Code: "invalid_upload", Field: "file", Message: "each file part needs a file name (Content-Disposition: form-data; name=\"file\"; filename=\"…\")"}
	case strings.ContainsAny(name, "/\\"):
		return "", &apiError{Status: http.StatusBadRequest, Code: "invalid_upload", Field: "file",
			Message: fmt.Sprintf("the file name %q holds a path; send the file's own name (choose the folder with folder_id)", name)}
	}
	return name, nil
}

// handlePatchAsset edits metadata, renames (name) and moves (folder_id);
// folder_id present and null moves the asset to the top level.
func (s *Server) handlePatchAsset(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("asset"))
		return
	}
	edit, aerr := decodeAssetEdit(r)
	if aerr != nil {
		s.writeError(w, r, aerr)
		return
	}
	a, err := s.library.EditAsset(r.Context(), p.Account.ID, p.User.ID, id, edit)
	if err != nil {
		s.writeError(w, r, withField(libraryAPIError(err), soleField(edit.Name != nil && edit.Meta == nil && !edit.Move, "name")))
		return
	}
	s.writeAssetWithFileMeta(w, r, a)
}

// decodeAssetEdit reads a PATCH asset body: every field present is part
// of the edit; an unknown field or a value of the wrong type is refused.
func decodeAssetEdit(r *http.Request) (library.AssetEdit, error) {
	var req map[string]jsonRaw
	if err := decodeJSON(r, &req); err != nil {
		return library.AssetEdit{}, err
	}
	var edit library.AssetEdit
	var m catalog.MetadataUpdate
	for key, raw := range req {
		var err error
		switch key {
		case "title":
			err = raw.into(&m.Title)
		case "description":
			err = raw.into(&m.Description)
		case "tags":
			err = raw.into(&m.Tags)
		case "rating":
			err = raw.into(&m.Rating)
		case "custom":
			err = raw.into(&m.Custom)
			if m.Custom == nil {
				m.Custom = map[string]string{}
			}
		case "name":
			var name string
			err = raw.into(&name)
			if err == nil {
				if ferr := nameFieldError(name); ferr != nil {
					return library.AssetEdit{}, ferr
				}
			}
			edit.Name = &name
		case "folder_id":
			err = raw.into(&edit.FolderID)
			edit.Move = true
		default:
			return library.AssetEdit{}, &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Field: key,
				Message: fmt.Sprintf("unknown field %q; editable: title, description, tags, rating, custom, name, folder_id", key)}
		}
		if err != nil {
			return library.AssetEdit{}, &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Field: key, Message: fmt.Sprintf("%s has the wrong type: %v", key, err)}
		}
		if key != "name" && key != "folder_id" {
			edit.Meta = &m
		}
	}
	return edit, nil
}

func (s *Server) handleDeleteAsset(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("asset"))
		return
	}
	if err := s.library.DeleteAsset(r.Context(), p.Account.ID, p.User.ID, id); err != nil {
		s.libraryError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
