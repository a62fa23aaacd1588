package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/library"
)

func TestNameAndMetadataErrorsNameTheirField(t *testing.T) {
	t.Parallel()
	forEachDialect(t, testNameAndMetadataErrorsNameTheirField)
}

func testNameAndMetadataErrorsNameTheirField(t *testing.T, f *fixture) {
	c, sb := f.signup("admin@example.com", "Team")
	acct := accountIDOf(t, sb)
	folderA, folderB := seedLibrary(t, f, acct, 1)
	var assetID int64
	_, res := c.do("GET", fmt.Sprintf("/api/v1/assets?folder=%d", folderB), nil)
	for _, a := range res["assets"].([]any) {
		assetID = num(obj(a)["id"])
	}
	long := strings.Repeat("n", 305)
	cases := []struct {
		method, path string
		body         map[string]any
		field, says  string
	}{
		{"POST", "/api/v1/folders", map[string]any{"name": "   "}, "name", "only spaces"},
		{"POST", "/api/v1/folders", map[string]any{"name": long}, "name", "305 bytes long; the limit is 255"},
		{"PATCH", fmt.Sprintf("/api/v1/folders/%d", folderA), map[string]any{"name": " \t "}, "name", "only spaces"},
		{"PATCH", fmt.Sprintf("/api/v1/folders/%d", folderA), map[string]any{"name": long}, "name", "Shorten it"},
		{"PATCH", fmt.Sprintf("/api/v1/assets/%d", assetID), map[string]any{"name": long}, "name", "Shorten it"},
	}
	for _, tc := range cases {
		code, body := c.do(tc.method, tc.path, tc.body)
		e := obj(body["error"])
		msg, _ := e["message"].(string)
		if code != http.StatusBadRequest || e["field"] != tc.field || !strings.Contains(msg, tc.says) {
			t.Errorf("%s %s: %d field=%v message=%q; want 400 at %s saying %q", tc.method, tc.path, code, e["field"], msg, tc.field, tc.says)
		}
		if strings.Contains(msg, long) {
			t.Errorf("%s %s echoes the whole 305-character name", tc.method, tc.path)
		}
	}
}

// The library's refusals of metadata reach the form at their field (the
// browser test shows the title's at the title field).
func TestLibraryRefusalsNameTheirField(t *testing.T) {
	t.Parallel()
	invalid := func(msg string) error { return libraryAPIError(fmt.Errorf("%s: %w", msg, library.ErrInvalid)) }
	conflict := libraryAPIError(fmt.Errorf("a file named x.jpg is already in this folder: %w", library.ErrConflict))
	cases := []struct {
		err       error
		fallback  string
		wantField string
	}{
		{invalid("The title is 600 bytes long; the limit is 500."), "", "title"},
		{invalid("The description is 9000 bytes long; the limit is 8000."), "", "description"},
		{invalid("The rating 9 is out of range; give 0 to 5."), "", "rating"},
		{invalid("The tag \"x\"… is longer than 100 bytes."), "", "tags"},
		{invalid("60 tags given; the limit is 50."), "", "tags"},
		{invalid("The custom field \"k\" needs a name of 1 to 64 bytes."), "", "custom"},
		{invalid("The name \"a\\\\b\" cannot be used: backslashes are not allowed in names."), "", "name"},
		{invalid("Something else."), "name", "name"},
		{invalid("Something else."), "", ""},
		{conflict, "name", "name"},
		{conflict, "", ""},
		{&apiError{Status: http.StatusLocked, Code: "library_locked", Message: "locked"}, "name", ""},
	}
	for _, tc := range cases {
		var ae *apiError
		if !errors.As(withField(tc.err, tc.fallback), &ae) || ae.Field != tc.wantField {
			t.Errorf("withField(%v, %q) field = %q, want %q", tc.err, tc.fallback, ae.Field, tc.wantField)
		}
	}
}

func TestUnknownAddressesGetTheStyledNotFoundPage(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	c, _ := f.signup("admin@example.com", "Team")
	for _, path := range []string{"/no-such-page", "/library/nope/deeper", "/settings/unknown"} {
		code, _, body := c.get(path)
		if code != http.StatusNotFound || !strings.Contains(body, "<h1>Page not found</h1>") || !strings.Contains(body, `href="/static/app.css`) || !strings.Contains(body, "Back to the library") {
			t.Errorf("GET %s: %d, want the styled 404 page; got %.200s", path, code, body)
		}
	}
	// Signed out, too: the page, not the mux's plain text.
	code, _, body := f.newClient().get("/nope")
	if code != http.StatusNotFound || !strings.Contains(body, "Page not found") {
		t.Errorf("signed out GET /nope: %d %.200s", code, body)
	}
	// The API keeps answering JSON.
	if code, res := c.do("GET", "/api/v1/nope", nil); code != http.StatusNotFound || errCode(res) != "not_found" {
		t.Errorf("unknown API path: %d %v", code, res)
	}
}
