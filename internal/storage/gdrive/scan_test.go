package gdrive_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

func TestScanTree(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	a := b.fake.CreateFolder(b.rootID, "a")
	b.fake.CreateFile(a, "x.jpg", "image/jpeg", []byte("jpeg"))
	sub := b.fake.CreateFolder(a, "sub")
	b.fake.CreateFile(sub, "deep.txt", "text/plain", []byte("deep"))
	b.fake.CreateFile(b.rootID, "top.png", "image/png", []byte("png!"))
	outside := b.fake.CreateFolder("root", "Elsewhere")
	b.fake.CreateFile(outside, "secret.txt", "text/plain", []byte("no"))

	got := scanAll(t, b.conn)
	want := []string{"a/", "a/sub/", "a/sub/deep.txt", "a/x.jpg", "top.png"}
	if !slices.Equal(paths(got), want) {
		t.Fatalf("scan paths %v, want %v", paths(got), want)
	}
	for _, e := range got {
		if e.Path == "a/x.jpg" {
			if e.Size != 4 || e.ETag == "" || e.MIME != "image/jpeg" || e.ParentID != a || e.ModTime.IsZero() {
				t.Errorf("entry %+v lacks size, md5, MIME, parent or time", e)
			}
		}
		if e.Path == "top.png" && e.ParentID != "" {
			t.Errorf("top-level entry has ParentID %q, want \"\"", e.ParentID)
		}
	}
}

func TestScanDriveQuirks(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{MaxPageSize: 2, EmptyPageEvery: 2})
	f := b.fake
	f.CreateFile(b.rootID, "same.jpg", "image/jpeg", []byte("one"))
	f.CreateFile(b.rootID, "same.jpg", "image/jpeg", []byte("two"))
	doc := f.CreateNative(b.rootID, "Notes", drivefake.DocMIME)
	trashed := f.CreateFile(b.rootID, "gone.jpg", "image/jpeg", []byte("x"))
	if err := f.Trash(trashed); err != nil {
		t.Fatal(err)
	}
	inside := f.CreateFile(b.rootID, "target.jpg", "image/jpeg", []byte("t"))
	f.CreateShortcut(b.rootID, "link-in", inside)
	outside := f.CreateFile("root", "private.jpg", "image/jpeg", []byte("private"))
	f.CreateShortcut(b.rootID, "link-out", outside)
	f.CreateFile(b.rootID, "a/b: slash", "text/plain", []byte("s"))

	got := scanAll(t, b.conn)
	want := []string{"Notes", "a／b: slash", "link-in", "link-out", "same.jpg", "same.jpg", "target.jpg"}
	if !slices.Equal(paths(got), want) {
		t.Fatalf("scan paths %v, want %v", paths(got), want)
	}
	ids := map[string]bool{}
	for _, e := range got {
		if ids[e.ID] {
			t.Errorf("ID %s listed twice", e.ID)
		}
		ids[e.ID] = true
		switch e.Name {
		case "Notes":
			if !e.Native || e.Size != -1 || e.ETag != "" || e.ID != doc {
				t.Errorf("native doc entry %+v, want Native, Size -1, no ETag", e)
			}
		case "link-in", "link-out":
			if !e.Native || e.Size != -1 || e.ID == inside || e.ID == outside {
				t.Errorf("shortcut entry %+v must be a native entry with its own ID", e)
			}
		}
		if e.ID == outside || e.ID == trashed {
			t.Errorf("scan listed %q, which is outside the root or trashed", e.Path)
		}
	}
	if _, err := b.conn.Open(context.Background(), "link-out"); err == nil {
		t.Error("Open on a shortcut pointing outside the root succeeded; shortcuts must never be followed")
	}
	if _, err := b.conn.Open(context.Background(), "Notes"); err == nil {
		t.Error("Open on a Google Doc succeeded; natives have no content")
	}
}

func TestScanORBugFallback(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{BrokenORParents: true})
	for i := range 5 {
		d := b.fake.CreateFolder(b.rootID, fmt.Sprintf("d%d", i))
		b.fake.CreateFile(d, "f.txt", "text/plain", []byte("x"))
	}
	got := scanAll(t, b.conn)
	if len(got) != 10 {
		t.Fatalf("scan with the OR-ed parents bug found %d entries, want 10: %v", len(got), paths(got))
	}
	if n := b.fake.Calls("files.list"); n != 1+1+5 {
		t.Errorf("files.list calls = %d, want 7 (root, one failed OR query, five single-folder queries)", n)
	}
}

