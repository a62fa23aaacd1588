package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/shelf-dam/shelf/internal/connections"
)

// handleOAuthStart sends an admin to Google's consent screen to let Shelf
// use their Drive (authorization code + PKCE).
func (s *Server) handleOAuthStart(w http.ResponseWriter, r *http.Request, p *principal) {
	u, err := s.conns.DriveAuthURL(r.Context(), p.Account.ID, p.User.ID)
	if errors.Is(err, connections.ErrOAuthOff) {
		http.Redirect(w, r, "/settings/storage?drive_error="+url.QueryEscape(err.Error()), http.StatusSeeOther)
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	http.Redirect(w, r, u, http.StatusFound)
}

// handleOAuthCallback receives Google's answer: the state must match one
// this admin started; the code is exchanged and the grant kept until a
// folder is picked.
func (s *Server) handleOAuthCallback(w http.ResponseWriter, r *http.Request, p *principal) {
	q := r.URL.Query()
	back := func(key, msg string) {
		http.Redirect(w, r, "/settings/storage?"+key+"="+url.QueryEscape(msg), http.StatusSeeOther)
	}
	if e := q.Get("error"); e != "" {
		back("drive_error", "Google did not authorize Shelf ("+e+"); try again and allow access")
		return
	}
	err := s.conns.DriveCallback(r.Context(), p.Account.ID, p.User.ID, q.Get("state"), q.Get("code"))
	if err != nil {
		s.logger.WarnContext(r.Context(), "Google authorization failed", "account_id", p.Account.ID, "err", err)
		back("drive_error", err.Error())
		return
	}
	back("drive", "authorized")
}

// handleDriveFolders lists Drive folders for the folder picker.
func (s *Server) handleDriveFolders(w http.ResponseWriter, r *http.Request, p *principal) {
	folders, err := s.conns.DriveFolders(r.Context(), p.Account.ID, r.URL.Query().Get("parent"))
	if errors.Is(err, connections.ErrDriveNotAuthorized) {
		s.writeError(w, r, errorf(http.StatusConflict, "drive_not_authorized", "%v", err))
		return
	}
	if err != nil {
		s.conns.MarkFailure(r.Context(), p.Account.ID, err)
		s.writeError(w, r, errorf(http.StatusBadGateway, "storage_error", "%v", err))
		return
	}
	out := make([]map[string]any, 0, len(folders))
	for _, f := range folders {
		out = append(out, map[string]any{"id": f.ID, "name": f.Name, "has_children": f.HasChildren, "shared_drive": f.SharedDrive})
	}
	writeJSON(w, http.StatusOK, map[string]any{"folders": out})
}
