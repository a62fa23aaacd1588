package catalogtest

import (
	"slices"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/policy"

	"github.com/shelf-dam/shelf/internal/catalog"
)

func testMigrate(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	// Migrating again changes nothing and keeps the data.
	must(t, f.store.Migrate(f.ctx), "second Migrate")
	if _, err := f.store.GetAccount(f.ctx, f.accA.ID); err != nil {
		t.Fatalf("account lost after second Migrate: %v", err)
	}
	must(t, f.store.Ping(f.ctx), "Ping")
	var n int
	must(t, f.store.DB().QueryRowContext(f.ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n), "counting migrations")
	if n < 1 {
		t.Fatalf("schema_migrations has %d rows, want at least 1", n)
	}
	// River's tables exist on the same database.
	must(t, f.store.DB().QueryRowContext(f.ctx, `SELECT COUNT(*) FROM river_job`).Scan(&n), "River's river_job table")
	switch f.store.Dialect() {
	case catalog.DialectSQLite:
		if f.store.PgxPool() != nil {
			t.Fatal("PgxPool is set on SQLite")
		}
	case catalog.DialectPostgres:
		if f.store.PgxPool() == nil {
			t.Fatal("PgxPool is nil on PostgreSQL")
		}
	default:
		t.Fatalf("unknown dialect %q", f.store.Dialect())
	}
}

