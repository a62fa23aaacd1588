package web

import (
	"errors"
	"net/http"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/connections"
	"github.com/shelf-dam/shelf/internal/notify"
)

// handleGetStorage shows the account's connection without secrets.
func (s *Server) handleGetStorage(w http.ResponseWriter, r *http.Request, p *principal) {
	conn, err := s.store.GetConnection(r.Context(), p.Account.ID)
	if errors.Is(err, catalog.ErrNotFound) {
		writeJSON(w, http.StatusOK, map[string]any{"storage": nil})
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"storage": connections.Describe(conn)})
}

// handlePutStorage connects (or replaces) the account's storage after
// validating it against the storage itself, then starts the initial sync.
func (s *Server) handlePutStorage(w http.ResponseWriter, r *http.Request, p *principal) {
	var req connections.Request
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	conn, reset, err := s.conns.Connect(r.Context(), p.Account.ID, req)
	var ve *connections.ValidationError
	var rc *connections.RootChangeError
	switch {
	case errors.As(err, &ve):
		msg := "the storage settings do not work; see the fields"
		for _, m := range ve.Fields {
			if len(ve.Fields) == 1 {
				msg = m
			}
		}
		s.writeError(w, r, &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_storage", Message: msg, Fields: ve.Fields})
		return
	case errors.As(err, &rc):
		s.writeError(w, r, &apiError{Status: http.StatusConflict, Code: "root_change_needs_confirmation", Message: rc.Error(), Field: "confirm_root_change"})
		return
	case err != nil:
		s.writeError(w, r, err)
		return
	}
	s.logger.InfoContext(r.Context(), "storage connected", "account_id", p.Account.ID, "kind", conn.Kind, "library_reset", reset)
	run, _, err := s.syncs.StartInitialSync(r.Context(), p.Account.ID, p.User.ID, s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"storage": connections.Describe(conn), "sync_run": notify.ViewRun(run), "library_reset": reset})
}
