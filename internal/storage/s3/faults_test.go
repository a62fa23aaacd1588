package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/s3"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
)

func TestTransientFaultsAreRetried(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t)
	c := env.conn(t, nil)
	ctx := context.Background()
	env.seed(t, "a/1.txt", "a/2.txt", "b.txt")

	cases := []struct {
		op    s3fake.Op
		fault s3fake.Fault
		n     int
		call  func() error
	}{
		{s3fake.OpList, s3fake.FaultSlowDown, 3, func() error { _, err := collect(t, c.Scan); return err }},
		{s3fake.OpList, s3fake.Fault500, 2, func() error { _, err := c.Stat(ctx, "b.txt"); return err }},
		{s3fake.OpGet, s3fake.FaultSlowDown, 2, func() error {
			rc, err := c.Open(ctx, "a/1.txt")
			if err == nil {
				rc.Close()
			}
			return err
		}},
		{s3fake.OpPut, s3fake.Fault500, 4, func() error {
			_, err := c.Put(ctx, "new.txt", strings.NewReader("new"), 3, "")
			return err
		}},
		{s3fake.OpCopy, s3fake.FaultSlowDown, 1, func() error { _, err := c.Move(ctx, "new.txt", "moved.txt"); return err }},
		{s3fake.OpDelete, s3fake.FaultDropConnection, 2, func() error { return c.Delete(ctx, "moved.txt") }},
		{s3fake.OpDeleteMulti, s3fake.FaultSlowDown, 2, func() error { return c.Delete(ctx, "a") }},
	}
	for _, tc := range cases {
		env.srv.ResetCalls()
		env.srv.FailNext(tc.op, tc.n, tc.fault)
		if err := tc.call(); err != nil {
			t.Fatalf("%s with %d injected faults: %v", tc.op, tc.n, err)
		}
		if got := env.srv.Calls(tc.op); got < tc.n+1 {
			t.Fatalf("%s: server saw %d calls, want at least %d (faults + the retry that worked)", tc.op, got, tc.n+1)
		}
	}
	got, err := collect(t, c.Scan)
	if err != nil || strings.Join(got, ",") != "b.txt" {
		t.Fatalf("after the faulty calls the bucket lists %q (%v), want only b.txt", got, err)
	}
}

func TestPersistentFaultsGiveUpClassifiedRetryable(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t)
	c := env.conn(t, nil)
	env.seed(t, "x.txt")
	env.srv.FailRate(s3fake.OpList, 1, s3fake.FaultSlowDown)
	_, err := collect(t, c.Scan)
	if !errors.Is(err, storage.ErrRetryable) {
		t.Fatalf("Scan under constant SlowDown = %v, want ErrRetryable", err)
	}
	if got := env.srv.Calls(s3fake.OpList); got != fastPacer.MaxAttempts {
		t.Fatalf("server saw %d LIST calls, want exactly MaxAttempts=%d", got, fastPacer.MaxAttempts)
	}
}

func TestPermanentErrorsAreClassifiedAndNotRetried(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t)
	c := env.conn(t, nil)
	env.seed(t, "x.txt")
	ctx := context.Background()
	cases := []struct {
		fault s3fake.Fault
		class error
	}{
		{s3fake.FaultInvalidKey, storage.ErrAuth},
		{s3fake.FaultSignature, storage.ErrAuth},
		{s3fake.FaultAccessDenied, storage.ErrPermission},
	}
	for _, tc := range cases {
		env.srv.ResetCalls()
		env.srv.FailNext(s3fake.OpAny, 1, tc.fault)
		_, err := c.Stat(ctx, "x.txt")
		if !errors.Is(err, tc.class) {
			t.Errorf("fault %d: Stat = %v, want %v", tc.fault, err, tc.class)
		}
		if n := env.srv.Calls(s3fake.OpAny); n != 1 {
			t.Errorf("fault %d: %d calls, want 1 (no retry of a permanent error)", tc.fault, n)
		}
	}

	missing := env.conn(t, func(cfg *s3.Config) { cfg.Bucket = "no-such-bucket" })
	_, err := collect(t, missing.Scan)
	if !errors.Is(err, storage.ErrFatal) || !strings.Contains(err.Error(), `bucket "no-such-bucket" does not exist`) {
		t.Fatalf("Scan of a missing bucket = %v, want ErrFatal naming the bucket", err)
	}
}

