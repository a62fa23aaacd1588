package app_test

import (
	"bytes"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/apitest"
)

// uploadForm builds an upload of files (name, content pairs) with extra
// form fields sent before them.
func uploadForm(fields map[string]string, files ...[2]string) apitest.Multipart {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	for _, f := range files {
		fw, _ := mw.CreateFormFile("file", f[0])
		_, _ = fw.Write([]byte(f[1]))
	}
	_ = mw.Close()
	return apitest.Multipart{Body: &buf, ContentType: mw.FormDataContentType()}
}

// result returns the single entry of an upload's "results".
func result(t *testing.T, r apitest.Response) map[string]any {
	t.Helper()
	res := r.List("results")
	if len(res) != 1 {
		t.Fatalf("want one result: %s", r.Raw)
	}
	return res[0].(map[string]any)
}

// TestUploadConflictModes checks on_conflict over the API: the default
// refuses a taken name saying so, replace writes over the file keeping the
// asset's id and metadata, keep_both stores "name (2).ext", skip stores
// nothing, and each file of a batch reports its outcome.
func TestUploadConflictModes(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		c, acct, _ := e.signup("conflict@example.com", "A")
		e.writeFile("lib/taken.txt", "old")
		e.connectLocal(c, acct, "lib")
		assets := c.Must(200, "GET", "/api/v1/assets?recursive=true", nil).List("assets")
		if len(assets) != 1 {
			t.Fatalf("want the seeded file: %v", assets)
		}
		id := apitest.Num(assets[0].(map[string]any)["id"])
		c.Must(200, "PATCH", "/api/v1/assets/"+itoa(id), map[string]any{"title": "Kept title", "tags": []string{"kept"}})
		content := func(rel string) string {
			b, _ := os.ReadFile(filepath.Join(e.local, "lib", rel))
			return string(b)
		}

		r := c.Do("POST", "/api/v1/assets", uploadForm(nil, [2]string{"taken.txt", "new"}))
		errObj, _ := r.Body["error"].(map[string]any)
		if r.Status != 409 || r.ErrorCode() != "conflict" || errObj["name_taken"] != true || errObj["name"] != "taken.txt" {
			t.Fatalf("default upload over a taken name: %d %s; want 409 conflict with name_taken", r.Status, r.Raw)
		}

		r = c.Must(201, "POST", "/api/v1/assets?on_conflict=replace", uploadForm(nil, [2]string{"taken.txt", "replaced"}))
		res := result(t, r)
		a, _ := res["asset"].(map[string]any)
		if res["outcome"] != "replaced" || apitest.Num(a["id"]) != id || a["title"] != "Kept title" {
			t.Fatalf("replace: %s; want outcome replaced, asset %d with its title", r.Raw, id)
		}
		if got := content("taken.txt"); got != "replaced" {
			t.Errorf("after replace the file holds %q", got)
		}
		got := c.Must(200, "GET", "/api/v1/assets/"+itoa(id), nil).Obj("asset")
		if tags, _ := got["tags"].([]any); got["title"] != "Kept title" || len(tags) != 1 || tags[0] != "kept" {
			t.Errorf("after replace the metadata is %v", got)
		}

		r = c.Must(201, "POST", "/api/v1/assets?on_conflict=keep_both", uploadForm(nil, [2]string{"taken.txt", "second"}))
		res = result(t, r)
		if a, _ := res["asset"].(map[string]any); res["outcome"] != "renamed" || a["name"] != "taken (2).txt" || apitest.Num(a["id"]) == id {
			t.Fatalf("keep both: %s; want a new asset renamed to taken (2).txt", r.Raw)
		}
		if content("taken (2).txt") != "second" || content("taken.txt") != "replaced" {
			t.Error("keep both changed the wrong file")
		}

		r = c.Must(200, "POST", "/api/v1/assets?on_conflict=skip", uploadForm(nil, [2]string{"taken.txt", "skipped"}))
		res = result(t, r)
		if a, _ := res["asset"].(map[string]any); res["outcome"] != "skipped" || apitest.Num(a["id"]) != id || len(r.List("assets")) != 0 {
			t.Fatalf("skip: %s; want outcome skipped naming the existing asset and no stored assets", r.Raw)
		}
		if content("taken.txt") != "replaced" {
			t.Error("skip changed the file")
		}
		// Regression: an all-skipped upload answered "assets": null.
		if !strings.Contains(string(r.Raw), `"assets":[]`) {
			t.Errorf("skip: %s; want \"assets\": [] (a list, empty)", r.Raw)
		}

		// The mode may come as a form field; each file of a batch reports.
		r = c.Must(201, "POST", "/api/v1/assets", uploadForm(map[string]string{"on_conflict": "skip"},
			[2]string{"fresh.txt", "fresh"}, [2]string{"taken.txt", "skipped"}))
		outcomes := []any{}
		for _, x := range r.List("results") {
			outcomes = append(outcomes, x.(map[string]any)["outcome"])
		}
		if len(outcomes) != 2 || outcomes[0] != "created" || outcomes[1] != "skipped" || len(r.List("assets")) != 1 {
			t.Fatalf("batch: %s; want created then skipped", r.Raw)
		}

		r = c.Do("POST", "/api/v1/assets?on_conflict=overwrite", uploadForm(nil, [2]string{"x.txt", "x"}))
		if r.Status != 400 || r.ErrorCode() != "invalid_field" {
			t.Fatalf("unknown mode: %d %s; want 400 invalid_field", r.Status, r.Raw)
		}
		if _, err := os.Stat(filepath.Join(e.local, "lib", "x.txt")); err == nil {
			t.Error("an upload with an unknown mode was stored")
		}
	})
}
