package syncer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// tokenRefusals are the answers Drive gives for a changes token it refuses.
var tokenRefusals = []struct {
	name string
	how  drivefake.TokenRejection
}{
	{"400", drivefake.TokenInvalid},
	{"404", drivefake.TokenNotFound},
	{"410", drivefake.TokenGone},
}

// TestDriveRefusedCursorScansInFull: when Drive refuses the saved changes
// token and the connected folder is there, the sync scans in full and
// finds what the feed would have said, metadata kept; the new token is
// saved and the next sync reads the feed again.
func TestDriveRefusedCursorScansInFull(t *testing.T) {
	for _, tc := range tokenRefusals {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, "sqlite", "gdrive", syncer.Config{FullScanEvery: 24 * time.Hour})
			d, root := e.st.drive, e.st.root
			gone := d.CreateFile(root, "gone.jpg", "image/jpeg", []byte("deleted while the token lapsed"))
			d.CreateFile(root, "keep.jpg", "image/jpeg", []byte("kept"))
			e.mustSync()
			if res := e.mustSync(); res.FullScan {
				t.Fatal("second sync scanned in full; want the changes feed")
			}
			e.setMeta("keep.jpg", []string{"client"}, "Approved")
			must(t, d.Delete(gone))
			d.CreateFile(root, "new.jpg", "image/jpeg", []byte("added while the token lapsed"))
			refused := e.cursor
			d.RejectChangeTokens(tc.how)

			res, err := e.sync(false)
			if err != nil {
				t.Fatalf("sync with a refused token failed: %v", err)
			}
			if !res.FullScan || res.Counts.Added != 1 || res.Counts.Removed != 1 {
				t.Fatalf("sync with a refused token: %+v; want a full scan adding new.jpg and removing gone.jpg", res)
			}
			e.checkMirror()
			for _, it := range e.dump() {
				if it.Path == "keep.jpg" && (it.Tags != `["client"]` || it.Desc != "Approved") {
					t.Fatalf("keep.jpg lost its metadata in the full scan: %+v", it)
				}
			}
			conn, err := e.store.GetConnection(e.ctx, e.account)
			if err != nil {
				t.Fatal(err)
			}
			if conn.SyncCursor == "" || conn.SyncCursor == refused || conn.SyncCursor != res.Cursor {
				t.Fatalf("saved changes token %q after the full scan (refused %q, run's %q); want the run's new token", conn.SyncCursor, refused, res.Cursor)
			}

			d.CreateFile(root, "later.jpg", "image/jpeg", []byte("after the rescan"))
			d.ResetCalls()
			res = e.mustSync()
			if res.FullScan || res.Counts.Added != 1 || d.Calls("files.list") != 0 {
				t.Fatalf("sync after the rescan: %+v, files.list=%d; want the changes feed adding later.jpg", res, d.Calls("files.list"))
			}
			e.checkMirror()
		})
	}
}

// TestDriveRefusedCursorRootGone: when Drive refuses the saved token and
// the connected folder is gone, the sync fails saying the root was not
// found and deletes nothing; once the folder is back, a sync converges.
func TestDriveRefusedCursorRootGone(t *testing.T) {
	ways := []struct {
		name            string
		remove, restore func(d *drivefake.Server, root string) error
	}{
		{"deleted", func(d *drivefake.Server, root string) error { return d.Delete(root) }, nil},
		{"trashed", func(d *drivefake.Server, root string) error { return d.Trash(root) },
			func(d *drivefake.Server, root string) error { return d.Untrash(root) }},
		{"unshared", func(d *drivefake.Server, root string) error { return d.SetAccess(root, drivefake.AccessNone) },
			func(d *drivefake.Server, root string) error { return d.SetAccess(root, drivefake.AccessInherit) }},
	}
	for _, w := range ways {
		for _, tc := range tokenRefusals {
			t.Run(w.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, "sqlite", "gdrive", syncer.Config{FullScanEvery: 24 * time.Hour})
				d, root := e.st.drive, e.st.root
				photos := d.CreateFolder(root, "Photos")
				d.CreateFile(photos, "a.jpg", "image/jpeg", []byte("a"))
				d.CreateFile(root, "b.jpg", "image/jpeg", []byte("b"))
				e.mustSync()
				e.mustSync()
				before := e.dump()
				d.RejectChangeTokens(tc.how)
				must(t, w.remove(d, root))

				_, err := e.sync(false)
				if err == nil || !strings.Contains(err.Error(), "root was not found") || !strings.Contains(err.Error(), "nothing was deleted") {
					t.Fatalf("sync with the folder %s: %v; want the root-not-found failure", w.name, err)
				}
				if after := e.dump(); render(after) != render(before) {
					t.Fatalf("the library changed although the folder is %s:\nbefore:\n%s\nafter:\n%s", w.name, render(before), render(after))
				}
				if w.restore == nil {
					return
				}
				must(t, w.restore(d, root))
				if res := e.mustSync(); !res.FullScan || res.Counts.Removed != 0 {
					t.Fatalf("sync after the folder came back: %+v; want a full scan removing nothing", res)
				}
				e.checkMirror()
			})
		}
	}
}

// TestDriveRefusedCursorIsForgotten: a refused token is dropped at once, so
// when the full scan after it fails, the next sync lists everything again
// instead of asking the feed with the refused token.
func TestDriveRefusedCursorIsForgotten(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite", "gdrive", syncer.Config{FullScanEvery: 24 * time.Hour})
	d := e.st.drive
	d.CreateFile(e.st.root, "a.jpg", "image/jpeg", []byte("a"))
	e.mustSync()
	d.CreateFile(e.st.root, "b.jpg", "image/jpeg", []byte("b"))
	d.RejectChangeTokens(drivefake.TokenNotFound)
	d.FailNext("files.list", 100, drivefake.FaultServerError)
	if _, err := e.sync(false); err == nil {
		t.Fatal("sync with files.list failing succeeded")
	}
	conn, err := e.store.GetConnection(e.ctx, e.account)
	if err != nil {
		t.Fatal(err)
	}
	if conn.SyncCursor != "" || conn.LastFullScanAt == nil {
		t.Fatalf("after the failed rescan the saved token is %q (last full scan %v); want it forgotten, the full scan time kept", conn.SyncCursor, conn.LastFullScanAt)
	}
	d.ClearFaults()
	d.ResetCalls()
	e.cursor = conn.SyncCursor // what the jobs worker reads
	if res := e.mustSync(); !res.FullScan || res.Counts.Added != 1 || d.Calls("changes.list") != 0 {
		t.Fatalf("sync after the failed rescan: %+v, changes.list=%d; want a full scan adding b.jpg without the feed", res, d.Calls("changes.list"))
	}
}
