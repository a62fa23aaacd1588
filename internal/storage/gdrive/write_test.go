package gdrive_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

func TestWritesRetryWithoutDuplicates(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	ctx := context.Background()
	// Drive creates the folder and the file, but the replies are lost.
	b.fake.FailAfterNext("files.create", 1, drivefake.FaultServerError)
	b.fake.FailAfterNext("files.upload", 1, drivefake.FaultServerError)
	e, err := b.conn.Put(ctx, "dir/a.txt", strings.NewReader("hello"), 5, "text/plain")
	if err != nil {
		t.Fatalf("Put under lost replies: %v", err)
	}
	dirs := b.fake.Children(b.rootID)
	if len(dirs) != 1 {
		t.Fatalf("root holds %d items after a retried folder create, want 1", len(dirs))
	}
	files := b.fake.Children(dirs[0].ID)
	if len(files) != 1 || files[0].ID != e.ID || string(files[0].Content) != "hello" {
		t.Fatalf("dir holds %+v after a retried upload, want one a.txt", files)
	}

	// Rate limits and 5xx before anything happens are simply retried.
	for _, fault := range []drivefake.Fault{drivefake.FaultRateLimit, drivefake.FaultTooManyRequests, drivefake.FaultUnavailable} {
		b.fake.FailNext("files.update", 2, fault)
		if _, err := b.conn.Move(ctx, "dir/a.txt", "dir/b.txt"); err != nil {
			t.Fatalf("Move under fault %d: %v", fault, err)
		}
		if _, err := b.conn.Move(ctx, "dir/b.txt", "dir/a.txt"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPutLargeResumable(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	conn := connect(t, b.fake, b.rootID, func(c *gdrive.Config) { c.ChunkSize = 256 << 10 })
	ctx := context.Background()
	body := make([]byte, 1<<20+123)
	rand.Read(body)
	e, err := conn.Put(ctx, "big.bin", bytes.NewReader(body), int64(len(body)), "video/mp4")
	if err != nil {
		t.Fatal(err)
	}
	if e.Size != int64(len(body)) || e.MIME != "video/mp4" {
		t.Errorf("size %d MIME %q, want %d video/mp4", e.Size, e.MIME, len(body))
	}
	if n := b.fake.Calls("files.upload"); n < 5 {
		t.Errorf("a 1 MiB upload with 256 KiB chunks took %d upload calls; want a resumable session", n)
	}
	rc, err := conn.Open(ctx, "big.bin")
	must(t, err)
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, body) {
		t.Error("read back differs")
	}
	// A body shorter than announced writes nothing.
	_, err = conn.Put(ctx, "short.bin", bytes.NewReader(body[:600<<10]), int64(len(body)), "")
	mustClass(t, err, storage.ErrInvalidPath)
	if _, ok := b.fake.FindPath(b.rootID, "short.bin"); ok {
		t.Error("a short body left a file behind")
	}
}

func TestWritePermissionAndAuthErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	ctx := context.Background()
	must(t, b.fake.SetAccess(b.rootID, drivefake.AccessReader))
	_, err := b.conn.Put(ctx, "x.txt", strings.NewReader("x"), 1, "")
	mustClass(t, err, storage.ErrPermission)
	_, err = b.conn.MkDir(ctx, "d")
	mustClass(t, err, storage.ErrPermission)

	b.fake.FailNext("", 1, drivefake.FaultAuth)
	_, err = b.conn.Stat(ctx, "x.txt")
	mustClass(t, err, storage.ErrAuth)
}

func TestPutNeverReplacesNatives(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	doc := b.fake.CreateNative(b.rootID, "Plan", drivefake.DocMIME)
	_, err := b.conn.Put(context.Background(), "Plan", strings.NewReader("x"), 1, "text/plain")
	mustClass(t, err, storage.ErrExists)
	if info, _ := b.fake.File(doc); info.MIME != drivefake.DocMIME || len(b.fake.Children(b.rootID)) != 1 {
		t.Errorf("Put over a Google Doc changed it or added a file: %+v", info)
	}
}

func TestNamesDifferingOnlyInCase(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	ctx := context.Background()
	upper := b.fake.CreateFile(b.rootID, "Photo.JPG", "image/jpeg", []byte("upper"))
	e, err := b.conn.Put(ctx, "photo.jpg", strings.NewReader("lower"), 5, "image/jpeg")
	if err != nil {
		t.Fatal(err)
	}
	if e.ID == upper {
		t.Fatal("Put(photo.jpg) overwrote Photo.JPG: Drive's name query ignores case, the connector must not")
	}
	st, err := b.conn.Stat(ctx, "Photo.JPG")
	if err != nil || st.ID != upper {
		t.Errorf("Stat(Photo.JPG) = %+v, %v; want %s", st, err, upper)
	}
}

func TestPutLargeRetriesWhenRewindable(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	conn := connect(t, b.fake, b.rootID, func(c *gdrive.Config) { c.ChunkSize = 256 << 10 })
	ctx := context.Background()
	body := make([]byte, 700<<10)
	rand.Read(body)

	b.fake.FailNext("files.upload", 1, drivefake.FaultRateLimit) // the session start is refused
	e, err := conn.Put(ctx, "seekable.bin", bytes.NewReader(body), int64(len(body)), "")
	if err != nil {
		t.Fatalf("large Put from a seekable body under a rate limit: %v", err)
	}
	if info, _ := b.fake.File(e.ID); !bytes.Equal(info.Content, body) {
		t.Error("retried upload stored other content")
	}

	b.fake.FailNext("files.upload", 1, drivefake.FaultRateLimit)
	_, err = conn.Put(ctx, "stream.bin", struct{ io.Reader }{bytes.NewReader(body)}, int64(len(body)), "")
	mustClass(t, err, storage.ErrRetryable)
}
