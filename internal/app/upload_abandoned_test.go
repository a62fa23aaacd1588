package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/connections"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// TestAbandonedMultipartUploadIsAborted checks that S3 multipart uploads
// are recorded while they run and that the periodic cleanup aborts the
// ones whose process died, once they have not been renewed for the
// staleness threshold, and leaves running ones alone (issue 10, defect 9:
// a SIGKILL during a 3 GiB upload left a 2.6 GB incomplete upload behind,
// still there after a restart and a sync).
func TestAbandonedMultipartUploadIsAborted(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		c, acct, _ := e.signup("mp@example.com", "A")
		srv := s3fake.Start()
		t.Cleanup(srv.Close)
		bucket := testenv.RandomName("mp")
		if err := srv.CreateBucket(bucket); err != nil {
			t.Fatal(err)
		}
		stored := connectS3(t, e, c, acct, srv.URL, "k", "s", bucket)
		raw := rawS3(srv.URL, "k", "s")
		ctx := context.Background()
		recorded := func() []string {
			t.Helper()
			ups, err := e.a.Store.StaleMultipartUploads(ctx, time.Now().Add(24*time.Hour), 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, u := range ups {
				out = append(out, u.Key)
			}
			return out
		}

		// An upload in progress is recorded (and on the server) while it
		// runs, and forgotten once it ends.
		token := c.Must(201, "POST", "/api/v1/tokens", map[string]any{"name": "raw"}).Body["token"].(string)
		conn := startUpload(t, e.url, token, new(rawUpload).file("running.bin", bytes.Repeat([]byte("r"), 17<<20)).Bytes(), 20<<20)
		waitFor(t, "the running upload to be recorded", func() bool {
			return slices.Equal(recorded(), []string{"lib/running.bin"}) && slices.Equal(stored(), []string{"multipart upload lib/running.bin"})
		})
		conn.Close() // the client goes away: the upload is aborted and forgotten
		waitFor(t, "the cut upload to be aborted and forgotten", func() bool {
			return len(recorded()) == 0 && len(stored()) == 0
		})

		// A process died two hours after starting an upload: the upload is
		// open on the server and recorded, renewed no more. Another one is
		// alive (renewed just now).
		now := e.a.Now()
		for _, u := range []struct {
			key     string
			renewed time.Time
		}{{"lib/dead.bin", now.Add(-2 * time.Hour)}, {"lib/alive.bin", now}} {
			out, err := raw.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(u.key)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := raw.UploadPart(ctx, &awss3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(u.key), UploadId: out.UploadId,
				PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("part one"))}); err != nil {
				t.Fatal(err)
			}
			if err := e.a.Store.RecordMultipartUpload(ctx, catalog.MultipartUpload{AccountID: acct, Bucket: bucket, Key: u.key,
				UploadID: aws.ToString(out.UploadId)}, u.renewed); err != nil {
				t.Fatal(err)
			}
		}
		// Before the staleness threshold, nothing is aborted.
		if n, err := e.svc.Conns.AbortStaleUploads(ctx, now.Add(-3*time.Hour)); err != nil || n != 0 {
			t.Fatalf("cleanup of uploads older than 3 h: %d aborted, %v; want none", n, err)
		}
		// The periodic job aborts the dead one. It is unique while queued
		// or running: the run River starts at start-up may be running and
		// have looked already, so it is asked for again until one looks
		// after the records were made.
		waitFor(t, "the cleanup job to abort the dead upload", func() bool {
			if err := e.svc.Queue.Enqueue(ctx, connections.AbortStaleUploadsArgs{}); err != nil {
				t.Fatal(err)
			}
			return slices.Equal(stored(), []string{"multipart upload lib/alive.bin"})
		})
		if got := recorded(); !slices.Equal(got, []string{"lib/alive.bin"}) {
			t.Fatalf("recorded uploads after the cleanup: %q, want only lib/alive.bin", got)
		}
	})
}

// startUpload sends the headers of an upload announcing announce bytes
// and then body, and returns the open connection.
func startUpload(t *testing.T, base, token string, body []byte, announce int) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /api/v1/assets HTTP/1.1\r\nHost: shelf\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n",
		token, rawBoundary, announce)
	if _, err := conn.Write(body); err != nil {
		t.Fatal(err)
	}
	return conn
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
