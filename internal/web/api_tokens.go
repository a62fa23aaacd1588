package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/shelf-dam/shelf/internal/auth"
	"github.com/shelf-dam/shelf/internal/catalog"
)

func tokenJSON(t catalog.APIToken) map[string]any {
	return map[string]any{
		"id":           t.ID,
		"name":         t.Name,
		"prefix":       t.Prefix,
		"created_at":   rfc3339(t.CreatedAt),
		"last_used_at": timeOrNil(t.LastUsedAt),
		"revoked_at":   timeOrNil(t.RevokedAt),
	}
}

// issueAPIToken creates a token for userID and returns it; only its hash is
// stored, so this is the one time it can be shown.
func (s *Server) issueAPIToken(r *http.Request, userID int64, name string) (string, error) {
	token, _, err := s.createAPIToken(r, userID, name)
	return token, err
}

// createAPIToken is issueAPIToken that also returns the stored row (for
// the list the Tokens page shows at once).
func (s *Server) createAPIToken(r *http.Request, userID int64, name string) (string, catalog.APIToken, error) {
	token, hash, prefix, err := auth.NewAPIToken()
	if err != nil {
		return "", catalog.APIToken{}, err
	}
	row, err := s.store.CreateAPIToken(r.Context(), catalog.APIToken{UserID: userID, Name: name, TokenHash: hash, Prefix: prefix, CreatedAt: s.now()})
	if err != nil {
		return "", catalog.APIToken{}, err
	}
	return token, row, nil
}

func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request, p *principal) {
	toks, err := s.store.ListAPITokens(r.Context(), p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(toks))
	for _, t := range toks {
		out = append(out, tokenJSON(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeJSONStrict(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	name := strings.TrimSpace(req.Name)
	if name == "" || len(name) > 100 {
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Field: "name", Message: "Enter a name (up to 100 characters) that says what the token is for."})
		return
	}
	token, row, err := s.createAPIToken(r, p.User.ID, name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	body := tokenJSON(row)
	body["token"], body["note"] = token, "copy this token now: it is shown only once"
	writeJSON(w, http.StatusCreated, body)
}

func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("token"))
		return
	}
	err := s.store.RevokeAPIToken(r.Context(), p.User.ID, id, s.now())
	if errors.Is(err, catalog.ErrNotFound) {
		s.writeError(w, r, errNotFound("token"))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleListAccountTokens lists the live API tokens of every user of the
// admin's account, each with its user.
func (s *Server) handleListAccountTokens(w http.ResponseWriter, r *http.Request, p *principal) {
	toks, err := s.store.ListAccountAPITokens(r.Context(), p.Account.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(toks))
	for _, t := range toks {
		j := tokenJSON(t.APIToken)
		j["user"] = map[string]any{"id": t.UserID, "email": t.UserEmail, "name": t.UserName}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// handleRevokeAccountToken revokes any user's token of the admin's account.
func (s *Server) handleRevokeAccountToken(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("token"))
		return
	}
	if err := s.store.RevokeAccountAPIToken(r.Context(), p.Account.ID, id, s.now()); err != nil {
		s.writeError(w, r, notFoundAs(err, "token"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// pathID parses a numeric path parameter.
func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}
