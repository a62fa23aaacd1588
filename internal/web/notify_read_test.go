package web

import (
	"net/http"
	"testing"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// TestMarkReadIsAllOrNothing checks POST /notifications/read: an unknown
// id among known ones marks none, an empty list marks none, and only an
// absent list marks everything.
func TestMarkReadIsAllOrNothing(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		a, _ := f.signup("admin@example.com", "A")
		_, me := a.do("GET", "/api/v1/me", nil)
		userID, acctID := num(obj(me["user"])["id"]), num(obj(me["account"])["id"])
		var ids []int64
		for _, msg := range []string{"one", "two"} {
			n, err := f.store.CreateNotification(t.Context(), catalog.Notification{AccountID: acctID, UserID: &userID, Kind: "test", Message: msg, Data: []byte(`{}`), CreatedAt: f.clock()})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, n.ID)
		}
		unread := func() int64 {
			t.Helper()
			_, body := a.do("GET", "/api/v1/notifications", nil)
			return num(body["unread"])
		}
		if code, body := a.do("POST", "/api/v1/notifications/read", map[string]any{"ids": []int64{ids[0], ids[1] + 1000}}); code != http.StatusNotFound {
			t.Fatalf("read with an unknown id: %d %v", code, body)
		}
		if n := unread(); n != 2 {
			t.Fatalf("a refused request marked %d read", 2-n)
		}
		if code, body := a.do("POST", "/api/v1/notifications/read", map[string]any{"ids": []int64{}}); code != http.StatusNoContent {
			t.Fatalf("read none: %d %v", code, body)
		}
		if n := unread(); n != 2 {
			t.Fatalf("an empty id list marked %d read", 2-n)
		}
		a.do("POST", "/api/v1/notifications/read", map[string]any{"ids": []int64{ids[0]}})
		if n := unread(); n != 1 {
			t.Fatalf("after reading one: %d unread", n)
		}
		a.do("POST", "/api/v1/notifications/read", map[string]any{})
		if n := unread(); n != 0 {
			t.Fatalf("after reading all: %d unread", n)
		}
	})
}
