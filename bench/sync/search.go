//go:build !before12

package main

import (
	"context"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// searchCatchUp runs the search index's catch-up after a full sync that
// deferred it (in Shelf a background job after the sync; 0 when the sync
// did not defer it).
//
// Built with -tags before12 (see before12.go) the program compiles against
// the tree before issue 12, which had no deferred search indexing.
func searchCatchUp(ctx context.Context, store *catalog.Store, accountID int64, res syncer.Result) (time.Duration, error) {
	if !res.SearchDeferred {
		return 0, nil
	}
	took, _, _, err := phase(ctx, "search", func() error {
		for {
			done, err := store.FillSearchBacklog(ctx, accountID, 5000)
			if err != nil || done {
				return err
			}
		}
	})
	return took, err
}
