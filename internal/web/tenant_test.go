package web

import (
	"net/http"
	"strconv"
	"testing"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestRolesAndTenantIsolation(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		a, _ := f.signup("admin-a@example.com", "A")
		b, bBody := f.signup("admin-b@example.com", "B")
		bAccount := num(obj(bBody["account"])["id"])

		// Admin A adds a viewer and an editor.
		for _, u := range []struct{ email, role string }{{"viewer-a@example.com", "viewer"}, {"editor-a@example.com", "editor"}} {
			if code, body := a.do("POST", "/api/v1/users", map[string]any{"email": u.email, "password": "a good long password", "role": u.role}); code != 201 {
				t.Fatalf("create %s: %d %v", u.role, code, body)
			}
		}
		if code, body := a.do("POST", "/api/v1/users", map[string]any{"email": "x@example.com", "password": "a good long password", "role": "owner"}); code != 400 || errCode(body) != "invalid_role" {
			t.Fatalf("bad role: %d %v", code, body)
		}
		viewer := f.newClient()
		viewer.login("viewer-a@example.com", "a good long password")

		// A viewer cannot do admin actions, and nothing changes.
		if code, body := viewer.do("GET", "/api/v1/users", nil); code != http.StatusForbidden || errCode(body) != "forbidden" {
			t.Fatalf("viewer lists users: %d %v", code, body)
		}
		if code, _ := viewer.do("POST", "/api/v1/users", map[string]any{"email": "sneaky@example.com", "password": "a good long password", "role": "admin"}); code != http.StatusForbidden {
			t.Fatalf("viewer creates user: %d", code)
		}
		if _, err := f.store.GetUserByEmail(t.Context(), "sneaky@example.com"); err == nil {
			t.Fatal("a viewer's refused request created a user")
		}

		// A's users list holds only A's users.
		_, list := a.do("GET", "/api/v1/users", nil)
		if n := len(list["users"].([]any)); n != 3 {
			t.Fatalf("A sees %d users, want 3: %v", n, list)
		}
		_, bUsers := b.do("GET", "/api/v1/users", nil)
		bAdminID := num(obj(bUsers["users"].([]any)[0])["id"])

		// A asking for B's user: 404, never the data, and nothing changes.
		for _, req := range []struct{ method, path string }{
			{"PATCH", "/api/v1/users/" + itoa(bAdminID)},
			{"DELETE", "/api/v1/users/" + itoa(bAdminID)},
		} {
			code, body := a.do(req.method, req.path, map[string]any{"role": "viewer"})
			if code != http.StatusNotFound || errCode(body) != "not_found" {
				t.Errorf("%s %s across accounts: %d %v", req.method, req.path, code, body)
			}
		}
		u, err := f.store.GetUser(t.Context(), bAdminID)
		if err != nil || u.Role != "admin" {
			t.Fatalf("B's admin changed: %v %v", u, err)
		}

		// The last admin cannot be demoted.
		_, me := a.do("GET", "/api/v1/me", nil)
		aAdminID := num(obj(me["user"])["id"])
		if code, body := a.do("PATCH", "/api/v1/users/"+itoa(aAdminID), map[string]any{"role": "editor"}); code != http.StatusConflict || errCode(body) != "last_admin" {
			t.Fatalf("demote last admin: %d %v", code, body)
		}

		// Plans are an operator's business.
		if code, _ := a.do("PUT", "/api/v1/admin/accounts/"+itoa(bAccount)+"/plan", map[string]any{"plan": "enterprise"}); code != http.StatusForbidden {
			t.Fatalf("non-operator sets plan: %d", code)
		}
		acct, _ := f.store.GetAccount(t.Context(), bAccount)
		if acct.Plan != "trial" {
			t.Fatalf("plan changed by a non-operator: %s", acct.Plan)
		}
	})
}

func TestOperatorSetsPlan(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		op, body := f.signup("op@example.com", "Ops")
		opID := num(obj(body["user"])["id"])
		if _, err := f.store.DB().ExecContext(t.Context(), f.store.Rebind("UPDATE users SET is_operator = ? WHERE id = ?"), true, opID); err != nil {
			t.Fatal(err)
		}
		_, other := f.signup("team@example.com", "Team")
		id := num(obj(other["account"])["id"])
		code, resp := op.do("PUT", "/api/v1/admin/accounts/"+itoa(id)+"/plan", map[string]any{"plan": "micro"})
		if code != 200 || obj(resp["account"])["plan"] != "micro" {
			t.Fatalf("set plan: %d %v", code, resp)
		}
		if code, resp := op.do("PUT", "/api/v1/admin/accounts/"+itoa(id)+"/plan", map[string]any{"plan": "platinum"}); code != 400 || errCode(resp) != "invalid_plan" {
			t.Fatalf("bad plan: %d %v", code, resp)
		}
		if code, _ := op.do("PUT", "/api/v1/admin/accounts/999999/plan", map[string]any{"plan": "free"}); code != 404 {
			t.Fatalf("unknown account: %d", code)
		}
		// An explicit plan survives trial expiry.
		if _, err := f.store.ExpireTrials(t.Context(), f.clock().AddDate(0, 1, 0)); err != nil {
			t.Fatal(err)
		}
		acct, _ := f.store.GetAccount(t.Context(), id)
		if acct.Plan != "micro" {
			t.Fatalf("plan after trial expiry: %s", acct.Plan)
		}
	})
}
