package app_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/apitest"
)

// rawBoundary separates the parts of the hand-made multipart bodies.
const rawBoundary = "shelf-test-boundary-7f3a"

// rawUpload is a multipart/form-data body made by hand, so a test can cut
// it anywhere.
type rawUpload struct{ bytes.Buffer }

// file starts a file part named name and writes its content; the part is
// ended by the next file or by end.
func (u *rawUpload) file(name string, content []byte) *rawUpload {
	if u.Len() > 0 {
		u.WriteString("\r\n")
	}
	fmt.Fprintf(u, "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=%q\r\nContent-Type: application/octet-stream\r\n\r\n", rawBoundary, name)
	u.Write(content)
	return u
}

// end writes the closing boundary.
func (u *rawUpload) end() *rawUpload {
	fmt.Fprintf(u, "\r\n--%s--\r\n", rawBoundary)
	return u
}

func (u *rawUpload) body() apitest.Multipart {
	return apitest.Multipart{Body: bytes.NewReader(u.Bytes()), ContentType: "multipart/form-data; boundary=" + rawBoundary}
}

// TestCutUploadStoresNothing checks that a file whose multipart part does
// not end cleanly is stored neither in the storage nor in the catalog, on
// local folders and S3 (issue 10, defect 3: a body ending without its
// closing boundary answered 400 "cut short" yet left the partial file in
// the bucket and the library).
func TestCutUploadStoresNothing(t *testing.T) {
	t.Parallel()
	content := bytes.Repeat([]byte("0123456789"), 10_000) // 100,000 bytes
	big := bytes.Repeat([]byte("x"), 17<<20)              // more than one S3 part: a multipart upload
	for _, target := range uploadTargets {
		t.Run(target.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, "sqlite")
			c, acct, _ := e.signup("cut@example.com", "A")
			stored := target.connect(t, e, c, acct)
			cases := []struct {
				name string
				body *rawUpload
			}{
				// The body ends in the middle of the file: no boundary.
				{"mid-file", new(rawUpload).file("mid.bin", content)},
				// The part's delimiter came, but neither the closing
				// "--" nor another part.
				{"after the delimiter", new(rawUpload).file("delim.bin", content).end().truncate(len("--\r\n"))},
				{"large file", new(rawUpload).file("big.bin", big)},
			}
			for _, tc := range cases {
				r := c.Do("POST", "/api/v1/assets", tc.body.body())
				if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Raw), "cut short") {
					t.Errorf("%s: %d %s, want 400 cut short", tc.name, r.Status, r.Raw)
				}
			}
			if got := stored(); len(got) != 0 {
				t.Errorf("cut uploads left %q in the storage", got)
			}
			if got := libraryPaths(c); len(got) != 0 {
				t.Errorf("cut uploads are in the library: %q", got)
			}

			// Two files, the second cut: the first is stored and listed
			// in the error, the second is nowhere.
			r := c.Do("POST", "/api/v1/assets", new(rawUpload).file("one.txt", []byte("one")).file("two.bin", content).body())
			if done, _ := r.Obj("error")["assets"].([]any); r.Status != http.StatusBadRequest || len(done) != 1 {
				t.Errorf("second file cut: %d %s, want 400 listing the first file", r.Status, r.Raw)
			}
			if got := stored(); !slices.Equal(got, []string{"one.txt"}) {
				t.Errorf("storage after a second file was cut holds %q, want only one.txt", got)
			}
			if got := libraryPaths(c); !slices.Equal(got, []string{"one.txt"}) {
				t.Errorf("library after a second file was cut: %q, want only one.txt", got)
			}

			// The client hangs up part way through the body it announced:
			// the request is the client's doing (499), nothing is stored.
			token := c.Must(201, "POST", "/api/v1/tokens", map[string]any{"name": "raw"}).Body["token"].(string)
			whole := new(rawUpload).file("gone.bin", content).end()
			if status := hangUp(t, e.url, token, whole.Bytes(), 60_000); status != 499 {
				t.Errorf("client hung up: %d, want 499", status)
			}

			// A whole upload still works.
			c.Must(201, "POST", "/api/v1/assets", new(rawUpload).file("whole.bin", content).end().body())
			if got := stored(); !slices.Equal(got, []string{"one.txt", "whole.bin"}) {
				t.Errorf("storage holds %q, want one.txt and whole.bin", got)
			}
			if got := libraryPaths(c); !slices.Equal(got, []string{"one.txt", "whole.bin"}) {
				t.Errorf("library holds %q, want one.txt and whole.bin", got)
			}
		})
	}
}

// truncate drops the last n bytes.
func (u *rawUpload) truncate(n int) *rawUpload {
	u.Truncate(u.Len() - n)
	return u
}

// hangUp sends an upload announcing all of body but only its first sent
// bytes, closes its side of the connection and returns the status of the
// answer.
func hangUp(t *testing.T, base, token string, body []byte, sent int) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/assets HTTP/1.1\r\nHost: shelf\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n",
		token, rawBoundary, len(body))
	if _, err := conn.Write(body[:sent]); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to a cut upload: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
