package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/shelf-dam/shelf/internal/auth"
	"github.com/shelf-dam/shelf/internal/catalog"
)

func validRole(role string) bool {
	return role == catalog.RoleAdmin || role == catalog.RoleEditor || role == catalog.RoleViewer
}

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
	email, err := auth.NormalizeEmail(req.Email)
	if err != nil {
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid_email", Field: "email", Message: err.Error()})
		return
	}
	if !validRole(req.Role) {
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid_role", Field: "role", Message: "role must be admin, editor or viewer"})
		return
	}
	if err := auth.CheckPasswordRules(req.Password, email); err != nil {
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "weak_password", Field: "password", Message: err.Error()})
		return
	}
	hash, err := auth.HashPassword(req.Password)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.store.CreateUser(r.Context(), catalog.NewUser{AccountID: p.Account.ID, Email: email, Name: strings.TrimSpace(req.Name), PasswordHash: hash, Role: req.Role}, s.now())
	if errors.Is(err, catalog.ErrConflict) {
		s.writeError(w, r, &apiError{Status: http.StatusConflict, Code: "email_taken", Field: "email", Message: "a user with this email already exists"})
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"user": userJSON(u)})
}

// handleUpdateUser changes a user's role or password (admins of the same
// account only; an admin cannot demote the account's last admin).
func (s *Server) handleUpdateUser(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("user"))
		return
	}
	var req struct {
		Role     *string `json:"role"`
		Password *string `json:"password"`
	}
	if err := decodeJSONStrict(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.userOfAccount(r, p, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Check every field before changing any, so a refused request changes
	// nothing.
	if req.Role != nil && !validRole(*req.Role) {
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid_role", Field: "role", Message: "role must be admin, editor or viewer"})
		return
	}
	if req.Password != nil {
		if err := auth.CheckPasswordRules(*req.Password, u.Email); err != nil {
			s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "weak_password", Field: "password", Message: err.Error()})
			return
		}
	}
	if req.Role != nil {
		if err := s.store.SetRoleKeepingAdmin(r.Context(), p.Account.ID, u.ID, *req.Role, s.now()); err != nil {
			s.writeError(w, r, userChangeErr(err))
			return
		}
		u.Role = *req.Role
	}
	if req.Password != nil {
		hash, err := auth.HashPassword(*req.Password)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := s.store.SetPassword(r.Context(), u.ID, hash, s.now()); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := s.store.DeleteUserSessions(r.Context(), u.ID); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": userJSON(u)})
}

func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("user"))
		return
	}
	u, err := s.userOfAccount(r, p, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.DeleteUserKeepingAdmin(r.Context(), p.Account.ID, u.ID); err != nil {
		s.writeError(w, r, userChangeErr(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// userOfAccount loads a user of the principal's account; users of other
// accounts are "not found".
func (s *Server) userOfAccount(r *http.Request, p *principal, id int64) (catalog.User, error) {
	u, err := s.store.GetAccountUser(r.Context(), p.Account.ID, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return catalog.User{}, errNotFound("user")
	}
	return u, err
}

// userChangeErr maps the catalog's refusals of a role change or removal.
func userChangeErr(err error) error {
	switch {
	case errors.Is(err, catalog.ErrLastAdmin):
		return errorf(http.StatusConflict, "last_admin", "an account needs at least one admin; make another user admin first")
	case errors.Is(err, catalog.ErrNotFound):
		return errNotFound("user")
	}
	return err
}
