package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// s3Event is an S3 event notification body as MinIO and AWS send it (key
// URL-encoded).
func s3Event(bucket, event string, keys ...string) string {
	recs := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		recs = append(recs, map[string]any{
			"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": event,
			"s3": map[string]any{"bucket": map[string]any{"name": bucket},
				"object": map[string]any{"key": strings.ReplaceAll(k, " ", "+"), "size": 1}},
		})
	}
	b, _ := json.Marshal(map[string]any{"Records": recs})
	return string(b)
}

func postEvent(t *testing.T, url, body string, header map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A live S3 account: bucket events posted to the events URL bring changes
// in within seconds; events for another bucket or outside the prefix
// change nothing; an unsigned SNS message is refused.
func TestLiveS3Events(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := startLive(t, dialect)
		s3 := s3fake.Start()
		t.Cleanup(s3.Close)
		if err := s3.CreateBucket("media"); err != nil {
			t.Fatal(err)
		}
		if err := s3.PutObject("media", "team/start.jpg", []byte("start")); err != nil {
			t.Fatal(err)
		}
		c, acct, _ := e.signup("s3live@example.com", "S3 live")
		r := c.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "s3", "bucket": "media", "prefix": "team/",
			"endpoint": s3.URL, "path_style": true, "access_key_id": "k", "secret_access_key": "s"})
		e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"]))
		st := c.Must(200, "GET", "/api/v1/storage", nil).Obj("storage")
		url, _ := st["events_url"].(string)
		if !strings.HasPrefix(url, e.url+"/api/v1/storage/events/") {
			t.Fatalf("events_url: %v", st)
		}
		e.waitWatched(c)
		e.waitCaughtUp(c) // the catch-up reconciliation holds the library while it runs

		// Created: a file with a space in its name, in a new folder.
		if err := s3.PutObject("media", "team/new folder/a b.jpg", []byte("ab")); err != nil {
			t.Fatal(err)
		}
		if got := postEvent(t, url, s3Event("media", "ObjectCreated:Put", "team/new folder/a b.jpg"), nil); got != 200 {
			t.Fatalf("posting an event: %d", got)
		}
		waitFor(t, "a created object shows", func() bool { _, ok := e.asset(acct, "new folder/a b.jpg"); return ok })

		// Removed.
		s3del(t, s3, "media", "team/start.jpg")
		postEvent(t, url, s3Event("media", "s3:ObjectRemoved:Delete", "team/start.jpg"), nil)
		waitFor(t, "a removed object goes", func() bool { _, ok := e.asset(acct, "start.jpg"); return !ok })

		// Another bucket, or outside the prefix: nothing happens, even
		// though the object is there (a later full sync would find it).
		if err := s3.PutObject("media", "team/quiet.jpg", []byte("q")); err != nil {
			t.Fatal(err)
		}
		postEvent(t, url, s3Event("other", "ObjectCreated:Put", "team/quiet.jpg"), nil)
		postEvent(t, url, s3Event("media", "ObjectCreated:Put", "elsewhere/quiet.jpg"), nil)
		// A later event proves the earlier ones were handled.
		if err := s3.PutObject("media", "team/marker.jpg", []byte("m")); err != nil {
			t.Fatal(err)
		}
		postEvent(t, url, s3Event("media", "ObjectCreated:Put", "team/marker.jpg"), nil)
		waitFor(t, "the marker shows", func() bool { _, ok := e.asset(acct, "marker.jpg"); return ok })
		if _, ok := e.asset(acct, "quiet.jpg"); ok {
			t.Fatal("an event for another bucket or outside the prefix changed the library")
		}

		// Bad input.
		for _, tc := range []struct {
			name string
			body string
			h    map[string]string
			want int
		}{
			{"malformed JSON", `{"Records":[`, nil, 400},
			{"a record without a key", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"media"},"object":{}}}]}`, nil, 400},
			{"an unsigned SNS message", `{"Type":"Notification","MessageId":"1","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"{}","Timestamp":"2026-12-06T00:00:00Z"}`,
				map[string]string{"x-amz-sns-message-type": "Notification"}, 403},
			{"a rotated key", s3Event("media", "ObjectCreated:Put", "team/x.jpg"), nil, 404},
		} {
			u := url
			if tc.want == 404 {
				u = e.url + "/api/v1/storage/events/rotated-or-guessed"
			}
			if got := postEvent(t, u, tc.body, tc.h); got != tc.want {
				t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
			}
		}

		// The URL's secret never reaches the logs.
		key := url[strings.LastIndex(url, "/")+1:]
		if strings.Contains(e.logs.String(), key) {
			t.Fatal("the events URL's key was logged")
		}

		// Reconnecting rotates the URL: the old one is refused.
		r = c.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "s3", "bucket": "media", "prefix": "team/",
			"endpoint": s3.URL, "path_style": true, "access_key_id": "k", "secret_access_key": "s"})
		e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"]))
		// (Keys are cached for a moment against floods.)
		waitFor(t, "the old events URL refused after a reconnect", func() bool {
			return postEvent(t, url, s3Event("media", "ObjectCreated:Put", "team/x.jpg"), nil) == 404
		})
		if u2 := c.Must(200, "GET", "/api/v1/storage", nil).Obj("storage")["events_url"]; u2 == url {
			t.Fatal("reconnecting kept the events URL")
		}
	})
}

