package app_test

import (
	"bytes"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// requestLine finds the log line of an answered upload.
var requestLine = regexp.MustCompile(`(?m)^.*msg="http request" method=POST path=/api/v1/assets .*$`)

// TestAbortedUploadIsTheClientsDoing cuts an upload off by closing the
// connection halfway through its body, and checks that the server records
// it as the client's doing — status 499, an info line, no error — not as a
// failure of the storage (502, ERROR), and that nothing was stored.
func TestAbortedUploadIsTheClientsDoing(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		c, acct, _ := e.signup("abort@example.com", "Abort")
		e.connectLocal(c, acct, "")
		token, _ := c.Must(201, "POST", "/api/v1/tokens", map[string]any{"name": "upload"}).Body["token"].(string)

		conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		const boundary = "cut-off-upload"
		var req bytes.Buffer
		fmt.Fprintf(&req, "POST /api/v1/assets HTTP/1.1\r\nHost: shelf\r\nAuthorization: Bearer %s\r\n", token)
		fmt.Fprintf(&req, "Content-Type: multipart/form-data; boundary=%s\r\nContent-Length: 10000000\r\n\r\n", boundary)
		fmt.Fprintf(&req, "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n", boundary)
		req.Write(bytes.Repeat([]byte("x"), 200_000))
		if _, err := conn.Write(req.Bytes()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // the server is reading the file
		conn.Close()

		var line string
		for deadline := time.Now().Add(10 * time.Second); line == "" && time.Now().Before(deadline); {
			line = requestLine.FindString(e.logs.String())
			time.Sleep(20 * time.Millisecond)
		}
		logs := e.logs.String()
		if line == "" {
			t.Fatalf("the aborted upload was not logged; log:\n%s", logs)
		}
		if !strings.Contains(line, "level=INFO") || !strings.Contains(line, "status=499") {
			t.Errorf("aborted upload logged as %q; want level=INFO status=499", line)
		}
		if strings.Contains(logs, "level=ERROR") {
			t.Errorf("an upload the client aborted is logged as an error; log:\n%s", logs)
		}
		if n := len(c.Must(200, "GET", "/api/v1/assets?recursive=true", nil).List("assets")); n != 0 {
			t.Errorf("the aborted upload made %d assets", n)
		}
	})
}
