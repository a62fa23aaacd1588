package app_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// TestAnimationIsServedOnlyAsAnImage checks GET /assets/{id}/animation: a
// GIF with a preview is served as image/gif with a sandboxing
// Content-Security-Policy; an SVG, or a file named .gif that is no GIF, is
// not served there; and downloads carry the same sandbox, so an SVG opened
// from its download link runs nothing.
func TestAnimationIsServedOnlyAsAnImage(t *testing.T) {
	t.Parallel()
	e := start(t, "sqlite")
	c, acct, _ := e.signup("anim@example.com", "A")
	e.connectLocal(c, acct, "anim")

	spin := testenv.TwoFrameGIF(8, 8, 10)
	r := c.Must(201, "POST", "/api/v1/assets", uploadForm(nil, [2]string{"spin.gif", string(spin)},
		[2]string{"logo.svg", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`},
		[2]string{"fake.gif", "hello, not a GIF"}))
	ids := map[string]int64{}
	for _, a := range r.List("assets") {
		m := a.(map[string]any)
		ids[m["name"].(string)] = apitest.Num(m["id"])
	}
	settled := func(name string) string {
		deadline := time.Now().Add(20 * time.Second)
		for {
			st, _ := c.Must(200, "GET", "/api/v1/assets/"+itoa(ids[name]), nil).Obj("asset")["preview_state"].(string)
			if st != "pending" || time.Now().After(deadline) {
				return st
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if st := settled("spin.gif"); st != "ready" {
		t.Fatalf("spin.gif preview state %q, want ready", st)
	}
	settled("fake.gif")
	settled("logo.svg")

	resp := c.Do("GET", "/api/v1/assets/"+itoa(ids["spin.gif"])+"/animation", nil)
	if resp.Status != 200 || resp.Header.Get("Content-Type") != "image/gif" || !bytes.Equal(resp.Raw, spin) {
		t.Fatalf("animation of spin.gif: %d %q, %d bytes", resp.Status, resp.Header.Get("Content-Type"), len(resp.Raw))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("animation CSP %q", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("animation without nosniff")
	}
	// Regression: a revalidation opened the original in the storage before
	// comparing the ETag. With the file gone from the storage, a matching
	// If-None-Match still gets its 304: the storage is not read.
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("animation without an ETag")
	}
	if err := os.Remove(filepath.Join(e.local, "anim", "spin.gif")); err != nil {
		t.Fatal(err)
	}
	if r := c.DoWith("GET", "/api/v1/assets/"+itoa(ids["spin.gif"])+"/animation", nil, http.Header{"If-None-Match": {etag}}); r.Status != 304 || r.Header.Get("ETag") != etag {
		t.Errorf("revalidation of spin.gif: %d %s (ETag %q), want 304 without reading the storage", r.Status, r.Raw, r.Header.Get("ETag"))
	}
	for _, name := range []string{"logo.svg", "fake.gif"} {
		if r := c.Do("GET", "/api/v1/assets/"+itoa(ids[name])+"/animation", nil); r.Status != 404 {
			t.Errorf("animation of %s: %d %s, want 404", name, r.Status, r.Raw)
		}
	}
	dl := c.Do("GET", "/api/v1/assets/"+itoa(ids["logo.svg"])+"/download", nil)
	if dl.Status != 200 || !strings.Contains(dl.Header.Get("Content-Security-Policy"), "sandbox") ||
		!strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("download of logo.svg: %d, CSP %q, disposition %q", dl.Status, dl.Header.Get("Content-Security-Policy"), dl.Header.Get("Content-Disposition"))
	}
}
