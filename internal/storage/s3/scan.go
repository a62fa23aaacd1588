package s3

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/shelf-dam/shelf/internal/storage"
)

// maxTopLevel bounds the top level a parallel scan keeps in memory; a
// larger top level is listed sequentially instead.
const maxTopLevel = 10000

// Scan streams every file and folder under the root, parents before
// children. With ParallelPrefixes > 1 the top-level prefixes are listed
// concurrently and may be reported in any order.
func (c *Conn) Scan(ctx context.Context, emit func(storage.Entry) error) error {
	if c.parallel > 1 {
		return c.scanParallel(ctx, emit, false)
	}
	return c.scanSequential(ctx, emit)
}

// ScanSorted streams every file and folder under the root in strictly
// increasing storage.SortKey order. With ParallelPrefixes > 1 the
// top-level prefixes are fetched concurrently but reported in order.
func (c *Conn) ScanSorted(ctx context.Context, emit func(storage.Entry) error) error {
	emit = orderChecker(emit)
	if c.parallel > 1 {
		return c.scanParallel(ctx, emit, true)
	}
	return c.scanSequential(ctx, emit)
}

// ScanSortedUnder streams the subtree of the folder at dir — every key
// under "dir/" — in ScanSorted's order. The folders above dir that the
// listing implies are not reported.
func (c *Conn) ScanSortedUnder(ctx context.Context, dir string, emit func(storage.Entry) error) error {
	dir, err := storage.CleanPath(dir, false)
	if err != nil {
		return err
	}
	under := dir + "/"
	return c.scanPrefix(ctx, c.keyOf(under), orderChecker(func(e storage.Entry) error {
		if !strings.HasPrefix(e.Path, under) {
			return nil
		}
		return emit(e)
	}))
}

// scanSequential lists the whole prefix without a delimiter, 1000 keys a
// page, in key order.
func (c *Conn) scanSequential(ctx context.Context, emit func(storage.Entry) error) error {
	return c.scanPrefix(ctx, c.prefix, emit)
}

