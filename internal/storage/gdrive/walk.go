package gdrive

import (
	"context"
	"log/slog"
	"sync"

	"google.golang.org/api/drive/v3"

	"github.com/shelf-dam/shelf/internal/storage"
)

// walker lists a tree breadth-first: folders wait in a queue and are listed
// in batches of up to ParentsPerQuery, by up to ScanWorkers goroutines.
// Entries are emitted one at a time under mu, and a folder joins the queue
// only after its own entry was emitted, so parents always come before their
// children.
type walker struct {
	c        *Conn
	root     *rootInfo
	emit     func(e storage.Entry, parent string) error
	mu       sync.Mutex
	wake     *sync.Cond
	queue    []folderRef
	inflight int
	err      error
}

// walk lists the tree under start (not start itself). emit gets each entry
// and its parent's Drive ID, never concurrently.
func (c *Conn) walk(ctx context.Context, root *rootInfo, start folderRef, emit func(e storage.Entry, parent string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &walker{c: c, root: root, emit: emit, queue: []folderRef{start}}
	w.wake = sync.NewCond(&w.mu)
	var wg sync.WaitGroup
	for range c.cfg.ScanWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.work(ctx, cancel)
		}()
	}
	wg.Wait()
	return w.err
}

// work takes batches until the queue is empty with nothing in flight, or
// a batch failed.
func (w *walker) work(ctx context.Context, cancel context.CancelFunc) {
	for {
		w.mu.Lock()
		for len(w.queue) == 0 && w.inflight > 0 && w.err == nil {
			w.wake.Wait()
		}
		if w.err != nil || len(w.queue) == 0 {
			w.mu.Unlock()
			return
		}
		n := min(len(w.queue), w.c.cfg.ParentsPerQuery)
		batch := w.queue[:n:n]
		w.queue = w.queue[n:]
		w.inflight++
		w.mu.Unlock()

		err := w.list(ctx, batch)

		w.mu.Lock()
		w.inflight--
		if err != nil && w.err == nil {
			w.err = err
			cancel()
		}
		w.wake.Broadcast()
		w.mu.Unlock()
	}
}

// list lists one batch of folders, emitting their children.
func (w *walker) list(ctx context.Context, batch []folderRef) error {
	paths := make(map[string]string, len(batch))
	for _, f := range batch {
		paths[f.id] = f.path
	}
	return w.c.listChildren(ctx, w.root, batch, "", func(f *drive.File) error {
		parent := firstParent(f)
		parentPath, ok := paths[parent]
		if !ok {
			w.c.log.Warn("drive listing returned an item of another folder; skipped",
				slog.String("id", f.Id), slog.String("parent", parent))
			return nil
		}
		name, ok := pathName(f.Name)
		if !ok {
			w.c.log.Warn("drive item with a name Shelf cannot use as a path element; skipped",
				slog.String("id", f.Id), slog.String("name", f.Name), slog.String("folder", parentPath))
			return nil
		}
		parentID := parent
		if parent == w.root.id {
			parentID = ""
		}
		e := toEntry(f, parentID, parentPath, name)

		w.mu.Lock()
		defer w.mu.Unlock()
		if w.err != nil {
			return w.err
		}
		if err := w.emit(e, parent); err != nil {
			return err
		}
		if e.IsDir {
			w.queue = append(w.queue, folderRef{id: f.Id, path: e.Path})
			w.wake.Signal()
		}
		return nil
	})
}
