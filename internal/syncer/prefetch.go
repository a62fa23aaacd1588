package syncer

import (
	"context"
	"errors"
	"fmt"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// Prefetched is what a live batch needs from the storage, read before the
// batch takes the library: each path's entry (or its absence), the
// folders above that the catalog lacks, and the subtrees of the folders
// among them. The batch then holds the library for its catalog work only.
type Prefetched struct {
	scopes   []string
	stats    map[string]storage.Entry
	subtrees map[string][]storage.Entry // nil for a subtree too big to hold: listed under the lease
}

// prefetchMaxEntries bounds the entries one prefetch holds in memory.
const prefetchMaxEntries = 20000

// Prefetch reads the storage side of a live batch of paths (see
// Job.Paths) without the library lease. The caller passes it as
// Job.Prefetched when nothing wrote the library since it began (a write
// could make what it read stale); storage changes made meanwhile come as
// events of their own.
func (e *Engine) Prefetch(ctx context.Context, accountID int64, conn storage.Connector, paths []string) (*Prefetched, error) {
	r := &run{e: e, job: Job{AccountID: accountID, Conn: conn}, store: e.cfg.Store, byPath: conn.Kind() != storage.KindGDrive}
	if !r.byPath || len(paths) == 0 {
		return nil, nil
	}
	sub, ok := conn.(storage.SubtreeScanner)
	if !ok {
		return nil, nil
	}
	scopes, stats, err := r.resolveScopes(ctx, paths)
	if err != nil {
		return nil, err
	}
	p := &Prefetched{scopes: scopes, stats: stats, subtrees: map[string][]storage.Entry{}}
	held := 0
	for _, s := range scopes {
		// The folders above that the catalog lacks (a file written into a
		// folder made meanwhile).
		for dir := storage.Dir(s); dir != ""; dir = storage.Dir(dir) {
			if _, err := r.store.SyncFolderID(ctx, accountID, dir); err == nil {
				break
			} else if !errors.Is(err, catalog.ErrNotFound) {
				return nil, err
			}
			if _, ok := stats[dir]; ok {
				continue
			}
			e, err := conn.Stat(ctx, dir)
			switch {
			case err == nil:
				if e.ID == "" {
					e.ID = e.Path
				}
				stats[dir] = e
			case !errors.Is(err, storage.ErrNotFound):
				return nil, scanFailure(err)
			}
		}
		e, found := stats[s]
		if !found || !e.IsDir {
			continue
		}
		var list []storage.Entry
		errTooBig := fmt.Errorf("subtree over %d entries", prefetchMaxEntries)
		err := sub.ScanSortedUnder(ctx, s, func(en storage.Entry) error {
			if held >= prefetchMaxEntries {
				return errTooBig
			}
			if en.ID == "" {
				en.ID = en.Path
			}
			list = append(list, en)
			held++
			return nil
		})
		switch {
		case errors.Is(err, errTooBig):
			held -= len(list)
			p.subtrees[s] = nil // listed under the lease
		case err != nil && !errors.Is(err, storage.ErrNotFound):
			return nil, scanFailure(err)
		default:
			p.subtrees[s] = list
		}
	}
	return p, nil
}
