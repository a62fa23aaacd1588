package web

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/connections"
	"github.com/shelf-dam/shelf/internal/live"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/storage"
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
	desc := connections.Describe(conn)
	if conn.Kind == string(storage.KindS3) {
		u, err := s.eventsURL(r, p.Account.ID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		desc["events_url"] = u
	}
	writeJSON(w, http.StatusOK, map[string]any{"storage": desc})
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

// maxEventBody bounds a storage notification's body.
const maxEventBody = 1 << 20

// handleStorageEvents takes a storage's change notifications for live
// sync: S3 bucket events (directly or through SNS) and Google Drive push
// notifications, authenticated by the unguessable key in the URL (and SNS
// messages by their signature, Drive's by their channel token).
func (s *Server) handleStorageEvents(w http.ResponseWriter, r *http.Request) {
	if s.events == nil {
		s.writeError(w, r, errorf(http.StatusServiceUnavailable, "unavailable", "this process does not take storage events"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		s.writeError(w, r, errorf(http.StatusRequestEntityTooLarge, "too_large", "a storage notification may be at most 1 MiB; send fewer records per message"))
		return
	case err != nil:
		s.writeError(w, r, errorf(http.StatusBadRequest, "bad_request", "the notification body could not be read"))
		return
	}
	err = s.events.Receive(r.Context(), r.PathValue("key"), r.Header, body)
	var re *live.ReceiveError
	switch {
	case errors.As(err, &re):
		code := map[int]string{http.StatusNotFound: "not_found", http.StatusBadRequest: "bad_request", http.StatusForbidden: "forbidden",
			http.StatusBadGateway: "bad_gateway"}[re.Status]
		if code == "" {
			code = "unavailable"
		}
		s.writeError(w, r, errorf(re.Status, code, "%s", re.Message))
	case err != nil:
		s.writeError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	}
}

// eventsURL is the URL a storage posts its change notifications to.
func (s *Server) eventsURL(r *http.Request, accountID int64) (string, error) {
	key, err := s.store.EventsKey(r.Context(), accountID)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(s.cfg.PublicURL, "/") + "/api/v1/storage/events/" + key, nil
}
