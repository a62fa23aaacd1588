package syncer

import (
	"context"
	"errors"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// keyedRow is a catalog row with its storage.SortKey.
type keyedRow struct {
	catalog.SyncRow
	key string
}

// tableCursor pages through one table (folders or assets) in sort-key
// order. A reader goroutine fetches pages one after another, up to
// readAhead pages ahead of the page being consumed, so a slow or jittery
// catalog read (PostgreSQL on a busy machine) overlaps the merge instead
// of stalling it. A short page means the end: rows the run itself adds
// later are never read back. Every page after the first is requested with
// the previous page's last key, and the run adds nothing past a page's
// last key before it has received the next page (the merge must peek a
// row at or past a key before it can add that key), so a page never holds
// a row the run wrote.
type tableCursor struct {
	fetch func(ctx context.Context, after string) ([]catalog.SyncRow, error)
	dirs  bool
	limit int
	buf   []keyedRow
	done  bool
	pages chan pageResult // from the reader; nil until the first peek
	stop  chan struct{}   // closed by close: the reader gives up
}

// readAhead is how many pages the reader may hold ready: with
// DefaultReadPage rows a page, a few megabytes at most.
const readAhead = 3

type pageResult struct {
	rows []catalog.SyncRow
	err  error
}

func (t *tableCursor) start(ctx context.Context) {
	pages, stop := make(chan pageResult, readAhead), make(chan struct{})
	t.pages, t.stop = pages, stop
	fetch, limit := t.fetch, t.limit
	go func() {
		defer close(pages)
		after := ""
		for {
			rows, err := fetch(ctx, after)
			select {
			case pages <- pageResult{rows, err}:
			case <-stop:
				return
			}
			if err != nil || len(rows) < limit {
				return
			}
			after = keyOf(rows[len(rows)-1])
		}
	}()
}

// close stops the reader (the merge ended early, or is done).
func (t *tableCursor) close() {
	if t.stop != nil {
		close(t.stop)
		t.stop = nil
	}
}

func (t *tableCursor) peek(ctx context.Context) (keyedRow, bool, error) {
	if len(t.buf) == 0 && !t.done {
		if t.pages == nil {
			t.start(ctx)
		}
		res, ok := <-t.pages
		if !ok {
			// The reader only stops without a last page when told to.
			return keyedRow{}, false, errors.New("reading the catalog: the cursor was closed")
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

// close stops both readers; the cursor is not used after.
func (c *catalogCursor) close() {
	c.folders.close()
	c.assets.close()
}

// next consumes the row the last peek returned.
func (c *catalogCursor) next() {
	if c.cur != nil {
		c.cur.next()
		c.cur = nil
	}
}
