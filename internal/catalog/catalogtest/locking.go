package catalogtest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

func testSyncRuns(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now

	_, err := s.ActiveSyncRun(ctx, f.accA.ID)
	wantErr(t, err, catalog.ErrNotFound, "ActiveSyncRun before any")
	_, err = s.LatestFinishedSyncRun(ctx, f.accA.ID)
	wantErr(t, err, catalog.ErrNotFound, "LatestFinishedSyncRun before any")

	r1, err := s.CreateSyncRun(ctx, catalog.SyncRun{AccountID: f.accA.ID, Trigger: catalog.TriggerManual, RequestedBy: &f.adminA.ID}, now)
	must(t, err, "CreateSyncRun")
	if r1.State != catalog.RunQueued || *r1.RequestedBy != f.adminA.ID || !r1.CreatedAt.Equal(now) {
		t.Fatalf("CreateSyncRun = %+v", r1)
	}
	_, err = s.CreateSyncRun(ctx, catalog.SyncRun{AccountID: f.accA.ID, Trigger: catalog.TriggerAuto}, now)
	wantErr(t, err, catalog.ErrConflict, "a second active run")
	if _, err := s.CreateSyncRun(ctx, catalog.SyncRun{AccountID: f.accB.ID, Trigger: "cron"}, now); err == nil {
		t.Fatal("an unknown trigger was accepted")
	}
	rb, err := s.CreateSyncRun(ctx, catalog.SyncRun{AccountID: f.accB.ID, Trigger: catalog.TriggerAuto, State: catalog.RunRunning, StartedAt: &now}, now)
	must(t, err, "CreateSyncRun B")

	active, err := s.ActiveSyncRun(ctx, f.accA.ID)
	must(t, err, "ActiveSyncRun")
	if active.ID != r1.ID {
		t.Fatalf("ActiveSyncRun = %d, want %d", active.ID, r1.ID)
	}
	_, err = s.GetSyncRun(ctx, f.accA.ID, rb.ID)
	wantErr(t, err, catalog.ErrNotFound, "GetSyncRun across accounts")

	started := now.Add(time.Second)
	r1.State, r1.StartedAt, r1.FullScan = catalog.RunRunning, &started, true
	must(t, s.UpdateSyncRun(ctx, r1), "UpdateSyncRun running")
	total, toApply, rate := int64(1000), int64(40), 250.5
	must(t, s.UpdateSyncRunProgress(ctx, f.accA.ID, r1.ID, catalog.RunProgress{Counts: catalog.Counts{Seen: 500, Added: 3},
		Phase: catalog.PhaseApplying, Estimate: &total, ApplyTotal: &toApply, RatePerSecond: &rate}), "UpdateSyncRunProgress")
	wantErr(t, s.UpdateSyncRunProgress(ctx, f.accB.ID, r1.ID, catalog.RunProgress{}), catalog.ErrNotFound, "UpdateSyncRunProgress across accounts")
	got, err := s.GetSyncRun(ctx, f.accA.ID, r1.ID)
	must(t, err, "GetSyncRun")
	if got.State != catalog.RunRunning || got.Counts.Seen != 500 || got.Counts.Added != 3 || *got.TotalEstimate != 1000 || !got.FullScan || !timeEq(got.StartedAt, &started) ||
		got.Phase != catalog.PhaseApplying || got.ApplyTotal == nil || *got.ApplyTotal != 40 || got.RatePerSecond == nil || *got.RatePerSecond != 250.5 {
		t.Fatalf("after progress: %+v", got)
	}
	if got.PendingRemovals != 0 || got.PendingRemovalPaths != nil {
		t.Fatalf("a run holding nothing back: %+v", got)
	}
	must(t, s.SetSyncRunHeldRemovals(ctx, f.accA.ID, r1.ID, 150, []string{"a/1.jpg", "b/2 é.jpg"}), "SetSyncRunHeldRemovals")
	wantErr(t, s.SetSyncRunHeldRemovals(ctx, f.accB.ID, r1.ID, 1, nil), catalog.ErrNotFound, "SetSyncRunHeldRemovals across accounts")
	got, err = s.GetSyncRun(ctx, f.accA.ID, r1.ID)
	must(t, err, "GetSyncRun")
	if got.PendingRemovals != 150 || strings.Join(got.PendingRemovalPaths, "|") != "a/1.jpg|b/2 é.jpg" {
		t.Fatalf("held removals: %d %q", got.PendingRemovals, got.PendingRemovalPaths)
	}

	finished := now.Add(time.Minute)
	got.State, got.FinishedAt, got.Error = catalog.RunFailed, &finished, "storage unreachable; check the connection"
	got.Counts = catalog.Counts{Seen: 1000, Added: 10, Updated: 2, Moved: 1, Removed: 4, Errors: 1}
	must(t, s.UpdateSyncRun(ctx, got), "UpdateSyncRun failed")
	got.State = "exploded"
	if err := s.UpdateSyncRun(ctx, got); err == nil {
		t.Fatal("an unknown state was accepted")
	}
	wrong := got
	wrong.AccountID, wrong.State = f.accB.ID, catalog.RunSucceeded
	wantErr(t, s.UpdateSyncRun(ctx, wrong), catalog.ErrNotFound, "UpdateSyncRun across accounts")

	latest, err := s.LatestFinishedSyncRun(ctx, f.accA.ID)
	must(t, err, "LatestFinishedSyncRun")
	if latest.ID != r1.ID || latest.Counts.Removed != 4 || latest.Error == "" || !timeEq(latest.FinishedAt, &finished) {
		t.Fatalf("LatestFinishedSyncRun = %+v", latest)
	}
	_, err = s.ActiveSyncRun(ctx, f.accA.ID)
	wantErr(t, err, catalog.ErrNotFound, "ActiveSyncRun after the run finished")

	// The next run may start now that none is active.
	r2, err := s.CreateSyncRun(ctx, catalog.SyncRun{AccountID: f.accA.ID, Trigger: catalog.TriggerAuto}, now.Add(time.Hour))
	must(t, err, "CreateSyncRun after the first finished")
	list, err := s.ListSyncRuns(ctx, f.accA.ID, 10)
	must(t, err, "ListSyncRuns")
	if len(list) != 2 || list[0].ID != r2.ID || list[1].ID != r1.ID {
		t.Fatalf("ListSyncRuns = %v, want newest first", list)
	}
	list, err = s.ListSyncRuns(ctx, f.accA.ID, 1)
	must(t, err, "ListSyncRuns limit")
	if len(list) != 1 {
		t.Fatalf("ListSyncRuns limit 1 gave %d", len(list))
	}

	// In a transaction, with InQueueTx.
	err = s.InQueueTx(ctx, func(qt *catalog.QueueTx) error {
		r, err := qt.ActiveRun(ctx, f.accA.ID)
		if err != nil {
			return err
		}
		r.State = catalog.RunSucceeded
		r.FinishedAt = &finished
		return qt.UpdateRun(ctx, r)
	})
	must(t, err, "finishing a run in InQueueTx")
	err = s.InQueueTx(ctx, func(qt *catalog.QueueTx) error {
		if _, err := qt.CreateRun(ctx, catalog.SyncRun{AccountID: f.accA.ID, Trigger: catalog.TriggerCLI}, now); err != nil {
			return err
		}
		return errors.New("abandon")
	})
	if err == nil || err.Error() != "abandon" {
		t.Fatalf("InQueueTx returned %v, want the callback's error", err)
	}
	if _, err := s.ActiveSyncRun(ctx, f.accA.ID); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("a rolled-back run is visible: %v", err)
	}
}

