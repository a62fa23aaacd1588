//go:build before12

package main

import (
	"context"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// searchCatchUp: before issue 12 (commit f9332ad and earlier) the sync
// indexed every asset for search as it inserted it; there is nothing to
// catch up. Build the "before" program by copying bench/sync into a
// checkout of that commit and building it with -tags before12.
func searchCatchUp(context.Context, *catalog.Store, int64, syncer.Result) (time.Duration, error) {
	return 0, nil
}
