package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/s3"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// fakeTracker records what a connector tells its UploadTracker.
type fakeTracker struct {
	mu       sync.Mutex
	open     map[string]s3.Upload // by upload ID
	started  int
	renewals int
	failNext error
}

func newFakeTracker() *fakeTracker { return &fakeTracker{open: map[string]s3.Upload{}} }

func (f *fakeTracker) Started(_ context.Context, u s3.Upload) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failNext; err != nil {
		f.failNext = nil
		return err
	}
	f.started++
	f.open[u.ID] = u
	return nil
}

func (f *fakeTracker) Renew(context.Context, s3.Upload) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.renewals++
	return nil
}

func (f *fakeTracker) Ended(_ context.Context, u s3.Upload) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.open, u.ID)
	return nil
}

func (f *fakeTracker) state() (open []s3.Upload, started, renewals int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.open {
		open = append(open, u)
	}
	return open, f.started, f.renewals
}

// openUploads lists the multipart uploads in progress in the bucket.
func (b rawBucket) openUploads(t *testing.T) []string {
	t.Helper()
	out, err := b.client.ListMultipartUploads(context.Background(), &awss3.ListMultipartUploadsInput{Bucket: aws.String(b.bucket)})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// blockingReader yields n bytes, then blocks until release is closed and
// fails.
type blockingReader struct {
	n       int
	release chan struct{}
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if b.n == 0 {
		<-b.release
		return 0, errors.New("the client went away")
	}
	k := min(len(p), b.n)
	clear(p[:k])
	b.n -= k
	return k, nil
}

// testUploadTracking: a multipart upload is recorded while it runs,
// renewed, and forgotten once completed or aborted; one left running (its
// process "dead") is aborted by AbortUpload from another connector, as the
// cleanup of abandoned uploads does (issue 10, defect 9).
func testUploadTracking(t *testing.T, newConn func(t *testing.T, mod func(*s3.Config)) *s3.Conn, raw rawBucket) {
	ctx := context.Background()
	tracker := newFakeTracker()
	c := newConn(t, func(cfg *s3.Config) { cfg.Prefix = "lib"; cfg.PartSize = s3.MinPartSize; cfg.Uploads = tracker })
	s3.SetRenewEveryForTest(c, 10*time.Millisecond)
	body := bytes.Repeat([]byte("m"), s3.MinPartSize+100)

	// Completed and failed uploads are forgotten.
	if _, err := c.Put(ctx, "done.bin", bytes.NewReader(body), int64(len(body)), ""); err != nil {
		t.Fatal(err)
	}
	cut := io.MultiReader(bytes.NewReader(body), iotest.ErrReader(io.ErrUnexpectedEOF))
	if _, err := c.Put(ctx, "cut.bin", cut, -1, ""); err == nil {
		t.Fatal("Put of a cut body succeeded")
	}
	if open, started, _ := tracker.state(); started != 2 || len(open) != 0 {
		t.Fatalf("after a completed and a failed upload: %d started, %d still recorded (%v); want 2 and none", started, len(open), open)
	}
	if got := raw.openUploads(t); len(got) != 0 {
		t.Fatalf("uploads left open on the server: %q", got)
	}

	// An upload that cannot be recorded does not go on.
	tracker.failNext = errors.New("catalog unreachable")
	if _, err := c.Put(ctx, "unrecorded.bin", bytes.NewReader(body), int64(len(body)), ""); err == nil {
		t.Fatal("Put went on without recording its multipart upload")
	}
	if got := raw.openUploads(t); len(got) != 0 {
		t.Fatalf("an unrecorded upload was left open: %q", got)
	}

	// An upload whose process hangs (dies) stays recorded and open
	// while it is renewed; the cleanup aborts it from elsewhere.
	release := make(chan struct{})
	putDone := make(chan error, 1)
	go func() {
		_, err := c.Put(ctx, "hanging.bin", &blockingReader{n: s3.MinPartSize + 100, release: release}, -1, "")
		putDone <- err
	}()
	var open []s3.Upload
	deadline := time.Now().Add(10 * time.Second)
	for {
		var renewals int
		open, _, renewals = tracker.state()
		if len(open) == 1 && renewals >= 2 {
			break
		}
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("a hanging upload: %d recorded, %d renewals; want 1 recorded and renewed", len(open), renewals)
		}
		time.Sleep(5 * time.Millisecond)
	}
	u := open[0]
	if u.Bucket != raw.bucket || u.Key != "lib/hanging.bin" || u.ID == "" {
		t.Fatalf("recorded upload %+v, want bucket %s key lib/hanging.bin", u, raw.bucket)
	}
	if got := raw.openUploads(t); !slices.Equal(got, []string{"lib/hanging.bin"}) {
		t.Fatalf("open uploads on the server: %q, want lib/hanging.bin", got)
	}
	cleaner := newConn(t, func(cfg *s3.Config) { cfg.Prefix = "lib" })
	if err := cleaner.AbortUpload(ctx, u); err != nil {
		t.Fatalf("AbortUpload: %v", err)
	}
	if got := raw.openUploads(t); len(got) != 0 {
		t.Fatalf("open uploads after AbortUpload: %q", got)
	}
	if err := cleaner.AbortUpload(ctx, u); err != nil {
		t.Fatalf("AbortUpload of an upload already gone: %v, want nil", err)
	}
	other := u
	other.Key = "elsewhere/hanging.bin"
	if err := cleaner.AbortUpload(ctx, other); !errors.Is(err, storage.ErrInvalidPath) {
		t.Fatalf("AbortUpload outside the prefix: %v, want ErrInvalidPath", err)
	}
	close(release)
	if err := <-putDone; err == nil {
		t.Fatal("the hanging Put succeeded")
	}
	if open, _, _ := tracker.state(); len(open) != 0 {
		t.Fatalf("the aborted upload is still recorded: %v", open)
	}
	if _, err := c.Stat(ctx, "hanging.bin"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat of the aborted upload's file: %v, want ErrNotFound", err)
	}
}

func TestUploadTracking(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t)
	testUploadTracking(t, env.conn, newRawBucket(env.srv.URL, "fake", "fake", env.bucket))
}

func TestRealUploadTracking(t *testing.T) {
	t.Parallel()
	real := testenv.RealS3(t)
	bucket := testenv.RandomName("shelf-mp-")
	raw := newRawBucket(real.Endpoint, real.AccessKey, real.SecretKey, bucket)
	raw.createBucket(t)
	t.Cleanup(func() { raw.deleteBucket(t) })
	testUploadTracking(t, func(t *testing.T, mod func(*s3.Config)) *s3.Conn {
		cfg := s3.Config{Bucket: bucket, Endpoint: real.Endpoint, PathStyle: true,
			AccessKeyID: real.AccessKey, SecretAccessKey: real.SecretKey, Pacer: fastPacer}
		mod(&cfg)
		c, err := s3.New(context.Background(), cfg, testLogger())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}, raw)
}
