package demo

import (
	"image"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGenerateWritesDecodableNestedSamples(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(samples()) {
		t.Fatalf("wrote %d files, want %d", n, len(samples()))
	}
	images := 0
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".txt") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, _, err := image.Decode(f); err != nil {
			t.Errorf("%s does not decode: %v", p, err)
		}
		images++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if images < 30 {
		t.Fatalf("only %d images", images)
	}
	if _, err := os.Stat(filepath.Join(dir, "Photography/Outdoor/Coast")); err != nil {
		t.Fatalf("nested folder missing: %v", err)
	}
	if again, err := Generate(dir); err != nil || again != 0 {
		t.Fatalf("second Generate wrote %d files (%v), want 0", again, err)
	}
}
