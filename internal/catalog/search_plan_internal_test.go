package catalog

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSearchPlanUnionsTextAndFacts: a search finds the ids matching the
// asset text and those matching the file facts through their indexes and
// probes the assets by id: no per-row subplan over the account's assets
// (PostgreSQL's "hashed SubPlan ... OR ...", SQLite's scan of assets).
func TestSearchPlanUnionsTextAndFacts(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, s *Store, acct Account, now time.Time) {
		ctx := context.Background()
		var ids []int64
		for i := range 30 {
			a, err := s.PutUploadedAsset(ctx, acct.ID, 0, Asset{Name: fmt.Sprintf("f%02d.jpg", i), StorageID: fmt.Sprintf("k%d", i), ModTime: &now, Size: 1}, now)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, a.ID)
		}
		if _, err := s.UpdateAssetMetadata(ctx, acct.ID, ids[3], MetadataUpdate{Title: ptrTo("Harbour at dawn")}, now); err != nil {
			t.Fatal(err)
		}
		a7, err := s.GetAsset(ctx, acct.ID, ids[7])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApplyFileMeta(ctx, a7, FileMeta{Creator: "Harbour Studio", Reader: "go"}, now); err != nil {
			t.Fatal(err)
		}
		found, _, err := s.ListAssets(ctx, AssetQuery{AccountID: acct.ID, Recursive: false, Q: "harbour"})
		if err != nil || len(found) != 2 {
			t.Fatalf("search found %d assets (%v), want the titled one and the one by its creator", len(found), err)
		}
		// A word under three characters is matched row by row on SQLite.
		if found, _, err := s.ListAssets(ctx, AssetQuery{AccountID: acct.ID, Q: "at harbour"}); err != nil || len(found) != 1 || found[0].ID != ids[3] {
			t.Fatalf("search with a short word found %d assets (%v), want the titled one", len(found), err)
		}
		if found, _, err := s.ListAssets(ctx, AssetQuery{AccountID: acct.ID, Q: "st harbour"}); err != nil || len(found) != 1 || found[0].ID != ids[7] {
			t.Fatalf("search with a short word found %d assets (%v), want the one by its creator", len(found), err)
		}
		where, args, err := s.assetFilter(ctx, AssetQuery{AccountID: acct.ID, Q: "harbour"}, filterPlan{})
		if err != nil {
			t.Fatal(err)
		}
		plan := explain(t, s, "SELECT a.id FROM assets a WHERE "+where+" ORDER BY a.id LIMIT 100", args...)
		t.Logf("plan:\n%s", plan)
		if strings.Contains(plan, "SubPlan") || strings.Contains(plan, "SCAN a\n") || strings.HasSuffix(plan, "SCAN a") {
			t.Errorf("the search goes through the account's assets row by row:\n%s", plan)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
