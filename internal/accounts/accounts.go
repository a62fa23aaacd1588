// Package accounts holds the rules of accounts and users, shared by the web
// layer and the command line: signing up (a new account on the trial plan
// with its first admin), signing in (the password check and the limits on
// failed attempts), creating accounts and users, and changing passwords
// and roles.
package accounts

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/shelf-dam/shelf/internal/auth"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/policy"
)

// Store is the part of the catalog the service uses; *catalog.Store
// implements it.
type Store interface {
	CreateAccount(ctx context.Context, na catalog.NewAccount, now time.Time) (catalog.Account, error)
	CreateAccountWithAdmin(ctx context.Context, na catalog.NewAccount, admin catalog.NewUser, now time.Time) (catalog.Account, catalog.User, error)
	CreateUser(ctx context.Context, nu catalog.NewUser, now time.Time) (catalog.User, error)
	GetAccount(ctx context.Context, id int64) (catalog.Account, error)
	GetUserByEmail(ctx context.Context, email string) (catalog.User, error)
	GetAccountUser(ctx context.Context, accountID, userID int64) (catalog.User, error)
	SetRoleKeepingAdmin(ctx context.Context, accountID, userID int64, role string, now time.Time) error
	DeleteUserKeepingAdmin(ctx context.Context, accountID, userID int64) error
	ChangePassword(ctx context.Context, userID int64, passwordHash string, now time.Time, keepAPITokens bool) (int64, error)
	BeginSignInAttempt(ctx context.Context, emailKey, clientIP string, now, since time.Time) (int64, catalog.SignInCounts, error)
	ForgetSignInAttempt(ctx context.Context, id int64) error
	ClearSignInFailures(ctx context.Context, emailKey, clientIP string) error
}

var _ Store = (*catalog.Store)(nil)

// maxAccountName bounds an account's name.
const maxAccountName = 200

// Config holds a Service's dependencies; Store is required.
type Config struct {
	Store Store
	// TrialLength is how long a new account's trial lasts (SHELF_TRIAL_DAYS).
	TrialLength time.Duration
	// SignupOpen lets anyone sign up (SHELF_SIGNUP=open).
	SignupOpen bool
	Logger     *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Service creates accounts and users and signs users in. It is safe for
// concurrent use; its sign-in limits are kept in the catalog, shared by
// every process on it.
type Service struct {
	cfg Config
}

// New returns a Service with cfg, defaults filled in.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// NewUser is a user to create: the password in clear (it is checked against
// the password rules and stored hashed).
type NewUser struct {
	Email      string
	Name       string
	Password   string
	Role       string // admin, editor or viewer; the first user of a new account is always admin
	IsOperator bool
}

// SignUp is what signing up takes.
type SignUp struct {
	Email       string
	Password    string
	AccountName string
	Name        string
}

// SignupOpen reports whether anyone may sign up.
func (s *Service) SignupOpen() bool { return s.cfg.SignupOpen }

// SignupAllowed refuses with ErrSignupClosed when sign-up is closed.
func (s *Service) SignupAllowed() error {
	if !s.SignupOpen() {
		return refuse(ErrSignupClosed, "", "sign-up is closed on this Shelf; ask its operator for an account")
	}
	return nil
}

// SignUp creates an account on the trial plan with its first admin, when
// sign-up is open.
func (s *Service) SignUp(ctx context.Context, req SignUp) (catalog.Account, catalog.User, error) {
	if err := s.SignupAllowed(); err != nil {
		return catalog.Account{}, catalog.User{}, err
	}
	acct, u, err := s.CreateAccountWithAdmin(ctx, req.AccountName, NewUser{Email: req.Email, Name: req.Name, Password: req.Password})
	if errors.Is(err, ErrEmailTaken) {
		return catalog.Account{}, catalog.User{}, refuse(ErrEmailTaken, "email", "an account with this email already exists; sign in instead")
	}
	return acct, u, err
}

// CreateAccountWithAdmin creates an account named accountName on the trial
// plan and its first user, an admin (admin.Role is ignored), atomically.
func (s *Service) CreateAccountWithAdmin(ctx context.Context, accountName string, admin NewUser) (catalog.Account, catalog.User, error) {
	admin.Role = catalog.RoleAdmin
	email, err := checkEmail(admin.Email)
	if err != nil {
		return catalog.Account{}, catalog.User{}, err
	}
	name := strings.TrimSpace(accountName)
	switch {
	case name == "":
		return catalog.Account{}, catalog.User{}, refuse(ErrMissingField, "account_name", "account_name is required: the name of your team's library")
	case len(name) > maxAccountName:
		return catalog.Account{}, catalog.User{}, refuse(ErrInvalidField, "account_name", "account_name must be at most %d characters", maxAccountName)
	}
	nu, err := newCatalogUser(email, admin)
	if err != nil {
		return catalog.Account{}, catalog.User{}, err
	}
	now := s.now()
	acct, u, err := s.cfg.Store.CreateAccountWithAdmin(ctx, s.trialAccount(name, now), nu, now)
	if errors.Is(err, catalog.ErrConflict) {
		return catalog.Account{}, catalog.User{}, emailTaken()
	}
	if err != nil {
		return catalog.Account{}, catalog.User{}, err
	}
	s.cfg.Logger.InfoContext(ctx, "account created", slog.Int64("account_id", acct.ID), slog.Int64("user_id", u.ID))
	return acct, u, nil
}

// CreateAccount creates an account without users on plan (empty: trial).
func (s *Service) CreateAccount(ctx context.Context, name, plan string) (catalog.Account, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return catalog.Account{}, refuse(ErrMissingField, "name", "an account needs a name")
	case len(name) > maxAccountName:
		return catalog.Account{}, refuse(ErrInvalidField, "name", "an account name must be at most %d characters", maxAccountName)
	}
	if plan == "" {
		plan = policy.PlanTrial
	}
	if !policy.KnownPlan(plan) {
		return catalog.Account{}, refuse(ErrInvalidField, "plan", "unknown plan %q; use one of %s", plan, strings.Join(policy.Plans(), ", "))
	}
	now := s.now()
	na := catalog.NewAccount{Name: name, Plan: plan}
	if plan == policy.PlanTrial {
		na = s.trialAccount(name, now)
	}
	acct, err := s.cfg.Store.CreateAccount(ctx, na, now)
	if err != nil {
		return catalog.Account{}, err
	}
	s.cfg.Logger.InfoContext(ctx, "account created", slog.Int64("account_id", acct.ID))
	return acct, nil
}

