package library_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/library"
	"github.com/shelf-dam/shelf/internal/storage"
)

func TestBulkTagAddsAndRemovesPerFile(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sqliteDB, localBackend)
	f.seed(seedTree...)
	a, b := f.asset("photos/a.jpg"), f.asset("top.txt")
	if _, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, a.ID, metaTags("Old", "keep")); err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.BulkTag(f.ctx, f.acct.ID, f.user.ID, []int64{a.ID, 999999, b.ID, a.ID},
		library.TagChange{Add: []string{" Summer ", "keep", ""}, Remove: []string{"old"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("%d results for 3 distinct ids: %+v", len(res), res)
	}
	if res[0].Err != nil || !slices.Equal(res[0].Asset.Tags, []string{"keep", "summer"}) {
		t.Errorf("a.jpg: %v, tags %q; want [keep summer]", res[0].Err, res[0].Asset.Tags)
	}
	wantKind(t, res[1].Err, library.ErrNotFound, "an unknown asset")
	if res[2].Err != nil || !slices.Equal(res[2].Asset.Tags, []string{"summer", "keep"}) {
		t.Errorf("top.txt: %v, tags %q", res[2].Err, res[2].Asset.Tags)
	}
	_, err = f.svc.BulkTag(f.ctx, f.acct.ID, f.user.ID, []int64{a.ID}, library.TagChange{Add: []string{" "}})
	wantKind(t, err, library.ErrInvalid, "no tag given")
	_, err = f.svc.BulkTag(f.ctx, f.acct.ID, f.user.ID, nil, library.TagChange{Add: []string{"x"}})
	wantKind(t, err, library.ErrInvalid, "no asset given")
	many := make([]int64, library.MaxBulk+1)
	for i := range many {
		many[i] = int64(i + 1)
	}
	_, err = f.svc.BulkTag(f.ctx, f.acct.ID, f.user.ID, many, library.TagChange{Add: []string{"x"}})
	wantKind(t, err, library.ErrInvalid, "too many assets")
}

func TestBulkMoveWritesThroughAndFailsPerFile(t *testing.T) {
	t.Parallel()
	forBackends(t, testBulkMove)
}

// forBackends runs a test on each in-process storage.
func forBackends(t *testing.T, fn func(t *testing.T, be backend)) {
	for _, be := range []backend{localBackend, s3FakeBackend, driveFakeBackend} {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			fn(t, be)
		})
	}
}

func testBulkMove(t *testing.T, be backend) {
	f := newFixture(t, sqliteDB, be)
	f.seed(append(seedTree, "photos/2024/top.txt")...)
	a, readme, top := f.asset("photos/a.jpg"), f.asset("docs/readme.txt"), f.asset("top.txt")
	res, err := f.svc.BulkMove(f.ctx, f.acct.ID, f.user.ID, []int64{a.ID, top.ID, readme.ID}, f.folderID("photos/2024"))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[0].Asset.Path != "photos/2024/a.jpg" || res[2].Err != nil || res[2].Asset.Path != "photos/2024/readme.txt" {
		t.Errorf("moved: %+v", res)
	}
	wantKind(t, res[1].Err, library.ErrConflict, "a name taken in the destination")
	if !f.inStorage("photos/2024/a.jpg") || f.inStorage("photos/a.jpg") || !f.inStorage("top.txt") {
		t.Errorf("storage after the move: %s", fmtTree(f.storageTree()))
	}
	if got := f.content("photos/2024/top.txt"); got != "content of photos/2024/top.txt" {
		t.Errorf("the file in the way was changed: %q", got)
	}
	f.noDiff()
	_, err = f.svc.BulkMove(f.ctx, f.acct.ID, f.user.ID, []int64{a.ID}, ptr(int64(987654)))
	wantKind(t, err, library.ErrNotFound, "an unknown destination")
}

func TestBulkDeleteWritesThrough(t *testing.T) {
	t.Parallel()
	forBackends(t, testBulkDelete)
}

func testBulkDelete(t *testing.T, be backend) {
	f := newFixture(t, sqliteDB, be)
	f.seed(seedTree...)
	a, top := f.asset("photos/a.jpg"), f.asset("top.txt")
	res, err := f.svc.BulkDelete(f.ctx, f.acct.ID, f.user.ID, []int64{a.ID, top.ID, a.ID + top.ID + 1000})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[1].Err != nil {
		t.Errorf("deletes: %+v", res)
	}
	wantKind(t, res[2].Err, library.ErrNotFound, "deleting an unknown asset")
	if f.inStorage("photos/a.jpg") || f.inStorage("top.txt") {
		t.Errorf("storage still holds the deleted files: %s", fmtTree(f.storageTree()))
	}
	if _, ok := f.findAsset("top.txt"); ok {
		t.Error("top.txt is still in the library")
	}
	f.noDiff()
}

