package web

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// TestTwoAdminsDemotingEachOtherKeepOne has two admins demote each other
// at the same moment, many times over: the account must always keep an
// admin (one request gets 409 last_admin), as the check and the change are
// one transaction.
func TestTwoAdminsDemotingEachOtherKeepOne(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		a, body := f.signup("admin1@example.com", "A")
		acct := num(obj(body["account"])["id"])
		code, body := a.do("POST", "/api/v1/users", map[string]any{"email": "admin2@example.com", "password": "a good long password", "role": "admin"})
		if code != http.StatusCreated {
			t.Fatalf("second admin: %d %v", code, body)
		}
		id2 := num(obj(body["user"])["id"])
		_, me := a.do("GET", "/api/v1/me", nil)
		id1 := num(obj(me["user"])["id"])
		b := f.newClient()
		b.login("admin2@example.com", "a good long password")
		for i := 0; i < 40; i++ {
			for _, id := range []int64{id1, id2} {
				if err := f.store.SetRole(t.Context(), acct, id, catalog.RoleAdmin, f.clock()); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			codes := make([]int, 2)
			for j, c := range []struct {
				cl     *client
				target int64
			}{{a, id2}, {b, id1}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					codes[j] = c.cl.patchRole(f.srv.URL+"/api/v1/users/"+itoa(c.target), "viewer")
				}()
			}
			close(start)
			wg.Wait()
			users, err := f.store.ListUsers(t.Context(), acct)
			if err != nil {
				t.Fatal(err)
			}
			admins := 0
			for _, u := range users {
				if u.Role == catalog.RoleAdmin {
					admins++
				}
			}
			if admins == 0 {
				t.Fatalf("round %d: both demotions succeeded (%v); the account has no admin", i, codes)
			}
		}
	})
}

// patchRole sends PATCH {"role": role} to url and returns the status (0 on
// a transport error); unlike do it may run off the test's goroutine.
func (c *client) patchRole(url, role string) int {
	req, err := http.NewRequest("PATCH", url, strings.NewReader(`{"role":"`+role+`"}`))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(csrfHeader, c.csrf)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