// CreateUser adds a user to an existing account.
func (s *Service) CreateUser(ctx context.Context, accountID int64, nu NewUser) (catalog.User, error) {
	email, err := checkEmail(nu.Email)
	if err != nil {
		return catalog.User{}, err
	}
	cu, err := newCatalogUser(email, nu)
	if err != nil {
		return catalog.User{}, err
	}
	if _, err := s.cfg.Store.GetAccount(ctx, accountID); errors.Is(err, catalog.ErrNotFound) {
		return catalog.User{}, refuse(ErrNotFound, "account", "there is no account %d", accountID)
	} else if err != nil {
		return catalog.User{}, err
	}
	cu.AccountID = accountID
	u, err := s.cfg.Store.CreateUser(ctx, cu, s.now())
	if errors.Is(err, catalog.ErrConflict) {
		return catalog.User{}, emailTaken()
	}
	return u, err
}

// UserUpdate is a change of a user; nil fields stay.
type UserUpdate struct {
	Role     *string
	Password *string
	// KeepAPITokens keeps the user's API tokens working after a new
	// Password (by default a new password revokes them: whoever had the
	// old one may have made some).
	KeepAPITokens bool
}

// UpdateUser changes the role and/or the password of a user of the
// account. Every field is checked before any changes; an account keeps at
// least one admin (catalog.ErrLastAdmin). A new password ends the user's
// sessions and revokes their API tokens unless up.KeepAPITokens.
func (s *Service) UpdateUser(ctx context.Context, accountID, userID int64, up UserUpdate) (catalog.User, error) {
	u, err := s.cfg.Store.GetAccountUser(ctx, accountID, userID)
	if err != nil {
		return catalog.User{}, userChangeErr(err)
	}
	if up.Role != nil && !validRole(*up.Role) {
		return catalog.User{}, invalidRole()
	}
	if up.KeepAPITokens && up.Password == nil {
		return catalog.User{}, refuse(ErrInvalidField, "keep_api_tokens", "keep_api_tokens applies to a password change only; send it with password")
	}
	var hash string
	if up.Password != nil {
		if hash, err = hashPassword(*up.Password, u.Email); err != nil {
			return catalog.User{}, err
		}
	}
	if up.Role != nil {
		if err := s.cfg.Store.SetRoleKeepingAdmin(ctx, accountID, u.ID, *up.Role, s.now()); err != nil {
			return catalog.User{}, userChangeErr(err)
		}
		u.Role = *up.Role
	}
	if up.Password != nil {
		if err := s.setPassword(ctx, u, hash, up.KeepAPITokens); err != nil {
			return catalog.User{}, err
		}
	}
	return u, nil
}

