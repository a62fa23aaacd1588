package syncer_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/syncer"
)

// TestDriveQuirks: Google-native documents, shortcuts, duplicate names,
// trashed files, files moved out of the root and a folder moved in, first
// in a full scan then through the changes feed; golden result.
func TestDriveQuirks(t *testing.T) {
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, db, "gdrive", syncer.Config{BatchSize: 4})
			d, root := e.st.drive, e.st.root
			photos := d.CreateFolder(root, "Photos")
			twin1 := d.CreateFile(photos, "a.jpg", "image/jpeg", []byte("first a"))
			twin2 := d.CreateFile(photos, "a.jpg", "image/jpeg", []byte("second a, same name"))
			doc := d.CreateNative(root, "Plan", "application/vnd.google-apps.document")
			outside := d.CreateFolder("root", "Elsewhere")
			target := d.CreateFile(outside, "target.jpg", "image/jpeg", []byte("outside the root"))
			d.CreateShortcut(root, "Shortcut to target", target)
			trashed := d.CreateFile(root, "trashed.jpg", "image/jpeg", []byte("in the trash"))
			if err := d.Trash(trashed); err != nil {
				t.Fatal(err)
			}
			incoming := d.CreateFolder(outside, "Incoming")
			d.CreateFile(incoming, "in1.jpg", "image/jpeg", []byte("incoming one"))
			deep := d.CreateFolder(incoming, "Deep")
			d.CreateFile(deep, "in2.jpg", "image/jpeg", []byte("incoming two"))

			var out strings.Builder
			res, err := e.sync(false)
			fmt.Fprintf(&out, "full sync: %s\n", countsLine(res, err))
			out.WriteString(render(e.dump()))
			e.checkMirror()

			e.setMetaByID(twin1, []string{"twin"}, "The first a.jpg")
			e.setMetaByID(twin2, []string{"other"}, "Moves out of the root")
			// Changes in Drive.
			must(t, d.Move(twin2, outside))   // out of the root: removed
			must(t, d.Move(incoming, photos)) // a folder moved in: its subtree added
			must(t, d.Trash(doc))             // trashed: removed
			must(t, d.Untrash(trashed))       // back from the trash: added
			must(t, d.Rename(twin1, "a (renamed).jpg"))
			must(t, d.Rename(photos, "Pictures")) // paths below follow

			res, err = e.sync(false)
			fmt.Fprintf(&out, "feed sync: %s\n", countsLine(res, err))
			out.WriteString(render(e.dump()))
			e.checkMirror()
			checkGolden(t, "golden/drive_quirks.txt", out.String())
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// setMetaByID sets metadata on the live asset with a storage ID.
func (e *env) setMetaByID(sid string, tags []string, desc string) {
	e.t.Helper()
	var id int64
	if err := e.store.DB().QueryRowContext(e.ctx, e.store.Rebind(`SELECT id FROM assets WHERE account_id = ? AND storage_id = ?`),
		e.account, sid).Scan(&id); err != nil {
		e.t.Fatalf("finding asset %s: %v", sid, err)
	}
	e.setMetaID(id, tags, desc)
}

// TestDriveUntrashRelinks: a Drive file trashed then restored is the same
// file (same ID): its tombstone is relinked with tags and description.
func TestDriveUntrashRelinks(t *testing.T) {
	e := newEnv(t, "sqlite", "gdrive", syncer.Config{})
	id := e.st.drive.CreateFile(e.st.root, "keep.jpg", "image/jpeg", []byte("precious"))
	e.st.drive.CreateFile(e.st.root, "other.jpg", "image/jpeg", []byte("other"))
	e.mustSync()
	e.setMetaByID(id, []string{"precious", "client"}, "Approved by the client")
	must(t, e.st.drive.Trash(id))
	if res := e.mustSync(); res.Counts.Removed != 1 || e.tombstones() != 1 {
		t.Fatalf("trash: %+v, %d tombstones", res.Counts, e.tombstones())
	}
	must(t, e.st.drive.Untrash(id))
	e.mustSync()
	for _, it := range e.dump() {
		if it.Path == "keep.jpg" && (it.Removed || it.Tags != `["precious","client"]` || it.Desc != "Approved by the client") {
			t.Fatalf("untrashed file not relinked with its metadata: %+v", it)
		}
	}
	if e.tombstones() != 0 {
		t.Fatalf("%d tombstones left", e.tombstones())
	}
}

// TestDriveIncrementalCost: with k changes in a large library, a sync
// reads the changes feed only: at most ceil(k/1000)+1 changes.list calls
// and no files.list call.
func TestDriveIncrementalCost(t *testing.T) {
	e := newEnv(t, "sqlite", "gdrive", syncer.Config{})
	d := e.st.drive
	const folders, perFolder = 40, 100 // 4,000 files
	var files []string
	for i := range folders {
		f := d.CreateFolder(e.st.root, fmt.Sprintf("folder-%02d", i))
		for j := range perFolder {
			files = append(files, d.CreateFile(f, fmt.Sprintf("file-%03d.jpg", j), "image/jpeg", []byte(fmt.Sprintf("v1 %d %d", i, j))))
		}
	}
	if res := e.mustSync(); !res.FullScan || res.Counts.Added != folders*(perFolder+1) {
		t.Fatalf("initial sync: %+v", res)
	}
	for _, k := range []int{1, 999, 2500} {
		d.ResetCalls()
		for i := range k {
			must(t, d.SetContent(files[i], []byte(fmt.Sprintf("v2 of %d, k=%d", i, k))))
		}
		res := e.mustSync()
		lists, changes := d.Calls("files.list"), d.Calls("changes.list")
		t.Logf("k=%d: changes.list=%d files.list=%d files.get=%d updated=%d", k, changes, lists, d.Calls("files.get"), res.Counts.Updated)
		want := (k+999)/1000 + 1
		if res.FullScan || lists != 0 || changes > want || changes < (k+999)/1000 || res.Counts.Updated != int64(k) {
			t.Fatalf("k=%d: full=%v files.list=%d changes.list=%d (want 0 and at most %d) updated=%d",
				k, res.FullScan, lists, changes, want, res.Counts.Updated)
		}
	}
}

// TestDriveCursorFallbacks: an expired cursor falls back to a full scan,
// and a full scan runs anyway once FullScanEvery has passed.
func TestDriveCursorFallbacks(t *testing.T) {
	e := newEnv(t, "sqlite", "gdrive", syncer.Config{FullScanEvery: 24 * time.Hour})
	e.st.drive.CreateFile(e.st.root, "a.jpg", "image/jpeg", []byte("a"))
	e.mustSync()
	if res := e.mustSync(); res.FullScan {
		t.Fatalf("second sync scanned in full; want the changes feed")
	}
	e.st.drive.CreateFile(e.st.root, "b.jpg", "image/jpeg", []byte("b"))
	e.st.drive.ExpireChangeTokens() // the saved cursor is now too old
	if res := e.mustSync(); !res.FullScan || res.Counts.Added != 1 {
		t.Fatalf("sync with an expired cursor: %+v; want a full scan adding b.jpg", res)
	}
	e.checkMirror()
	if res := e.mustSync(); res.FullScan {
		t.Fatalf("sync after the fallback scanned in full again")
	}
	e.clock.now = e.clock.now.Add(25 * time.Hour)
	if res := e.mustSync(); !res.FullScan {
		t.Fatalf("sync a day later did not scan in full")
	}
}
