package drivefake

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// corpus describes which items a request may see: My Drive only, or shared
// drives too (and which).
type corpus struct {
	allDrives bool   // supportsAllDrives: shared drive items may be addressed
	include   bool   // includeItemsFromAllDrives (with corpora allDrives/drive)
	driveID   string // corpora=drive
}

func corpusOf(v url.Values) corpus {
	return corpus{
		allDrives: v.Get("supportsAllDrives") == "true",
		include:   v.Get("includeItemsFromAllDrives") == "true",
		driveID:   v.Get("driveId"),
	}
}

// addressable reports whether a call may address f by ID: the user can see
// it and, for shared drive items, the call says supportsAllDrives (Drive
// answers 404 otherwise).
func (s *Server) addressable(f *file, c corpus) bool {
	return s.st.visible(f) && (f.driveID == "" || c.allDrives)
}

// lookup finds a file by ID ("root" is My Drive's root) for a call.
func (s *Server) lookup(id string, c corpus) (*file, bool) {
	if id == "root" {
		id = s.st.rootID
	}
	f, ok := s.st.files[id]
	if !ok || !s.addressable(f, c) {
		return nil, false
	}
	return f, true
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request, _ string) {
	v := r.URL.Query()
	c := corpusOf(v)
	corpora := v.Get("corpora")
	switch corpora {
	case "", "user", "allDrives":
	case "drive":
		if c.driveID == "" {
			writeInvalid(w, "driveId", "The driveId parameter must be specified if and only if corpora is set to drive.")
			return
		}
	default:
		writeInvalid(w, "corpora", "")
		return
	}
	if (corpora == "drive" || corpora == "allDrives") && !(c.include && c.allDrives) {
		writeError(w, http.StatusForbidden, "teamDriveInclusionRequired", "The includeItemsFromAllDrives parameter must be set to true when searching shared drives.", "", "")
		return
	}
	size, err := pageSize(v, 100, 1000)
	if err != nil {
		writeInvalid(w, "pageSize", err.Error())
		return
	}
	q, err := parseQuery(v.Get("q"))
	if err != nil {
		writeInvalid(w, "q", "Invalid Value")
		return
	}
	p, err := parsePageToken(v.Get("pageToken"), requestHash("files", v, "q", "corpora", "driveId", "includeItemsFromAllDrives"))
	if err != nil {
		writeInvalid(w, "pageToken", "")
		return
	}

	s.mu.Lock()
	q.resolveRoot(s.st.rootID)
	var matches []*file
	if !(s.opts.BrokenORParents && q.orParents > 1) {
		matches = s.listMatches(q, c, corpora)
	}
	from, to, next := s.window(p, len(matches), size)
	items := make([]any, 0, to-from)
	for _, f := range matches[from:to] {
		items = append(items, f.json())
	}
	incomplete := s.opts.IncompleteSearch
	s.mu.Unlock()

	body := map[string]any{"kind": "drive#fileList", "incompleteSearch": incomplete, "files": items}
	if next {
		body["nextPageToken"] = pageState{offset: to, page: p.page + 1, hash: p.hash}.token()
	}
	s.respond(w, r.URL.Query(), body, defaultListFields)
}

// listMatches returns the files a list query matches, in creation order.
// Called with s.mu held.
func (s *Server) listMatches(q *query, c corpus, corpora string) []*file {
	var candidates []*file
	if q.parents != nil {
		seen := map[string]bool{}
		for _, pid := range q.parents {
			if seen[pid] {
				continue
			}
			seen[pid] = true
			candidates = append(candidates, s.st.sortedChildren(pid)...)
		}
		sortBySeq(candidates)
	} else {
		for _, f := range s.st.files {
			candidates = append(candidates, f)
		}
		sortBySeq(candidates)
	}
	var out []*file
	for _, f := range candidates {
		if f.id == s.st.rootID || !s.st.visible(f) || !q.match(f) {
			continue
		}
		switch {
		case f.driveID == "" && corpora == "drive":
			continue
		case f.driveID != "" && (corpora == "" || corpora == "user"):
			continue
		case f.driveID != "" && corpora == "drive" && f.driveID != c.driveID:
			continue
		}
		out = append(out, f)
	}
	return out
}

