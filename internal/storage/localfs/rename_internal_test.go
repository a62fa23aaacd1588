package localfs

import (
	"errors"
	"io/fs"
	"os"
	"testing"
)

// TestLinkOrCheck covers the no-replace rename of systems without
// renameat2: files go by hard link, folders by check and rename; neither
// replaces what is at the destination.
func TestLinkOrCheck(t *testing.T) {
	root, err := os.OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, name := range []string{"a.txt", "b.txt"} {
		if err := root.WriteFile(name, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"d1", "d2", "sub"} {
		if err := root.Mkdir(name, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range [][2]string{{"a.txt", "b.txt"}, {"a.txt", "d1"}, {"d1", "d2"}, {"d1", "b.txt"}} {
		if err := linkOrCheck(root, c[0], c[1]); !errors.Is(err, fs.ErrExist) {
			t.Errorf("linkOrCheck(%s, %s) = %v, want fs.ErrExist", c[0], c[1], err)
		}
	}
	if b, _ := root.ReadFile("b.txt"); string(b) != "b.txt" {
		t.Fatalf("a refused rename replaced b.txt with %q", b)
	}
	if err := linkOrCheck(root, "a.txt", "sub/c.txt"); err != nil {
		t.Fatalf("renaming a file: %v", err)
	}
	if err := linkOrCheck(root, "d1", "sub/d3"); err != nil {
		t.Fatalf("renaming a folder: %v", err)
	}
	if b, err := root.ReadFile("sub/c.txt"); err != nil || string(b) != "a.txt" {
		t.Fatalf("sub/c.txt = %q, %v; want the renamed a.txt", b, err)
	}
	for _, gone := range []string{"a.txt", "d1"} {
		if _, err := root.Lstat(gone); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is still there after its rename: %v", gone, err)
		}
	}
	if fi, err := root.Lstat("sub/d3"); err != nil || !fi.IsDir() {
		t.Errorf("sub/d3 after renaming the folder: %v", err)
	}
}
