package media

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

type liveSet map[int64]bool

func (l liveSet) LiveAssetIDs(_ context.Context, _ int64, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	for _, id := range ids {
		if l[id] {
			out[id] = true
		}
	}
	return out, nil
}

func TestSweepRemovesOnlyPreviewsOfGoneAssets(t *testing.T) {
	t.Parallel()
	store := NewThumbStore(t.TempDir())
	mod := time.Unix(1700000000, 0)
	for id := int64(1); id <= 5; id++ {
		a := catalog.Asset{ID: id, AccountID: 7, ETag: "e", Size: id, ModTime: &mod}
		if err := store.Write(a, []byte("t"), []byte("p")); err != nil {
			t.Fatal(err)
		}
	}
	other := catalog.Asset{ID: 2, AccountID: 8, ETag: "e", Size: 2, ModTime: &mod}
	if err := store.Write(other, []byte("t"), []byte("p")); err != nil {
		t.Fatal(err)
	}
	dir := store.accountDir(7)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	removed, err := store.Sweep(context.Background(), 7, liveSet{1: true, 3: true, 5: true})
	if err != nil || removed != 4 {
		t.Fatalf("Sweep removed %d files (%v), want 4 (two sizes of assets 2 and 4)", removed, err)
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name()[:1])
	}
	sort.Strings(left)
	if got := len(left); got != 7 { // 3 live assets × 2 sizes + notes.txt
		t.Fatalf("left %v", left)
	}
	if !store.Has(other, SizeThumb) {
		t.Fatal("another account's preview was swept")
	}
	if n, err := store.Sweep(context.Background(), 99, liveSet{}); err != nil || n != 0 {
		t.Fatalf("sweeping an account without previews: %d %v", n, err)
	}
}
