package catalogtest

import (
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// testAccountAPITokens: an account's live tokens are listed with their
// users and revoked by the account only; a password change ends the
// user's sessions and revokes their tokens unless asked to keep them.
func testAccountAPITokens(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now
	ed, err := s.CreateUser(ctx, catalog.NewUser{AccountID: f.accA.ID, Email: "ed@alpha.example", Name: "Ed", PasswordHash: "h", Role: catalog.RoleEditor}, now)
	must(t, err, "CreateUser")
	token := func(userID int64, name string, at time.Time) catalog.APIToken {
		t.Helper()
		tok, err := s.CreateAPIToken(ctx, catalog.APIToken{UserID: userID, Name: name, TokenHash: "hash-" + name, Prefix: "shelf_" + name, CreatedAt: at})
		must(t, err, "CreateAPIToken %s", name)
		return tok
	}
	adminTok := token(f.adminA.ID, "admin-ci", now)
	edTok := token(ed.ID, "ed-laptop", now.Add(time.Second))
	edOld := token(ed.ID, "ed-old", now.Add(2*time.Second))
	bobTok := token(f.adminB.ID, "bob-ci", now.Add(3*time.Second))
	must(t, s.RevokeAPIToken(ctx, ed.ID, edOld.ID, now), "RevokeAPIToken")

	list, err := s.ListAccountAPITokens(ctx, f.accA.ID)
	must(t, err, "ListAccountAPITokens")
	if len(list) != 2 || list[0].ID != edTok.ID || list[0].UserEmail != "ed@alpha.example" || list[0].UserName != "Ed" || list[1].ID != adminTok.ID {
		t.Fatalf("ListAccountAPITokens = %+v, want ed's live token then the admin's", list)
	}

	wantErr(t, s.RevokeAccountAPIToken(ctx, f.accA.ID, bobTok.ID, now), catalog.ErrNotFound, "revoking another account's token")
	if _, err := s.GetAPITokenByHash(ctx, "hash-bob-ci"); err != nil {
		t.Fatalf("a refused revoke revoked the token: %v", err)
	}
	must(t, s.RevokeAccountAPIToken(ctx, f.accA.ID, edTok.ID, now), "RevokeAccountAPIToken")
	_, err = s.GetAPITokenByHash(ctx, "hash-ed-laptop")
	wantErr(t, err, catalog.ErrNotFound, "a token revoked by the account")
	wantErr(t, s.RevokeAccountAPIToken(ctx, f.accA.ID, edTok.ID, now), catalog.ErrNotFound, "revoking twice")

	// A password change: sessions end; tokens are revoked, or kept.
	session := func(hash string, userID int64) {
		t.Helper()
		must(t, s.CreateSession(ctx, catalog.Session{TokenHash: hash, UserID: userID, CSRFToken: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}), "CreateSession")
	}
	session("ed-session", ed.ID)
	token(ed.ID, "ed-kept", now.Add(4*time.Second))
	n, err := s.ChangePassword(ctx, ed.ID, "new-hash", now.Add(time.Minute), true)
	must(t, err, "ChangePassword keeping tokens")
	if _, err := s.GetAPITokenByHash(ctx, "hash-ed-kept"); n != 0 || err != nil {
		t.Fatalf("ChangePassword keeping tokens revoked %d; the token: %v", n, err)
	}
	if _, err := s.GetSession(ctx, "ed-session", now); err == nil {
		t.Fatal("ChangePassword kept the user's session")
	}
	session("admin-session", f.adminA.ID)
	token(ed.ID, "ed-second", now.Add(5*time.Second))
	n, err = s.ChangePassword(ctx, ed.ID, "newer-hash", now.Add(2*time.Minute), false)
	must(t, err, "ChangePassword")
	if n != 2 {
		t.Fatalf("ChangePassword revoked %d tokens, want 2", n)
	}
	for _, h := range []string{"hash-ed-kept", "hash-ed-second"} {
		_, err := s.GetAPITokenByHash(ctx, h)
		wantErr(t, err, catalog.ErrNotFound, "%s after the password change", h)
	}
	if _, err := s.GetAPITokenByHash(ctx, "hash-admin-ci"); err != nil {
		t.Fatalf("another user's token after the password change: %v", err)
	}
	if _, err := s.GetSession(ctx, "admin-session", now); err != nil {
		t.Fatalf("another user's session after the password change: %v", err)
	}
	if got, err := s.GetUser(ctx, ed.ID); err != nil || got.PasswordHash != "newer-hash" {
		t.Fatalf("after ChangePassword: %+v %v", got, err)
	}
	_, err = s.ChangePassword(ctx, 99999, "h", now, false)
	wantErr(t, err, catalog.ErrNotFound, "ChangePassword of a missing user")
}