// respond writes body masked by the request's fields parameter (or by
// Drive's default fields).
func (s *Server) respond(w http.ResponseWriter, v url.Values, body map[string]any, defaults selector) {
	_, present := v["fields"]
	out, err := mask(v.Get("fields"), present, defaults, body)
	if err != nil {
		writeInvalid(w, "fields", "Invalid field selection "+v.Get("fields"))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	f, ok := s.lookup(id, corpusOf(r.URL.Query()))
	var body map[string]any
	if ok {
		body = f.json()
	}
	s.mu.Unlock()
	if !ok {
		writeNotFound(w, id)
		return
	}
	s.respond(w, r.URL.Query(), body, defaultFileFields)
}

func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	f, ok := s.lookup(id, corpusOf(r.URL.Query()))
	var content []byte
	var mime, name string
	downloadable := ok && f.hasContent()
	if downloadable {
		content, mime, name = f.content, f.mime, f.name
	}
	modified := s.opts.Now()
	if ok {
		modified = f.modified
	}
	s.mu.Unlock()
	switch {
	case !ok:
		writeNotFound(w, id)
	case !downloadable:
		writeError(w, http.StatusForbidden, "fileNotDownloadable", "Only files with binary content can be downloaded. Use Export with Docs Editors files.", "alt", "parameter")
	default:
		w.Header().Set("Content-Type", mime)
		http.ServeContent(w, r, name, modified, bytes.NewReader(content))
	}
}

// fileMeta is the part of a files.create / files.update body the fake
// understands.
type fileMeta struct {
	Name            *string  `json:"name"`
	MimeType        string   `json:"mimeType"`
	Parents         []string `json:"parents"`
	Trashed         *bool    `json:"trashed"`
	ShortcutDetails *struct {
		TargetID string `json:"targetId"`
	} `json:"shortcutDetails"`
}

func decodeMeta(r io.Reader) (fileMeta, error) {
	var m fileMeta
	b, err := io.ReadAll(r)
	if err != nil {
		return m, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return m, nil
	}
	return m, json.Unmarshal(b, &m)
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, _ string) {
	meta, err := decodeMeta(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "parseError", "Parse Error", "", "")
		return
	}
	s.createAndRespond(w, r.URL.Query(), meta, nil, "")
}

// createAndRespond creates a file from metadata (and content for uploads)
// and answers it.
func (s *Server) createAndRespond(w http.ResponseWriter, v url.Values, meta fileMeta, content []byte, mediaType string) {
	c := corpusOf(v)
	s.mu.Lock()
	f, fail := s.createLocked(meta, content, mediaType, c)
	var body map[string]any
	if f != nil {
		body = f.json()
	}
	s.mu.Unlock()
	if fail != nil {
		fail(w)
		return
	}
	s.respond(w, v, body, defaultFileFields)
}

// createLocked validates and creates a file; on failure it returns a
// function that writes Drive's error. Called with s.mu held.
func (s *Server) createLocked(meta fileMeta, content []byte, mediaType string, c corpus) (*file, func(http.ResponseWriter)) {
	parentID := s.st.rootID
	switch len(meta.Parents) {
	case 0:
	case 1:
		parentID = meta.Parents[0]
	default:
		return nil, func(w http.ResponseWriter) {
			writeError(w, http.StatusForbidden, "cannotAddParent", "Increasing the number of parents is not allowed.", "", "")
		}
	}
	parent, ok := s.lookup(parentID, c)
	if !ok {
		return nil, func(w http.ResponseWriter) { writeNotFound(w, parentID) }
	}
	if !parent.isFolder() {
		return nil, func(w http.ResponseWriter) {
			writeError(w, http.StatusBadRequest, "invalidParent", "The specified parent is not a folder.", "parents", "parameter")
		}
	}
	if s.st.access(parent) != AccessWriter {
		return nil, writeNoPermission
	}
	name := "Untitled"
	if meta.Name != nil {
		name = *meta.Name
	}
	mime := meta.MimeType
	if mime == "" {
		mime = mediaType
	}
	if mime == "" {
		mime = "application/octet-stream"
	}
	f := &file{name: name, mime: mime, parent: parent.id, driveID: parent.driveID, content: content}
	if mime == ShortcutMIME {
		if meta.ShortcutDetails == nil {
			return nil, func(w http.ResponseWriter) { writeInvalid(w, "shortcutDetails.targetId", "") }
		}
		target, ok := s.lookup(meta.ShortcutDetails.TargetID, c)
		if !ok {
			return nil, func(w http.ResponseWriter) { writeNotFound(w, meta.ShortcutDetails.TargetID) }
		}
		f.target, f.targetMT = target.id, target.mime
	}
	return s.st.add(f), nil
}