func testLease(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now
	ttl := time.Minute
	r1, err := s.CreateSyncRun(ctx, catalog.SyncRun{AccountID: f.accA.ID, Trigger: catalog.TriggerAuto}, now)
	must(t, err, "CreateSyncRun")
	r2, err := s.CreateSyncRun(ctx, catalog.SyncRun{AccountID: f.accB.ID, Trigger: catalog.TriggerAuto}, now)
	must(t, err, "CreateSyncRun")

	_, err = s.GetLease(ctx, f.accA.ID, now)
	wantErr(t, err, catalog.ErrNotFound, "GetLease when unlocked")
	l, err := s.AcquireLease(ctx, f.accA.ID, r1.ID, "node-1", now, ttl)
	must(t, err, "AcquireLease")
	if l.RunID != r1.ID || l.Holder != "node-1" || !l.ExpiresAt.Equal(now.Add(ttl)) {
		t.Fatalf("AcquireLease = %+v", l)
	}
	// Re-acquiring by the same holder and run is fine; anyone else is locked out.
	_, err = s.AcquireLease(ctx, f.accA.ID, r1.ID, "node-1", now, ttl)
	must(t, err, "AcquireLease again by the holder")
	_, err = s.AcquireLease(ctx, f.accA.ID, r1.ID+1000, "node-2", now.Add(30*time.Second), ttl)
	wantLocked(t, err, r1.ID, "AcquireLease by another run")
	_, err = s.AcquireLease(ctx, f.accA.ID, r1.ID, "node-2", now.Add(30*time.Second), ttl)
	wantLocked(t, err, r1.ID, "AcquireLease of the same run by another node")
	// Account B is independent.
	_, err = s.AcquireLease(ctx, f.accB.ID, r2.ID, "node-2", now, ttl)
	must(t, err, "AcquireLease for B")

	must(t, s.RenewLease(ctx, f.accA.ID, r1.ID, "node-1", now.Add(50*time.Second), ttl), "RenewLease")
	wantErr(t, s.RenewLease(ctx, f.accA.ID, r1.ID, "node-2", now.Add(50*time.Second), ttl), catalog.ErrLeaseLost, "RenewLease by another holder")
	got, err := s.GetLease(ctx, f.accA.ID, now.Add(100*time.Second))
	must(t, err, "GetLease")
	if !got.ExpiresAt.Equal(now.Add(110 * time.Second)) {
		t.Fatalf("renewed lease expires %v, want %v", got.ExpiresAt, now.Add(110*time.Second))
	}

	// Expired: no longer locks, listed for the reaper, taken over by a new run.
	late := now.Add(5 * time.Minute)
	_, err = s.GetLease(ctx, f.accA.ID, late)
	wantErr(t, err, catalog.ErrNotFound, "GetLease after expiry")
	expired, err := s.ListExpiredLeases(ctx, late, 10)
	must(t, err, "ListExpiredLeases")
	if len(expired) != 2 {
		t.Fatalf("ListExpiredLeases = %v, want both accounts'", expired)
	}
	wantErr(t, s.RenewLease(ctx, f.accA.ID, r1.ID, "node-1", late, ttl), catalog.ErrLeaseLost, "RenewLease after expiry")
	l3, err := s.AcquireLease(ctx, f.accA.ID, r1.ID, "node-3", late, ttl)
	must(t, err, "taking over an expired lease")
	if l3.Holder != "node-3" || !l3.AcquiredAt.Equal(late) {
		t.Fatalf("taken-over lease = %+v", l3)
	}
	wantErr(t, s.RenewLease(ctx, f.accA.ID, r1.ID, "node-1", late, ttl), catalog.ErrLeaseLost, "the old holder renewing after takeover")
	wantErr(t, s.DeleteExpiredLease(ctx, f.accA.ID, r1.ID, late), catalog.ErrNotFound, "DeleteExpiredLease of a live lease")
	must(t, s.DeleteExpiredLease(ctx, f.accB.ID, r2.ID, late), "DeleteExpiredLease")
	expired, err = s.ListExpiredLeases(ctx, late, 10)
	must(t, err, "ListExpiredLeases")
	if len(expired) != 0 {
		t.Fatalf("expired leases left: %v", expired)
	}

	// Releasing by someone else does nothing; by the holder it unlocks.
	must(t, s.ReleaseLease(ctx, f.accA.ID, r1.ID, "node-1"), "ReleaseLease by a former holder")
	if _, err := s.GetLease(ctx, f.accA.ID, late); err != nil {
		t.Fatalf("a former holder's release unlocked the library: %v", err)
	}
	must(t, s.ReleaseLease(ctx, f.accA.ID, r1.ID, "node-3"), "ReleaseLease")
	_, err = s.GetLease(ctx, f.accA.ID, late)
	wantErr(t, err, catalog.ErrNotFound, "GetLease after release")
	must(t, s.ReleaseLease(ctx, f.accA.ID, r1.ID, "node-3"), "ReleaseLease twice")
}

