package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/jobs"
)

func runOrNil(r catalog.SyncRun, err error) (any, error) {
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return jobs.ViewRun(r), nil
}

// handleGetSync describes the account's sync state (SPEC §6).
func (s *Server) handleGetSync(w http.ResponseWriter, r *http.Request, p *principal) {
	ctx := r.Context()
	now := s.now()
	acct, err := s.store.GetAccount(ctx, p.Account.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	latest, err := runOrNil(s.store.LatestFinishedSyncRun(ctx, acct.ID))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	running, err := runOrNil(s.store.ActiveSyncRun(ctx, acct.ID))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	state := "idle"
	if running != nil {
		state = "running"
	}
	body := map[string]any{
		"state":                    state,
		"plan":                     acct.Plan,
		"storage_kind":             nil,
		"latest_run":               latest,
		"running_run":              running,
		"next_auto_sync_at":        timeOrNil(acct.NextAutoSyncAt),
		"manual_sync_available_at": nil,
		"manual_sync_allowed":      false,
		"plan_allowing_manual_now": nil,
		"manual_cooldown_seconds":  0,
		"auto_interval_seconds":    0,
	}
	conn, err := s.store.GetConnection(ctx, acct.ID)
	switch {
	case errors.Is(err, catalog.ErrNotFound):
	case err != nil:
		s.writeError(w, r, err)
		return
	default:
		body["storage_kind"] = conn.Kind
		lim := s.policy.Limits(acct.Plan, conn.Kind)
		body["manual_cooldown_seconds"] = int64(lim.ManualCooldown.Seconds())
		body["auto_interval_seconds"] = int64(lim.AutoInterval.Seconds())
		ok, at := s.policy.ManualAllowed(acct.Plan, conn.Kind, acct.LastManualSyncAt, now)
		body["manual_sync_allowed"] = ok
		if !at.IsZero() {
			body["manual_sync_available_at"] = rfc3339(at)
		}
		if !ok {
			if plan := s.policy.PlanAllowingManualNow(conn.Kind, acct.LastManualSyncAt, now); plan != "" {
				body["plan_allowing_manual_now"] = plan
			}
		}
	}
	previews, err := s.store.CountPendingPreviews(ctx, acct.ID, previewsCountLimit+1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body["previews_pending"] = previews
	writeJSON(w, http.StatusOK, body)
}

// handleStartSync starts a manual sync (202), returns the running one, or
// answers 429 when the plan does not allow it yet.
func (s *Server) handleStartSync(w http.ResponseWriter, r *http.Request, p *principal) {
	run, started, err := s.jobs.StartManualSync(r.Context(), p.Account.ID, p.User.ID, s.now())
	var cd *jobs.CooldownError
	switch {
	case errors.As(err, &cd):
		ae := &apiError{Status: http.StatusTooManyRequests, Code: "sync_not_available", Message: cd.Error(), RetryAfter: cd.RetryAfter,
			Extra: map[string]any{"available_at": rfc3339(cd.AvailableAt), "plan": cd.Plan}}
		if cd.AllowingPlan != "" {
			ae.Extra["plan_allowing_now"] = cd.AllowingPlan
		}
		s.writeError(w, r, ae)
		return
	case errors.Is(err, jobs.ErrNoStorage):
		s.writeError(w, r, errorf(http.StatusConflict, "no_storage", "%v", err))
		return
	case err != nil:
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"run": jobs.ViewRun(run), "started": started})
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
	out := make([]jobs.RunView, 0, len(runs))
	for _, run := range runs {
		out = append(out, jobs.ViewRun(run))
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
	writeJSON(w, http.StatusOK, map[string]any{"run": jobs.ViewRun(run)})
}

// handleConfirmRun lets an admin confirm the removals a run held back (the
// mass-delete guard): a new sync runs that may apply them.
func (s *Server) handleConfirmRun(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("sync run"))
		return
	}
	run, started, err := s.jobs.ConfirmMassDelete(r.Context(), p.Account.ID, p.User.ID, id, s.now())
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		s.writeError(w, r, errNotFound("sync run"))
		return
	case errors.Is(err, jobs.ErrNotConfirmable):
		s.writeError(w, r, errorf(http.StatusConflict, "not_confirmable", "%v", err))
		return
	case err != nil:
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"run": jobs.ViewRun(run), "started": started})
}
