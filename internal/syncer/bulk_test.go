package syncer_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// A big import leaves the search index to catch up after the sync: the run
// says so, the library is complete at once, and once the catch-up ran
// every file is found by search.
func TestBigImportDefersSearchIndexing(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, db, "local", syncer.Config{})
			const n = 2100
			for i := range n {
				if _, err := e.st.conn.Put(e.ctx, fmt.Sprintf("d%d/file-%04d.txt", i%7, i), strings.NewReader("x"), 1, ""); err != nil {
					t.Fatal(err)
				}
			}
			res, err := e.sync(false)
			if err != nil || res.Counts.Added != n+7 || !res.SearchDeferred {
				t.Fatalf("big import: %+v, %v", res, err)
			}
			if on, err := e.store.SearchIndexing(e.ctx, e.account); err != nil || !on {
				t.Fatalf("SearchIndexing after a big import: %v %v", on, err)
			}
			for {
				done, err := e.store.FillSearchBacklog(e.ctx, e.account, 500)
				if err != nil {
					t.Fatal(err)
				}
				if done {
					break
				}
			}
			got, _, err := e.store.ListAssets(e.ctx, catalog.AssetQuery{AccountID: e.account, Recursive: true, Q: "file-2099"})
			if err != nil || len(got) != 1 {
				t.Fatalf("search after the catch-up: %d results, %v", len(got), err)
			}
			// A small change afterwards indexes as it goes.
			if _, err := e.st.conn.Put(e.ctx, "late-file.txt", strings.NewReader("y"), 1, ""); err != nil {
				t.Fatal(err)
			}
			if res, err := e.sync(false); err != nil || res.SearchDeferred {
				t.Fatalf("small sync: %+v %v", res, err)
			}
			got, _, _ = e.store.ListAssets(e.ctx, catalog.AssetQuery{AccountID: e.account, Recursive: true, Q: "late-file"})
			if len(got) != 1 {
				t.Fatalf("a file of a small sync not found at once: %d", len(got))
			}
		})
	}
}
