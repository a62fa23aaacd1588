package localfs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/shelf-dam/shelf/internal/storage/localfs"
	"github.com/shelf-dam/shelf/internal/storage/storagetest"
)

// siblingDir is storage outside the root: files in the root's parent.
type siblingDir struct{ dir string }

func (s siblingDir) Put(t *testing.T, name string, content []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, name), content, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (s siblingDir) Get(t *testing.T, name string) ([]byte, bool) {
	b, err := os.ReadFile(filepath.Join(s.dir, name))
	return b, err == nil
}

func (s siblingDir) Names() []string { return []string{"secret.txt", "rootx"} }

func TestConformance(t *testing.T) {
	storagetest.Run(t, storagetest.Config{New: func(t *testing.T) storagetest.Fixture {
		base := t.TempDir()
		root := filepath.Join(base, "root")
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		c, err := localfs.New(root, []string{root})
		if err != nil {
			t.Fatal(err)
		}
		return storagetest.Fixture{Conn: c, Outside: siblingDir{base}}
	}})
}
