package catalog

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// Tag and subtree filters give the same pages whether the matching rows are
// gathered first (few) or filtered row by row along the sort index (many).
func TestFilterPlansAgree(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, s *Store, acct Account, now time.Time) {
		ctx := context.Background()
		top, err := s.CreateFolder(ctx, acct.ID, 0, nil, "top", "top", now)
		if err != nil {
			t.Fatal(err)
		}
		sub, err := s.CreateFolder(ctx, acct.ID, 0, &top.ID, "sub", "top/sub", now)
		if err != nil {
			t.Fatal(err)
		}
		folders := []*int64{nil, &top.ID, &sub.ID}
		for i := range 60 {
			mod := now.Add(time.Duration(i%7) * time.Hour)
			a, err := s.PutUploadedAsset(ctx, acct.ID, 0, Asset{FolderID: folders[i%3], Name: fmt.Sprintf("f%02d", (i*13)%60), StorageID: fmt.Sprintf("k%d", i), ModTime: &mod, Size: int64(i % 5)}, now)
			if err != nil {
				t.Fatal(err)
			}
			tags := []string{"all"}
			if i%3 == 0 {
				tags = append(tags, "third")
			}
			if _, err := s.UpdateAssetMetadata(ctx, acct.ID, a.ID, MetadataUpdate{Tags: &tags}, now); err != nil {
				t.Fatal(err)
			}
		}
		pages := func(q AssetQuery) []int64 {
			var ids []int64
			for {
				got, next, err := s.ListAssets(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range got {
					ids = append(ids, a.ID)
				}
				if next == "" {
					return ids
				}
				q.Cursor = next
			}
		}
		for _, tag := range []string{"all", "third", ""} {
			for _, sort := range []string{SortName, SortDate, SortSize} {
				q := AssetQuery{AccountID: acct.ID, Recursive: true, FolderID: &top.ID, Tag: tag, Sort: sort, Desc: sort == SortDate, Limit: 7}
				if tag == "third" {
					q.FolderID = nil
				}
				s.commonTagRows = 1_000_000
				listed := pages(q)
				s.commonTagRows = 1
				probed := pages(q)
				if len(listed) == 0 || !slices.Equal(listed, probed) {
					t.Fatalf("tag %s sort %s: listed %v, probed %v", tag, sort, listed, probed)
				}
			}
		}
	})
}
