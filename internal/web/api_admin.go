package web

import (
	"errors"
	"net/http"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/policy"
)

func (s *Server) handleAdminListAccounts(w http.ResponseWriter, r *http.Request, p *principal) {
	accts, err := s.store.ListAccounts(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(accts))
	for _, a := range accts {
		out = append(out, accountJSON(a))
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": out})
}

// handleAdminSetPlan sets an account's plan (operators only).
func (s *Server) handleAdminSetPlan(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("account"))
		return
	}
	var req struct {
		Plan string `json:"plan"`
	}
	if err := decodeJSONStrict(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !policy.KnownPlan(req.Plan) {
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid_plan", Field: "plan", Message: "plan must be one of free, payg, micro, small, medium, enterprise, trial"})
		return
	}
	acct, err := s.plans.SetPlan(r.Context(), id, req.Plan)
	if errors.Is(err, catalog.ErrNotFound) {
		s.writeError(w, r, errNotFound("account"))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": accountJSON(acct)})
}
