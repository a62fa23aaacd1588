package app_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/catalog"
)

// TestAnotherAccountsIDsAreNotFound calls every endpoint and page that
// takes an id (in the path, the query, a JSON body or an upload form) with
// ids of another account: each answers 404 (or an empty list), shows none
// of that account's data, and changes nothing of it.
func TestAnotherAccountsIDsAreNotFound(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		a, acctA, _ := e.signup("a@example.com", "A")
		b, acctB, userB := e.signup("b@example.com", "B")
		e.writeFile("ta/mine.txt", "a")
		e.writeFile("tb/bsecret-folder/bsecret-file.txt", "b")
		e.connectLocal(a, acctA, "ta")
		bRun := e.connectLocal(b, acctB, "tb")

		bFolder := apitest.Num(b.Must(200, "GET", "/api/v1/folders", nil).List("folders")[0].(map[string]any)["id"])
		bAsset := apitest.Num(b.Must(200, "GET", "/api/v1/assets?recursive=true", nil).List("assets")[0].(map[string]any)["id"])
		b.Must(200, "PATCH", "/api/v1/assets/"+itoa(bAsset), map[string]any{"title": "B title"})
		bHook := apitest.Num(b.Must(201, "POST", "/api/v1/webhooks", map[string]any{"url": "http://127.0.0.1:1/b", "events": []string{"*"}}).Obj("webhook")["id"])
		b.Must(201, "POST", "/api/v1/tokens", map[string]any{"name": "b token"})
		bToken := apitest.Num(b.Must(200, "GET", "/api/v1/tokens", nil).List("tokens")[0].(map[string]any)["id"])
		ctx := context.Background()
		n, err := e.a.Store.CreateNotification(ctx, catalog.Notification{AccountID: acctB, UserID: &userB, Kind: "test", Message: "bsecret note", Data: []byte(`{}`), CreatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}

		// leaksB reports whether an answer shows any of B's data (a search
		// page echoes its query "bsecret", so the names are matched whole).
		leaksB := func(raw []byte) bool {
			for _, s := range []string{"bsecret-f", "B title", "bsecret note", "127.0.0.1:1/b", "b token"} {
				if strings.Contains(string(raw), s) {
					return true
				}
			}
			return false
		}
		upload := func(query string, formFolder int64) apitest.Multipart {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			if formFolder != 0 {
				mw.WriteField("folder_id", itoa(formFolder))
			}
			fw, _ := mw.CreateFormFile("file", "intruder.txt")
			fw.Write([]byte("x"))
			mw.Close()
			return apitest.Multipart{Body: &buf, ContentType: mw.FormDataContentType()}
		}
		for _, tc := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/folders/" + itoa(bFolder), nil},
			{"GET", "/api/v1/folders?parent=" + itoa(bFolder), nil},
			{"PATCH", "/api/v1/folders/" + itoa(bFolder), map[string]any{"name": "taken"}},
			{"DELETE", "/api/v1/folders/" + itoa(bFolder), nil},
			{"POST", "/api/v1/folders", map[string]any{"name": "intruder", "parent_id": bFolder}},
			{"GET", "/api/v1/assets?folder=" + itoa(bFolder), nil},
			{"GET", "/api/v1/assets/" + itoa(bAsset), nil},
			{"GET", "/api/v1/assets/" + itoa(bAsset) + "/download", nil},
			{"GET", "/api/v1/assets/" + itoa(bAsset) + "/thumb", nil},
			{"PATCH", "/api/v1/assets/" + itoa(bAsset), map[string]any{"title": "A title"}},
			{"DELETE", "/api/v1/assets/" + itoa(bAsset), nil},
			{"POST", "/api/v1/assets?folder_id=" + itoa(bFolder), upload("", 0)},
			{"POST", "/api/v1/assets", upload("", bFolder)},
			{"GET", "/api/v1/sync/runs/" + itoa(bRun.ID), nil},
			{"POST", "/api/v1/sync/runs/" + itoa(bRun.ID) + "/confirm", map[string]any{}},
			{"PATCH", "/api/v1/webhooks/" + itoa(bHook), map[string]any{"enabled": false}},
			{"GET", "/api/v1/webhooks/" + itoa(bHook) + "/deliveries", nil},
			{"DELETE", "/api/v1/webhooks/" + itoa(bHook), nil},
			{"POST", "/api/v1/notifications/read", map[string]any{"ids": []int64{n.ID}}},
			{"DELETE", "/api/v1/tokens/" + itoa(bToken), nil},
			{"GET", "/library/folder/" + itoa(bFolder), nil},
			{"GET", "/library/tree?parent=" + itoa(bFolder), nil},
			{"GET", "/assets/" + itoa(bAsset), nil},
		} {
			r := a.Do(tc.method, tc.path, tc.body)
			if r.Status != 404 {
				t.Errorf("A: %s %s with B's id: %d, want 404: %.200s", tc.method, tc.path, r.Status, r.Raw)
			}
			if leaksB(r.Raw) {
				t.Errorf("A: %s %s shows B's data: %.300s", tc.method, tc.path, r.Raw)
			}
		}
		// Lists never hold B's items.
		for _, p := range []string{"/api/v1/assets?q=bsecret", "/api/v1/assets?recursive=true", "/api/v1/folders", "/api/v1/sync/runs",
			"/api/v1/notifications", "/api/v1/webhooks", "/api/v1/tokens", "/library?q=bsecret&scope=all", "/library/items?folder=" + itoa(bFolder)} {
			r := a.Do("GET", p, nil)
			if r.Status >= 300 || leaksB(r.Raw) {
				t.Errorf("A: GET %s: %d %.300s", p, r.Status, r.Raw)
			}
		}

		// Nothing of B's changed.
		got := b.Must(200, "GET", "/api/v1/assets/"+itoa(bAsset), nil).Obj("asset")
		if got["title"] != "B title" || got["path"] != "bsecret-folder/bsecret-file.txt" {
			t.Errorf("B's asset changed: %v", got)
		}
		if f := b.Must(200, "GET", "/api/v1/folders/"+itoa(bFolder), nil).Obj("folder"); f["path"] != "bsecret-folder" {
			t.Errorf("B's folder changed: %v", f)
		}
		if _, err := os.Stat(filepath.Join(e.local, "tb/bsecret-folder/bsecret-file.txt")); err != nil {
			t.Errorf("B's file: %v", err)
		}
		for _, p := range []string{"tb/bsecret-folder/intruder.txt", "tb/bsecret-folder/intruder", "ta/intruder.txt", "ta/intruder"} {
			if _, err := os.Stat(filepath.Join(e.local, p)); err == nil {
				t.Errorf("a refused request wrote %s", p)
			}
		}
		if h := b.Must(200, "GET", "/api/v1/webhooks", nil).List("webhooks"); len(h) != 1 || h[0].(map[string]any)["enabled"] != true {
			t.Errorf("B's webhook changed: %v", h)
		}
		if toks := b.Must(200, "GET", "/api/v1/tokens", nil).List("tokens"); len(toks) != 1 {
			t.Errorf("B's token changed: %v", toks)
		}
		if unread := b.Must(200, "GET", "/api/v1/notifications", nil).Body["unread"]; apitest.Num(unread) < 1 {
			t.Errorf("B's notification was marked read by A: unread %v", unread)
		}
	})
}