func testAccounts(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now

	if f.accA.Plan != policy.PlanTrial || f.accA.PlanExplicit {
		t.Fatalf("new account plan = %q explicit=%v, want trial, not explicit", f.accA.Plan, f.accA.PlanExplicit)
	}
	if f.adminA.Role != catalog.RoleAdmin || f.adminA.AccountID != f.accA.ID || f.adminA.Email != "admin@alpha.example" {
		t.Fatalf("first user = %+v, want an admin of account A with a lower-cased email", f.adminA)
	}
	if !f.accA.CreatedAt.Equal(now) || f.accA.CreatedAt.Location() != time.UTC {
		t.Fatalf("created_at = %v, want %v in UTC", f.accA.CreatedAt, now)
	}

	// A duplicate email creates neither the account nor the user.
	before, err := s.ListAccounts(ctx)
	must(t, err, "ListAccounts")
	_, _, err = s.CreateAccountWithAdmin(ctx, catalog.NewAccount{Name: "Gamma"},
		catalog.NewUser{Email: " ADMIN@alpha.example ", PasswordHash: "x"}, now)
	wantErr(t, err, catalog.ErrConflict, "signup with a taken email")
	after, err := s.ListAccounts(ctx)
	must(t, err, "ListAccounts")
	if len(after) != len(before) {
		t.Fatalf("duplicate signup left %d accounts, want %d", len(after), len(before))
	}
	if _, err := s.CreateAccount(ctx, catalog.NewAccount{Name: "Bad", Plan: "gold"}, now); err == nil {
		t.Fatal("an unknown plan was accepted")
	}

	got, err := s.GetAccount(ctx, f.accB.ID)
	must(t, err, "GetAccount")
	if got.Name != "Beta" {
		t.Fatalf("GetAccount name = %q", got.Name)
	}
	_, err = s.GetAccount(ctx, 999999)
	wantErr(t, err, catalog.ErrNotFound, "GetAccount of a missing id")

	// Trials: one ended, one running, one ended but set explicitly.
	ended, err := s.CreateAccount(ctx, catalog.NewAccount{Name: "Ended", TrialEndsAt: ptr(now.Add(-time.Minute))}, now)
	must(t, err, "CreateAccount")
	running, err := s.CreateAccount(ctx, catalog.NewAccount{Name: "Running", TrialEndsAt: ptr(now.Add(time.Hour))}, now)
	must(t, err, "CreateAccount")
	explicit, err := s.CreateAccount(ctx, catalog.NewAccount{Name: "Explicit", TrialEndsAt: ptr(now.Add(-time.Hour))}, now)
	must(t, err, "CreateAccount")
	next := now.Add(5 * time.Minute)
	must(t, s.SetPlan(ctx, explicit.ID, policy.PlanTrial, &next, now), "SetPlan")
	ids, err := s.ExpireTrials(ctx, now)
	must(t, err, "ExpireTrials")
	if !slices.Equal(ids, []int64{ended.ID}) {
		t.Fatalf("ExpireTrials = %v, want [%d]", ids, ended.ID)
	}
	for id, want := range map[int64]string{ended.ID: policy.PlanFree, running.ID: policy.PlanTrial, explicit.ID: policy.PlanTrial} {
		a, err := s.GetAccount(ctx, id)
		must(t, err, "GetAccount")
		if a.Plan != want {
			t.Fatalf("account %s plan = %q, want %q", a.Name, a.Plan, want)
		}
	}
	ids, err = s.ExpireTrials(ctx, now)
	must(t, err, "ExpireTrials again")
	if len(ids) != 0 {
		t.Fatalf("second ExpireTrials = %v, want none", ids)
	}

	// SetPlan marks explicit and schedules.
	must(t, s.SetPlan(ctx, f.accA.ID, policy.PlanSmall, &next, now), "SetPlan")
	a, err := s.GetAccount(ctx, f.accA.ID)
	must(t, err, "GetAccount")
	if a.Plan != policy.PlanSmall || !a.PlanExplicit || !timeEq(a.NextAutoSyncAt, &next) {
		t.Fatalf("after SetPlan: %+v", a)
	}
	if err := s.SetPlan(ctx, f.accA.ID, "platinum", nil, now); err == nil {
		t.Fatal("SetPlan accepted an unknown plan")
	}
	wantErr(t, s.SetPlan(ctx, 999999, policy.PlanFree, nil, now), catalog.ErrNotFound, "SetPlan of a missing account")

	// Due accounts: A at now+5m (from SetPlan), explicit at now+5m, B never.
	must(t, s.SetNextAutoSync(ctx, f.accB.ID, ptr(now.Add(-time.Minute)), now), "SetNextAutoSync")
	due, err := s.ListDueAccounts(ctx, now, 10)
	must(t, err, "ListDueAccounts")
	if len(due) != 1 || due[0].ID != f.accB.ID {
		t.Fatalf("due at now = %v, want only B", due)
	}
	due, err = s.ListDueAccounts(ctx, next, 10)
	must(t, err, "ListDueAccounts")
	if len(due) != 3 || due[0].ID != f.accB.ID {
		t.Fatalf("due at now+5m = %d accounts (first %v), want 3 with B first", len(due), due)
	}
	due, err = s.ListDueAccounts(ctx, next, 1)
	must(t, err, "ListDueAccounts limit 1")
	if len(due) != 1 {
		t.Fatalf("limit 1 gave %d", len(due))
	}
	must(t, s.SetNextAutoSync(ctx, f.accB.ID, nil, now), "SetNextAutoSync nil")
	due, err = s.ListDueAccounts(ctx, now, 10)
	must(t, err, "ListDueAccounts")
	if len(due) != 0 {
		t.Fatalf("due after clearing = %v", due)
	}

	must(t, s.SetLastManualSync(ctx, f.accB.ID, now), "SetLastManualSync")
	b, err := s.GetAccount(ctx, f.accB.ID)
	must(t, err, "GetAccount")
	if !timeEq(b.LastManualSyncAt, &now) {
		t.Fatalf("LastManualSyncAt = %v, want %v", b.LastManualSyncAt, now)
	}
}

