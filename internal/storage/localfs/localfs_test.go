package localfs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/localfs"
)

func TestNewRequiresAnAllowedRoot(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	allowed := filepath.Join(base, "allowed")
	other := filepath.Join(base, "other")
	for _, d := range []string{filepath.Join(allowed, "photos"), other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A link inside the allowed root that points outside it.
	if err := os.Symlink(other, filepath.Join(allowed, "sneaky")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(allowed, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		root  string
		roots []string
		class error
	}{
		{"allowed root itself", allowed, []string{allowed}, nil},
		{"inside allowed root", filepath.Join(allowed, "photos"), []string{allowed}, nil},
		{"outside", other, []string{allowed}, storage.ErrPermission},
		{"dot-dot escape", filepath.Join(allowed, "..", "other"), []string{allowed}, storage.ErrPermission},
		{"symlink escape", filepath.Join(allowed, "sneaky"), []string{allowed}, storage.ErrPermission},
		{"no allowed roots", allowed, nil, storage.ErrPermission},
		{"relative", "photos", []string{allowed}, storage.ErrInvalidPath},
		{"missing", filepath.Join(allowed, "nope"), []string{allowed}, storage.ErrNotFound},
		{"a file", filepath.Join(allowed, "file"), []string{allowed}, storage.ErrInvalidPath},
		{"prefix is not parent", allowed + "2", []string{allowed}, storage.ErrNotFound},
	}
	for _, tc := range cases {
		_, err := localfs.New(tc.root, tc.roots)
		if tc.class == nil && err != nil {
			t.Errorf("%s: New = %v, want success", tc.name, err)
		}
		if tc.class != nil && !errors.Is(err, tc.class) {
			t.Errorf("%s: New = %v, want %v", tc.name, err, tc.class)
		}
	}
}

func TestSiblingWithSharedNamePrefixIsNotAllowed(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	allowed := filepath.Join(base, "media")
	sibling := filepath.Join(base, "media-private")
	for _, d := range []string{allowed, sibling} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := localfs.New(sibling, []string{allowed}); !errors.Is(err, storage.ErrPermission) {
		t.Fatalf("New(%s) with allowed %s = %v, want ErrPermission", sibling, allowed, err)
	}
}

func TestSymlinksLeadingOutsideAreNeitherListedNorFollowed(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(root, "inner"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(outside, "secret.txt"), "secret")
	write(filepath.Join(root, "inner", "real.txt"), "real")
	links := map[string]string{
		"to-outside-dir":  outside,
		"to-outside-file": filepath.Join(outside, "secret.txt"),
		"relative-escape": "../outside/secret.txt",
		"to-inner-dir":    "inner",
		"to-inner-file":   "inner/real.txt",
		"dangling":        "nothing-here",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := localfs.New(root, []string{base})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var got []string
	if err := c.Scan(ctx, func(e storage.Entry) error {
		got = append(got, storage.SortKey(e.Path, e.IsDir))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"inner/", "inner/real.txt", "to-inner-file"}
	if len(got) != len(want) {
		t.Fatalf("scan = %q, want %q (only links inside the root to files)", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("scan = %q, want %q", got, want)
		}
	}
	for _, p := range []string{"to-outside-file", "relative-escape", "to-outside-dir/secret.txt"} {
		if _, err := c.Open(ctx, p); err == nil {
			t.Errorf("Open(%q) read a file outside the root", p)
		}
	}
	if _, err := c.Put(ctx, "to-outside-dir/planted.txt", nil, 0, ""); err == nil {
		t.Errorf("Put through a link to outside succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "planted.txt")); err == nil {
		t.Errorf("a file was written outside the root")
	}
	if err := c.Delete(ctx, "to-outside-dir"); err != nil {
		t.Fatalf("Delete of the link itself: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "secret.txt")); err != nil {
		t.Fatalf("deleting a link removed its target outside the root: %v", err)
	}
	h, err := c.Hash(ctx, "to-inner-file")
	if err != nil || h != "aa33996d60e89311b4d1a920dae03c6d7fa3ae1956c52662e273aad4683e577f" {
		t.Fatalf("Hash = %q, %v; want sha256 of %q", h, err, "real")
	}
}

func TestPutIsAtomicAndLeavesNoTemporaryFile(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	c, err := localfs.New(root, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Put(ctx, "a.txt", stringsReader("old"), 3, ""); err != nil {
		t.Fatal(err)
	}
	// A body shorter than announced must not replace the file.
	if _, err := c.Put(ctx, "a.txt", stringsReader("new"), 10, ""); err == nil {
		t.Fatal("Put with a short body succeeded")
	}
	b, err := os.ReadFile(filepath.Join(root, "a.txt"))
	if err != nil || string(b) != "old" {
		t.Fatalf("after a failed Put the file holds %q (%v), want the old content", b, err)
	}
	des, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != 1 {
		t.Fatalf("folder holds %d entries after Put, want only a.txt (no temporary file)", len(des))
	}
}
