package catalog

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// NewUser is what creating a user takes.
type NewUser struct {
	AccountID    int64
	Email        string
	Name         string
	PasswordHash string
	Role         string
	IsOperator   bool
}

const userColumns = `id, account_id, email, name, password_hash, role, is_operator, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var (
		u                User
		created, updated int64
	)
	if err := row.Scan(&u.ID, &u.AccountID, &u.Email, &u.Name, &u.PasswordHash, &u.Role, &u.IsOperator, &created, &updated); err != nil {
		return User{}, mapErr(err)
	}
	u.CreatedAt = fromMS(created)
	u.UpdatedAt = fromMS(updated)
	return u, nil
}

func checkRole(role string) error {
	switch role {
	case RoleAdmin, RoleEditor, RoleViewer:
		return nil
	}
	return fmt.Errorf("unknown role %q; use admin, editor or viewer", role)
}

// CreateUser adds a user to an account. The email is stored lower-cased; a
// taken email gives ErrConflict, an unknown account ErrNotFound.
func (s *Store) CreateUser(ctx context.Context, nu NewUser, now time.Time) (User, error) {
	return s.createUserTx(ctx, s.db, nu, now)
}

func (s *Store) createUserTx(ctx context.Context, q querier, nu NewUser, now time.Time) (User, error) {
	if err := checkRole(nu.Role); err != nil {
		return User{}, err
	}
	email := normalizeEmail(nu.Email)
	if email == "" || !strings.Contains(email, "@") {
		return User{}, fmt.Errorf("a user needs an email address")
	}
	u, err := scanUser(s.queryRow(ctx, q, `INSERT INTO users (account_id, email, name, password_hash, role, is_operator, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+userColumns,
		nu.AccountID, email, strings.TrimSpace(nu.Name), nu.PasswordHash, nu.Role, nu.IsOperator, ms(now), ms(now)))
	if err != nil {
		return User{}, fmt.Errorf("creating user %s: %w", email, err)
	}
	return u, nil
}

// GetUser returns a user by id, whatever the account (for sign-in state;
// use GetAccountUser when acting within an account).
func (s *Store) GetUser(ctx context.Context, id int64) (User, error) {
	return scanUser(s.queryRow(ctx, s.db, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
}

// GetAccountUser returns a user of the given account; a user of another
// account gives ErrNotFound.
func (s *Store) GetAccountUser(ctx context.Context, accountID, userID int64) (User, error) {
	return scanUser(s.queryRow(ctx, s.db, `SELECT `+userColumns+` FROM users WHERE id = ? AND account_id = ?`, userID, accountID))
}

// GetUserByEmail finds a user by email, ignoring case.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (User, error) {
	return scanUser(s.queryRow(ctx, s.db, `SELECT `+userColumns+` FROM users WHERE email = ?`, normalizeEmail(email)))
}

// ListUsers returns an account's users, oldest first.
func (s *Store) ListUsers(ctx context.Context, accountID int64) ([]User, error) {
	return s.listUsers(ctx, `SELECT `+userColumns+` FROM users WHERE account_id = ? ORDER BY id`, accountID)
}

// ListAllUsers returns every user of every account (for the operator CLI).
func (s *Store) ListAllUsers(ctx context.Context) ([]User, error) {
	return s.listUsers(ctx, `SELECT `+userColumns+` FROM users ORDER BY account_id, id`)
}

func (s *Store) listUsers(ctx context.Context, query string, args ...any) ([]User, error) {
	rows, err := s.query(ctx, s.db, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("reading user: %w", err)
		}
		out = append(out, u)
	}
	return out, mapErr(rows.Err())
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, userID int64, passwordHash string, now time.Time) error {
	return s.execOne(ctx, s.db, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, passwordHash, ms(now), userID)
}

// SetRole changes the role of a user of the account.
func (s *Store) SetRole(ctx context.Context, accountID, userID int64, role string, now time.Time) error {
	if err := checkRole(role); err != nil {
		return err
	}
	return s.execOne(ctx, s.db, `UPDATE users SET role = ?, updated_at = ? WHERE id = ? AND account_id = ?`, role, ms(now), userID, accountID)
}

// DeleteUser removes a user of the account with its sessions and tokens.
func (s *Store) DeleteUser(ctx context.Context, accountID, userID int64) error {
	return s.execOne(ctx, s.db, `DELETE FROM users WHERE id = ? AND account_id = ?`, userID, accountID)
}
