package accounts_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/policy"

	"github.com/shelf-dam/shelf/internal/accounts"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/testenv"
)

const goodPassword = "a good long password"

type fixture struct {
	ctx   context.Context
	store *catalog.Store
	svc   *accounts.Service

	mu  sync.Mutex
	now time.Time
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func setup(t *testing.T, signupOpen bool) *fixture {
	t.Helper()
	t.Parallel()
	return setupOn(t, catalogURL(t, catalog.DialectSQLite), signupOpen)
}

// setupOn is a fixture on the catalog at url (migrated here).
func setupOn(t *testing.T, url string, signupOpen bool) *fixture {
	t.Helper()
	f := &fixture{ctx: context.Background(), store: openStore(t, url), now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.svc = f.service(f.store, signupOpen)
	return f
}

// service is another accounts service on store with the fixture's clock,
// as another process on the same catalog would run.
func (f *fixture) service(store *catalog.Store, signupOpen bool) *accounts.Service {
	return accounts.New(accounts.Config{Store: store, TrialLength: 14 * 24 * time.Hour, SignupOpen: signupOpen, Now: f.clock})
}

// catalogURL is a fresh catalog of the dialect (PostgreSQL: skipped when
// the test database is not available).
func catalogURL(t *testing.T, dialect string) string {
	t.Helper()
	if dialect == catalog.DialectPostgres {
		return testenv.PostgresURL(t)
	}
	return filepath.Join(t.TempDir(), "shelf.db")
}

// openStore opens and migrates the catalog at url, closed when the test
// ends.
func openStore(t *testing.T, url string) *catalog.Store {
	t.Helper()
	ctx := context.Background()
	store, err := catalog.Open(ctx, url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return store
}

// forEachDialect runs fn on SQLite and on PostgreSQL with a fresh catalog's URL.
func forEachDialect(t *testing.T, fn func(t *testing.T, url string)) {
	t.Parallel()
	for _, d := range []string{catalog.DialectSQLite, catalog.DialectPostgres} {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, catalogURL(t, d))
		})
	}
}

// wantRefusal fails unless err is an *accounts.Error of kind (and field,
// when given).
func wantRefusal(t *testing.T, err, kind error, field, what string) {
	t.Helper()
	var ae *accounts.Error
	if !errors.Is(err, kind) || !errors.As(err, &ae) || ae.Message == "" {
		t.Fatalf("%s: %v, want a refusal %v", what, err, kind)
	}
	if field != "" && ae.Field != field {
		t.Fatalf("%s: field %q, want %q", what, ae.Field, field)
	}
}