func s3del(t *testing.T, s *s3fake.Server, bucket, key string) {
	t.Helper()
	req, _ := http.NewRequest("DELETE", s.URL+"/"+bucket+"/"+key, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("deleting %s: %s", key, resp.Status)
	}
}

// The real thing: versitygw started with --event-webhook-url posts its
// events to Shelf, and files written, copied and deleted through the S3 API
// show in the library. versitygw refuses to start when the URL refuses
// connections, so Shelf is started and the storage connected first (on a
// versitygw without events), then versitygw is restarted with the URL.
func TestLiveVersitygwWebhook(t *testing.T) {
	t.Parallel()
	real := testenv.RealS3(t)
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		t.Skip("versitygw not installed; " + testenv.EnableHint)
	}
	e := startLive(t, "sqlite")
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "media"), 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	endpoint := "http://127.0.0.1:" + port
	run := func(extra ...string) *exec.Cmd {
		args := append([]string{"--port", "127.0.0.1:" + port, "--access", real.AccessKey, "--secret", real.SecretKey}, extra...)
		args = append(args, "posix", root)
		cmd := exec.Command(bin, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "versitygw listening", func() bool {
			c, err := net.Dial("tcp", "127.0.0.1:"+port)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		return cmd
	}
	// A file that stays, so deleting the other does not empty the library
	// (which waits for a confirmation).
	if err := os.WriteFile(filepath.Join(root, "media", "keep.jpg"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	gw := run()
	c, acct, _ := e.signup("vgw@example.com", "versitygw live")
	r := c.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "s3", "bucket": "media", "endpoint": endpoint,
		"path_style": true, "access_key_id": real.AccessKey, "secret_access_key": real.SecretKey})
	e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"]))
	url := c.Must(200, "GET", "/api/v1/storage", nil).Obj("storage")["events_url"].(string)
	_ = gw.Process.Kill()
	_ = gw.Wait()
	gw = run("--event-webhook-url", url)
	t.Cleanup(func() { _ = gw.Process.Kill(); _ = gw.Wait() })
	e.waitWatched(c)
	e.waitCaughtUp(c)

	conn, err := e.svc.Conns.Connector(context.Background(), acct)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := conn.Put(ctx, "shots/one.jpg", strings.NewReader("one"), 3, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a file put through versitygw shows", func() bool { _, ok := e.asset(acct, "shots/one.jpg"); return ok })
	one, _ := e.asset(acct, "shots/one.jpg")
	c.Must(200, "PATCH", "/api/v1/assets/"+itoa(one.ID), map[string]any{"tags": []string{"hero"}})
	// A move is a copy and a delete: one batch, so the tag follows.
	if _, err := conn.Move(ctx, "shots/one.jpg", "final/one.jpg"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a moved file shows at its new key", func() bool {
		_, n := e.asset(acct, "final/one.jpg")
		_, o := e.asset(acct, "shots/one.jpg")
		return n && !o
	})
	moved, _ := e.asset(acct, "final/one.jpg")
	if moved.ID != one.ID || len(moved.Tags) != 1 {
		t.Fatalf("the moved file lost its identity or tags: %+v (was %d)", moved, one.ID)
	}
	if err := conn.Delete(ctx, "final/one.jpg"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a deleted file goes", func() bool { _, ok := e.asset(acct, "final/one.jpg"); return !ok })
	// Nothing was lost.
	rr := c.Must(202, "POST", "/api/v1/sync", nil)
	if run := e.waitRun(acct, apitest.Num(rr.Obj("run")["id"])); run.State != catalog.RunSucceeded || run.Counts.Changes() != 0 {
		t.Fatalf("a full sync after the live batches changed something: %+v", run)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}
