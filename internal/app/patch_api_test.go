package app_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/shelf-dam/shelf/internal/apitest"
)

// TestRefusedEditsChangeNothing checks that a PATCH refused for any of its
// fields (a bad name, a folder of another account, a taken name, a move
// into its own subtree, an unknown field) leaves the storage and the
// catalog exactly as they were, and that a rename with a move is one step.
func TestRefusedEditsChangeNothing(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		a, acctA, _ := e.signup("a@example.com", "A")
		b, acctB, _ := e.signup("b@example.com", "B")
		e.writeFile("a/top/inner/x.txt", "x")
		e.writeFile("a/top/y.txt", "y")
		e.writeFile("a/other/keep.txt", "k")
		e.writeFile("b/secret/s.txt", "s")
		e.connectLocal(a, acctA, "a")
		e.connectLocal(b, acctB, "b")

		folderID := func(c *apitest.Client, query, name string) int64 {
			t.Helper()
			for _, f := range c.Must(200, "GET", "/api/v1/folders"+query, nil).List("folders") {
				if m := f.(map[string]any); m["name"] == name {
					return apitest.Num(m["id"])
				}
			}
			t.Fatalf("no folder %q in %s", name, query)
			return 0
		}
		top := folderID(a, "", "top")
		other := folderID(a, "", "other")
		inner := folderID(a, "?parent="+itoa(top), "inner")
		bSecret := folderID(b, "", "secret")
		var y int64
		for _, v := range a.Must(200, "GET", "/api/v1/assets?folder="+itoa(top), nil).List("assets") {
			if m := v.(map[string]any); m["name"] == "y.txt" {
				y = apitest.Num(m["id"])
			}
		}
		if y == 0 {
			t.Fatal("y.txt not synced")
		}
		a.Must(200, "PATCH", "/api/v1/assets/"+itoa(y), map[string]any{"title": "Before"})

		for _, tc := range []struct {
			name, path string
			body       any
			status     int
			code       string
		}{
			{"asset title with another account's folder", "/api/v1/assets/" + itoa(y), map[string]any{"title": "After", "folder_id": bSecret}, 404, "not_found"},
			{"asset title with a name holding a slash", "/api/v1/assets/" + itoa(y), map[string]any{"title": "After", "name": "../z.txt"}, 400, "invalid_field"},
			{"asset title with a NUL in the name", "/api/v1/assets/" + itoa(y), map[string]any{"title": "After", "name": "z\x00.txt"}, 400, "invalid_field"},
			{"asset title with a taken name", "/api/v1/assets/" + itoa(y), map[string]any{"title": "After", "folder_id": other, "name": "keep.txt"}, 409, "conflict"},
			{"asset rating out of range with a move", "/api/v1/assets/" + itoa(y), map[string]any{"rating": 9, "folder_id": other}, 400, "invalid_field"},
			{"folder renamed and moved into itself", "/api/v1/folders/" + itoa(top), map[string]any{"name": "renamed", "parent_id": inner}, 400, "invalid_field"},
			{"folder renamed and moved to another account's folder", "/api/v1/folders/" + itoa(top), map[string]any{"name": "renamed", "parent_id": bSecret}, 404, "not_found"},
			{"folder with a misspelt field", "/api/v1/folders/" + itoa(top), map[string]any{"nmae": "renamed"}, 400, "invalid_field"},
			{"folder name of the wrong type", "/api/v1/folders/" + itoa(top), map[string]any{"name": 5}, 400, "invalid_field"},
		} {
			r := a.Do("PATCH", tc.path, tc.body)
			if r.Status != tc.status || r.ErrorCode() != tc.code {
				t.Errorf("%s: %d %s, want %d %s", tc.name, r.Status, r.Raw, tc.status, tc.code)
			}
		}
		got := a.Must(200, "GET", "/api/v1/assets/"+itoa(y), nil).Obj("asset")
		if got["title"] != "Before" || got["path"] != "top/y.txt" {
			t.Errorf("a refused edit changed the asset: %v", got)
		}
		if f := a.Must(200, "GET", "/api/v1/folders/"+itoa(top), nil).Obj("folder"); f["path"] != "top" {
			t.Errorf("a refused edit changed the folder: %v", f)
		}
		for _, p := range []string{"a/top/y.txt", "a/top/inner/x.txt", "b/secret/s.txt"} {
			if _, err := os.Stat(filepath.Join(e.local, p)); err != nil {
				t.Errorf("a refused edit changed the storage: %v", err)
			}
		}

		// Rename and move at once: one step, landing at other/moved.
		f := a.Must(200, "PATCH", "/api/v1/folders/"+itoa(top), map[string]any{"name": "moved", "parent_id": other}).Obj("folder")
		if f["path"] != "other/moved" {
			t.Fatalf("rename+move: %v", f)
		}
		if _, err := os.Stat(filepath.Join(e.local, "a/other/moved/inner/x.txt")); err != nil {
			t.Fatalf("rename+move in the storage: %v", err)
		}
		// And an asset: new name, new folder, new title.
		got = a.Must(200, "PATCH", "/api/v1/assets/"+itoa(y), map[string]any{"title": "After", "name": "z.txt", "folder_id": nil}).Obj("asset")
		if got["title"] != "After" || got["path"] != "z.txt" {
			t.Fatalf("rename+move+title: %v", got)
		}
	})
}