func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request, id string) {
	meta, err := decodeMeta(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "parseError", "Parse Error", "", "")
		return
	}
	s.updateAndRespond(w, r.URL.Query(), id, meta, nil)
}

// updateAndRespond applies a files.update (metadata, parents, and content
// for uploads) and answers the file.
func (s *Server) updateAndRespond(w http.ResponseWriter, v url.Values, id string, meta fileMeta, content []byte) {
	c := corpusOf(v)
	s.mu.Lock()
	f, fail := s.updateLocked(id, meta, content, splitIDs(v.Get("addParents")), splitIDs(v.Get("removeParents")), c)
	var body map[string]any
	if f != nil {
		body = f.json()
	}
	s.mu.Unlock()
	if fail != nil {
		fail(w)
		return
	}
	s.respond(w, v, body, defaultFileFields)
}

func splitIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// updateLocked validates and applies an update. Called with s.mu held.
func (s *Server) updateLocked(id string, meta fileMeta, content []byte, add, remove []string, c corpus) (*file, func(http.ResponseWriter)) {
	f, ok := s.lookup(id, c)
	if !ok || f.parent == "" && (len(add) > 0 || len(remove) > 0 || meta.Trashed != nil) {
		return nil, func(w http.ResponseWriter) { writeNotFound(w, id) }
	}
	if s.st.access(f) != AccessWriter {
		return nil, writeNoPermission
	}
	if len(meta.Parents) > 0 {
		return nil, func(w http.ResponseWriter) {
			writeError(w, http.StatusForbidden, "fieldNotWritable", "The resource body includes fields which are not directly writable.", "", "")
		}
	}
	newParent := f.parent
	for _, p := range remove {
		if p != f.parent {
			return nil, func(w http.ResponseWriter) { writeNotFound(w, p) }
		}
		newParent = ""
	}
	var dest *file
	switch {
	case len(add) > 1 || len(add) == 1 && newParent != "" && add[0] != newParent:
		return nil, func(w http.ResponseWriter) {
			writeError(w, http.StatusForbidden, "cannotAddParent", "Increasing the number of parents is not allowed.", "", "")
		}
	case len(add) == 1:
		d, ok := s.lookup(add[0], c)
		if !ok {
			return nil, func(w http.ResponseWriter) { writeNotFound(w, add[0]) }
		}
		if !d.isFolder() || s.st.ancestorOrSelf(d, f.id) {
			return nil, func(w http.ResponseWriter) {
				writeError(w, http.StatusBadRequest, "invalidParent", "The specified parent is not a folder or would create a cycle.", "addParents", "parameter")
			}
		}
		if s.st.access(d) != AccessWriter {
			return nil, writeNoPermission
		}
		dest = d
	case newParent == "":
		return nil, func(w http.ResponseWriter) {
			writeError(w, http.StatusForbidden, "cannotRemoveParent", "A file must have a parent; add a new parent when removing the last one.", "", "")
		}
	}

	if dest != nil && dest.id != f.parent {
		s.st.unlink(f)
		f.parent = dest.id
		s.st.link(f)
		if dest.driveID != f.driveID {
			s.st.setDrive(f, dest.driveID)
		}
	}
	if meta.Name != nil {
		f.name = *meta.Name
	}
	if content != nil {
		f.setContent(content)
	}
	if content != nil || meta.Name != nil {
		f.modified = s.opts.Now()
	}
	if meta.Trashed != nil && *meta.Trashed != f.trashed {
		s.setTrashed(f, *meta.Trashed)
		return f, nil
	}
	s.st.record(f)
	return f, nil
}

// setTrashed trashes or restores f and what is under it, recording a
// change for each. Called with s.mu held.
func (s *Server) setTrashed(f *file, trashed bool) {
	f.trashed, f.explicit = trashed, trashed
	s.st.record(f)
	var walk func(*file)
	walk = func(d *file) {
		for _, k := range s.st.sortedChildren(d.id) {
			if trashed && !k.trashed {
				k.trashed = true
				s.st.record(k)
				walk(k)
			} else if !trashed && k.trashed && !k.explicit {
				k.trashed = false
				s.st.record(k)
				walk(k)
			}
		}
	}
	walk(f)
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	f, ok := s.lookup(id, corpusOf(r.URL.Query()))
	switch {
	case !ok || f.parent == "":
		s.mu.Unlock()
		writeNotFound(w, id)
		return
	case s.st.access(f) != AccessWriter:
		s.mu.Unlock()
		writeNoPermission(w)
		return
	}
	s.st.removeTree(f)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
