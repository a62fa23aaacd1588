package library_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/library"
)

// bigFolder seeds a folder holding more rows than a catalog batch (the
// store is tuned to batches of 4) and tags every file in it. It returns
// the tags by asset id.
func bigFolder(f *fixture) map[int64][]string {
	f.t.Helper()
	paths := []string{"photos/", "photos/2024/", "other/", "other/keep.txt"}
	for i := range 12 {
		paths = append(paths, fmt.Sprintf("photos/2024/img%02d.jpg", i))
	}
	for i := range 5 {
		paths = append(paths, fmt.Sprintf("photos/top%02d.jpg", i))
	}
	f.seed(paths...)
	tags := map[int64][]string{}
	assets, _, err := f.store.ListAssets(f.ctx, catalog.AssetQuery{AccountID: f.acct.ID, FolderID: f.folderID("photos"), Recursive: true, Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, a := range assets {
		want := []string{"client-x", a.Name}
		if _, err := f.store.UpdateAssetMetadata(f.ctx, f.acct.ID, a.ID, catalog.MetadataUpdate{Tags: &want}, time.Now()); err != nil {
			f.t.Fatal(err)
		}
		tags[a.ID] = want
	}
	if len(tags) != 17 {
		f.t.Fatalf("seeded %d assets in photos, want 17", len(tags))
	}
	return tags
}

// movedWhole checks that the catalog mirrors the storage, that a sync
// finds nothing to do, and that every tagged asset kept its tags.
func movedWhole(f *fixture, tags map[int64][]string) {
	f.t.Helper()
	f.noDiff()
	if got, want := f.catalogTree(), f.storageTree(); !slices.Equal(got, want) {
		f.t.Fatalf("catalog %s, storage %s", fmtTree(got), fmtTree(want))
	}
	for id, want := range tags {
		a, err := f.store.GetAsset(f.ctx, f.acct.ID, id)
		if err != nil {
			f.t.Fatalf("asset %d after the move: %v", id, err)
		}
		if !slices.Equal(a.Tags, want) {
			f.t.Fatalf("asset %q has tags %q after the move, want %q", a.Path, a.Tags, want)
		}
	}
}

// testBigFolderMove: while a big folder's paths are rewritten, a write
// under it is refused and one elsewhere goes ahead; at the end the catalog
// mirrors the storage with every tag kept.
func testBigFolderMove(t *testing.T, db database) {
	f := newFixture(t, db, localBackend)
	tags := bigFolder(f)
	paused, resume := make(chan struct{}), make(chan struct{})
	var release sync.Once
	t.Cleanup(func() { release.Do(func() { close(resume) }) })
	f.store.TuneFolderMoves(catalog.FolderMoveTuning{BatchRows: 4, AfterBatch: func(n int, _ time.Duration) error {
		if n == 2 {
			close(paused)
			<-resume
		}
		return nil
	}})
	photos, inside := f.folder("photos").ID, f.folderID("photos/2024")
	type result struct {
		folder catalog.Folder
		err    error
	}
	done := make(chan result, 1)
	go func() {
		out, err := f.svc.EditFolder(f.ctx, f.acct.ID, f.user.ID, photos, library.FolderEdit{Name: ptr("pictures")})
		done <- result{out, err}
	}()
	select {
	case <-paused:
	case r := <-done:
		t.Fatalf("the folder moved without batches: %+v, %v", r.folder, r.err)
	}
	r, n := body("new")
	_, err := f.svc.Upload(f.ctx, f.acct.ID, f.user.ID, inside, "new.jpg", r, n, "")
	wantKind(t, err, library.ErrConflict, "an upload into the folder being moved")
	uploaded := make(chan error, 1)
	go func() {
		r, n := body("elsewhere")
		_, err := f.svc.Upload(f.ctx, f.acct.ID, f.user.ID, f.folderID("other"), "new.txt", r, n, "")
		uploaded <- err
	}()
	select {
	case err := <-uploaded:
		if err != nil {
			t.Fatalf("an upload elsewhere while the folder moves: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an upload elsewhere waited for the folder move")
	}
	release.Do(func() { close(resume) })
	res := <-done
	if res.err != nil || res.folder.Path != "pictures" {
		t.Fatalf("EditFolder = %+v, %v", res.folder, res.err)
	}
	movedWhole(f, tags)
}

// testCrashedFolderMove: a move whose process dies while the catalog
// rewrites the paths under the folder is finished before the next sync
// looks: that sync finds nothing to do, and every tag is kept.
func testCrashedFolderMove(t *testing.T, db database) {
	// The service's clock runs an hour behind the sync's, so the sync finds
	// the dead process's rewrite expired at once.
	f := newFixture(t, db, localBackend, func(o *options) { o.now = func() time.Time { return time.Now().Add(-time.Hour) } })
	tags := bigFolder(f)
	errCrash := errors.New("the process died")
	f.store.TuneFolderMoves(catalog.FolderMoveTuning{BatchRows: 4, AfterBatch: func(n int, _ time.Duration) error {
		if n == 2 {
			return errCrash
		}
		return nil
	}})
	_, err := f.svc.EditFolder(f.ctx, f.acct.ID, f.user.ID, f.folder("photos").ID, library.FolderEdit{Name: ptr("pictures")})
	wantKind(t, err, library.ErrDeferred, "a folder move whose process died part-way")
	if !errors.Is(err, errCrash) {
		t.Fatalf("the move stopped with %v, want %v", err, errCrash)
	}
	f.store.TuneFolderMoves(catalog.FolderMoveTuning{BatchRows: 4})
	if _, ok := f.findAsset("pictures/2024/img11.jpg"); ok {
		t.Fatal("the whole folder was rewritten before the crash")
	}
	movedWhole(f, tags)
}

func TestBigFolderMoveSQLite(t *testing.T) {
	t.Parallel()
	testBigFolderMove(t, sqliteDB)
}

func TestBigFolderMovePostgres(t *testing.T) {
	t.Parallel()
	testBigFolderMove(t, postgresDB)
}

func TestCrashedFolderMoveSQLite(t *testing.T) {
	t.Parallel()
	testCrashedFolderMove(t, sqliteDB)
}

func TestCrashedFolderMovePostgres(t *testing.T) {
	t.Parallel()
	testCrashedFolderMove(t, postgresDB)
}
