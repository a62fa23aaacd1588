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
