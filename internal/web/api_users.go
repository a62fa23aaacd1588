package web

import (
	"net/http"

	"github.com/shelf-dam/shelf/internal/accounts"
)

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request, p *principal) {
	users, err := s.store.ListUsers(r.Context(), p.Account.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(users))
	for _, u := range users {
		out = append(out, userJSON(u))
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

// handleCreateUser adds a user to the admin's account with a password the
// admin hands over (there is no email invitation flow without SMTP).
func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Password string `json:"password"`
		Role     string `json:"role"`
	}
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.accounts.CreateUser(r.Context(), p.Account.ID, accounts.NewUser{Email: req.Email, Name: req.Name, Password: req.Password, Role: req.Role})
	if err != nil {
		s.writeError(w, r, accountsAPIError(err))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"user": userJSON(u)})
}

// handleUpdateUser changes a user's role or password (admins of the same
// account only; an admin cannot demote the account's last admin). A new
// password ends the user's sessions and revokes their API tokens unless
// keep_api_tokens is true.
func (s *Server) handleUpdateUser(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("user"))
		return
	}
	var req struct {
		Role          *string `json:"role"`
		Password      *string `json:"password"`
		KeepAPITokens bool    `json:"keep_api_tokens"`
	}
	if err := decodeJSONStrict(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.accounts.UpdateUser(r.Context(), p.Account.ID, id, accounts.UserUpdate{Role: req.Role, Password: req.Password, KeepAPITokens: req.KeepAPITokens})
	if err != nil {
		s.writeError(w, r, accountsAPIError(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": userJSON(u)})
}

func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("user"))
		return
	}
	if err := s.accounts.DeleteUser(r.Context(), p.Account.ID, id); err != nil {
		s.writeError(w, r, accountsAPIError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
