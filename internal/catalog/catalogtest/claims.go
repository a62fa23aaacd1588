package catalogtest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// testPathClaims: a library write's claimed paths keep every other write
// of those paths (or of a claimed folder's contents) out until the write is
// recorded, ends, or its process dies and its intent expires.
func testPathClaims(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now
	ttl := 10 * time.Minute
	begin := func(acct int64, op string, at time.Time, c catalog.PathClaim) (int64, error) {
		return s.BeginWriteIntentOn(ctx, acct, 0, op, c, at, ttl)
	}
	paths := func(p ...string) catalog.PathClaim { return catalog.PathClaim{Paths: p} }
	trees := func(p ...string) catalog.PathClaim { return catalog.PathClaim{Trees: p} }
	busy := func(err error, path, op, what string) {
		t.Helper()
		var pb *catalog.PathBusyError
		if !errors.As(err, &pb) {
			t.Fatalf("%s: got %v, want *catalog.PathBusyError", what, err)
		}
		if pb.Path != path || pb.Op != op {
			t.Fatalf("%s: busy with %s of %q, want %s of %q", what, pb.Op, pb.Path, op, path)
		}
	}
	openIntents := func(want int64, what string) {
		t.Helper()
		n, err := s.CountOpenWriteIntents(ctx, f.accA.ID, now)
		must(t, err, "CountOpenWriteIntents")
		if n != want {
			t.Fatalf("%s: %d open write intents, want %d", what, n, want)
		}
	}

	upload, err := begin(f.accA.ID, "upload", now, paths("a.txt"))
	must(t, err, "claiming a.txt")
	_, err = begin(f.accA.ID, "upload", now, paths("a.txt"))
	busy(err, "a.txt", "upload", "a second upload of a.txt")
	_, err = begin(f.accA.ID, "move_asset", now, paths("z.txt", "a.txt"))
	busy(err, "a.txt", "upload", "a rename onto a.txt")
	openIntents(1, "after two refused claims")
	_, err = begin(f.accB.ID, "upload", now, paths("a.txt"))
	must(t, err, "another account's a.txt")

	move, err := begin(f.accA.ID, "move_folder", now, trees("photos", "archive/photos"))
	must(t, err, "claiming two folders")
	for _, p := range []string{"photos", "photos/x.jpg", "photos/deep/y.jpg", "archive/photos/z.jpg", "archive"} {
		want := "photos"
		if p != "photos" && p[0] == 'a' {
			want = "archive/photos"
		}
		if p == "archive" {
			_, err = begin(f.accA.ID, "delete_folder", now, trees(p))
		} else {
			_, err = begin(f.accA.ID, "upload", now, paths(p))
		}
		busy(err, want, "move_folder", fmt.Sprintf("a write of %s while its folder moves", p))
	}
	for _, p := range []string{"photos2/x.jpg", "photo", "photos.txt", "archive/other.txt"} {
		id, err := begin(f.accA.ID, "upload", now, paths(p))
		must(t, err, "claiming %s next to a moving folder", p)
		must(t, s.EndWriteIntent(ctx, f.accA.ID, id), "EndWriteIntent")
	}

	// Ending the write frees its paths.
	must(t, s.EndWriteIntent(ctx, f.accA.ID, move), "EndWriteIntent")
	id, err := begin(f.accA.ID, "upload", now, paths("photos/x.jpg"))
	must(t, err, "claiming photos/x.jpg after the folder move ended")
	must(t, s.EndWriteIntent(ctx, f.accA.ID, id), "EndWriteIntent")

	// The catalog commit that records the write frees them too: the claim
	// became the row.
	_, err = s.PutUploadedAsset(ctx, f.accA.ID, upload, catalog.Asset{Name: "a.txt", StorageID: "a.txt", Size: 1, ETag: "e"}, now)
	must(t, err, "PutUploadedAsset")
	id, err = begin(f.accA.ID, "upload", now, paths("a.txt"))
	must(t, err, "claiming a.txt once its upload is recorded")
	must(t, s.EndWriteIntent(ctx, f.accA.ID, id), "EndWriteIntent")

	// A process that dies holds its claim only until its intent expires.
	_, err = s.BeginWriteIntentOn(ctx, f.accA.ID, 0, "upload", paths("dead.txt"), now, time.Second)
	must(t, err, "claiming dead.txt")
	_, err = begin(f.accA.ID, "upload", now, paths("dead.txt"))
	busy(err, "dead.txt", "upload", "dead.txt before the dead writer's intent expired")
	id, err = begin(f.accA.ID, "upload", now.Add(2*time.Second), paths("dead.txt"))
	must(t, err, "claiming dead.txt after the dead writer's intent expired")
	must(t, s.EndWriteIntent(ctx, f.accA.ID, id), "EndWriteIntent")

	// While a sync holds the library nothing is claimed.
	run, err := s.CreateSyncRun(ctx, catalog.SyncRun{AccountID: f.accA.ID, Trigger: catalog.TriggerManual}, now)
	must(t, err, "CreateSyncRun")
	_, err = s.AcquireLease(ctx, f.accA.ID, run.ID, "worker", now, ttl)
	must(t, err, "AcquireLease")
	_, err = begin(f.accA.ID, "upload", now, paths("locked.txt"))
	wantLocked(t, err, run.ID, "claiming while a sync holds the library")
	must(t, s.ReleaseLease(ctx, f.accA.ID, run.ID, "worker"), "ReleaseLease")
	id, err = begin(f.accA.ID, "upload", now, paths("locked.txt"))
	must(t, err, "claiming locked.txt after the sync (the refused claim left nothing)")
	must(t, s.EndWriteIntent(ctx, f.accA.ID, id), "EndWriteIntent")

	// Claims racing for one path from many connections: exactly one wins.
	const racers = 16
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  int
		errs []error
	)
	for range racers {
		wg.Go(func() {
			_, err := begin(f.accA.ID, "upload", now, paths("race.txt"))
			mu.Lock()
			defer mu.Unlock()
			var pb *catalog.PathBusyError
			switch {
			case err == nil:
				won++
			case !errors.As(err, &pb):
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 || won != 1 {
		t.Fatalf("%d of %d racing claims of one path won (other errors: %v); want exactly 1", won, racers, errs)
	}
}
