package syncer

import (
	"context"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// keyedRow is a catalog row with its storage.SortKey.
type keyedRow struct {
	catalog.SyncRow
	key string
}

// tableCursor pages through one table (folders or assets) in sort-key
// order, reading the next page in the background while the current one is
// consumed. A short page means the end: rows the run itself adds later are
// never read back (they are the storage entries just handled; a page is
// always requested, and waited for, before the run adds anything past the
// previous page's last key).
type tableCursor struct {
	fetch   func(ctx context.Context, after string) ([]catalog.SyncRow, error)
	dirs    bool
	limit   int
	buf     []keyedRow
	after   string
	done    bool
	pending chan pageResult // the page being read ahead, if any
}

type pageResult struct {
	rows []catalog.SyncRow
	err  error
}

func (t *tableCursor) peek(ctx context.Context) (keyedRow, bool, error) {
	if len(t.buf) == 0 && !t.done {
		var res pageResult
		if t.pending != nil {
			res = <-t.pending
			t.pending = nil
		} else {
			res.rows, res.err = t.fetch(ctx, t.after)
		}
		if res.err != nil {
			return keyedRow{}, false, res.err
		}
		if len(res.rows) < t.limit {
			t.done = true
		}
		t.buf = make([]keyedRow, 0, len(res.rows))
		for _, row := range res.rows {
			t.buf = append(t.buf, keyedRow{row, keyOf(row)})
		}
		if len(t.buf) > 0 {
			t.after = t.buf[len(t.buf)-1].key
		}
		if !t.done {
			ch := make(chan pageResult, 1)
			t.pending = ch
			after := t.after
			go func() {
				rows, err := t.fetch(ctx, after)
				ch <- pageResult{rows, err}
			}()
		}
	}
	if len(t.buf) == 0 {
		return keyedRow{}, false, nil
	}
	return t.buf[0], true, nil
}

func (t *tableCursor) next() { t.buf = t.buf[1:] }

func keyOf(row catalog.SyncRow) string {
	if row.IsDir {
		return row.StorageID + "/"
	}
	return row.StorageID
}

// catalogCursor merges the folder and asset cursors into one stream in
// storage.SortKey order: the catalog side of the merge-join.
type catalogCursor struct {
	folders, assets tableCursor
	cur             *tableCursor // the cursor whose head peek returned
}

// newCatalogCursor reads the whole catalog, or with a scope other than ""
// the folder or asset at that path and the subtree under it.
func newCatalogCursor(r *run, limit int, scope string) *catalogCursor {
	acct := r.job.AccountID
	s := r.store
	return &catalogCursor{
		folders: tableCursor{limit: limit, dirs: true, fetch: func(ctx context.Context, after string) ([]catalog.SyncRow, error) {
			return s.SyncFolderPage(ctx, acct, scope, after, limit)
		}},
		assets: tableCursor{limit: limit, fetch: func(ctx context.Context, after string) ([]catalog.SyncRow, error) {
			rows, err := s.SyncAssetPage(ctx, acct, scope, after, limit)
			for i := range rows {
				sid := rows[i].StorageID
				rows[i].Path, rows[i].Name, rows[i].ParentStorageID = sid, storage.Base(sid), storage.Dir(sid)
			}
			return rows, err
		}},
	}
}

// peek returns the next row without consuming it.
func (c *catalogCursor) peek(ctx context.Context) (keyedRow, bool, error) {
	f, fok, err := c.folders.peek(ctx)
	if err != nil {
		return keyedRow{}, false, err
	}
	a, aok, err := c.assets.peek(ctx)
	if err != nil {
		return keyedRow{}, false, err
	}
	switch {
	case fok && (!aok || f.key < a.key):
		c.cur = &c.folders
		return f, true, nil
	case aok:
		c.cur = &c.assets
		return a, true, nil
	}
	c.cur = nil
	return keyedRow{}, false, nil
}

// next consumes the row the last peek returned.
func (c *catalogCursor) next() {
	if c.cur != nil {
		c.cur.next()
		c.cur = nil
	}
}
