package fswatch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReportsAFileCreatedWrittenAndClosed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.start(Options{})
	file, err := os.Create(f.path("photo.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := file.Write([]byte("jpeg bytes")); err != nil {
		t.Fatal(err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
	f.waitFor("photo.jpg")
}

func TestReportsAFileWhoseModificationTimeChanged(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.write("a/old.jpg")
	f.start(Options{})
	past := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if err := os.Chtimes(f.path("a/old.jpg"), past, past); err != nil {
		t.Fatal(err)
	}
	f.waitFor("a/old.jpg")
}

func TestWatchesANewFolderFilledAtOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.start(Options{})
	// Folders and files made faster than a watch can be added: the folder
	// is reported, so its re-read finds what came before its watches.
	var tops, later []string
	for i := range 10 {
		top := "new" + string(rune('0'+i))
		f.write(top + "/b/c/deep.jpg")
		f.write(top + "/b/shallow.jpg")
		tops = append(tops, top)
		later = append(later, top+"/b/c/later.jpg", top+"/b/later.jpg")
	}
	f.waitFor(tops...)
	f.sync()
	for _, p := range later {
		f.write(p)
	}
	f.waitFor(later...)
}

func TestFolderRenameIsReportedUnderBothNamesAndWatchedUnderTheNewOne(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.write("old/sub/f.jpg")
	f.write("old/sub/deeper/g.jpg")
	f.start(Options{})

	f.rename(f.path("old"), f.path("new"))
	seen := f.waitFor("old", "new")
	seen = append(seen, f.sync()...)
	f.write("new/sub/h.jpg")
	f.write("new/sub/deeper/i.jpg")
	seen = append(seen, f.waitFor("new/sub/h.jpg", "new/sub/deeper/i.jpg")...)
	if bad := listed(seen, under("old")); len(bad) > 0 {
		t.Errorf("paths under the old name were reported after the rename: %q", bad)
	}

	// The old name, used again for a new folder, is watched as such.
	f.write("old/j.jpg")
	f.waitFor("old")
	f.sync()
	f.write("old/k.jpg")
	f.waitFor("old/k.jpg")
}

func TestMovesOutOfAndIntoTheRoot(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.write("leaving.jpg")
	f.write("gone/sub/x.jpg")
	f.writeAbs(filepath.Join(f.outside, "arriving.jpg"))
	f.writeAbs(filepath.Join(f.outside, "incoming/sub/y.jpg"))
	f.start(Options{})

	f.rename(f.path("leaving.jpg"), filepath.Join(f.outside, "leaving.jpg"))
	f.rename(f.path("gone"), filepath.Join(f.outside, "gone"))
	f.rename(filepath.Join(f.outside, "arriving.jpg"), f.path("arriving.jpg"))
	f.rename(filepath.Join(f.outside, "incoming"), f.path("incoming"))
	f.waitFor("leaving.jpg", "gone", "arriving.jpg", "incoming")
	f.sync()

	// The folder moved out is no longer watched; the one moved in is.
	f.writeAbs(filepath.Join(f.outside, "gone/sub/late.jpg"))
	seen := f.sync()
	f.write("incoming/sub/late.jpg")
	seen = append(seen, f.waitFor("incoming/sub/late.jpg")...)
	if bad := listed(seen, under("gone")); len(bad) > 0 {
		t.Errorf("changes in a folder moved out of the root were reported: %q", bad)
	}
}

func TestRemovingASubtreeReportsTheFolder(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for _, p := range []string{"tree/a/b/1.jpg", "tree/a/b/2.jpg", "tree/a/3.jpg", "tree/4.jpg", "kept.jpg"} {
		f.write(p)
	}
	f.start(Options{})
	if err := os.RemoveAll(f.path("tree")); err != nil {
		t.Fatal(err)
	}
	f.waitFor("tree")
	// A new folder of the same name is watched.
	f.write("tree/new.jpg")
	f.waitFor("tree")
	f.sync()
	f.write("tree/newer.jpg")
	f.waitFor("tree/newer.jpg")
}

func TestRemovingTheRootEndsWatch(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.write("a/b.jpg")
	f.start(Options{})
	if err := os.RemoveAll(f.root); err != nil {
		t.Fatal(err)
	}
	err := f.stop()
	if !errors.Is(err, ErrRootGone) || !strings.Contains(err.Error(), f.root) {
		t.Fatalf("Watch returned %v, want ErrRootGone naming %s", err, f.root)
	}
}

func TestRenamingTheRootEndsWatch(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.start(Options{})
	f.rename(f.root, f.root+"-moved")
	if err := f.stop(); !errors.Is(err, ErrRootGone) {
		t.Fatalf("Watch returned %v, want ErrRootGone", err)
	}
}