func TestMultipartUpload(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t)
	c := env.conn(t, func(cfg *s3.Config) { cfg.PartSize = s3.MinPartSize; cfg.Prefix = "up" })
	ctx := context.Background()
	body := bytes.Repeat([]byte("0123456789abcdef"), (12<<20)/16+3) // 12 MiB + 48 bytes: 3 parts

	// One part fails once and is retried with the same bytes.
	env.srv.FailNext(s3fake.OpUploadPart, 1, s3fake.Fault500)
	e, err := c.Put(ctx, "big.bin", struct{ io.Reader }{bytes.NewReader(body)}, -1, "")
	if err != nil {
		t.Fatalf("multipart Put of a non-seekable body: %v", err)
	}
	if got := env.srv.Calls(s3fake.OpCompleteMultipart); got != 1 {
		t.Fatalf("CompleteMultipartUpload calls = %d, want 1", got)
	}
	if got := env.srv.Calls(s3fake.OpUploadPart); got != 4 {
		t.Fatalf("UploadPart calls = %d, want 3 parts + 1 retry", got)
	}
	if e.Size != int64(len(body)) {
		t.Fatalf("Put returned size %d, want %d", e.Size, len(body))
	}
	// gofakes3 answers Complete with "md5-of-md5s-3" but lists the plain
	// MD5: Put must report what scans will see.
	var scanned storage.Entry
	if err := c.Scan(ctx, func(se storage.Entry) error { scanned = se; return nil }); err != nil {
		t.Fatal(err)
	}
	if scanned.ETag != e.ETag || scanned.Size != e.Size {
		t.Fatalf("Put returned ETag %q size %d; Scan reports %q %d", e.ETag, e.Size, scanned.ETag, scanned.Size)
	}
	rc, err := c.Open(ctx, "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("read back %d bytes, want the %d written", len(got), len(body))
	}

	// Exactly one part's worth goes up in a single PutObject.
	env.srv.ResetCalls()
	if _, err := c.Put(ctx, "exact.bin", bytes.NewReader(body[:s3.MinPartSize]), s3.MinPartSize, ""); err != nil {
		t.Fatal(err)
	}
	if env.srv.Calls(s3fake.OpPut) != 1 || env.srv.Calls(s3fake.OpCreateMultipart) != 0 {
		t.Fatalf("a body of exactly one part used put=%d create-multipart=%d, want one PutObject",
			env.srv.Calls(s3fake.OpPut), env.srv.Calls(s3fake.OpCreateMultipart))
	}
}

// failingReader yields n bytes, then an error.
type failingReader struct{ n int }

func (f *failingReader) Read(b []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("client went away")
	}
	k := min(len(b), f.n)
	for i := range k {
		b[i] = 'x'
	}
	f.n -= k
	return k, nil
}

func TestFailedMultipartUploadIsAbortedAndStoresNothing(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t)
	c := env.conn(t, func(cfg *s3.Config) { cfg.PartSize = s3.MinPartSize })
	ctx := context.Background()
	if _, err := c.Put(ctx, "broken.bin", &failingReader{n: s3.MinPartSize + 100}, -1, ""); err == nil {
		t.Fatal("Put of a body that fails part way succeeded")
	}
	if got := env.srv.Calls(s3fake.OpAbortMultipart); got != 1 {
		t.Fatalf("AbortMultipartUpload calls = %d, want 1", got)
	}
	// A body cut off in transit (io.ErrUnexpectedEOF after two and a bit
	// parts) is not taken for a short last part.
	env.srv.ResetCalls()
	cut := io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("z"), 2*s3.MinPartSize+100)), iotest.ErrReader(io.ErrUnexpectedEOF))
	if _, err := c.Put(ctx, "cut.bin", cut, -1, ""); err == nil {
		t.Fatal("Put of a body cut off in transit succeeded")
	}
	if env.srv.Calls(s3fake.OpAbortMultipart) != 1 || env.srv.Calls(s3fake.OpCompleteMultipart) != 0 {
		t.Fatalf("a cut body: %d aborts and %d completes, want the upload aborted",
			env.srv.Calls(s3fake.OpAbortMultipart), env.srv.Calls(s3fake.OpCompleteMultipart))
	}
	// A body shorter than announced is refused too.
	body := bytes.Repeat([]byte("y"), s3.MinPartSize+10)
	if _, err := c.Put(ctx, "short.bin", bytes.NewReader(body), int64(len(body))+1, ""); err == nil {
		t.Fatal("Put of a body shorter than announced succeeded")
	}
	if env.srv.ObjectExists(env.bucket, "broken.bin") || env.srv.ObjectExists(env.bucket, "short.bin") || env.srv.ObjectExists(env.bucket, "cut.bin") {
		t.Fatal("a failed upload left an object behind")
	}
}

func TestMultipartPartsGoUpConcurrently(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t)
	c := env.conn(t, func(cfg *s3.Config) { cfg.PartSize = s3.MinPartSize; cfg.UploadConcurrency = 3 })
	env.srv.SetLatency(s3fake.OpUploadPart, 20*time.Millisecond)
	body := bytes.Repeat([]byte{7}, 4*s3.MinPartSize+1) // 5 parts
	if _, err := c.Put(context.Background(), "p.bin", bytes.NewReader(body), int64(len(body)), ""); err != nil {
		t.Fatal(err)
	}
	if n := env.srv.MaxConcurrent(s3fake.OpUploadPart); n < 2 || n > 3 {
		t.Fatalf("at most %d parts were in flight at once, want 2..3 (UploadConcurrency=3)", n)
	}
	rc, err := c.Open(context.Background(), "p.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, body) {
		t.Fatal("parts uploaded concurrently were assembled wrongly")
	}
}
