package drivefake

import (
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// uploadSession is an open resumable upload: the metadata and query of the
// request that started it and the bytes received so far.
type uploadSession struct {
	fileID    string // "" for files.create, the file for files.update
	meta      fileMeta
	mediaType string
	query     url.Values
	buf       []byte
}

// handleUpload serves POST/PATCH /upload/drive/v3/files[/{id}] for the
// media, multipart and resumable upload types, and the chunk requests of
// resumable sessions.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, id string) {
	v := r.URL.Query()
	if sid := v.Get("upload_id"); sid != "" {
		s.handleChunk(w, r, sid)
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPatch {
		writeError(w, http.StatusMethodNotAllowed, "methodNotAllowed", "Method not allowed", "", "")
		return
	}
	if (r.Method == http.MethodPatch) != (id != "") {
		writeNotFound(w, id)
		return
	}
	switch v.Get("uploadType") {
	case "media":
		content, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		s.finishUpload(w, v, id, fileMeta{}, content, r.Header.Get("Content-Type"))
	case "multipart":
		meta, content, mediaType, err := readMultipart(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, "badContent", "Malformed multipart body: "+err.Error(), "", "")
			return
		}
		s.finishUpload(w, v, id, meta, content, mediaType)
	case "resumable":
		meta, err := decodeMeta(r.Body)
		if err != nil {
			writeError(w, http.StatusBadRequest, "parseError", "Parse Error", "", "")
			return
		}
		s.mu.Lock()
		if id != "" {
			if _, ok := s.lookup(id, corpusOf(v)); !ok {
				s.mu.Unlock()
				writeNotFound(w, id)
				return
			}
		}
		sid, _ := s.st.newID("up")
		s.uploads[sid] = &uploadSession{fileID: id, meta: meta, mediaType: r.Header.Get("X-Upload-Content-Type"), query: v}
		s.mu.Unlock()
		loc := s.URL() + r.URL.Path + "?uploadType=resumable&upload_id=" + sid
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusOK)
	default:
		writeInvalid(w, "uploadType", "")
	}
}

func (s *Server) finishUpload(w http.ResponseWriter, v url.Values, id string, meta fileMeta, content []byte, mediaType string) {
	if content == nil {
		content = []byte{}
	}
	if id == "" {
		s.createAndRespond(w, v, meta, content, mediaType)
		return
	}
	s.updateAndRespond(w, v, id, meta, content)
}

// readMultipart reads a multipart/related upload body: JSON metadata, then
// the media.
func readMultipart(r *http.Request) (fileMeta, []byte, string, error) {
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(ct, "multipart/") {
		return fileMeta{}, nil, "", fmt.Errorf("content type is not multipart")
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	part, err := mr.NextPart()
	if err != nil {
		return fileMeta{}, nil, "", fmt.Errorf("metadata part: %w", err)
	}
	meta, err := decodeMeta(part)
	if err != nil {
		return fileMeta{}, nil, "", fmt.Errorf("metadata part: %w", err)
	}
	part, err = mr.NextPart()
	if err != nil {
		return fileMeta{}, nil, "", fmt.Errorf("media part: %w", err)
	}
	content, err := io.ReadAll(part)
	if err != nil {
		return fileMeta{}, nil, "", fmt.Errorf("media part: %w", err)
	}
	return meta, content, part.Header.Get("Content-Type"), nil
}

// handleChunk receives one chunk of a resumable upload. Chunks carry
// "Content-Range: bytes a-b/total" (total "*" while unknown, or
// "bytes */total" to finish). An incomplete upload answers 308 with a Range
// header — or, when the client sent "X-GUploader-No-308: yes" as the Go
// client does, 200 with "X-HTTP-Status-Code-Override: 308".
func (s *Server) handleChunk(w http.ResponseWriter, r *http.Request, sid string) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	start, total, err := parseContentRange(r.Header.Get("Content-Range"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "badRequest", "Invalid Content-Range: "+err.Error(), "", "")
		return
	}
	s.mu.Lock()
	up, ok := s.uploads[sid]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "notFound", "No such upload session.", "upload_id", "parameter")
		return
	}
	if start < 0 {
		start = int64(len(up.buf))
	}
	if start > int64(len(up.buf)) {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "badRequest", "Chunk starts after the bytes received so far.", "", "")
		return
	}
	up.buf = append(up.buf[:start], body...)
	received := int64(len(up.buf))
	done := total >= 0 && received >= total
	if done {
		delete(s.uploads, sid)
	}
	s.mu.Unlock()

	if !done {
		if received > 0 {
			w.Header().Set("Range", "bytes=0-"+strconv.FormatInt(received-1, 10))
		}
		if r.Header.Get("X-GUploader-No-308") == "yes" {
			w.Header().Set("X-HTTP-Status-Code-Override", "308")
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusPermanentRedirect)
		return
	}
	s.finishUpload(w, up.query, up.fileID, up.meta, up.buf, up.mediaType)
}

// parseContentRange parses a chunk's Content-Range; total is -1 when "*",
// start is -1 for a request that carries no bytes ("bytes */total").
func parseContentRange(h string) (start, total int64, err error) {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, 0, fmt.Errorf("want \"bytes a-b/total\"")
	}
	rng, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, fmt.Errorf("missing /total")
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("bad total %q", tot)
		}
	}
	if rng == "*" {
		return -1, total, nil
	}
	a, _, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, fmt.Errorf("bad range %q", rng)
	}
	if start, err = strconv.ParseInt(a, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("bad range %q", rng)
	}
	return start, total, nil
}
