package fswatch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/shelf-dam/shelf/internal/storage/localfs"
)

func TestSkipsWhatTheLocalScanSkips(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mkdir(f.path("real"))
	f.mkdir(filepath.Join(f.outside, "secret"))
	if err := os.Symlink(filepath.Join(f.outside, "secret"), f.path("out-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(f.path("real"), f.path("dir-link")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(f.path("pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.start(Options{})

	for _, p := range []string{".shelf-tmp-123", "back\\slash.jpg", "control\x01.jpg", "bad\\dir/inner.jpg", ".shelf-tmp-dir/inner.jpg"} {
		f.write(p)
	}
	f.writeAbs(filepath.Join(f.outside, "secret/x.jpg")) // seen through out-link only
	f.write("real/y.jpg")                                // never as dir-link/y.jpg
	pipe, err := os.OpenFile(f.path("pipe"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pipe.Write([]byte("data")); err != nil {
		t.Fatal(err)
	}
	pipe.Close()
	seen := f.sync() // everything above has been sent
	if got := listed(seen, func(p string) bool { return p == "real/y.jpg" }); len(got) == 0 {
		t.Errorf("a file written in a folder that a link also leads to was not reported; batches: %+v", seen)
	}

	bad := listed(seen, func(p string) bool {
		return strings.Contains(p, ".shelf-tmp-") || strings.ContainsAny(p, "\\\x01") ||
			under("out-link")(p) || under("dir-link")(p) || p == "pipe"
	})
	if len(bad) > 0 {
		t.Errorf("reported paths the local scan skips or links it does not follow: %q", bad)
	}
}

func TestConnectorPutIsReportedUnderItsFinalName(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mkdir(f.path("album"))
	conn, err := localfs.New(f.root, []string{f.root})
	if err != nil {
		t.Fatal(err)
	}
	f.start(Options{})
	if _, err := conn.Put(context.Background(), "album/photo.jpg", strings.NewReader("jpeg"), 4, "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	seen := f.waitFor("album/photo.jpg")
	seen = append(seen, f.sync()...)
	if bad := listed(seen, func(p string) bool { return p != "album/photo.jpg" && !strings.HasPrefix(p, "sentinel-") }); len(bad) > 0 {
		t.Errorf("Put reported %q besides the file itself", bad)
	}
}

func TestWatchRefusesAMissingFolderOrAFileAtOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{filepath.Join(dir, "missing"), file} {
		err := Watch(context.Background(), root, Options{Ready: func() { t.Error("Ready was called") }}, func(Batch) {
			t.Error("send was called")
		})
		if err == nil || !strings.Contains(err.Error(), root) {
			t.Errorf("Watch(%s) = %v, want an error naming the folder", root, err)
		}
	}
}
