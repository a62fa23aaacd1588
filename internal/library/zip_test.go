package library_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"math/rand"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shelf-dam/shelf/internal/library"
	"github.com/shelf-dam/shelf/internal/storage"
)

// countingWriter counts the bytes that reached it (the HTTP response).
type countingWriter struct {
	bytes.Buffer
	n atomic.Int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return w.Buffer.Write(p)
}

// openSpy records, at each Open, how many bytes of the zip had already
// been written out.
type openSpy struct {
	storage.Connector
	out     *countingWriter
	written map[string]int64
}

func (s *openSpy) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	s.written[p] = s.out.n.Load()
	return s.Connector.Open(ctx, p)
}

func TestZipStreamsFilesWithUniqueNames(t *testing.T) {
	t.Parallel()
	forBackends(t, testZipStreams)
}

func testZipStreams(t *testing.T, be backend) {
	out := &countingWriter{}
	spy := &openSpy{out: out, written: map[string]int64{}}
	f := newFixture(t, sqliteDB, be, func(o *options) {
		o.wrap = func(c storage.Connector) storage.Connector { spy.Connector = c; return spy }
	})
	// 128 KiB that do not compress: more than any buffer on the way.
	raw := make([]byte, 128<<10)
	rand.New(rand.NewSource(1)).Read(raw)
	big := string(raw)
	if _, err := f.conn.Put(f.ctx, "a/big.bin", strings.NewReader(big), int64(len(big)), ""); err != nil {
		t.Fatal(err)
	}
	f.seed("b/", "b/BIG.bin", "c/big.bin", "gone.txt", library.ZipReportName)
	ids := []int64{f.asset("a/big.bin").ID, f.asset("b/BIG.bin").ID, f.asset("c/big.bin").ID, f.asset("gone.txt").ID, 424242,
		f.asset(library.ZipReportName).ID}
	if err := f.conn.Delete(f.ctx, "gone.txt"); err != nil { // gone from the storage since the sync
		t.Fatal(err)
	}
	z, err := f.svc.PlanZip(f.ctx, f.acct.ID, ids, 0)
	if err != nil {
		t.Fatal(err)
	}
	if z.Files() != 5 || len(z.Skipped) != 1 {
		t.Errorf("plan: %d files, skipped %+v", z.Files(), z.Skipped)
	}
	if err := z.Write(f.ctx, out); err != nil {
		t.Fatal(err)
	}
	if spy.written["b/BIG.bin"] < int64(len(big))/2 {
		t.Errorf("only %d bytes were sent before the second file was opened: the zip is not streamed", spy.written["b/BIG.bin"])
	}
	zr, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var names []string
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		got[zf.Name] = string(data)
		names = append(names, zf.Name)
	}
	want := []string{"big.bin", "BIG (2).bin", "big (3).bin", "NOT-INCLUDED (2).txt", library.ZipReportName}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("entries %q, want %q", names, want)
	}
	if got["big.bin"] != big || got["BIG (2).bin"] != "content of b/BIG.bin" || got["big (3).bin"] != "content of c/big.bin" {
		t.Errorf("contents differ: %d bytes, %q, %q", len(got["big.bin"]), got["BIG (2).bin"], got["big (3).bin"])
	}
	report := got[library.ZipReportName]
	if !strings.Contains(report, "gone.txt: could not be read") || !strings.Contains(report, "asset 424242: not in this library") {
		t.Errorf("report:\n%s", report)
	}
}

func TestZipLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sqliteDB, localBackend)
	f.seed("a.txt", "b.txt")
	ids := []int64{f.asset("a.txt").ID, f.asset("b.txt").ID}
	_, err := f.svc.PlanZip(f.ctx, f.acct.ID, ids, 15) // each file is 16 bytes
	wantKind(t, err, library.ErrTooLarge, "a zip over the byte limit")
	if !strings.Contains(err.Error(), "Select fewer") {
		t.Errorf("message %q does not say what to do", err)
	}
	many := make([]int64, library.MaxBulk+1)
	for i := range many {
		many[i] = int64(i + 1)
	}
	_, err = f.svc.PlanZip(f.ctx, f.acct.ID, many, 0)
	wantKind(t, err, library.ErrTooLarge, "a zip of too many files")
	_, err = f.svc.PlanZip(f.ctx, f.acct.ID, []int64{777777}, 0)
	wantKind(t, err, library.ErrNotFound, "a zip of nothing in the library")
	// Files that grew in the storage past the limit since the last sync:
	// the archive is not passed off as complete.
	z, err := f.svc.PlanZip(f.ctx, f.acct.ID, ids, 40)
	if err != nil {
		t.Fatal(err)
	}
	grown := strings.Repeat("x", 100)
	if _, err := f.conn.Put(f.ctx, "b.txt", strings.NewReader(grown), int64(len(grown)), ""); err != nil {
		t.Fatal(err)
	}
	if err := z.Write(f.ctx, io.Discard); err == nil {
		t.Error("a zip whose files grew past the limit was written as complete")
	}
}