func testLibraryLock(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now
	ttl := 10 * time.Minute
	dir := f.mkFolder(t, f.accA.ID, nil, "docs")
	asset := f.mkAsset(t, f.accA.ID, &dir, "a.txt", 1, now, "text/plain")

	// A write in flight: the sync takes the lease but sees the intent.
	intent, err := s.BeginWriteIntent(ctx, f.accA.ID, f.adminA.ID, "upload", now, ttl)
	must(t, err, "BeginWriteIntent")
	run, err := s.CreateSyncRun(ctx, catalog.SyncRun{AccountID: f.accA.ID, Trigger: catalog.TriggerManual}, now)
	must(t, err, "CreateSyncRun")
	_, err = s.AcquireLease(ctx, f.accA.ID, run.ID, "worker", now, ttl)
	must(t, err, "AcquireLease")
	n, err := s.CountOpenWriteIntents(ctx, f.accA.ID, now)
	must(t, err, "CountOpenWriteIntents")
	if n != 1 {
		t.Fatalf("open write intents = %d, want 1", n)
	}
	n, err = s.CountOpenWriteIntents(ctx, f.accA.ID, now.Add(ttl))
	must(t, err, "CountOpenWriteIntents")
	if n != 0 {
		t.Fatalf("an expired intent still counts: %d", n)
	}

	// While the lease is held every write is refused and changes nothing.
	_, err = s.BeginWriteIntent(ctx, f.accA.ID, f.adminA.ID, "rename", now, ttl)
	wantLocked(t, err, run.ID, "BeginWriteIntent while locked")
	_, err = s.PutUploadedAsset(ctx, f.accA.ID, 0, catalog.Asset{FolderID: &dir.ID, Name: "new.txt", StorageID: "docs/new.txt"}, now)
	wantLocked(t, err, run.ID, "PutUploadedAsset without an intent while locked")
	_, err = s.UpdateAssetMetadata(ctx, f.accA.ID, asset.ID, catalog.MetadataUpdate{Title: ptr("changed")}, now)
	wantLocked(t, err, run.ID, "UpdateAssetMetadata while locked")
	_, err = s.MoveAsset(ctx, f.accA.ID, 0, asset.ID, nil, "b.txt", "b.txt", now)
	wantLocked(t, err, run.ID, "MoveAsset while locked")
	wantLocked(t, s.DeleteAsset(ctx, f.accA.ID, 0, asset.ID, now), run.ID, "DeleteAsset while locked")
	_, err = s.CreateFolder(ctx, f.accA.ID, 0, nil, "x", "x", now)
	wantLocked(t, err, run.ID, "CreateFolder while locked")
	_, err = s.MoveFolder(ctx, f.accA.ID, 0, dir.ID, nil, "papers", "papers", now)
	wantLocked(t, err, run.ID, "MoveFolder while locked")
	_, err = s.DeleteFolder(ctx, f.accA.ID, 0, dir.ID, now)
	wantLocked(t, err, run.ID, "DeleteFolder while locked")
	got, err := s.GetAsset(ctx, f.accA.ID, asset.ID)
	must(t, err, "GetAsset while locked (reads keep working)")
	if got.Title != "" || got.Name != "a.txt" {
		t.Fatalf("a refused write changed the asset: %+v", got)
	}
	if _, err := s.GetAssetByStorageID(ctx, f.accA.ID, "docs/new.txt"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("a refused upload landed: %v", err)
	}
	if _, err := s.GetFolderByPath(ctx, f.accA.ID, "x"); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("a refused folder landed: %v", err)
	}
	// Another account is not locked.
	_, err = s.BeginWriteIntent(ctx, f.accB.ID, f.adminB.ID, "upload", now, ttl)
	must(t, err, "BeginWriteIntent for an unlocked account")

	// The write that began before the lease finishes (the sync waits for
	// it) and ends its intent with it; then the sync may scan.
	up, err := s.PutUploadedAsset(ctx, f.accA.ID, intent, catalog.Asset{FolderID: &dir.ID, Name: "new.txt", StorageID: "docs/new.txt", Size: 7, ETag: "e1"}, now)
	must(t, err, "PutUploadedAsset of a write begun before the lease")
	if up.Path != "docs/new.txt" || up.PreviewState != "pending" {
		t.Fatalf("uploaded asset = %+v", up)
	}
	n, err = s.CountOpenWriteIntents(ctx, f.accA.ID, now)
	must(t, err, "CountOpenWriteIntents")
	if n != 0 {
		t.Fatalf("the applied write left %d intents", n)
	}
	// An intent that expired while a lease is held is refused as locked:
	// the sync stopped waiting for it and scans.
	must(t, s.ReleaseLease(ctx, f.accA.ID, run.ID, "worker"), "ReleaseLease")
	short, err := s.BeginWriteIntent(ctx, f.accA.ID, f.adminA.ID, "upload", now, time.Second)
	must(t, err, "BeginWriteIntent")
	_, err = s.AcquireLease(ctx, f.accA.ID, run.ID, "worker", now, ttl)
	must(t, err, "AcquireLease")
	_, err = s.PutUploadedAsset(ctx, f.accA.ID, short, catalog.Asset{Name: "late.txt", StorageID: "late.txt"}, now.Add(time.Minute))
	wantLocked(t, err, run.ID, "a write whose intent expired under the lease")
	must(t, s.ReleaseLease(ctx, f.accA.ID, run.ID, "worker"), "ReleaseLease")
	_, err = s.PutUploadedAsset(ctx, f.accA.ID, intent, catalog.Asset{Name: "again.txt", StorageID: "again.txt"}, now)
	wantErr(t, err, catalog.ErrIntentExpired, "reusing an ended intent")

	// An intent that expired and was cleared refuses its late write.
	slow, err := s.BeginWriteIntent(ctx, f.accA.ID, f.adminA.ID, "upload", now, time.Second)
	must(t, err, "BeginWriteIntent")
	other, err := s.BeginWriteIntent(ctx, f.accA.ID, 0, "mkdir", now.Add(time.Minute), ttl)
	must(t, err, "BeginWriteIntent")
	_, err = s.PutUploadedAsset(ctx, f.accA.ID, slow, catalog.Asset{Name: "slow.txt", StorageID: "slow.txt"}, now.Add(time.Minute))
	wantErr(t, err, catalog.ErrIntentExpired, "a write whose intent expired")
	must(t, s.EndWriteIntent(ctx, f.accA.ID, other), "EndWriteIntent")
	must(t, s.EndWriteIntent(ctx, f.accA.ID, other), "EndWriteIntent twice")

	// Uploading over an existing file keeps its metadata; over a tombstone of
	// other content starts fresh; the same content relinks the tombstone.
	_, err = s.UpdateAssetMetadata(ctx, f.accA.ID, up.ID, catalog.MetadataUpdate{Description: ptr("keep me"), Tags: &[]string{"x"}}, now)
	must(t, err, "UpdateAssetMetadata")
	over, err := s.PutUploadedAsset(ctx, f.accA.ID, 0, catalog.Asset{FolderID: &dir.ID, Name: "new.txt", StorageID: "docs/new.txt", Size: 9, ETag: "e2"}, now)
	must(t, err, "PutUploadedAsset over a live asset")
	if over.ID != up.ID || over.Description != "keep me" || over.Size != 9 {
		t.Fatalf("overwrite = %+v, want same id, metadata kept, new size", over)
	}
	must(t, s.DeleteAsset(ctx, f.accA.ID, 0, up.ID, now), "DeleteAsset")
	back, err := s.PutUploadedAsset(ctx, f.accA.ID, 0, catalog.Asset{FolderID: &dir.ID, Name: "new.txt", StorageID: "docs/new.txt", Size: 9, ETag: "e2"}, now)
	must(t, err, "PutUploadedAsset of the same content")
	if back.ID != up.ID || back.Description != "keep me" || back.RemovedAt != nil {
		t.Fatalf("relinked = %+v", back)
	}
	must(t, s.DeleteAsset(ctx, f.accA.ID, 0, up.ID, now), "DeleteAsset")
	fresh, err := s.PutUploadedAsset(ctx, f.accA.ID, 0, catalog.Asset{FolderID: &dir.ID, Name: "new.txt", StorageID: "docs/new.txt", Size: 1, ETag: "other"}, now)
	must(t, err, "PutUploadedAsset of other content")
	if fresh.ID == up.ID || fresh.Description != "" || len(fresh.Tags) != 0 {
		t.Fatalf("new content inherited old metadata: %+v", fresh)
	}
	wantErr(t, s.DeleteAsset(ctx, f.accA.ID, 0, up.ID, now), catalog.ErrNotFound, "deleting a purged tombstone")
}