func TestScanSharedDriveRoot(t *testing.T) {
	t.Parallel()
	fake := drivefake.New(t, drivefake.Options{})
	drv := fake.CreateSharedDrive("Team")
	photos := fake.CreateFolder(drv, "Photos")
	fake.CreateFile(photos, "p.jpg", "image/jpeg", []byte("p"))
	fake.CreateFile("root", "mine.jpg", "image/jpeg", []byte("m"))
	other := fake.CreateSharedDrive("Other")
	fake.CreateFile(other, "theirs.jpg", "image/jpeg", []byte("t"))

	for _, root := range []string{drv, photos} {
		conn := connect(t, fake, root, nil)
		got := scanAll(t, conn)
		want := []string{"Photos/", "Photos/p.jpg"}
		if root == photos {
			want = []string{"p.jpg"}
		}
		if !slices.Equal(paths(got), want) {
			t.Errorf("scan of shared drive root %s: %v, want %v", root, paths(got), want)
		}
		if _, err := conn.Put(context.Background(), "new.txt", stringsReader("n"), 1, "text/plain"); err != nil {
			t.Errorf("Put in a shared drive: %v", err)
		}
	}
}

func TestScanRetriesFaults(t *testing.T) {
	t.Parallel()
	for _, fault := range []drivefake.Fault{drivefake.FaultRateLimit, drivefake.FaultTooManyRequests, drivefake.FaultServerError, drivefake.FaultUnavailable} {
		b := setup(t, drivefake.Options{})
		d := b.fake.CreateFolder(b.rootID, "d")
		b.fake.CreateFile(d, "f.txt", "text/plain", []byte("x"))
		b.fake.FailNext("files.list", 3, fault)
		if got := scanAll(t, b.conn); len(got) != 2 {
			t.Errorf("fault %d: scan found %d entries, want 2", fault, len(got))
		}
		if n := b.fake.Calls("files.list"); n != 3+2 {
			t.Errorf("fault %d: files.list calls = %d, want 5 (3 failed + 2)", fault, n)
		}
	}
}

func TestScanGivesUpAfterPersistentFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	b.fake.FailNext("files.list", 100, drivefake.FaultServerError)
	err := b.conn.Scan(context.Background(), func(storage.Entry) error { return nil })
	mustClass(t, err, storage.ErrRetryable)
}

func TestScanRootGone(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	b.fake.CreateFile(b.rootID, "a.txt", "text/plain", nil)
	scanAll(t, b.conn)
	must(t, b.fake.Trash(b.rootID))
	err := b.conn.Scan(context.Background(), func(storage.Entry) error { return nil })
	mustClass(t, err, storage.ErrNotFound)
	must(t, b.fake.Untrash(b.rootID))
	must(t, b.fake.Delete(b.rootID))
	err = b.conn.Scan(context.Background(), func(storage.Entry) error { return nil })
	mustClass(t, err, storage.ErrNotFound)
}

func TestScanRandomFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{Seed: 7})
	for i := range 20 {
		d := b.fake.CreateFolder(b.rootID, fmt.Sprintf("d%d", i))
		b.fake.CreateFile(d, "f.txt", "text/plain", nil)
	}
	b.fake.FailRandomly("", 0.3, drivefake.FaultRateLimit)
	if got := scanAll(t, b.conn); len(got) != 40 {
		t.Fatalf("scan under random rate limits found %d entries, want 40", len(got))
	}
	if n := b.fake.TotalCalls(); n <= 3 {
		t.Errorf("%d calls: no fault was injected (a fault-free scan takes 3)", n)
	}
}

func TestScanIncompleteSearchFails(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{IncompleteSearch: true})
	b.fake.CreateFile(b.rootID, "a.txt", "text/plain", nil)
	err := b.conn.Scan(context.Background(), func(storage.Entry) error { return nil })
	mustClass(t, err, storage.ErrRetryable)
}

func TestNewRefusesEndpointWithPath(t *testing.T) {
	t.Parallel()
	for _, ep := range []string{"www.googleapis.com", "http://127.0.0.1:1/drive/v3", "::"} {
		_, err := gdrive.New(context.Background(), gdrive.Config{FolderID: "x", Endpoint: ep}, nil)
		mustClass(t, err, storage.ErrFatal)
	}
}

func TestScanWorkersAgreeWithSequential(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{MaxPageSize: 40, EmptyPageEvery: 5, Seed: 3})
	for i := range 30 {
		d := b.fake.CreateFolder(b.rootID, fmt.Sprintf("d%02d", i))
		for j := range 20 {
			s := b.fake.CreateFolder(d, fmt.Sprintf("s%02d", j))
			b.fake.CreateFile(s, "f.jpg", "image/jpeg", []byte{byte(j)})
		}
	}
	want := paths(scanAll(t, b.conn))
	b.fake.FailRandomly("files.list", 0.2, drivefake.FaultServerError)
	parallel := connect(t, b.fake, b.rootID, func(c *gdrive.Config) { c.ScanWorkers = 4; c.ParentsPerQuery = 7 })
	got := paths(scanAll(t, parallel))
	if !slices.Equal(got, want) {
		t.Fatalf("4 workers listed %d entries, sequential %d", len(got), len(want))
	}

	stop := fmt.Errorf("stop here")
	n := 0
	err := parallel.Scan(context.Background(), func(storage.Entry) error {
		n++
		if n == 100 {
			return stop
		}
		return nil
	})
	if err != stop || n != 100 {
		t.Errorf("Scan with workers returned %v after %d entries, want the emit error after 100", err, n)
	}
}