// scanPrefix lists every key under a full key prefix as entries.
func (c *Conn) scanPrefix(ctx context.Context, prefix string, emit func(storage.Entry) error) error {
	tb := &treeBuilder{ctx: ctx, conn: c, emit: emit}
	err := c.listPages(ctx, listQuery{prefix: prefix}, func(objs []types.Object, _ []string) error {
		for _, o := range objs {
			if err := tb.object(o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tb.finish()
}

// topItem is one element of the top level: a file or a common prefix.
type topItem struct {
	key    string // object key or common prefix (ending in "/")
	obj    types.Object
	prefix bool
}

var errTopTooLarge = errors.New("top level too large for a parallel scan")

// listTopLevel lists the top level with delimiter "/", sorted.
func (c *Conn) listTopLevel(ctx context.Context) ([]topItem, error) {
	var items []topItem
	err := c.listPages(ctx, listQuery{prefix: c.prefix, delimiter: "/"}, func(objs []types.Object, prefixes []string) error {
		for _, o := range objs {
			k := aws.ToString(o.Key)
			if strings.HasSuffix(k, "/") && k != c.prefix {
				// A folder marker returned as an object instead of being
				// rolled into its common prefix (gofakes3 does this): list
				// it with its prefix.
				items = append(items, topItem{key: k, prefix: true})
				continue
			}
			items = append(items, topItem{key: k, obj: o})
		}
		for _, p := range prefixes {
			items = append(items, topItem{key: p, prefix: true})
		}
		if len(items) > maxTopLevel {
			return errTopTooLarge
		}
		return nil
	})
	slices.SortFunc(items, func(a, b topItem) int { return strings.Compare(a.key, b.key) })
	items = slices.CompactFunc(items, func(a, b topItem) bool { return a.key == b.key && a.prefix == b.prefix })
	// A top-level key that is also a folder ("a" next to "a/b") is
	// reported as the folder only, as the sequential scan does.
	folders := map[string]bool{}
	for _, it := range items {
		if it.prefix {
			folders[it.key] = true
		}
	}
	items = slices.DeleteFunc(items, func(it topItem) bool {
		if !it.prefix && folders[it.key+"/"] {
			c.logger.Warn("s3 scan: a key is both a file and a folder (other keys start with it and '/'); listing only the folder",
				slog.String("bucket", c.bucket), slog.String("key", it.key))
			return true
		}
		return false
	})
	return items, err
}

// scanParallel lists the top level with a delimiter, then every top-level
// prefix on its own, c.parallel at a time. When the server's delimited
// listing breaks the protocol (gofakes3 repeats common prefixes across
// pages) or the top level is too large, it falls back to the sequential
// listing, which does not depend on delimiters; nothing has been emitted
// by then.
func (c *Conn) scanParallel(ctx context.Context, emit func(storage.Entry) error, sorted bool) error {
	items, err := c.listTopLevel(ctx)
	switch {
	case errors.Is(err, errTopTooLarge):
		c.logger.Info("s3 scan: top level too large to split; listing sequentially",
			slog.String("bucket", c.bucket), slog.Int("limit", maxTopLevel))
		return c.scanSequential(ctx, emit)
	case errors.Is(err, ErrRepeatedPrefix):
		c.logger.Warn("s3 scan: the server's delimited listing is unreliable; listing sequentially instead",
			slog.String("bucket", c.bucket), slog.String("error", err.Error()))
		return c.scanSequential(ctx, emit)
	case err != nil:
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pf := &prefetcher{conn: c, workers: c.parallel}
	if sorted {
		return pf.runSorted(ctx, cancel, items, emit)
	}
	return pf.runUnsorted(ctx, cancel, items, emit)
}

// pageResult is one page of entries of a prefix, or the error that ended
// its listing.
type pageResult struct {
	entries []storage.Entry
	err     error
}

// prefetcher lists top-level prefixes concurrently.
type prefetcher struct {
	conn    *Conn
	workers int
}

// listInto lists one prefix and sends its entries page by page to out.
func (pf *prefetcher) listInto(ctx context.Context, prefix string, out chan<- pageResult) {
	var buf []storage.Entry
	send := func(r pageResult) bool {
		select {
		case out <- r:
			return true
		case <-ctx.Done():
			return false
		}
	}
	tb := &treeBuilder{ctx: ctx, conn: pf.conn, emit: func(e storage.Entry) error {
		buf = append(buf, e)
		return nil
	}}
	err := pf.conn.listPages(ctx, listQuery{prefix: prefix}, func(objs []types.Object, _ []string) error {
		for _, o := range objs {
			if err := tb.object(o); err != nil {
				return err
			}
		}
		if len(buf) > 0 {
			if !send(pageResult{entries: buf}) {
				return ctx.Err()
			}
			buf = nil
		}
		return nil
	})
	if err == nil {
		if err = tb.finish(); err == nil && len(buf) > 0 {
			send(pageResult{entries: buf})
		}
	}
	if err != nil {
		send(pageResult{err: err})
	}
}

// emitTopFile emits a top-level file object.
func (pf *prefetcher) emitTopFile(ctx context.Context, it topItem, emit func(storage.Entry) error) error {
	tb := &treeBuilder{ctx: ctx, conn: pf.conn, emit: emit}
	if err := tb.object(it.obj); err != nil {
		return err
	}
	return tb.finish()
}

// runSorted reports the top level in key order: each prefix has its own
// bounded channel, workers take prefixes in order, and the caller drains
// the channels in order, so memory stays bounded by workers × buffered
// pages and no worker waits on a prefix that is not being drained.
func (pf *prefetcher) runSorted(ctx context.Context, cancel context.CancelFunc, items []topItem, emit func(storage.Entry) error) error {
	type job struct {
		prefix string
		out    chan pageResult
	}
	jobs := make(map[int]*job)
	queue := make(chan *job)
	for i, it := range items {
		if it.prefix {
			jobs[i] = &job{prefix: it.key, out: make(chan pageResult, 2)}
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(queue)
		for i := range items {
			j, ok := jobs[i]
			if !ok {
				continue
			}
			select {
			case queue <- j:
			case <-ctx.Done():
				return
			}
		}
	})
	for range pf.workers {
		wg.Go(func() {
			for j := range queue {
				pf.listInto(ctx, j.prefix, j.out)
				close(j.out)
			}
		})
	}
	err := func() error {
		for i, it := range items {
			if !it.prefix {
				if err := pf.emitTopFile(ctx, it, emit); err != nil {
					return err
				}
				continue
			}
			out := jobs[i].out
			for {
				var r pageResult
				var more bool
				select {
				case r, more = <-out:
				case <-ctx.Done():
					// The job may never be started once ctx ends.
					return ctx.Err()
				}
				if !more {
					break
				}
				if r.err != nil {
					return r.err
				}
				for _, e := range r.entries {
					if err := emit(e); err != nil {
						return err
					}
				}
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return nil
	}()
	cancel()
	wg.Wait()
	return err
}

// runUnsorted reports top-level files first, then each prefix's pages as
// they arrive from the workers.
func (pf *prefetcher) runUnsorted(ctx context.Context, cancel context.CancelFunc, items []topItem, emit func(storage.Entry) error) error {
	out := make(chan pageResult, pf.workers)
	queue := make(chan string)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(queue)
		for _, it := range items {
			if !it.prefix {
				continue
			}
			select {
			case queue <- it.key:
			case <-ctx.Done():
				return
			}
		}
	})
	var workers sync.WaitGroup
	for range pf.workers {
		workers.Go(func() {
			for p := range queue {
				pf.listInto(ctx, p, out)
			}
		})
	}
	go func() {
		workers.Wait()
		close(out)
	}()
	err := func() error {
		for _, it := range items {
			if !it.prefix {
				if err := pf.emitTopFile(ctx, it, emit); err != nil {
					return err
				}
			}
		}
		for r := range out {
			if r.err != nil {
				return r.err
			}
			for _, e := range r.entries {
				if err := emit(e); err != nil {
					return err
				}
			}
		}
		return ctx.Err()
	}()
	cancel()
	for range out { // let blocked workers finish
	}
	wg.Wait()
	return err
}
