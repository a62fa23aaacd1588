package storagetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/storage"
)

func testEmptyRoot(t *testing.T, f Fixture) {
	if got := scan(t, f.Conn); len(got) != 0 {
		t.Fatalf("a new root lists %q, want nothing", keys(got))
	}
}

func testPutReadStat(t *testing.T, f Fixture) {
	e := put(t, f.Conn, "hello.txt", "hello, shelf")
	if e.Path != "hello.txt" || e.Name != "hello.txt" || e.IsDir || e.Size != 12 || e.ParentID != "" || e.ID == "" {
		t.Fatalf("Put returned %+v, want file hello.txt of 12 bytes at the top", e)
	}
	if e.ModTime.IsZero() {
		t.Fatalf("Put returned no ModTime")
	}
	if got := read(t, f.Conn, "hello.txt"); got != "hello, shelf" {
		t.Fatalf("Open read %q", got)
	}
	st, err := f.Conn.Stat(ctxFor(t), "hello.txt")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if st.ID != e.ID || st.Size != e.Size || st.ETag != e.ETag || !st.ModTime.Equal(e.ModTime) || st.IsDir {
		t.Fatalf("Stat = %+v, want what Put returned: %+v", st, e)
	}
	if strings.Contains(e.ETag, `"`) {
		t.Fatalf("ETag %q keeps its quotes", e.ETag)
	}
}

func testPutCreatesParents(t *testing.T, f Fixture) {
	e := put(t, f.Conn, "a/b/c.txt", "deep")
	if e.Path != "a/b/c.txt" {
		t.Fatalf("Put returned path %q", e.Path)
	}
	for _, dir := range []string{"a", "a/b"} {
		st, err := f.Conn.Stat(ctxFor(t), dir)
		if err != nil || !st.IsDir {
			t.Fatalf("Stat(%q) = %+v, %v; want a folder", dir, st, err)
		}
	}
	wantKeys(t, "Scan", scan(t, f.Conn), "a/", "a/b/", "a/b/c.txt")
}

// onlyReader hides every method but Read (no Seek, no Len, no WriteTo).
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(b []byte) (int, error) { return o.r.Read(b) }

func testPutUnknownSize(t *testing.T, f Fixture) {
	body := strings.Repeat("streamed body ", 1000)
	e, err := f.Conn.Put(ctxFor(t), "stream.bin", onlyReader{strings.NewReader(body)}, -1, "application/octet-stream")
	if err != nil {
		t.Fatalf("Put with unknown size and a non-seekable body: %v", err)
	}
	if e.Size != int64(len(body)) {
		t.Fatalf("Put returned size %d, want %d", e.Size, len(body))
	}
	if got := read(t, f.Conn, "stream.bin"); got != body {
		t.Fatalf("read back %d bytes, want the %d written", len(got), len(body))
	}
}

func testPutLargerFile(t *testing.T, f Fixture) {
	body := make([]byte, 3<<20+17)
	if _, err := rand.Read(body); err != nil {
		t.Fatal(err)
	}
	e, err := f.Conn.Put(ctxFor(t), "big/random.bin", bytes.NewReader(body), int64(len(body)), "")
	if err != nil {
		t.Fatalf("Put of %d bytes: %v", len(body), err)
	}
	if e.Size != int64(len(body)) {
		t.Fatalf("size %d, want %d", e.Size, len(body))
	}
	if !sameContent(readBytes(t, f.Conn, "big/random.bin"), body) {
		t.Fatal("content read back differs from what was written")
	}
}

func testPutWrongSize(t *testing.T, f Fixture) {
	ctx := ctxFor(t)
	if _, err := f.Conn.Put(ctx, "long.txt", strings.NewReader("0123456789"), 5, ""); err == nil {
		t.Fatal("Put of a body longer than announced succeeded")
	}
	if _, err := f.Conn.Put(ctx, "short.txt", strings.NewReader("01234"), 10, ""); err == nil {
		t.Fatal("Put of a body shorter than announced succeeded")
	}
	if got := scan(t, f.Conn); len(got) != 0 {
		t.Fatalf("refused uploads left %q", keys(got))
	}
}

// cutReader yields n bytes, then fails with err; with withLast the error
// comes with the last bytes, as some readers return it.
type cutReader struct {
	n        int
	err      error
	withLast bool
}

