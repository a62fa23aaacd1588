package s3_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/s3"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// fastPacer retries quickly so fault tests do not wait.
var fastPacer = storage.PacerConfig{MaxAttempts: 5, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond}

// fakeEnv is one s3fake server with one bucket.
type fakeEnv struct {
	srv    *s3fake.Server
	bucket string
}

func newFakeEnv(t *testing.T, opts ...s3fake.Option) fakeEnv {
	t.Helper()
	srv := s3fake.Start(opts...)
	t.Cleanup(srv.Close)
	bucket := testenv.RandomName("b")
	if err := srv.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	return fakeEnv{srv: srv, bucket: bucket}
}

// conn returns a connector on the fake; mod adjusts its config.
func (e fakeEnv) conn(t *testing.T, mod func(*s3.Config)) *s3.Conn {
	t.Helper()
	cfg := s3.Config{
		Bucket: e.bucket, Endpoint: e.srv.URL, PathStyle: true,
		AccessKeyID: "fake", SecretAccessKey: "fake", Pacer: fastPacer,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := s3.New(context.Background(), cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e fakeEnv) seed(t *testing.T, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := e.srv.PutObject(e.bucket, k, []byte("body of "+k)); err != nil {
			t.Fatal(err)
		}
	}
}

func testLogger() *slog.Logger {
	if os.Getenv("SHELF_TEST_VERBOSE") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// collect runs a scan and returns the sort keys in emitted order.
func collect(t *testing.T, scan func(context.Context, func(storage.Entry) error) error) ([]string, error) {
	t.Helper()
	var got []string
	err := scan(context.Background(), func(e storage.Entry) error {
		got = append(got, storage.SortKey(e.Path, e.IsDir))
		return nil
	})
	return got, err
}

func keyf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