func testFolderMoves(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now
	acct := f.accA.ID
	top := f.mkFolder(t, acct, nil, "top")
	mid := f.mkFolder(t, acct, &top.ID, "mid")
	leaf := f.mkFolder(t, acct, &mid.ID, "leaf")
	dest := f.mkFolder(t, acct, nil, "dest")
	sibling := f.mkFolder(t, acct, nil, "topper") // shares the "top" prefix, must not move
	var inLeaf []catalog.Asset
	for i := range 30 {
		inLeaf = append(inLeaf, f.mkAsset(t, acct, &leaf, fmt.Sprintf("f%02d.bin", i), int64(i), now, "application/octet-stream"))
	}
	inTop := f.mkAsset(t, acct, &top, "readme.md", 1, now, "text/markdown")
	inSibling := f.mkAsset(t, acct, &sibling, "x.md", 1, now, "text/markdown")
	// A Drive-style asset: its identity is no path and must survive.
	driveStyle, err := s.PutUploadedAsset(ctx, acct, 0, catalog.Asset{FolderID: &mid.ID, Name: "doc", StorageID: "1AbCdriveID"}, now)
	must(t, err, "PutUploadedAsset")
	// A tombstone sitting where a moved file lands is cleared out of the way.
	stale, err := s.PutUploadedAsset(ctx, acct, 0, catalog.Asset{FolderID: &dest.ID, Name: "gone", StorageID: "dest/top2/readme.md"}, now)
	must(t, err, "PutUploadedAsset")
	must(t, s.DeleteAsset(ctx, acct, 0, stale.ID, now), "DeleteAsset")

	_, err = s.MoveFolder(ctx, acct, 0, top.ID, &leaf.ID, "top", "", now)
	if err == nil {
		t.Fatal("moving a folder into its own subtree was accepted")
	}
	_, err = s.MoveFolder(ctx, acct, 0, top.ID, &top.ID, "top", "", now)
	if err == nil {
		t.Fatal("moving a folder into itself was accepted")
	}
	_, err = s.MoveFolder(ctx, f.accB.ID, 0, top.ID, nil, "stolen", "stolen", now)
	wantErr(t, err, catalog.ErrNotFound, "MoveFolder across accounts")

	later := now.Add(time.Hour)
	moved, err := s.MoveFolder(ctx, acct, 0, top.ID, &dest.ID, "top2", "dest/top2", later)
	must(t, err, "MoveFolder")
	if moved.Path != "dest/top2" || *moved.ParentID != dest.ID || moved.StorageID != "dest/top2" || moved.Name != "top2" {
		t.Fatalf("moved folder = %+v", moved)
	}
	gotLeaf, err := s.GetFolder(ctx, acct, leaf.ID)
	must(t, err, "GetFolder")
	if gotLeaf.Path != "dest/top2/mid/leaf" || gotLeaf.StorageID != "dest/top2/mid/leaf" {
		t.Fatalf("leaf after move = %+v", gotLeaf)
	}
	for _, a := range inLeaf {
		got, err := s.GetAsset(ctx, acct, a.ID)
		must(t, err, "GetAsset")
		want := "dest/top2/mid/leaf/" + a.Name
		if got.Path != want || got.StorageID != want || !got.UpdatedAt.Equal(later) {
			t.Fatalf("asset after move: path %q id %q, want %q", got.Path, got.StorageID, want)
		}
	}
	got, err := s.GetAsset(ctx, acct, inTop.ID)
	must(t, err, "GetAsset")
	if got.Path != "dest/top2/readme.md" || got.StorageID != "dest/top2/readme.md" {
		t.Fatalf("readme after move = %+v", got)
	}
	got, err = s.GetAsset(ctx, acct, driveStyle.ID)
	must(t, err, "GetAsset")
	if got.Path != "dest/top2/mid/doc" || got.StorageID != "1AbCdriveID" {
		t.Fatalf("Drive-style asset after move: path %q id %q", got.Path, got.StorageID)
	}
	got, err = s.GetAsset(ctx, acct, inSibling.ID)
	must(t, err, "GetAsset")
	if got.Path != "topper/x.md" {
		t.Fatalf("a folder with a shared prefix moved too: %q", got.Path)
	}
	crumbs, err := s.FolderAncestry(ctx, acct, leaf.ID)
	must(t, err, "FolderAncestry")
	if names(crumbs) != "dest,top2,mid,leaf" {
		t.Fatalf("breadcrumbs after move = %s", names(crumbs))
	}
	page, _, err := s.ListAssets(ctx, catalog.AssetQuery{AccountID: acct, FolderID: &dest.ID, Recursive: true, Limit: 1000})
	must(t, err, "ListAssets recursive")
	if len(page) != 32 {
		t.Fatalf("recursive listing of dest after the move = %d assets, want 32", len(page))
	}

	// Renaming in place to the root.
	_, err = s.MoveFolder(ctx, acct, 0, mid.ID, nil, "mid-at-root", "mid-at-root", later)
	must(t, err, "MoveFolder to the root")
	got, err = s.GetAsset(ctx, acct, inLeaf[0].ID)
	must(t, err, "GetAsset")
	if got.Path != "mid-at-root/leaf/f00.bin" {
		t.Fatalf("asset after second move = %q", got.Path)
	}

	// Moving and renaming a single asset.
	a, err := s.MoveAsset(ctx, acct, 0, inTop.ID, &sibling.ID, "README.txt", "topper/README.txt", later)
	must(t, err, "MoveAsset")
	if a.Path != "topper/README.txt" || *a.FolderID != sibling.ID || a.Name != "README.txt" {
		t.Fatalf("MoveAsset = %+v", a)
	}
	_, err = s.MoveAsset(ctx, acct, 0, inTop.ID, &sibling.ID, "x.md", "topper/x.md", later)
	wantErr(t, err, catalog.ErrConflict, "MoveAsset onto a live asset's identity")
	_, err = s.MoveAsset(ctx, acct, 0, inTop.ID, &dest.ID, "bad/name", "", later)
	if err == nil {
		t.Fatal("MoveAsset accepted a name with a slash")
	}
	_, err = s.MoveAsset(ctx, f.accB.ID, 0, inTop.ID, nil, "mine", "mine", later)
	wantErr(t, err, catalog.ErrNotFound, "MoveAsset across accounts")

	// Deleting a folder removes its subtree and tombstones its assets.
	n, err := s.DeleteFolder(ctx, acct, 0, mid.ID, later)
	must(t, err, "DeleteFolder")
	if n != 31 {
		t.Fatalf("DeleteFolder removed %d assets, want 31", n)
	}
	_, err = s.GetFolder(ctx, acct, leaf.ID)
	wantErr(t, err, catalog.ErrNotFound, "a subfolder of a deleted folder")
	_, err = s.GetAsset(ctx, acct, inLeaf[5].ID)
	wantErr(t, err, catalog.ErrNotFound, "an asset of a deleted folder")
	count, err := s.CountAssets(ctx, catalog.AssetQuery{AccountID: acct, Recursive: true})
	must(t, err, "CountAssets")
	if count != 2 {
		t.Fatalf("assets left = %d, want 2 (README.txt, x.md)", count)
	}
	_, err = s.DeleteFolder(ctx, f.accB.ID, 0, dest.ID, later)
	wantErr(t, err, catalog.ErrNotFound, "DeleteFolder across accounts")
}

