package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/config"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// TestUploadOverTheSizeLimitIsRefused checks SHELF_MAX_UPLOAD_BYTES: a
// file over it is refused with 413 file_too_large and nothing of it is
// stored; a file of exactly the limit is stored (issue 10, defect 5).
func TestUploadOverTheSizeLimitIsRefused(t *testing.T) {
	t.Parallel()
	for _, target := range uploadTargets {
		t.Run(target.name, func(t *testing.T) {
			t.Parallel()
			e := startWith(t, "sqlite", func(c *config.Config) { c.MaxUploadBytes = 1000 }, nil)
			c, acct, _ := e.signup("big@example.com", "A")
			stored := target.connect(t, e, c, acct)

			r := c.Do("POST", "/api/v1/assets", new(rawUpload).file("over.bin", bytes.Repeat([]byte("o"), 1001)).end().body())
			if r.Status != http.StatusRequestEntityTooLarge || r.ErrorCode() != "file_too_large" || !strings.Contains(string(r.Raw), "1000 bytes") {
				t.Errorf("a file of 1001 bytes over a limit of 1000: %d %s, want 413 file_too_large naming the limit", r.Status, r.Raw)
			}
			// The first of two files is under the limit, the second over.
			r = c.Do("POST", "/api/v1/assets", new(rawUpload).file("small.txt", []byte("small")).file("huge.bin", bytes.Repeat([]byte("h"), 5000)).end().body())
			if done, _ := r.Obj("error")["assets"].([]any); r.Status != http.StatusRequestEntityTooLarge || len(done) != 1 {
				t.Errorf("second file over the limit: %d %s, want 413 listing the first file", r.Status, r.Raw)
			}
			c.Must(201, "POST", "/api/v1/assets", new(rawUpload).file("exact.bin", bytes.Repeat([]byte("e"), 1000)).end().body())
			if got := stored(); !slices.Equal(got, []string{"exact.bin", "small.txt"}) {
				t.Errorf("storage holds %q, want exact.bin and small.txt", got)
			}
			if got := libraryPaths(c); !slices.Equal(got, []string{"exact.bin", "small.txt"}) {
				t.Errorf("library holds %q, want exact.bin and small.txt", got)
			}
		})
	}
}

// TestSlowUploadIsCutOff checks SHELF_MIN_UPLOAD_RATE: a client sending
// below the minimum rate, or nothing at all, is answered 408
// upload_too_slow within about a window, and nothing is stored; a client
// above it is not, even when the storage itself pauses between reads
// (issue 10, defect 5: one upload at 2 KB/s held the library for 72 s).
func TestSlowUploadIsCutOff(t *testing.T) {
	t.Parallel()
	for _, target := range uploadTargets {
		t.Run(target.name, func(t *testing.T) {
			t.Parallel()
			e := startWith(t, "sqlite", func(c *config.Config) {
				c.MinUploadRate = 1000 // bytes per second, over windows of 1 s
				c.MinUploadRateWindow = time.Second
			}, nil)
			c, acct, _ := e.signup("slow@example.com", "A")
			stored := target.connect(t, e, c, acct)
			token := c.Must(201, "POST", "/api/v1/tokens", map[string]any{"name": "raw"}).Body["token"].(string)
			content := bytes.Repeat([]byte("s"), 4000)

			// 100 bytes every 200 ms: 500 bytes/s.
			start := time.Now()
			status, code := trickle(t, e.url, token, new(rawUpload).file("slow.bin", content).end().Bytes(), 0, 100, 200*time.Millisecond)
			if status != http.StatusRequestTimeout || code != "upload_too_slow" {
				t.Errorf("upload at half the minimum rate: %d %s, want 408 upload_too_slow", status, code)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the slow upload was cut off after %s, want about a window (1 s)", d)
			}
			// The headers and the start of the file, then nothing.
			stalled := new(rawUpload).file("stalled.bin", content[:10]).Bytes()
			start = time.Now()
			status, code = trickle(t, e.url, token, stalled, len(stalled)+len(content), len(stalled), time.Hour)
			if status != http.StatusRequestTimeout || code != "upload_too_slow" {
				t.Errorf("stalled upload: %d %s, want 408 upload_too_slow", status, code)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the stalled upload was cut off after %s, want about a window (1 s)", d)
			}
			// 400 bytes every 100 ms: four times the minimum.
			status, code = trickle(t, e.url, token, new(rawUpload).file("steady.bin", content).end().Bytes(), 0, 400, 100*time.Millisecond)
			if status != http.StatusCreated {
				t.Errorf("upload at four times the minimum rate: %d %s, want 201", status, code)
			}
			if got := stored(); !slices.Equal(got, []string{"steady.bin"}) {
				t.Errorf("storage holds %q, want only steady.bin", got)
			}
			if got := libraryPaths(c); !slices.Equal(got, []string{"steady.bin"}) {
				t.Errorf("library holds %q, want only steady.bin", got)
			}
		})
	}
	// The time the storage takes between two reads of the body (S3
	// starting a multipart upload) does not count against the client.
	t.Run("storage pausing between reads", func(t *testing.T) {
		t.Parallel()
		e := startWith(t, "sqlite", func(c *config.Config) {
			c.MinUploadRate = 1000
			c.MinUploadRateWindow = time.Second
		}, nil)
		c, acct, _ := e.signup("pause@example.com", "A")
		srv := s3fake.Start()
		t.Cleanup(srv.Close)
		bucket := testenv.RandomName("up")
		if err := srv.CreateBucket(bucket); err != nil {
			t.Fatal(err)
		}
		stored := connectS3(t, e, c, acct, srv.URL, "k", "s", bucket)
		srv.SetLatency(s3fake.OpCreateMultipart, 2500*time.Millisecond)
		big := bytes.Repeat([]byte("b"), 17<<20) // over one part: the connector starts a multipart upload part way
		c.Must(201, "POST", "/api/v1/assets", new(rawUpload).file("big.bin", big).end().body())
		if got := stored(); !slices.Equal(got, []string{"big.bin"}) {
			t.Errorf("storage holds %q, want big.bin", got)
		}
	})
}

// trickle sends an upload of body in chunks of chunk bytes, one every
// every, and returns the answer's status and error code. It stops sending
// once the answer came. The request announces announce bytes (0: the
// body's length).
func trickle(t *testing.T, base, token string, body []byte, announce, chunk int, every time.Duration) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/assets HTTP/1.1\r\nHost: shelf\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n",
		token, rawBoundary, max(announce, len(body)))
	answered := make(chan struct{})
	go func() {
		for len(body) > 0 {
			n := min(chunk, len(body))
			if _, err := conn.Write(body[:n]); err != nil {
				return
			}
			body = body[n:]
			select {
			case <-answered:
				return
			case <-time.After(every):
			}
		}
	}()
	defer close(answered)
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to a trickled upload: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Error.Code
}
