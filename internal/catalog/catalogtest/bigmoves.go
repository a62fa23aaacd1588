package catalogtest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// testBigFolderMoves: a folder whose subtree is bigger than a batch moves
// in batches. The account's other writes go ahead between batches, writes
// under the moving folder are refused, a sync waits, and at the end every
// path, storage ID and tag is right. A rewrite that a dead process left
// part-way is finished by the next write or sync, whichever comes first.
func testBigFolderMoves(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now
	acct := f.accA.ID
	// afterBatch is what the move does after each batch; it is only
	// changed while no move runs.
	var afterBatch func(batches int) error
	s.TuneFolderMoves(catalog.FolderMoveTuning{BatchRows: 5, AfterBatch: func(n int, _ time.Duration) error {
		if afterBatch == nil {
			return nil
		}
		return afterBatch(n)
	}})

	top := f.mkFolder(t, acct, nil, "top")
	a := f.mkFolder(t, acct, &top.ID, "a")
	deep := f.mkFolder(t, acct, &a.ID, "deep")
	b := f.mkFolder(t, acct, &top.ID, "b")
	dest := f.mkFolder(t, acct, nil, "dest")
	sibling := f.mkFolder(t, acct, nil, "topper") // shares the "top" prefix, must not move
	inSibling := f.mkAsset(t, acct, &sibling, "x.jpg", 1, now, "image/jpeg")
	otherTop := f.mkFolder(t, f.accB.ID, nil, "top")
	inOtherAccount := f.mkAsset(t, f.accB.ID, &otherTop, "f00.jpg", 1, now, "image/jpeg")

	// placed is an asset of the moving tree: its path under the tree's
	// root, its storage ID when that is no path (Drive), its tags.
	type placed struct {
		id      int64
		rel     string
		driveID string
		tags    []string
	}
	var tree []*placed
	add := func(in catalog.Folder, rel, name string) {
		t.Helper()
		x := f.mkAsset(t, acct, &in, name, int64(len(tree)), now, "image/jpeg")
		tags := []string{"keep", fmt.Sprintf("n%02d", len(tree))}
		_, err := s.UpdateAssetMetadata(ctx, acct, x.ID, catalog.MetadataUpdate{Tags: &tags}, now)
		must(t, err, "tagging %s", x.Path)
		tree = append(tree, &placed{id: x.ID, rel: rel + name, tags: tags})
	}
	for i := range 12 {
		add(a, "a/", fmt.Sprintf("f%02d.jpg", i))
	}
	for i := range 6 {
		add(deep, "a/deep/", fmt.Sprintf("d%02d.jpg", i))
	}
	for i := range 4 {
		add(b, "b/", fmt.Sprintf("b%02d.jpg", i))
	}
	add(top, "", "readme.jpg")
	drive, err := s.PutUploadedAsset(ctx, acct, 0, catalog.Asset{FolderID: &b.ID, Name: "doc", StorageID: "1AbCdriveID"}, now)
	must(t, err, "PutUploadedAsset")
	tree = append(tree, &placed{id: drive.ID, rel: "b/doc", driveID: "1AbCdriveID", tags: []string{}})
	// A removed file inside the tree, and one sitting where a moved file
	// lands: the second is cleared out of the way.
	gone := f.mkAsset(t, acct, &a, "old.jpg", 1, now, "image/jpeg")
	must(t, s.DeleteAsset(ctx, acct, 0, gone.ID, now), "DeleteAsset")
	inTheWay, err := s.PutUploadedAsset(ctx, acct, 0, catalog.Asset{FolderID: &dest.ID, Name: "gone", StorageID: "dest/top2/a/f03.jpg"}, now)
	must(t, err, "PutUploadedAsset")
	must(t, s.DeleteAsset(ctx, acct, 0, inTheWay.ID, now), "DeleteAsset")

	folderPaths := map[int64]string{a.ID: "a", deep.ID: "a/deep", b.ID: "b"}
	checkTree := func(root string, at time.Time, what string) {
		t.Helper()
		got, err := s.GetFolder(ctx, acct, top.ID)
		must(t, err, "GetFolder")
		if got.Path != root {
			t.Fatalf("%s: the moved folder is at %q, want %q", what, got.Path, root)
		}
		for id, rel := range folderPaths {
			got, err := s.GetFolder(ctx, acct, id)
			must(t, err, "GetFolder")
			if want := root + "/" + rel; got.Path != want || got.StorageID != want {
				t.Fatalf("%s: folder %d at %q (storage ID %q), want %q", what, id, got.Path, got.StorageID, want)
			}
		}
		for _, p := range tree {
			got, err := s.GetAsset(ctx, acct, p.id)
			must(t, err, "GetAsset")
			want, wantID := root+"/"+p.rel, p.driveID
			if wantID == "" {
				wantID = want
			}
			if got.Path != want || got.StorageID != wantID || !slices.Equal(got.Tags, p.tags) {
				t.Fatalf("%s: asset at %q (storage ID %q, tags %q), want %q (%q, %q)", what, got.Path, got.StorageID, got.Tags, want, wantID, p.tags)
			}
		}
		byKey, err := s.GetAssetByStorageID(ctx, acct, root+"/a/f03.jpg")
		must(t, err, "%s: GetAssetByStorageID", what)
		if byKey.ID != tree[3].id {
			t.Fatalf("%s: %s/a/f03.jpg is asset %d, want %d", what, root, byKey.ID, tree[3].id)
		}
		n, err := s.CountAssets(ctx, catalog.AssetQuery{AccountID: acct, FolderID: &top.ID, Recursive: true})
		must(t, err, "CountAssets")
		if n != int64(len(tree)) {
			t.Fatalf("%s: the moved folder's subtree counts %d assets, want %d", what, n, len(tree))
		}
		open, err := s.CountOpenWriteIntents(ctx, acct, at)
		must(t, err, "CountOpenWriteIntents")
		if open != 0 {
			t.Fatalf("%s: %d library writes still in flight", what, open)
		}
	}
	busy := func(err error, path, what string) {
		t.Helper()
		var pb *catalog.PathBusyError
		if !errors.As(err, &pb) || pb.Path != path || pb.Op != "move_folder" {
			t.Fatalf("%s: got %v, want *catalog.PathBusyError for the move of %q", what, err, path)
		}
	}
	claim := func(at time.Time, c catalog.PathClaim) error {
		id, err := s.BeginWriteIntentOn(ctx, acct, 0, "upload", c, at, time.Minute)
		if err == nil {
			must(t, s.EndWriteIntent(ctx, acct, id), "EndWriteIntent")
		}
		return err
	}
	var lastRun *catalog.SyncRun
	newRun := func(at time.Time) catalog.SyncRun {
		t.Helper()
		if lastRun != nil { // one active run per account
			lastRun.State, lastRun.FinishedAt = catalog.RunSucceeded, &at
			must(t, s.UpdateSyncRun(ctx, *lastRun), "UpdateSyncRun")
		}
		run, err := s.CreateSyncRun(ctx, catalog.SyncRun{AccountID: acct, Trigger: catalog.TriggerManual}, at)
		must(t, err, "CreateSyncRun")
		lastRun = &run
		return run
	}

	// A move in progress, paused after its second batch.
	paused, resume := make(chan struct{}), make(chan struct{})
	var release sync.Once
	t.Cleanup(func() { release.Do(func() { close(resume) }) })
	afterBatch = func(n int) error {
		if n == 2 {
			close(paused)
			<-resume
		}
		return nil
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.MoveFolder(ctx, acct, 0, top.ID, &dest.ID, "top2", "dest/top2", now)
		done <- err
	}()
	select {
	case <-paused:
	case err := <-done:
		t.Fatalf("the folder moved without batches (err %v)", err)
	}
	promptly := func(what string, fn func() error) {
		t.Helper()
		ch := make(chan error, 1)
		go func() { ch <- fn() }()
		select {
		case err := <-ch:
			must(t, err, "%s", what)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s waited for the folder move to end", what)
		}
	}
	promptly("creating a folder elsewhere", func() error {
		_, err := s.CreateFolder(ctx, acct, 0, nil, "elsewhere", "elsewhere", now)
		return err
	})
	promptly("claiming a path elsewhere", func() error { return claim(now, catalog.PathClaim{Paths: []string{"elsewhere/new.jpg"}}) })
	edited := []string{"edited", "keep"}
	promptly("editing the tags of a moving asset", func() error {
		_, err := s.UpdateAssetMetadata(ctx, acct, tree[9].id, catalog.MetadataUpdate{Tags: &edited}, now)
		return err
	})
	tree[9].tags = edited
	busy(claim(now, catalog.PathClaim{Paths: []string{"top/a/new.jpg"}}), "top", "an upload into the moving folder's old place")
	busy(claim(now, catalog.PathClaim{Paths: []string{"dest/top2/b/new.jpg"}}), "dest/top2", "an upload into its new place")
	busy(claim(now, catalog.PathClaim{Trees: []string{"dest"}}), "dest/top2", "deleting the destination")
	_, err = s.AcquireIdleLease(ctx, acct, newRun(now).ID, "sync", now, time.Minute)
	wantErr(t, err, catalog.ErrWritesInFlight, "a sync while the folder moves")
	if got, err := s.GetFolder(ctx, acct, top.ID); err != nil || got.Path != "dest/top2" {
		t.Fatalf("the moving folder reads as %+v (%v), want it at dest/top2", got, err)
	}
	inA, _, err := s.ListAssets(ctx, catalog.AssetQuery{AccountID: acct, FolderID: &a.ID, Limit: 100})
	must(t, err, "ListAssets")
	if len(inA) != 12 {
		t.Fatalf("browsing a moving folder lists %d assets, want 12", len(inA))
	}
	release.Do(func() { close(resume) })
	must(t, <-done, "MoveFolder")
	checkTree("dest/top2", now, "after the move")
	if _, err := s.GetAsset(ctx, acct, inTheWay.ID); err == nil {
		t.Fatal("the removed asset in the way of the move is still there")
	}
	got, err := s.GetAsset(ctx, acct, inSibling.ID)
	must(t, err, "GetAsset")
	if got.Path != "topper/x.jpg" {
		t.Fatalf("a folder sharing the prefix moved too: %q", got.Path)
	}
	got, err = s.GetAsset(ctx, f.accB.ID, inOtherAccount.ID)
	must(t, err, "GetAsset")
	if got.Path != "top/f00.jpg" {
		t.Fatalf("another account's folder of the same name moved: %q", got.Path)
	}
	must(t, claim(now, catalog.PathClaim{Paths: []string{"top/a/new.jpg"}}), "claiming the moved folder's old place after the move")
	run := newRun(now)
	_, err = s.AcquireIdleLease(ctx, acct, run.ID, "sync", now, time.Minute)
	must(t, err, "AcquireIdleLease after the move")
	must(t, s.ReleaseLease(ctx, acct, run.ID, "sync"), "ReleaseLease")

	// A process that dies part-way leaves the rewrite to whoever comes next
	// once its time is up; until then its claims hold.
	errCrash := errors.New("the process died")
	root := "dest/top2"
	crash := func(at time.Time, name string) {
		t.Helper()
		afterBatch = func(n int) error {
			if n == 2 {
				return errCrash
			}
			return nil
		}
		_, err := s.MoveFolder(ctx, acct, 0, top.ID, nil, name, name, at)
		afterBatch = nil
		if !errors.Is(err, errCrash) || !errors.Is(err, catalog.ErrMoveUnfinished) {
			t.Fatalf("MoveFolder stopped part-way: got %v, want %v wrapping %v", err, catalog.ErrMoveUnfinished, errCrash)
		}
		busy(claim(at, catalog.PathClaim{Paths: []string{root + "/a/new.jpg"}}), root, "an upload into the old place of a crashed move")
		busy(claim(at, catalog.PathClaim{Paths: []string{name + "/a/new.jpg"}}), name, "an upload into the new place of a crashed move")
		_, err = s.AcquireIdleLease(ctx, acct, newRun(at).ID, "sync", at, time.Minute)
		wantErr(t, err, catalog.ErrWritesInFlight, "a sync before a crashed move's time is up")
		root = name
	}
	later := func(i int) time.Time { return now.Add(time.Duration(i) * time.Hour) }

	crash(later(1), "c1")
	must(t, claim(later(1).Add(time.Minute), catalog.PathClaim{Paths: []string{"elsewhere/next.jpg"}}), "the next write")
	checkTree("c1", later(1).Add(time.Minute), "a crashed move finished by the next write")

	crash(later(2), "c2")
	run = newRun(later(2))
	_, err = s.AcquireIdleLease(ctx, acct, run.ID, "sync", later(2).Add(time.Minute), time.Hour)
	must(t, err, "AcquireIdleLease after a crashed move")
	checkTree("c2", later(2).Add(time.Minute), "a crashed move finished by the next sync")
	must(t, s.ReleaseLease(ctx, acct, run.ID, "sync"), "ReleaseLease")

	crash(later(3), "c3")
	run = newRun(later(3))
	must(t, s.InQueueTx(ctx, func(q *catalog.QueueTx) error {
		_, err := q.AcquireIdleLease(ctx, acct, run.ID, "live", later(3).Add(time.Minute), time.Hour)
		return err
	}), "a live batch taking the lease after a crashed move")
	checkTree("c3", later(3).Add(time.Minute), "a crashed move finished by a live batch")
	must(t, s.ReleaseLease(ctx, acct, run.ID, "live"), "ReleaseLease")

	// A sync that took the lease while the move ran waits for it; when the
	// move's process dies, the waiting sync finishes it.
	crash(later(4), "c4")
	run = newRun(later(4))
	_, err = s.AcquireLease(ctx, acct, run.ID, "sync", later(4), time.Hour)
	must(t, err, "AcquireLease while a folder move is unfinished")
	n, err := s.CountOpenWriteIntents(ctx, acct, later(4))
	must(t, err, "CountOpenWriteIntents")
	if n != 1 {
		t.Fatalf("a sync sees %d writes in flight during an unfinished folder move, want 1", n)
	}
	n, err = s.CountOpenWriteIntents(ctx, acct, later(4).Add(time.Minute))
	must(t, err, "CountOpenWriteIntents")
	if n != 0 {
		t.Fatalf("a sync sees %d writes in flight once the crashed move's time is up, want 0", n)
	}
	checkTree("c4", later(4).Add(time.Minute), "a crashed move finished for a waiting sync")
	must(t, s.ReleaseLease(ctx, acct, run.ID, "sync"), "ReleaseLease")

	// A catalog at odds with the storage (a live row elsewhere already has
	// a storage ID the move gives) cannot be rewritten whole: the move
	// gives up instead of holding the account's writes and syncs off for
	// good, and leaves the rest to the next sync.
	_, err = s.PutUploadedAsset(ctx, acct, 0, catalog.Asset{Name: "squat.jpg", StorageID: "g1/a/f05.jpg"}, later(5))
	must(t, err, "PutUploadedAsset")
	_, err = s.MoveFolder(ctx, acct, 0, top.ID, nil, "g1", "g1", later(5))
	if !errors.Is(err, catalog.ErrConflict) || !errors.Is(err, catalog.ErrMoveUnfinished) {
		t.Fatalf("MoveFolder onto a taken storage ID: got %v, want %v wrapping %v", err, catalog.ErrMoveUnfinished, catalog.ErrConflict)
	}
	n, err = s.CountOpenWriteIntents(ctx, acct, later(5))
	must(t, err, "CountOpenWriteIntents")
	if n != 0 {
		t.Fatalf("a move that gave up still counts as %d writes in flight", n)
	}
	must(t, claim(later(5), catalog.PathClaim{Paths: []string{"g1/a/new.jpg"}}), "claiming a path under a move that gave up")

	// Taking the path of a folder around it would make the rewrite chase
	// its own tail.
	x := f.mkFolder(t, acct, nil, "x")
	y := f.mkFolder(t, acct, &x.ID, "y")
	_, err = s.MoveFolder(ctx, acct, 0, y.ID, nil, "x", "", now)
	wantErr(t, err, catalog.ErrConflict, "moving x/y to x")
}