// testLiveLock: a live batch's lock lasts a moment, so library writes wait
// for it instead of being refused (the 423 of a full sync).
func testLiveLock(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now
	dir := f.mkFolder(t, f.accA.ID, nil, "docs")
	asset := f.mkAsset(t, f.accA.ID, &dir, "a.txt", 1, now, "text/plain")
	for _, write := range []struct {
		name string
		do   func() error
	}{
		{"UpdateAssetMetadata", func() error {
			_, err := s.UpdateAssetMetadata(ctx, f.accA.ID, asset.ID, catalog.MetadataUpdate{Title: ptr("during a live batch")}, now)
			return err
		}},
		{"BeginWriteIntent", func() error {
			id, err := s.BeginWriteIntent(ctx, f.accA.ID, f.adminA.ID, "upload", now, time.Minute)
			if err == nil {
				err = s.EndWriteIntent(ctx, f.accA.ID, id)
			}
			return err
		}},
	} {
		run, err := s.CreateSyncRun(ctx, catalog.SyncRun{AccountID: f.accA.ID, Trigger: catalog.TriggerLive, State: catalog.RunRunning, StartedAt: &now}, now)
		must(t, err, "CreateSyncRun live")
		l, err := s.AcquireLease(ctx, f.accA.ID, run.ID, "node-1"+catalog.LiveHolderSuffix, now, time.Hour)
		must(t, err, "AcquireLease live")
		if !l.Live() {
			t.Fatalf("a live batch's lease: %+v", l)
		}
		released := make(chan time.Time, 1)
		go func() {
			time.Sleep(300 * time.Millisecond)
			_ = s.ReleaseLease(ctx, f.accA.ID, run.ID, l.Holder)
			released <- time.Now()
		}()
		if err := write.do(); err != nil {
			t.Fatalf("%s during a live batch: %v (want it to wait for the batch)", write.name, err)
		}
		select {
		case <-released:
		default:
			t.Fatalf("%s went ahead while the live batch held the library", write.name)
		}
		run.State, run.FinishedAt = catalog.RunSucceeded, &now
		must(t, s.UpdateSyncRun(ctx, run), "finishing the live run")
	}
}