func testUsers(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now

	ed, err := s.CreateUser(ctx, catalog.NewUser{AccountID: f.accA.ID, Email: "Ed@Alpha.example", Name: "Ed", PasswordHash: "h", Role: catalog.RoleEditor}, now)
	must(t, err, "CreateUser")
	_, err = s.CreateUser(ctx, catalog.NewUser{AccountID: f.accB.ID, Email: "ed@alpha.EXAMPLE", PasswordHash: "h", Role: catalog.RoleViewer}, now)
	wantErr(t, err, catalog.ErrConflict, "a second user with the same email in another case")
	_, err = s.CreateUser(ctx, catalog.NewUser{AccountID: 999999, Email: "ghost@x.example", PasswordHash: "h", Role: catalog.RoleViewer}, now)
	wantErr(t, err, catalog.ErrNotFound, "a user of a missing account")
	if _, err := s.CreateUser(ctx, catalog.NewUser{AccountID: f.accA.ID, Email: "r@x.example", PasswordHash: "h", Role: "owner"}, now); err == nil {
		t.Fatal("an unknown role was accepted")
	}

	got, err := s.GetUserByEmail(ctx, "  ED@ALPHA.EXAMPLE")
	must(t, err, "GetUserByEmail")
	if got.ID != ed.ID {
		t.Fatalf("GetUserByEmail = %d, want %d", got.ID, ed.ID)
	}
	_, err = s.GetUserByEmail(ctx, "nobody@alpha.example")
	wantErr(t, err, catalog.ErrNotFound, "GetUserByEmail of a missing email")
	got, err = s.GetUser(ctx, ed.ID)
	must(t, err, "GetUser")
	if got.Email != "ed@alpha.example" || got.Role != catalog.RoleEditor || got.Name != "Ed" {
		t.Fatalf("GetUser = %+v", got)
	}
	_, err = s.GetAccountUser(ctx, f.accB.ID, ed.ID)
	wantErr(t, err, catalog.ErrNotFound, "GetAccountUser across accounts")

	users, err := s.ListUsers(ctx, f.accA.ID)
	must(t, err, "ListUsers")
	if len(users) != 2 || users[0].ID != f.adminA.ID || users[1].ID != ed.ID {
		t.Fatalf("ListUsers(A) = %+v", users)
	}
	all, err := s.ListAllUsers(ctx)
	must(t, err, "ListAllUsers")
	if len(all) != 3 {
		t.Fatalf("ListAllUsers = %d users, want 3", len(all))
	}

	must(t, s.SetPassword(ctx, ed.ID, "new-hash", now.Add(time.Minute)), "SetPassword")
	got, err = s.GetUser(ctx, ed.ID)
	must(t, err, "GetUser")
	if got.PasswordHash != "new-hash" || !got.UpdatedAt.Equal(now.Add(time.Minute)) {
		t.Fatalf("after SetPassword: %+v", got)
	}
	must(t, s.SetRole(ctx, f.accA.ID, ed.ID, catalog.RoleViewer, now), "SetRole")
	wantErr(t, s.SetRole(ctx, f.accB.ID, ed.ID, catalog.RoleAdmin, now), catalog.ErrNotFound, "SetRole across accounts")
	if err := s.SetRole(ctx, f.accA.ID, ed.ID, "root", now); err == nil {
		t.Fatal("SetRole accepted an unknown role")
	}
	got, err = s.GetUser(ctx, ed.ID)
	must(t, err, "GetUser")
	if got.Role != catalog.RoleViewer {
		t.Fatalf("role = %q, want viewer (the cross-account SetRole must not apply)", got.Role)
	}

	wantErr(t, s.DeleteUser(ctx, f.accB.ID, ed.ID), catalog.ErrNotFound, "DeleteUser across accounts")
	must(t, s.DeleteUser(ctx, f.accA.ID, ed.ID), "DeleteUser")
	_, err = s.GetUser(ctx, ed.ID)
	wantErr(t, err, catalog.ErrNotFound, "GetUser after delete")
}