func (f *fixture) session(t *testing.T, userID int64, token string) {
	t.Helper()
	now := f.clock()
	if err := f.store.CreateSession(f.ctx, catalog.Session{TokenHash: token, UserID: userID, CSRFToken: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeenAt: now}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) hasSession(token string) bool {
	_, err := f.store.GetSession(f.ctx, token, f.clock())
	return err == nil
}

func TestSignUp(t *testing.T) {
	f := setup(t, true)
	for _, tc := range []struct {
		what  string
		req   accounts.SignUp
		kind  error
		field string
	}{
		{"bad email", accounts.SignUp{Email: "not an address", Password: goodPassword, AccountName: "A"}, accounts.ErrInvalidEmail, "email"},
		{"no account name", accounts.SignUp{Email: "ann@example.com", Password: goodPassword, AccountName: "  "}, accounts.ErrMissingField, "account_name"},
		{"long account name", accounts.SignUp{Email: "ann@example.com", Password: goodPassword, AccountName: string(make([]byte, 201))}, accounts.ErrInvalidField, "account_name"},
		{"weak password", accounts.SignUp{Email: "ann@example.com", Password: "short", AccountName: "A"}, accounts.ErrWeakPassword, "password"},
	} {
		_, _, err := f.svc.SignUp(f.ctx, tc.req)
		wantRefusal(t, err, tc.kind, tc.field, tc.what)
	}
	if list, _ := f.store.ListAccounts(f.ctx); len(list) != 0 {
		t.Fatalf("refused sign-ups created %d accounts", len(list))
	}

	acct, u, err := f.svc.SignUp(f.ctx, accounts.SignUp{Email: " Ann@Example.com ", Password: goodPassword, AccountName: " Studio A ", Name: " Ann "})
	if err != nil {
		t.Fatal(err)
	}
	wantEnd := f.clock().Add(14 * 24 * time.Hour)
	if acct.Name != "Studio A" || acct.Plan != policy.PlanTrial || acct.TrialEndsAt == nil || !acct.TrialEndsAt.Equal(wantEnd) {
		t.Errorf("account = %+v, want Studio A on a trial ending %s", acct, wantEnd)
	}
	if u.Email != "ann@example.com" || u.Name != "Ann" || u.Role != catalog.RoleAdmin || u.AccountID != acct.ID || u.IsOperator {
		t.Errorf("user = %+v, want the account's first admin", u)
	}
	_, _, err = f.svc.SignUp(f.ctx, accounts.SignUp{Email: "ann@example.com", Password: goodPassword, AccountName: "Again"})
	wantRefusal(t, err, accounts.ErrEmailTaken, "email", "the same email twice")

	closed := accounts.New(accounts.Config{Store: f.store, SignupOpen: false})
	_, _, err = closed.SignUp(f.ctx, accounts.SignUp{Email: "bob@example.com", Password: goodPassword, AccountName: "B"})
	wantRefusal(t, err, accounts.ErrSignupClosed, "", "sign-up while closed")
	if closed.SignupOpen() || closed.SignupAllowed() == nil || !f.svc.SignupOpen() {
		t.Error("SignupOpen / SignupAllowed disagree with the configuration")
	}
}

func TestSignIn(t *testing.T) {
	f := setup(t, true)
	acct, _, err := f.svc.SignUp(f.ctx, accounts.SignUp{Email: "ann@example.com", Password: goodPassword, AccountName: "A"})
	if err != nil {
		t.Fatal(err)
	}
	u, a, err := f.svc.SignIn(f.ctx, "ANN@example.com", goodPassword, "10.0.0.1")
	if err != nil || u.Email != "ann@example.com" || a.ID != acct.ID {
		t.Fatalf("sign-in: %+v %+v %v", u, a, err)
	}
	_, _, err = f.svc.SignIn(f.ctx, "ann@example.com", "", "10.0.0.1")
	wantRefusal(t, err, accounts.ErrMissingField, "", "no password")
	_, _, err = f.svc.SignIn(f.ctx, "nobody@example.com", goodPassword, "10.0.0.1")
	wantRefusal(t, err, accounts.ErrBadCredentials, "", "unknown email")
}

func TestCreateAccountsAndUsers(t *testing.T) {
	f := setup(t, false)
	_, err := f.svc.CreateAccount(f.ctx, "Team", "platinum")
	wantRefusal(t, err, accounts.ErrInvalidField, "plan", "unknown plan")
	_, err = f.svc.CreateAccount(f.ctx, " ", "")
	wantRefusal(t, err, accounts.ErrMissingField, "name", "no name")
	trial, err := f.svc.CreateAccount(f.ctx, "Trial team", "")
	if err != nil || trial.Plan != policy.PlanTrial || trial.TrialEndsAt == nil {
		t.Fatalf("trial account: %+v %v", trial, err)
	}
	free, err := f.svc.CreateAccount(f.ctx, "Free team", policy.PlanFree)
	if err != nil || free.Plan != policy.PlanFree || free.TrialEndsAt != nil {
		t.Fatalf("free account: %+v %v", free, err)
	}

	_, err = f.svc.CreateUser(f.ctx, 999, accounts.NewUser{Email: "x@example.com", Password: goodPassword, Role: catalog.RoleViewer})
	wantRefusal(t, err, accounts.ErrNotFound, "", "user in an unknown account")
	_, err = f.svc.CreateUser(f.ctx, free.ID, accounts.NewUser{Email: "x@example.com", Password: goodPassword, Role: "owner"})
	wantRefusal(t, err, accounts.ErrInvalidRole, "role", "unknown role")
	ed, err := f.svc.CreateUser(f.ctx, free.ID, accounts.NewUser{Email: "Ed@Example.com", Name: " Ed ", Password: goodPassword, Role: catalog.RoleEditor, IsOperator: true})
	if err != nil || ed.Email != "ed@example.com" || ed.Name != "Ed" || ed.Role != catalog.RoleEditor || !ed.IsOperator || ed.AccountID != free.ID {
		t.Fatalf("created user: %+v %v", ed, err)
	}
	_, err = f.svc.CreateUser(f.ctx, trial.ID, accounts.NewUser{Email: "ed@example.com", Password: goodPassword, Role: catalog.RoleViewer})
	wantRefusal(t, err, accounts.ErrEmailTaken, "email", "an email taken in another account")

	// The first user of a new account is its admin, whatever role is asked.
	acct, admin, err := f.svc.CreateAccountWithAdmin(f.ctx, "Ops", accounts.NewUser{Email: "ops@example.com", Password: goodPassword, Role: catalog.RoleViewer})
	if err != nil || admin.Role != catalog.RoleAdmin || acct.Plan != policy.PlanTrial {
		t.Fatalf("account with admin: %+v %+v %v", acct, admin, err)
	}
}

func TestUpdateUserAndPasswords(t *testing.T) {
	f := setup(t, true)
	acct, admin, err := f.svc.SignUp(f.ctx, accounts.SignUp{Email: "ann@example.com", Password: goodPassword, AccountName: "A"})
	if err != nil {
		t.Fatal(err)
	}
	_, other, err := f.svc.SignUp(f.ctx, accounts.SignUp{Email: "bob@example.com", Password: goodPassword, AccountName: "B"})
	if err != nil {
		t.Fatal(err)
	}
	viewer := "viewer"
	_, err = f.svc.UpdateUser(f.ctx, acct.ID, admin.ID, accounts.UserUpdate{Role: &viewer})
	wantRefusal(t, err, accounts.ErrLastAdmin, "", "demoting the last admin")
	_, err = f.svc.UpdateUser(f.ctx, acct.ID, other.ID, accounts.UserUpdate{Role: &viewer})
	wantRefusal(t, err, accounts.ErrNotFound, "", "another account's user")
	wantRefusal(t, f.svc.DeleteUser(f.ctx, acct.ID, other.ID), accounts.ErrNotFound, "", "deleting another account's user")
	wantRefusal(t, f.svc.DeleteUser(f.ctx, acct.ID, admin.ID), accounts.ErrLastAdmin, "", "deleting the last admin")

	ed, err := f.svc.CreateUser(f.ctx, acct.ID, accounts.NewUser{Email: "ed@example.com", Password: goodPassword, Role: catalog.RoleEditor})
	if err != nil {
		t.Fatal(err)
	}
	f.session(t, ed.ID, "ed-session")
	weak := "short"
	_, err = f.svc.UpdateUser(f.ctx, acct.ID, ed.ID, accounts.UserUpdate{Role: &viewer, Password: &weak})
	wantRefusal(t, err, accounts.ErrWeakPassword, "password", "a role with a weak password")
	if got, _ := f.store.GetUser(f.ctx, ed.ID); got.Role != catalog.RoleEditor || !f.hasSession("ed-session") {
		t.Fatal("a refused update changed the user")
	}
	newPassword := "another good password"
	got, err := f.svc.UpdateUser(f.ctx, acct.ID, ed.ID, accounts.UserUpdate{Role: &viewer, Password: &newPassword})
	if err != nil || got.Role != catalog.RoleViewer || f.hasSession("ed-session") {
		t.Fatalf("update: %+v %v; the sessions should have ended", got, err)
	}
	if _, _, err := f.svc.SignIn(f.ctx, "ed@example.com", newPassword, "10.0.0.1"); err != nil {
		t.Fatalf("sign-in with the new password: %v", err)
	}

	// EnsurePassword leaves a matching password, and its sessions, alone.
	f.session(t, ed.ID, "ed-again")
	if changed, err := f.svc.EnsurePassword(f.ctx, "ed@example.com", newPassword); err != nil || changed || !f.hasSession("ed-again") {
		t.Fatalf("ensure the same password: changed %v, %v", changed, err)
	}
	if changed, err := f.svc.EnsurePassword(f.ctx, "ed@example.com", goodPassword); err != nil || !changed || f.hasSession("ed-again") {
		t.Fatalf("ensure another password: changed %v, %v", changed, err)
	}
	_, err = f.svc.SetPassword(f.ctx, "nobody@example.com", goodPassword, false)
	wantRefusal(t, err, accounts.ErrNotFound, "email", "the password of an unknown user")
	if _, err := f.svc.SetPassword(f.ctx, "ed@example.com", newPassword, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.SignIn(f.ctx, "ed@example.com", newPassword, "10.0.0.1"); err != nil {
		t.Fatalf("sign-in after SetPassword: %v", err)
	}
}

func (f *fixture) apiToken(t *testing.T, userID int64, name string) {
	t.Helper()
	if _, err := f.store.CreateAPIToken(f.ctx, catalog.APIToken{UserID: userID, Name: name, TokenHash: name, Prefix: "shelf_", CreatedAt: f.clock()}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) tokenWorks(name string) bool {
	_, err := f.store.GetAPITokenByHash(f.ctx, name)
	return err == nil
}

// TestPasswordChangeRevokesAPITokens: whoever had the old password may
// have made API tokens, so a new password (by an admin, the CLI or the
// demo) revokes them, unless asked to keep them.
func TestPasswordChangeRevokesAPITokens(t *testing.T) {
	f := setup(t, true)
	acct, admin, err := f.svc.SignUp(f.ctx, accounts.SignUp{Email: "ann@example.com", Password: goodPassword, AccountName: "A"})
	if err != nil {
		t.Fatal(err)
	}
	ed, err := f.svc.CreateUser(f.ctx, acct.ID, accounts.NewUser{Email: "ed@example.com", Password: goodPassword, Role: catalog.RoleEditor})
	if err != nil {
		t.Fatal(err)
	}
	f.apiToken(t, admin.ID, "ann-ci")
	f.apiToken(t, ed.ID, "ed-1")
	newPassword := "another good password"

	_, err = f.svc.UpdateUser(f.ctx, acct.ID, ed.ID, accounts.UserUpdate{KeepAPITokens: true})
	wantRefusal(t, err, accounts.ErrInvalidField, "keep_api_tokens", "keeping tokens without a new password")
	if _, err := f.svc.UpdateUser(f.ctx, acct.ID, ed.ID, accounts.UserUpdate{Password: &newPassword, KeepAPITokens: true}); err != nil || !f.tokenWorks("ed-1") {
		t.Fatalf("a new password keeping the tokens: %v; token works: %v", err, f.tokenWorks("ed-1"))
	}
	if _, err := f.svc.UpdateUser(f.ctx, acct.ID, ed.ID, accounts.UserUpdate{Password: &newPassword}); err != nil || f.tokenWorks("ed-1") {
		t.Fatalf("a new password: %v; the old token still works: %v", err, f.tokenWorks("ed-1"))
	}
	if !f.tokenWorks("ann-ci") {
		t.Fatal("another user's token was revoked")
	}

	f.apiToken(t, ed.ID, "ed-2")
	if _, err := f.svc.SetPassword(f.ctx, "ed@example.com", goodPassword, true); err != nil || !f.tokenWorks("ed-2") {
		t.Fatalf("SetPassword keeping tokens: %v", err)
	}
	if _, err := f.svc.SetPassword(f.ctx, "ed@example.com", newPassword, false); err != nil || f.tokenWorks("ed-2") {
		t.Fatalf("SetPassword: %v; the old token still works: %v", err, f.tokenWorks("ed-2"))
	}
	f.apiToken(t, ed.ID, "ed-3")
	if changed, err := f.svc.EnsurePassword(f.ctx, "ed@example.com", newPassword); err != nil || changed || !f.tokenWorks("ed-3") {
		t.Fatalf("EnsurePassword with the same password: %v %v", changed, err)
	}
	if changed, err := f.svc.EnsurePassword(f.ctx, "ed@example.com", goodPassword); err != nil || !changed || f.tokenWorks("ed-3") {
		t.Fatalf("EnsurePassword with another password: %v %v; the old token still works: %v", changed, err, f.tokenWorks("ed-3"))
	}
}