// DeleteUser removes a user of the account; an account keeps at least one
// admin.
func (s *Service) DeleteUser(ctx context.Context, accountID, userID int64) error {
	return userChangeErr(s.cfg.Store.DeleteUserKeepingAdmin(ctx, accountID, userID))
}

// userChangeErr classifies the catalog's refusals of a role change or a
// removal.
func userChangeErr(err error) error {
	switch {
	case errors.Is(err, catalog.ErrLastAdmin):
		return &Error{Kind: ErrLastAdmin, Field: "role", Message: "an account needs at least one admin; make another user admin first", Err: err}
	case errors.Is(err, catalog.ErrNotFound):
		return &Error{Kind: ErrNotFound, Message: "user not found", Err: err}
	}
	return err
}

// SetPassword sets the password of the user with this email, ends the
// user's sessions and, unless keepAPITokens, revokes the user's API
// tokens.
func (s *Service) SetPassword(ctx context.Context, email, password string, keepAPITokens bool) (catalog.User, error) {
	addr, err := checkEmail(email)
	if err != nil {
		return catalog.User{}, err
	}
	hash, err := hashPassword(password, addr)
	if err != nil {
		return catalog.User{}, err
	}
	u, err := s.userByEmail(ctx, addr)
	if err != nil {
		return catalog.User{}, err
	}
	return u, s.setPassword(ctx, u, hash, keepAPITokens)
}

// EnsurePassword makes password the password of the user with this email.
// When it already is, nothing changes and the user stays signed in;
// otherwise it is set as by SetPassword (its API tokens revoked). It
// reports whether it changed.
func (s *Service) EnsurePassword(ctx context.Context, email, password string) (bool, error) {
	addr, err := checkEmail(email)
	if err != nil {
		return false, err
	}
	u, err := s.userByEmail(ctx, addr)
	if err != nil {
		return false, err
	}
	if auth.VerifyPassword(u.PasswordHash, password) {
		return false, nil
	}
	hash, err := hashPassword(password, addr)
	if err != nil {
		return false, err
	}
	return true, s.setPassword(ctx, u, hash, false)
}

func (s *Service) setPassword(ctx context.Context, u catalog.User, hash string, keepAPITokens bool) error {
	revoked, err := s.cfg.Store.ChangePassword(ctx, u.ID, hash, s.now(), keepAPITokens)
	if err != nil {
		return err
	}
	s.cfg.Logger.InfoContext(ctx, "password changed", slog.Int64("user_id", u.ID), slog.Int64("api_tokens_revoked", revoked))
	return nil
}

func (s *Service) userByEmail(ctx context.Context, email string) (catalog.User, error) {
	u, err := s.cfg.Store.GetUserByEmail(ctx, email)
	if errors.Is(err, catalog.ErrNotFound) {
		return catalog.User{}, refuse(ErrNotFound, "email", "there is no user with email %s", email)
	}
	return u, err
}

// trialAccount is a new account named name on the trial plan from now.
func (s *Service) trialAccount(name string, now time.Time) catalog.NewAccount {
	end := now.Add(s.cfg.TrialLength)
	return catalog.NewAccount{Name: name, Plan: policy.PlanTrial, TrialEndsAt: &end}
}

// newCatalogUser checks a new user's role and password and hashes the
// password; email is already normalised.
func newCatalogUser(email string, nu NewUser) (catalog.NewUser, error) {
	if !validRole(nu.Role) {
		return catalog.NewUser{}, invalidRole()
	}
	hash, err := hashPassword(nu.Password, email)
	if err != nil {
		return catalog.NewUser{}, err
	}
	return catalog.NewUser{Email: email, Name: strings.TrimSpace(nu.Name), PasswordHash: hash, Role: nu.Role, IsOperator: nu.IsOperator}, nil
}

// checkEmail returns the normalised address.
func checkEmail(email string) (string, error) {
	addr, err := auth.NormalizeEmail(email)
	if err != nil {
		return "", &Error{Kind: ErrInvalidEmail, Field: "email", Message: err.Error(), Err: err}
	}
	return addr, nil
}

// hashPassword checks the password rules and hashes the password.
func hashPassword(password, email string) (string, error) {
	if err := auth.CheckPasswordRules(password, email); err != nil {
		return "", &Error{Kind: ErrWeakPassword, Field: "password", Message: err.Error(), Err: err}
	}
	return auth.HashPassword(password)
}

func validRole(role string) bool {
	return role == catalog.RoleAdmin || role == catalog.RoleEditor || role == catalog.RoleViewer
}

func invalidRole() *Error {
	return refuse(ErrInvalidRole, "role", "role must be admin, editor or viewer")
}

func emailTaken() *Error {
	return refuse(ErrEmailTaken, "email", "a user with this email already exists")
}