func testSessions(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now

	se := catalog.Session{TokenHash: "h1", UserID: f.adminA.ID, CSRFToken: "csrf", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	must(t, s.CreateSession(ctx, se), "CreateSession")
	wantErr(t, s.CreateSession(ctx, se), catalog.ErrConflict, "CreateSession with a taken hash")
	must(t, s.CreateSession(ctx, catalog.Session{TokenHash: "h2", UserID: f.adminA.ID, CSRFToken: "c2", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}), "CreateSession")
	must(t, s.CreateSession(ctx, catalog.Session{TokenHash: "hb", UserID: f.adminB.ID, CSRFToken: "cb", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}), "CreateSession")

	got, err := s.GetSession(ctx, "h1", now)
	must(t, err, "GetSession")
	if got.UserID != f.adminA.ID || got.CSRFToken != "csrf" || !got.ExpiresAt.Equal(now.Add(time.Hour)) || !got.LastSeenAt.Equal(now) {
		t.Fatalf("GetSession = %+v", got)
	}
	_, err = s.GetSession(ctx, "h1", now.Add(time.Hour))
	wantErr(t, err, catalog.ErrNotFound, "GetSession once expired")
	_, err = s.GetSession(ctx, "nope", now)
	wantErr(t, err, catalog.ErrNotFound, "GetSession of a missing hash")

	later := now.Add(30 * time.Minute)
	must(t, s.TouchSession(ctx, "h1", later, later.Add(time.Hour)), "TouchSession")
	got, err = s.GetSession(ctx, "h1", now.Add(time.Hour))
	must(t, err, "GetSession after the sliding expiry moved")
	if !got.LastSeenAt.Equal(later) {
		t.Fatalf("LastSeenAt = %v, want %v", got.LastSeenAt, later)
	}
	wantErr(t, s.TouchSession(ctx, "nope", later, later), catalog.ErrNotFound, "TouchSession of a missing hash")

	n, err := s.PurgeExpiredSessions(ctx, now.Add(2*time.Minute))
	must(t, err, "PurgeExpiredSessions")
	if n != 1 {
		t.Fatalf("purged %d sessions, want 1 (h2)", n)
	}
	must(t, s.DeleteSession(ctx, "h1"), "DeleteSession")
	_, err = s.GetSession(ctx, "h1", now)
	wantErr(t, err, catalog.ErrNotFound, "GetSession after delete")

	must(t, s.CreateSession(ctx, catalog.Session{TokenHash: "h3", UserID: f.adminA.ID, CSRFToken: "c3", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}), "CreateSession")
	must(t, s.DeleteUserSessions(ctx, f.adminA.ID), "DeleteUserSessions")
	_, err = s.GetSession(ctx, "h3", now)
	wantErr(t, err, catalog.ErrNotFound, "GetSession after DeleteUserSessions")
	if _, err := s.GetSession(ctx, "hb", now); err != nil {
		t.Fatalf("DeleteUserSessions of A removed B's session: %v", err)
	}
}

func testAPITokens(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now

	tok, err := s.CreateAPIToken(ctx, catalog.APIToken{UserID: f.adminA.ID, Name: "ci", TokenHash: "th1", Prefix: "shelf_ab", CreatedAt: now})
	must(t, err, "CreateAPIToken")
	if tok.ID == 0 || tok.Name != "ci" || tok.LastUsedAt != nil || tok.RevokedAt != nil {
		t.Fatalf("CreateAPIToken = %+v", tok)
	}
	_, err = s.CreateAPIToken(ctx, catalog.APIToken{UserID: f.adminB.ID, Name: "dup", TokenHash: "th1", Prefix: "x", CreatedAt: now})
	wantErr(t, err, catalog.ErrConflict, "CreateAPIToken with a taken hash")
	tok2, err := s.CreateAPIToken(ctx, catalog.APIToken{UserID: f.adminA.ID, Name: "laptop", TokenHash: "th2", Prefix: "shelf_cd", CreatedAt: now.Add(time.Second)})
	must(t, err, "CreateAPIToken")

	got, err := s.GetAPITokenByHash(ctx, "th1")
	must(t, err, "GetAPITokenByHash")
	if got.ID != tok.ID || got.UserID != f.adminA.ID {
		t.Fatalf("GetAPITokenByHash = %+v", got)
	}
	must(t, s.TouchAPIToken(ctx, tok.ID, now.Add(time.Minute)), "TouchAPIToken")
	got, err = s.GetAPITokenByHash(ctx, "th1")
	must(t, err, "GetAPITokenByHash")
	if !timeEq(got.LastUsedAt, ptr(now.Add(time.Minute))) {
		t.Fatalf("LastUsedAt = %v", got.LastUsedAt)
	}

	list, err := s.ListAPITokens(ctx, f.adminA.ID)
	must(t, err, "ListAPITokens")
	if len(list) != 2 || list[0].ID != tok2.ID {
		t.Fatalf("ListAPITokens = %+v, want 2, newest first", list)
	}

	wantErr(t, s.RevokeAPIToken(ctx, f.adminB.ID, tok.ID, now), catalog.ErrNotFound, "revoking another user's token")
	if _, err := s.GetAPITokenByHash(ctx, "th1"); err != nil {
		t.Fatalf("a refused revoke revoked the token: %v", err)
	}
	must(t, s.RevokeAPIToken(ctx, f.adminA.ID, tok.ID, now), "RevokeAPIToken")
	_, err = s.GetAPITokenByHash(ctx, "th1")
	wantErr(t, err, catalog.ErrNotFound, "GetAPITokenByHash of a revoked token")
	wantErr(t, s.RevokeAPIToken(ctx, f.adminA.ID, tok.ID, now), catalog.ErrNotFound, "revoking twice")
	list, err = s.ListAPITokens(ctx, f.adminA.ID)
	must(t, err, "ListAPITokens")
	if len(list) != 2 || list[1].RevokedAt == nil {
		t.Fatalf("revoked token not listed as revoked: %+v", list)
	}
}

func testConnections(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now

	_, err := s.GetConnection(ctx, f.accA.ID)
	wantErr(t, err, catalog.ErrNotFound, "GetConnection before any")

	c, err := s.PutConnection(ctx, catalog.Connection{AccountID: f.accA.ID, Kind: "s3", Config: []byte(`{"bucket":"b"}`), Secret: []byte{1, 2, 0, 255}, RootKey: "s3://b/"}, now)
	must(t, err, "PutConnection")
	if c.Status != catalog.ConnOK || string(c.Config) != `{"bucket":"b"}` || string(c.Secret) != string([]byte{1, 2, 0, 255}) {
		t.Fatalf("PutConnection = %+v", c)
	}
	if _, err := s.PutConnection(ctx, catalog.Connection{AccountID: f.accB.ID, Kind: "ftp", RootKey: "x"}, now); err == nil {
		t.Fatal("PutConnection accepted an unknown kind")
	}

	must(t, s.SetConnectionStatus(ctx, f.accA.ID, catalog.ConnNeedsReconnect, "the grant was revoked; reconnect", now), "SetConnectionStatus")
	if err := s.SetConnectionStatus(ctx, f.accA.ID, "sad", "", now); err == nil {
		t.Fatal("SetConnectionStatus accepted an unknown status")
	}
	wantErr(t, s.SetConnectionStatus(ctx, f.accB.ID, catalog.ConnOK, "", now), catalog.ErrNotFound, "SetConnectionStatus without a connection")
	scan := now.Add(time.Hour)
	must(t, s.SetSyncCursor(ctx, f.accA.ID, "tok-1", &scan, now), "SetSyncCursor")
	must(t, s.SetSyncCursor(ctx, f.accA.ID, "tok-2", nil, now), "SetSyncCursor without a full scan")
	got, err := s.GetConnection(ctx, f.accA.ID)
	must(t, err, "GetConnection")
	if got.Status != catalog.ConnNeedsReconnect || got.StatusMessage == "" || got.SyncCursor != "tok-2" || !timeEq(got.LastFullScanAt, &scan) {
		t.Fatalf("GetConnection = %+v", got)
	}

	// The last listing's size: kept while the root stays, forgotten when
	// it changes.
	lastListed := func(want int64, what string) {
		t.Helper()
		n, err := s.SyncLastListing(ctx, f.accA.ID)
		must(t, err, "SyncLastListing")
		if (want < 0) != (n == nil) || (n != nil && *n != want) {
			t.Fatalf("last listing %s: %v, want %d (-1: none)", what, n, want)
		}
	}
	lastListed(-1, "before any")
	must(t, s.SetSyncLastListing(ctx, f.accA.ID, 1234), "SetSyncLastListing")
	lastListed(1234, "after one")
	_, err = s.PutConnection(ctx, catalog.Connection{AccountID: f.accA.ID, Kind: "s3", Config: []byte(`{"bucket":"b"}`), RootKey: "s3://b/"}, now)
	must(t, err, "PutConnection same root")
	lastListed(1234, "after reconnecting the same root")
	if n, err := s.SyncLastListing(ctx, f.accB.ID); err != nil || n != nil {
		t.Fatalf("B's last listing: %v %v", n, err)
	}

	// Replacing keeps the creation time and takes every new field.
	later := now.Add(24 * time.Hour)
	c2, err := s.PutConnection(ctx, catalog.Connection{AccountID: f.accA.ID, Kind: "local", RootKey: "/srv/photos"}, later)
	must(t, err, "PutConnection replace")
	if !c2.CreatedAt.Equal(now) || !c2.UpdatedAt.Equal(later) || c2.Kind != "local" || c2.Status != catalog.ConnOK || c2.SyncCursor != "" || c2.Secret != nil || string(c2.Config) != "{}" {
		t.Fatalf("replaced connection = %+v", c2)
	}
	lastListed(-1, "after the root changed")
	_, err = s.GetConnection(ctx, f.accB.ID)
	wantErr(t, err, catalog.ErrNotFound, "B sees no connection")
	must(t, s.DeleteConnection(ctx, f.accA.ID), "DeleteConnection")
	_, err = s.GetConnection(ctx, f.accA.ID)
	wantErr(t, err, catalog.ErrNotFound, "GetConnection after delete")
}