func TestBulkRefusedWholeWhileLocked(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sqliteDB, localBackend)
	f.seed(seedTree...)
	a, top := f.asset("photos/a.jpg"), f.asset("top.txt")
	storageBefore, catalogBefore := f.storageTree(), f.catalogTree()
	run, lease := f.lock()
	for name, call := range map[string]func() error{
		"tag": func() error {
			_, err := f.svc.BulkTag(f.ctx, f.acct.ID, f.user.ID, []int64{a.ID, top.ID}, library.TagChange{Add: []string{"x"}})
			return err
		},
		"move": func() error {
			_, err := f.svc.BulkMove(f.ctx, f.acct.ID, f.user.ID, []int64{a.ID, top.ID}, f.folderID("docs"))
			return err
		},
		"delete": func() error {
			// An unknown id first changes nothing: still refused whole.
			_, err := f.svc.BulkDelete(f.ctx, f.acct.ID, f.user.ID, []int64{999999, a.ID, top.ID})
			return err
		},
	} {
		err := call()
		wantKind(t, err, library.ErrLocked, name)
		if id, ok := library.RunID(err); !ok || id != run.ID {
			t.Errorf("%s: run id %d %v, want %d", name, id, ok, run.ID)
		}
	}
	if s, c := f.storageTree(), f.catalogTree(); !slices.Equal(s, storageBefore) || !slices.Equal(c, catalogBefore) {
		t.Errorf("a locked bulk request changed the library:\nstorage %s\ncatalog %s", fmtTree(s), fmtTree(c))
	}
	f.unlock(run, lease)
}

// lockingConn takes the library lease (as a sync starting would) during
// the first storage delete: the delete in flight holds its write intent
// and lands; the files after it find the library locked.
type lockingConn struct {
	storage.Connector
	lock func()
	once bool
}

func (c *lockingConn) Delete(ctx context.Context, p string) error {
	if !c.once {
		c.once = true
		c.lock()
	}
	return c.Connector.Delete(ctx, p)
}

func TestBulkSyncStartingPartWayStopsTheRest(t *testing.T) {
	t.Parallel()
	lc := &lockingConn{}
	f := newFixture(t, sqliteDB, localBackend, func(o *options) {
		o.wrap = func(c storage.Connector) storage.Connector { lc.Connector = c; return lc }
	})
	f.seed(seedTree...)
	a, top, readme := f.asset("photos/a.jpg"), f.asset("top.txt"), f.asset("docs/readme.txt")
	var locked bool
	lc.lock = func() { f.lock(); locked = true }
	res, err := f.svc.BulkDelete(f.ctx, f.acct.ID, f.user.ID, []int64{a.ID, top.ID, readme.ID})
	if err != nil || !locked {
		t.Fatalf("bulk delete: %v (lock taken: %v)", err, locked)
	}
	if res[0].Err != nil {
		t.Errorf("the delete in flight when the sync started: %v", res[0].Err)
	}
	for _, r := range res[1:] {
		if !errors.Is(r.Err, library.ErrLocked) {
			t.Errorf("asset %d after the sync started: %v, want locked", r.AssetID, r.Err)
		}
	}
	if f.inStorage("photos/a.jpg") || !f.inStorage("top.txt") || !f.inStorage("docs/readme.txt") {
		t.Errorf("storage: %s", fmtTree(f.storageTree()))
	}
}

func metaTags(tags ...string) catalog.MetadataUpdate { return catalog.MetadataUpdate{Tags: &tags} }

// Regression: bulk tag read the tags outside the write and wrote the whole
// list back, so concurrent bulk tag requests lost each other's tags.
func TestBulkTagConcurrentRequestsLoseNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sqliteDB, localBackend)
	f.seed(seedTree...)
	a, b := f.asset("photos/a.jpg"), f.asset("top.txt")
	const n = 12
	errs := make(chan error, n)
	for i := range n {
		go func() {
			res, err := f.svc.BulkTag(f.ctx, f.acct.ID, f.user.ID, []int64{a.ID, b.ID},
				library.TagChange{Add: []string{fmt.Sprintf("t%02d", i)}})
			for _, r := range res {
				err = errors.Join(err, r.Err)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []int64{a.ID, b.ID} {
		got, err := f.store.GetAsset(f.ctx, f.acct.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Tags) != n {
			t.Errorf("asset %d has %d tags after %d concurrent bulk adds: %q", id, len(got.Tags), n, got.Tags)
		}
	}
}

// The tag limit holds for bulk adds too, counted on the asset's tags.
func TestBulkTagKeepsTheTagLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sqliteDB, localBackend)
	f.seed(seedTree...)
	a := f.asset("photos/a.jpg")
	tags := make([]string, 100)
	for i := range tags {
		tags[i] = fmt.Sprintf("tag%03d", i)
	}
	if _, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, a.ID, metaTags(tags...)); err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.BulkTag(f.ctx, f.acct.ID, f.user.ID, []int64{a.ID}, library.TagChange{Add: []string{"one-more"}})
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, res[0].Err, library.ErrInvalid, "a 101st tag")
	res, err = f.svc.BulkTag(f.ctx, f.acct.ID, f.user.ID, []int64{a.ID}, library.TagChange{Add: []string{"one-more"}, Remove: []string{"TAG000"}})
	if err != nil || res[0].Err != nil || len(res[0].Asset.Tags) != 100 {
		t.Fatalf("swapping one tag at the limit: %v %+v", err, res)
	}
}