func (c *cutReader) Read(b []byte) (int, error) {
	if c.n <= 0 {
		return 0, c.err
	}
	k := min(len(b), c.n)
	for i := range k {
		b[i] = 'x'
	}
	c.n -= k
	if c.n == 0 && c.withLast {
		return k, c.err
	}
	return k, nil
}

// testPutFailingBody checks that a body whose reader fails stores nothing:
// neither the bytes read before the failure nor an empty file. A body cut
// off (an HTTP upload whose client went away, a multipart part without
// its boundary) fails with io.ErrUnexpectedEOF, which must not be taken
// for the body's end.
func testPutFailingBody(t *testing.T, f Fixture) {
	ctx := ctxFor(t)
	for _, tc := range []struct {
		name string
		r    io.Reader
	}{
		{"cut.bin", &cutReader{n: 100_000, err: io.ErrUnexpectedEOF}},
		{"cut-with-last.bin", &cutReader{n: 100_000, err: io.ErrUnexpectedEOF, withLast: true}},
		{"cut-empty.bin", &cutReader{n: 0, err: io.ErrUnexpectedEOF}},
		{"failed.bin", &cutReader{n: 100_000, err: errors.New("client went away")}},
	} {
		if _, err := f.Conn.Put(ctx, "up/"+tc.name, tc.r, -1, ""); err == nil {
			t.Errorf("Put of %s (a body that fails) succeeded", tc.name)
		}
	}
	for _, e := range scan(t, f.Conn) {
		if !e.IsDir {
			t.Errorf("a failed Put left %s (%d bytes) in the storage", e.Path, e.Size)
		}
	}
}

func testOverwrite(t *testing.T, f Fixture) {
	first := put(t, f.Conn, "doc.txt", "version one")
	second := put(t, f.Conn, "doc.txt", "version two, longer")
	if second.Size != int64(len("version two, longer")) {
		t.Fatalf("size after overwrite = %d", second.Size)
	}
	if first.ETag != "" && first.ETag == second.ETag {
		t.Fatalf("ETag did not change on overwrite: %q", first.ETag)
	}
	if got := read(t, f.Conn, "doc.txt"); got != "version two, longer" {
		t.Fatalf("read %q after overwrite", got)
	}
	got := scan(t, f.Conn)
	wantKeys(t, "Scan", got, "doc.txt")
}

func testScanTree(t *testing.T, f Fixture) {
	// Names chosen so byte order and "folder as path/" order disagree
	// with naive orders: "a-b" and "a!" sort before "a/", "a0" after it.
	for _, p := range []string{"a/x.txt", "a/sub/y.txt", "a-b.txt", "a!.txt", "a0.txt", "b.txt", "z/z/z.txt"} {
		put(t, f.Conn, p, "content of "+p)
	}
	mkdir(t, f.Conn, "empty")
	mkdir(t, f.Conn, "a/empty-inner")
	want := []string{"a/", "a/x.txt", "a/sub/", "a/sub/y.txt", "a/empty-inner/", "a-b.txt", "a!.txt", "a0.txt",
		"b.txt", "empty/", "z/", "z/z/", "z/z/z.txt"}
	wantKeys(t, "Scan", scan(t, f.Conn), want...)
	if sorted, ok := scanSorted(t, f.Conn); ok {
		wantKeys(t, "ScanSorted", sorted, want...)
	}
}

func testScanStops(t *testing.T, f Fixture) {
	for _, p := range []string{"1.txt", "2.txt", "3.txt"} {
		put(t, f.Conn, p, p)
	}
	stop := errors.New("stop here")
	n := 0
	err := f.Conn.Scan(ctxFor(t), func(storage.Entry) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Scan returned %v after %d entries, want the emit error after 1", err, n)
	}
}

func testScanMatchesStat(t *testing.T, f Fixture) {
	put(t, f.Conn, "p/q.txt", "q")
	put(t, f.Conn, "r.txt", "rr")
	mkdir(t, f.Conn, "s")
	for _, e := range scan(t, f.Conn) {
		st, err := f.Conn.Stat(ctxFor(t), e.Path)
		if err != nil {
			t.Fatalf("Stat(%q) of a scanned entry: %v", e.Path, err)
		}
		if st.ID != e.ID || st.IsDir != e.IsDir || st.Size != e.Size || st.ETag != e.ETag || !st.ModTime.Equal(e.ModTime) || st.ParentID != e.ParentID {
			t.Fatalf("Stat(%q) = %+v\nScan gave   %+v\n(the sync engine would see a change that did not happen)", e.Path, st, e)
		}
	}
}
