package app_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/apitest"
)

// uploadNamed builds a one-file upload whose part carries filename as is
// (multipart.Writer would not let a test send a NUL or a path).
func uploadNamed(filename string) apitest.Multipart {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, filename))
	h.Set("Content-Type", "text/plain")
	pw, _ := mw.CreatePart(h)
	pw.Write([]byte("content"))
	mw.Close()
	return apitest.Multipart{Body: &buf, ContentType: mw.FormDataContentType()}
}

// TestUploadRefusesOddNames checks that an upload whose file name is a
// path, holds a control character or is too long is refused with a 400
// saying so, and stores nothing (not even under a shortened name).
func TestUploadRefusesOddNames(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		c, acct, _ := e.signup("up@example.com", "A")
		e.connectLocal(c, acct, "up")
		for _, name := range []string{"../x.txt", "..", "sub/x.txt", `sub\x.txt`, `C:\Users\me\x.txt`, "x\x00.txt", "x\x01.txt", strings.Repeat("n", 300) + ".txt", " x.txt"} {
			r := c.Do("POST", "/api/v1/assets", uploadNamed(name))
			if r.Status != 400 {
				t.Errorf("upload named %q: %d %s, want 400", name, r.Status, r.Raw)
			}
		}
		if n := len(c.Must(200, "GET", "/api/v1/assets?recursive=true", nil).List("assets")); n != 0 {
			t.Errorf("refused uploads made %d assets", n)
		}
		entries, _ := os.ReadDir(filepath.Join(e.local, "up"))
		for _, de := range entries {
			t.Errorf("refused upload left %s in the storage", de.Name())
		}
		if _, err := os.Stat(filepath.Join(e.local, "x.txt")); err == nil {
			t.Error("an upload escaped the storage root")
		}
		// A plain name still works.
		r := c.Must(201, "POST", "/api/v1/assets", uploadNamed("photo (1).txt"))
		if a := r.List("assets"); len(a) != 1 || a[0].(map[string]any)["path"] != "photo (1).txt" {
			t.Fatalf("plain upload: %s", r.Raw)
		}
	})
}

// TestFailedUploadListsTheFilesStoredBeforeIt checks that when one file of
// a several-file upload is refused, the error lists the files of the same
// request that were stored before it, so the client can tell the user and
// retry only the rest.
func TestFailedUploadListsTheFilesStoredBeforeIt(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		c, acct, _ := e.signup("multi@example.com", "A")
		e.writeFile("multi/taken.txt", "old")
		e.connectLocal(c, acct, "multi")
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for _, name := range []string{"one.txt", "two.txt", "taken.txt", "four.txt"} {
			fw, _ := mw.CreateFormFile("file", name)
			fw.Write([]byte(name))
		}
		mw.Close()
		r := c.Do("POST", "/api/v1/assets", apitest.Multipart{Body: &buf, ContentType: mw.FormDataContentType()})
		if r.Status != 409 || r.ErrorCode() != "conflict" {
			t.Fatalf("upload with a taken name: %d %s", r.Status, r.Raw)
		}
		e2, _ := r.Body["error"].(map[string]any)
		done, _ := e2["assets"].([]any)
		if len(done) != 2 || done[0].(map[string]any)["name"] != "one.txt" || done[1].(map[string]any)["name"] != "two.txt" {
			t.Fatalf("the error does not list the two stored files: %s", r.Raw)
		}
		if data, err := os.ReadFile(filepath.Join(e.local, "multi/taken.txt")); err != nil || string(data) != "old" {
			t.Fatalf("the taken file changed: %q %v", data, err)
		}
	})
}
