package catalog_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

func TestLiveAssetIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := catalog.Open(ctx, filepath.Join(t.TempDir(), "c.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a1, _ := s.CreateAccount(ctx, catalog.NewAccount{Name: "A"}, now)
	a2, _ := s.CreateAccount(ctx, catalog.NewAccount{Name: "B"}, now)
	put := func(acct int64, name string) catalog.Asset {
		a, err := s.PutUploadedAsset(ctx, acct, 0, catalog.Asset{StorageID: name, Name: name, Path: name, Size: 1}, now)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	live, gone, foreign := put(a1.ID, "live.jpg"), put(a1.ID, "gone.jpg"), put(a2.ID, "b.jpg")
	if err := s.DeleteAsset(ctx, a1.ID, 0, gone.ID, now); err != nil {
		t.Fatal(err)
	}
	got, err := s.LiveAssetIDs(ctx, a1.ID, []int64{live.ID, gone.ID, foreign.ID, 424242})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[live.ID] {
		t.Fatalf("LiveAssetIDs = %v, want only %d", got, live.ID)
	}
}
