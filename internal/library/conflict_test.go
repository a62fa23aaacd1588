package library_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/library"
	"github.com/shelf-dam/shelf/internal/notify"
)

// runConflictSuite checks every conflict mode of an upload against one
// catalog database and one storage backend.
func runConflictSuite(t *testing.T, db database, be backend) {
	setup := func(t *testing.T) *fixture {
		t.Parallel()
		f := newFixture(t, db, be)
		f.seed(seedTree...)
		return f
	}
	upload := func(f *fixture, name, content string, mode library.OnConflict) (library.UploadResult, error) {
		r, n := body(content)
		return f.svc.UploadAs(f.ctx, f.acct.ID, f.user.ID, f.folderID("photos"), name, r, n, "image/jpeg", mode)
	}

	t.Run("FailIsTheDefault", func(t *testing.T) {
		f := setup(t)
		_, err := upload(f, "a.jpg", "new", library.ConflictFail)
		wantKind(t, err, library.ErrConflict, "upload over a.jpg")
		if !library.IsNameTaken(err) {
			t.Errorf("IsNameTaken(%v) = false, want true", err)
		}
		if got := f.content("photos/a.jpg"); got == "new" {
			t.Error("the existing file was replaced")
		}
	})

	t.Run("ReplaceKeepsIdentityAndMetadata", func(t *testing.T) {
		f := setup(t)
		before := f.asset("photos/a.jpg")
		title := "Cover photo"
		if _, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, before.ID, catalog.MetadataUpdate{Title: &title, Tags: &[]string{"cover"}}); err != nil {
			t.Fatal(err)
		}
		res, err := upload(f, "a.jpg", "replaced pixels", library.ConflictReplace)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != library.OutcomeReplaced || res.Asset.ID != before.ID {
			t.Fatalf("outcome %q, asset %d; want replaced, asset %d", res.Outcome, res.Asset.ID, before.ID)
		}
		if got := f.content("photos/a.jpg"); got != "replaced pixels" {
			t.Errorf("storage holds %q", got)
		}
		after := f.asset("photos/a.jpg")
		if after.ID != before.ID || after.Title != title || !slices.Equal(after.Tags, []string{"cover"}) {
			t.Errorf("after replace: id %d title %q tags %v; want id %d, the metadata kept", after.ID, after.Title, after.Tags, before.ID)
		}
		if after.Size != int64(len("replaced pixels")) || after.PreviewState != "pending" {
			t.Errorf("after replace: size %d, preview %q; want the new size and a new preview", after.Size, after.PreviewState)
		}
		if !slices.Contains(f.thumbsQueued(), before.ID) {
			t.Error("no preview queued for the replaced file")
		}
		if ev := f.eventTypes(); !slices.Contains(ev, notify.AssetUpdated) || slices.Contains(ev, notify.AssetCreated) {
			t.Errorf("events %v, want asset.updated and no asset.created", ev)
		}
		f.noDiff()
		if again := f.asset("photos/a.jpg"); again.ID != before.ID || again.Title != title {
			t.Errorf("after a sync: id %d title %q", again.ID, again.Title)
		}
	})

	t.Run("ReplaceWithoutConflictCreates", func(t *testing.T) {
		f := setup(t)
		res, err := upload(f, "fresh.jpg", "x", library.ConflictReplace)
		if err != nil || res.Outcome != library.OutcomeCreated || res.Asset.Path != "photos/fresh.jpg" {
			t.Fatalf("got %+v, %v; want created photos/fresh.jpg", res, err)
		}
	})

	t.Run("ReplaceNeverReplacesAFolder", func(t *testing.T) {
		f := setup(t)
		_, err := upload(f, "2024", "x", library.ConflictReplace)
		wantKind(t, err, library.ErrConflict, "replace of folder 2024")
		if got := f.storageTree(); !slices.Contains(got, "photos/2024/") {
			t.Errorf("storage %v lost the folder", got)
		}
	})

	t.Run("KeepBothTakesTheNextFreeNumber", func(t *testing.T) {
		f := setup(t)
		want := []string{"a (2).jpg", "a (3).jpg"}
		for i, name := range want {
			res, err := upload(f, "a.jpg", "copy "+name, library.ConflictKeepBoth)
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != library.OutcomeRenamed || res.Asset.Name != want[i] {
				t.Fatalf("upload %d: outcome %q name %q; want renamed %q", i, res.Outcome, res.Asset.Name, want[i])
			}
		}
		// A name that already carries a number continues from it.
		res, err := upload(f, "a (2).jpg", "another", library.ConflictKeepBoth)
		if err != nil || res.Asset.Name != "a (4).jpg" {
			t.Fatalf("got %q, %v; want a (4).jpg", res.Asset.Name, err)
		}
		if got := f.content("photos/a.jpg"); got == "another" || got == "copy a (2).jpg" {
			t.Errorf("the original was changed: %q", got)
		}
		if got := f.content("photos/a (3).jpg"); got != "copy a (3).jpg" {
			t.Errorf("a (3).jpg holds %q", got)
		}
		res, err = upload(f, "free.jpg", "x", library.ConflictKeepBoth)
		if err != nil || res.Outcome != library.OutcomeCreated || res.Asset.Name != "free.jpg" {
			t.Errorf("without a conflict: %+v, %v; want created free.jpg", res, err)
		}
		f.noDiff()
	})

	// Regression: keep both tried 200 numbers on any conflict, also one
	// that is not about the name (a change of the whole folder).
	t.Run("KeepBothNumbersOnlyForTheName", func(t *testing.T) {
		f := setup(t)
		// Another upload claims the next name: the one after it.
		claim, err := f.store.BeginWriteIntentOn(f.ctx, f.acct.ID, f.user.ID, "upload",
			catalog.PathClaim{Paths: []string{"photos/a (2).jpg"}}, time.Now(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		res, err := upload(f, "a.jpg", "copy", library.ConflictKeepBoth)
		if err != nil || res.Asset.Name != "a (3).jpg" {
			t.Fatalf("got %q, %v; want a (3).jpg past the claimed a (2).jpg", res.Asset.Name, err)
		}
		if err := f.store.EndWriteIntent(f.ctx, f.acct.ID, claim); err != nil {
			t.Fatal(err)
		}
		// A change of the whole folder: refused at once, not as a name.
		claim, err = f.store.BeginWriteIntentOn(f.ctx, f.acct.ID, f.user.ID, "move_folder",
			catalog.PathClaim{Trees: []string{"photos"}}, time.Now(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		defer f.store.EndWriteIntent(f.ctx, f.acct.ID, claim)
		_, err = upload(f, "a.jpg", "while the folder moves", library.ConflictKeepBoth)
		wantKind(t, err, library.ErrConflict, "keep both while the folder is claimed")
		if library.IsNameTaken(err) || !strings.Contains(err.Error(), "in progress") {
			t.Errorf("keep both while the folder is claimed: %v; want the claim's conflict, not a taken name", err)
		}
	})

	// Regression: a name that carries a number, stored under that very
	// name, was reported renamed.
	t.Run("KeepBothOwnNumberedNameIsCreated", func(t *testing.T) {
		f := setup(t)
		res, err := upload(f, "photo (3).jpg", "x", library.ConflictKeepBoth)
		if err != nil || res.Outcome != library.OutcomeCreated || res.Asset.Name != "photo (3).jpg" {
			t.Fatalf("got %q %q, %v; want created photo (3).jpg", res.Outcome, res.Asset.Name, err)
		}
		res, err = upload(f, "photo (3).jpg", "y", library.ConflictKeepBoth)
		if err != nil || res.Outcome != library.OutcomeRenamed || res.Asset.Name != "photo (4).jpg" {
			t.Fatalf("got %q %q, %v; want renamed photo (4).jpg", res.Outcome, res.Asset.Name, err)
		}
	})

	t.Run("SkipStoresNothing", func(t *testing.T) {
		f := setup(t)
		existing := f.asset("photos/a.jpg")
		queued, events := len(f.thumbsQueued()), len(f.eventTypes())
		res, err := upload(f, "a.jpg", "never stored", library.ConflictSkip)
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != library.OutcomeSkipped || res.Asset.ID != existing.ID {
			t.Errorf("outcome %q asset %d; want skipped, the existing asset %d", res.Outcome, res.Asset.ID, existing.ID)
		}
		if got := f.content("photos/a.jpg"); got == "never stored" {
			t.Error("a skipped upload replaced the file")
		}
		if len(f.thumbsQueued()) != queued || len(f.eventTypes()) != events {
			t.Error("a skipped upload queued a preview or published an event")
		}
	})

	t.Run("LockedLibraryRefusesEveryMode", func(t *testing.T) {
		f := setup(t)
		run, lease := f.lock()
		defer f.unlock(run, lease)
		for _, mode := range []library.OnConflict{library.ConflictReplace, library.ConflictKeepBoth, library.ConflictSkip} {
			_, err := upload(f, "a.jpg", "while locked", mode)
			wantKind(t, err, library.ErrLocked, string(mode)+" while a sync runs")
			if id, ok := library.RunID(err); !ok || id != run.ID {
				t.Errorf("%s: run id %d, %v; want %d", mode, id, ok, run.ID)
			}
		}
		if got := f.content("photos/a.jpg"); got == "while locked" {
			t.Error("a locked library was written")
		}
	})
}

func TestParseOnConflict(t *testing.T) {
	for in, want := range map[string]library.OnConflict{"": library.ConflictFail, "fail": library.ConflictFail,
		"replace": library.ConflictReplace, "keep_both": library.ConflictKeepBoth, "skip": library.ConflictSkip} {
		if got, err := library.ParseOnConflict(in); err != nil || got != want {
			t.Errorf("ParseOnConflict(%q) = %q, %v", in, got, err)
		}
	}
	_, err := library.ParseOnConflict("overwrite")
	if !errors.Is(err, library.ErrInvalid) {
		t.Errorf("ParseOnConflict(overwrite) = %v, want ErrInvalid", err)
	}
}

// TestUploadConflicts runs the conflict suite on every storage (versitygw
// and PostgreSQL only in scripts/test-all).
func TestUploadConflicts(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		db database
		be backend
	}{{sqliteDB, localBackend}, {sqliteDB, s3FakeBackend}, {sqliteDB, driveFakeBackend}, {postgresDB, localBackend}, {sqliteDB, versitygwBackend}} {
		t.Run(c.be.name+c.db.name, func(t *testing.T) {
			t.Parallel()
			runConflictSuite(t, c.db, c.be)
		})
	}
}
