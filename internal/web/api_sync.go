package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/syncrun"
)

// handleGetSync describes the account's sync state (SPEC §6), as
// syncrun.Status decides it.
func (s *Server) handleGetSync(w http.ResponseWriter, r *http.Request, p *principal) {
	st, err := s.syncs.Status(r.Context(), p.Account.ID, s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	state := "idle"
	if st.Running != nil {
		state = "running"
	}
	body := map[string]any{
		"state":                    state,
		"plan":                     st.Plan,
		"storage_kind":             nil,
		"latest_run":               runView(st.Latest),
		"running_run":              runView(st.Running),
		"next_auto_sync_at":        timeOrNil(st.NextAutoSyncAt),
		"manual_sync_allowed":      st.Manual.Allowed,
		"manual_sync_reason":       nil,
		"manual_sync_available_at": nil,
		"plan_allowing_manual_now": nil,
		"manual_cooldown_seconds":  int64(st.ManualCooldown.Seconds()),
		"auto_interval_seconds":    int64(st.AutoInterval.Seconds()),
		"live":                     st.Live,
		"last_change_at":           timeOrNil(st.LastChangeAt),
	}
	if st.Live {
		body["live_mode"], body["live_note"] = st.LiveMode, st.LiveNote
	}
	if st.StorageKind != "" {
		body["storage_kind"] = st.StorageKind
	}
	if st.Manual.Reason != "" {
		body["manual_sync_reason"] = st.Manual.Reason
	}
	if !st.Manual.AvailableAt.IsZero() {
		body["manual_sync_available_at"] = rfc3339(st.Manual.AvailableAt)
	}
	if st.Manual.AllowingPlan != "" {
		body["plan_allowing_manual_now"] = st.Manual.AllowingPlan
	}
	previews, err := s.store.CountPendingPreviews(r.Context(), p.Account.ID, previewsCountLimit+1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body["previews_pending"] = previews
	writeJSON(w, http.StatusOK, body)
}

// runView is a run's API shape, or null.
func runView(r *catalog.SyncRun) any {
	if r == nil {
		return nil
	}
	return notify.ViewRun(*r)
}

// handleStartSync starts a manual sync (202), returns the running one, or
// answers 429 when the plan does not allow it yet.
func (s *Server) handleStartSync(w http.ResponseWriter, r *http.Request, p *principal) {
	run, started, err := s.syncs.StartManualSync(r.Context(), p.Account.ID, p.User.ID, s.now())
	var cd *syncrun.CooldownError
	switch {
	case errors.As(err, &cd):
		ae := &apiError{Status: http.StatusTooManyRequests, Code: "sync_not_available", Message: cd.Error(), RetryAfter: cd.RetryAfter,
			Extra: map[string]any{"available_at": rfc3339(cd.AvailableAt), "plan": cd.Plan}}
		if cd.AllowingPlan != "" {
			ae.Extra["plan_allowing_now"] = cd.AllowingPlan
		}
		s.writeError(w, r, ae)
		return
	case errors.Is(err, syncrun.ErrNoStorage):
		s.writeError(w, r, errorf(http.StatusConflict, "no_storage", "%v", err))
		return
	case err != nil:
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"run": notify.ViewRun(run), "started": started})
}

func (s *Server) handleListRuns(w http.ResponseWriter, r *http.Request, p *principal) {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			s.writeError(w, r, errBadRequest("invalid_field", "limit must be a number from 1 to 200"))
			return
		}
		limit = n
	}
	runs, err := s.store.ListSyncRuns(r.Context(), p.Account.ID, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]notify.RunView, 0, len(runs))
	for _, run := range runs {
		out = append(out, notify.ViewRun(run))
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": out})
}

func (s *Server) handleGetRun(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("sync run"))
		return
	}
	run, err := s.store.GetSyncRun(r.Context(), p.Account.ID, id)
	if errors.Is(err, catalog.ErrNotFound) {
		s.writeError(w, r, errNotFound("sync run"))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	notes, err := s.store.ListRunNotes(r.Context(), p.Account.ID, run.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"run": notify.ViewRun(run), "notes": notes})
}

// handleConfirmRun lets an admin confirm the removals a run held back (the
// mass-delete guard): a new sync runs that may apply them.
func (s *Server) handleConfirmRun(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("sync run"))
		return
	}
	run, started, err := s.syncs.ConfirmMassDelete(r.Context(), p.Account.ID, p.User.ID, id, s.now())
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		s.writeError(w, r, errNotFound("sync run"))
		return
	case errors.Is(err, syncrun.ErrNotConfirmable):
		s.writeError(w, r, errorf(http.StatusConflict, "not_confirmable", "%v", err))
		return
	case err != nil:
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"run": notify.ViewRun(run), "started": started})
}
