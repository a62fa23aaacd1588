package storagetest

import (
	"testing"

	"github.com/shelf-dam/shelf/internal/storage"
)

func testMoveFile(t *testing.T, f Fixture) {
	put(t, f.Conn, "src/a.txt", "moving content")
	e, err := f.Conn.Move(ctxFor(t), "src/a.txt", "dst/deeper/b.txt")
	if err != nil {
		t.Fatalf("Move: %v", err)
	}
	if e.Path != "dst/deeper/b.txt" || e.Name != "b.txt" || e.IsDir || e.Size != int64(len("moving content")) {
		t.Fatalf("Move returned %+v", e)
	}
	_, err = f.Conn.Stat(ctxFor(t), "src/a.txt")
	wantClass(t, "Stat of the moved-away path", err, storage.ErrNotFound)
	if got := read(t, f.Conn, "dst/deeper/b.txt"); got != "moving content" {
		t.Fatalf("read %q at the destination", got)
	}
	// Rename in place.
	if _, err := f.Conn.Move(ctxFor(t), "dst/deeper/b.txt", "dst/deeper/c.txt"); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if got := read(t, f.Conn, "dst/deeper/c.txt"); got != "moving content" {
		t.Fatalf("read %q after rename", got)
	}
	// The folder the file left stays, empty.
	wantKeys(t, "Scan after moves", scan(t, f.Conn), "dst/", "dst/deeper/", "dst/deeper/c.txt", "src/")
}

func testMoveFolder(t *testing.T, f Fixture) {
	put(t, f.Conn, "f/1.txt", "one")
	put(t, f.Conn, "f/sub/2.txt", "two")
	mkdir(t, f.Conn, "f/empty")
	put(t, f.Conn, "f-sibling.txt", "not moved")
	e, err := f.Conn.Move(ctxFor(t), "f", "g/h")
	if err != nil {
		t.Fatalf("Move folder: %v", err)
	}
	if e.Path != "g/h" || !e.IsDir {
		t.Fatalf("Move returned %+v, want folder g/h", e)
	}
	wantKeys(t, "Scan after moving a folder", scan(t, f.Conn),
		"f-sibling.txt", "g/", "g/h/", "g/h/1.txt", "g/h/sub/", "g/h/sub/2.txt", "g/h/empty/")
	if got := read(t, f.Conn, "g/h/sub/2.txt"); got != "two" {
		t.Fatalf("read %q", got)
	}
}

func testMoveRefusals(t *testing.T, f Fixture) {
	put(t, f.Conn, "one.txt", "1")
	put(t, f.Conn, "two.txt", "2")
	put(t, f.Conn, "dir/in.txt", "in")
	_, err := f.Conn.Move(ctxFor(t), "one.txt", "two.txt")
	wantClass(t, "Move onto an existing file", err, storage.ErrExists)
	if got := read(t, f.Conn, "two.txt"); got != "2" {
		t.Fatalf("refused move changed the destination to %q", got)
	}
	_, err = f.Conn.Move(ctxFor(t), "missing.txt", "three.txt")
	wantClass(t, "Move of a missing file", err, storage.ErrNotFound)
	_, err = f.Conn.Move(ctxFor(t), "dir", "dir/inside")
	wantClass(t, "Move of a folder into itself", err, storage.ErrInvalidPath)
	wantKeys(t, "Scan after refused moves", scan(t, f.Conn), "dir/", "dir/in.txt", "one.txt", "two.txt")
}

func testDeleteFile(t *testing.T, f Fixture) {
	put(t, f.Conn, "keep.txt", "k")
	put(t, f.Conn, "gone.txt", "g")
	put(t, f.Conn, "folder/only.txt", "o")
	if err := f.Conn.Delete(ctxFor(t), "gone.txt"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := f.Conn.Stat(ctxFor(t), "gone.txt")
	wantClass(t, "Stat after Delete", err, storage.ErrNotFound)
	wantClass(t, "Delete of a missing file", f.Conn.Delete(ctxFor(t), "gone.txt"), storage.ErrNotFound)
	// Deleting a folder's last file leaves the (now empty) folder, as on
	// a disk: the library shows folders the user made.
	if err := f.Conn.Delete(ctxFor(t), "folder/only.txt"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantKeys(t, "Scan", scan(t, f.Conn), "folder/", "keep.txt")
}

func testDeleteFolder(t *testing.T, f Fixture) {
	put(t, f.Conn, "d/1.txt", "1")
	put(t, f.Conn, "d/e/2.txt", "2")
	mkdir(t, f.Conn, "d/empty")
	put(t, f.Conn, "d-keep.txt", "keep")
	put(t, f.Conn, "dd/keep.txt", "keep")
	if err := f.Conn.Delete(ctxFor(t), "d"); err != nil {
		t.Fatalf("Delete folder: %v", err)
	}
	wantKeys(t, "Scan after deleting a folder", scan(t, f.Conn), "d-keep.txt", "dd/", "dd/keep.txt")
	_, err := f.Conn.Stat(ctxFor(t), "d")
	wantClass(t, "Stat of a deleted folder", err, storage.ErrNotFound)
}

func testMakeFolder(t *testing.T, f Fixture) {
	e := mkdir(t, f.Conn, "new")
	if !e.IsDir || e.Path != "new" || e.Name != "new" {
		t.Fatalf("MkDir returned %+v", e)
	}
	mkdir(t, f.Conn, "p/q/r")
	again := mkdir(t, f.Conn, "new") // an existing folder is fine
	if !again.IsDir {
		t.Fatalf("MkDir of an existing folder returned %+v", again)
	}
	put(t, f.Conn, "file.txt", "f")
	_, err := f.Conn.MkDir(ctxFor(t), "file.txt")
	wantClass(t, "MkDir over a file", err, storage.ErrExists)
	_, err = f.Conn.Open(ctxFor(t), "new")
	wantClass(t, "Open of a folder", err, storage.ErrInvalidPath)
	wantKeys(t, "Scan", scan(t, f.Conn), "file.txt", "new/", "p/", "p/q/", "p/q/r/")
	// A file can go into the new folder.
	put(t, f.Conn, "p/q/r/in.txt", "in")
	if got := read(t, f.Conn, "p/q/r/in.txt"); got != "in" {
		t.Fatalf("read %q", got)
	}
}

func testNotFound(t *testing.T, f Fixture) {
	put(t, f.Conn, "exists.txt", "e")
	ctx := ctxFor(t)
	_, err := f.Conn.Stat(ctx, "missing.txt")
	wantClass(t, "Stat of a missing file", err, storage.ErrNotFound)
	_, err = f.Conn.Open(ctx, "missing.txt")
	wantClass(t, "Open of a missing file", err, storage.ErrNotFound)
	_, err = f.Conn.Open(ctx, "no/such/folder/x.txt")
	wantClass(t, "Open in a missing folder", err, storage.ErrNotFound)
	_, err = f.Conn.Stat(ctx, "exists.txt/below")
	if err == nil {
		t.Fatal("Stat of a path below a file succeeded")
	}
	wantClass(t, "Delete of a missing folder", f.Conn.Delete(ctx, "no-such-dir"), storage.ErrNotFound)
}
