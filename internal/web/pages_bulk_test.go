package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// The library page carries the selection bar, the viewer and the shortcut
// list, with "Skip to assets" as its first link; a viewer is offered the
// zip download only, an editor the changes too.
func TestLibraryPageOffersBulkActionsByRole(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	admin, sb := f.signup("bulk-admin@example.com", "Team")
	acct := accountIDOf(t, sb)
	_, folder := seedLibrary(t, f, acct, 3)
	if code, body := admin.do("POST", "/api/v1/users", map[string]any{"email": "bulk-viewer@example.com", "password": "a good long password", "role": "viewer"}); code != http.StatusCreated {
		t.Fatalf("create viewer: %d %v", code, body)
	}
	viewer := f.newClient()
	viewer.login("bulk-viewer@example.com", "a good long password")
	path := fmt.Sprintf("/library/folder/%d", folder)

	_, _, page := admin.get(path)
	for _, want := range []string{`id="bulk-tag"`, `id="bulk-move"`, `id="bulk-delete"`, `id="bulk-zip"`, `id="viewer"`, `id="shortcuts"`,
		`class="select-box" aria-label="Select `, `/static/select.js`, `/static/viewer.js`} {
		if !strings.Contains(page, want) {
			t.Errorf("the editor's library page lacks %s", want)
		}
	}
	body := page[strings.Index(page, "<body"):]
	if first := strings.Index(body, "<a "); first < 0 || !strings.HasPrefix(body[first:], `<a class="skip" href="#items" id="skip-assets">Skip to assets</a>`) {
		t.Errorf("the first link of the library page is not Skip to assets: %.120s", body[max(first, 0):])
	}

	_, _, page = viewer.get(path)
	for _, gone := range []string{`id="bulk-tag"`, `id="bulk-move"`, `id="bulk-delete"`, `id="bulk-tag-dialog"`} {
		if strings.Contains(page, gone) {
			t.Errorf("a viewer's library page offers %s", gone)
		}
	}
	if !strings.Contains(page, `id="bulk-zip"`) || !strings.Contains(page, `class="select-box"`) {
		t.Error("a viewer cannot select files to download them")
	}

	// Other pages keep "Skip to content" first and carry none of it.
	_, _, page = admin.get("/team")
	if strings.Contains(page, "skip-assets") || strings.Contains(page, "select.js") {
		t.Error("the team page carries the library's tools")
	}
}
