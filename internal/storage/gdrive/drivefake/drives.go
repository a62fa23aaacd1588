package drivefake

import (
	"net/http"
)

func driveJSON(f *file) map[string]any {
	return map[string]any{"kind": "drive#drive", "id": f.id, "name": f.name}
}

// handleDrivesList serves drives.list: the shared drives the user can see,
// at most 100 a page.
func (s *Server) handleDrivesList(w http.ResponseWriter, r *http.Request, _ string) {
	v := r.URL.Query()
	size, err := pageSize(v, 10, 100)
	if err != nil {
		writeInvalid(w, "pageSize", err.Error())
		return
	}
	p, err := parsePageToken(v.Get("pageToken"), requestHash("drives", v))
	if err != nil {
		writeInvalid(w, "pageToken", "")
		return
	}
	s.mu.Lock()
	var drives []*file
	for _, id := range s.st.drives {
		if f, ok := s.st.files[id]; ok && s.st.visible(f) {
			drives = append(drives, f)
		}
	}
	from, to, next := s.window(p, len(drives), size)
	items := make([]any, 0, to-from)
	for _, f := range drives[from:to] {
		items = append(items, driveJSON(f))
	}
	s.mu.Unlock()
	body := map[string]any{"kind": "drive#driveList", "drives": items}
	if next {
		body["nextPageToken"] = pageState{offset: to, page: p.page + 1, hash: p.hash}.token()
	}
	s.respond(w, v, body, nil)
}

func (s *Server) handleDriveGet(w http.ResponseWriter, r *http.Request, id string) {
	s.mu.Lock()
	f, ok := s.st.files[id]
	ok = ok && f.parent == "" && f.driveID == id && s.st.visible(f)
	var body map[string]any
	if ok {
		body = driveJSON(f)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "notFound", "Shared drive not found: "+id, "driveId", "parameter")
		return
	}
	s.respond(w, r.URL.Query(), body, nil)
}

// handleAbout serves about.get, which (as in Drive) requires fields.
func (s *Server) handleAbout(w http.ResponseWriter, r *http.Request, _ string) {
	v := r.URL.Query()
	if v.Get("fields") == "" {
		writeError(w, http.StatusBadRequest, "required", "The 'fields' parameter is required for this method.", "fields", "parameter")
		return
	}
	body := map[string]any{
		"kind":         "drive#about",
		"user":         map[string]any{"kind": "drive#user", "displayName": "Fake User", "emailAddress": "user@example.com", "me": true},
		"storageQuota": map[string]any{"limit": "16106127360", "usage": "0"},
	}
	s.respond(w, v, body, nil)
}
