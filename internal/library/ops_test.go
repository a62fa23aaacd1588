package library_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/library"
	"github.com/shelf-dam/shelf/internal/notify"
)

var seedTree = []string{"photos/", "photos/a.jpg", "photos/2024/", "photos/2024/b.jpg", "docs/", "docs/readme.txt", "top.txt"}

// runOpsSuite checks every library operation against one catalog database
// and one storage backend: the change lands in the storage and in the
// catalog, and the next sync finds nothing to do.
func runOpsSuite(t *testing.T, db database, be backend) {
	setup := func(t *testing.T) *fixture {
		t.Parallel()
		f := newFixture(t, db, be)
		f.seed(seedTree...)
		return f
	}

	t.Run("UploadIntoFolder", func(t *testing.T) {
		f := setup(t)
		r, n := body("fresh pixels")
		a, err := f.svc.Upload(f.ctx, f.acct.ID, f.user.ID, f.folderID("photos/2024"), "new.jpg", r, n, "image/jpeg")
		if err != nil {
			t.Fatal(err)
		}
		if a.Path != "photos/2024/new.jpg" || a.Size != n || a.PreviewState != "pending" {
			t.Errorf("uploaded asset = %+v", a)
		}
		if got := f.content("photos/2024/new.jpg"); got != "fresh pixels" {
			t.Errorf("storage holds %q", got)
		}
		if q := f.thumbsQueued(); !slices.Contains(q, a.ID) {
			t.Errorf("no preview queued for the upload (queued %v)", q)
		}
		if ev := f.eventTypes(); !slices.Contains(ev, notify.AssetCreated) {
			t.Errorf("events %v, want asset.created", ev)
		}
		f.noDiff()
		if again := f.asset("photos/2024/new.jpg"); again.ID != a.ID {
			t.Errorf("the sync replaced the uploaded asset %d by %d", a.ID, again.ID)
		}
	})

	t.Run("UploadIntoRoot", func(t *testing.T) {
		f := setup(t)
		r, n := body("root file")
		a, err := f.svc.Upload(f.ctx, f.acct.ID, f.user.ID, nil, "at root.txt", r, n, "text/plain")
		if err != nil {
			t.Fatal(err)
		}
		if a.Path != "at root.txt" || a.FolderID != nil {
			t.Errorf("uploaded asset = %+v", a)
		}
		f.noDiff()
	})

	t.Run("UploadNameCollisionIsRefused", func(t *testing.T) {
		f := setup(t)
		r, n := body("would overwrite")
		_, err := f.svc.Upload(f.ctx, f.acct.ID, f.user.ID, f.folderID("photos"), "a.jpg", r, n, "")
		wantKind(t, err, library.ErrConflict, "upload over an existing file")
		if got := f.content("photos/a.jpg"); got != "content of photos/a.jpg" {
			t.Errorf("the existing file was changed to %q", got)
		}
		// A name taken by a folder is refused too.
		r, n = body("x")
		_, err = f.svc.Upload(f.ctx, f.acct.ID, f.user.ID, f.folderID("photos"), "2024", r, n, "")
		wantKind(t, err, library.ErrConflict, "upload over an existing folder")
		f.noDiff()
	})

	t.Run("InvalidNamesAreRefused", func(t *testing.T) {
		f := setup(t)
		before := f.storageTree()
		for _, name := range []string{"", "a/b.jpg", "..", ".", "bad\x00name", "new\nline", "back\\slash", " padded "} {
			r, n := body("x")
			_, err := f.svc.Upload(f.ctx, f.acct.ID, f.user.ID, nil, name, r, n, "")
			wantKind(t, err, library.ErrInvalid, "upload named "+name)
			_, err = f.svc.CreateFolder(f.ctx, f.acct.ID, f.user.ID, nil, name)
			wantKind(t, err, library.ErrInvalid, "folder named "+name)
		}
		a := f.asset("top.txt")
		_, err := f.svc.EditAsset(f.ctx, f.acct.ID, f.user.ID, a.ID, library.AssetEdit{Name: ptr("x/y")})
		wantKind(t, err, library.ErrInvalid, "rename to a path")
		if after := f.storageTree(); !slices.Equal(before, after) {
			t.Errorf("storage changed: %s → %s", fmtTree(before), fmtTree(after))
		}
	})

	t.Run("RenameAssetKeepsIdentityAndMetadata", func(t *testing.T) {
		f := setup(t)
		a := f.asset("photos/a.jpg")
		title := "Sunset"
		if _, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, a.ID, catalog.MetadataUpdate{Title: &title, Tags: &[]string{"Beach"}}); err != nil {
			t.Fatal(err)
		}
		out, err := f.svc.EditAsset(f.ctx, f.acct.ID, f.user.ID, a.ID, library.AssetEdit{Name: ptr("sunset.jpg")})
		if err != nil {
			t.Fatal(err)
		}
		if out.ID != a.ID || out.Path != "photos/sunset.jpg" || out.Title != "Sunset" || !slices.Equal(out.Tags, []string{"beach"}) {
			t.Errorf("renamed asset = %+v", out)
		}
		if f.inStorage("photos/a.jpg") || f.content("photos/sunset.jpg") != "content of photos/a.jpg" {
			t.Error("the storage was not renamed")
		}
		if ev := f.eventTypes(); !slices.Contains(ev, notify.AssetMoved) {
			t.Errorf("events %v, want asset.moved", ev)
		}
		f.noDiff()
		if got := f.asset("photos/sunset.jpg"); got.ID != a.ID || got.Title != "Sunset" {
			t.Errorf("after the sync the asset is %+v; the rename lost its identity or metadata", got)
		}
	})

	t.Run("MoveAssetToFolderAndRoot", func(t *testing.T) {
		f := setup(t)
		a := f.asset("top.txt")
		out, err := f.svc.EditAsset(f.ctx, f.acct.ID, f.user.ID, a.ID, library.AssetEdit{Move: true, FolderID: f.folderID("photos/2024")})
		if err != nil {
			t.Fatal(err)
		}
		if out.Path != "photos/2024/top.txt" || out.FolderID == nil || *out.FolderID != *f.folderID("photos/2024") {
			t.Errorf("moved asset = %+v", out)
		}
		f.noDiff()
		out, err = f.svc.EditAsset(f.ctx, f.acct.ID, f.user.ID, a.ID, library.AssetEdit{Move: true})
		if err != nil {
			t.Fatal(err)
		}
		if out.Path != "top.txt" || out.FolderID != nil || !f.inStorage("top.txt") {
			t.Errorf("moved back = %+v", out)
		}
		f.noDiff()
	})

	t.Run("MoveAssetOntoTakenNameIsRefused", func(t *testing.T) {
		f := setup(t)
		r, n := body("other")
		if _, err := f.svc.Upload(f.ctx, f.acct.ID, f.user.ID, f.folderID("docs"), "top.txt", r, n, ""); err != nil {
			t.Fatal(err)
		}
		a := f.asset("top.txt")
		_, err := f.svc.EditAsset(f.ctx, f.acct.ID, f.user.ID, a.ID, library.AssetEdit{Move: true, FolderID: f.folderID("docs")})
		wantKind(t, err, library.ErrConflict, "move onto a taken name")
		if f.content("docs/top.txt") != "other" || !f.inStorage("top.txt") {
			t.Error("the refused move changed the storage")
		}
		f.noDiff()
	})

	t.Run("DeleteAsset", func(t *testing.T) {
		f := setup(t)
		a := f.asset("docs/readme.txt")
		if err := f.svc.DeleteAsset(f.ctx, f.acct.ID, f.user.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if f.inStorage("docs/readme.txt") {
			t.Error("the file is still in the storage")
		}
		if _, ok := f.findAsset("docs/readme.txt"); ok {
			t.Error("the asset is still in the library")
		}
		if q := f.thumbsQueued(); !slices.Contains(q, a.ID) {
			t.Errorf("no preview job queued to clear the deleted asset's derived files (queued %v)", q)
		}
		err := f.svc.DeleteAsset(f.ctx, f.acct.ID, f.user.ID, a.ID)
		wantKind(t, err, library.ErrNotFound, "deleting twice")
		f.noDiff()
	})

	t.Run("CreateFolders", func(t *testing.T) {
		f := setup(t)
		top, err := f.svc.CreateFolder(f.ctx, f.acct.ID, f.user.ID, nil, "Projects")
		if err != nil {
			t.Fatal(err)
		}
		sub, err := f.svc.CreateFolder(f.ctx, f.acct.ID, f.user.ID, &top.ID, "Client A")
		if err != nil {
			t.Fatal(err)
		}
		if sub.Path != "Projects/Client A" || sub.ParentID == nil || *sub.ParentID != top.ID {
			t.Errorf("sub folder = %+v", sub)
		}
		if !f.inStorage("Projects/Client A") {
			t.Error("the folder is not in the storage")
		}
		_, err = f.svc.CreateFolder(f.ctx, f.acct.ID, f.user.ID, &top.ID, "Client A")
		wantKind(t, err, library.ErrConflict, "creating a folder twice")
		_, err = f.svc.CreateFolder(f.ctx, f.acct.ID, f.user.ID, nil, "top.txt")
		wantKind(t, err, library.ErrConflict, "a folder over a file")
		f.noDiff()
		// Something uploaded into the new, still empty folder.
		r, n := body("brief")
		if _, err := f.svc.Upload(f.ctx, f.acct.ID, f.user.ID, &sub.ID, "brief.txt", r, n, ""); err != nil {
			t.Fatal(err)
		}
		f.noDiff()
	})

	t.Run("RenameFolderRewritesSubtree", func(t *testing.T) {
		f := setup(t)
		b := f.asset("photos/2024/b.jpg")
		out, err := f.svc.EditFolder(f.ctx, f.acct.ID, f.user.ID, f.folder("photos").ID, library.FolderEdit{Name: ptr("Pictures")})
		if err != nil {
			t.Fatal(err)
		}
		if out.Path != "Pictures" {
			t.Errorf("renamed folder = %+v", out)
		}
		if got := f.asset("Pictures/2024/b.jpg"); got.ID != b.ID {
			t.Errorf("the asset inside changed identity: %d → %d", b.ID, got.ID)
		}
		if f.inStorage("photos") || f.content("Pictures/2024/b.jpg") != "content of photos/2024/b.jpg" {
			t.Error("the storage was not renamed")
		}
		f.noDiff()
		if got := f.asset("Pictures/2024/b.jpg"); got.ID != b.ID {
			t.Errorf("after the sync the asset is %d, want %d", got.ID, b.ID)
		}
	})

	t.Run("MoveFolder", func(t *testing.T) {
		f := setup(t)
		out, err := f.svc.EditFolder(f.ctx, f.acct.ID, f.user.ID, f.folder("docs").ID, library.FolderEdit{Move: true, ParentID: f.folderID("photos/2024")})
		if err != nil {
			t.Fatal(err)
		}
		if out.Path != "photos/2024/docs" || !f.inStorage("photos/2024/docs/readme.txt") {
			t.Errorf("moved folder = %+v", out)
		}
		_, err = f.svc.EditFolder(f.ctx, f.acct.ID, f.user.ID, f.folder("photos").ID, library.FolderEdit{Move: true, ParentID: f.folderID("photos/2024/docs")})
		wantKind(t, err, library.ErrInvalid, "moving a folder into its own subtree")
		f.noDiff()
		if got, want := f.catalogTree(), f.storageTree(); !slices.Equal(got, want) {
			t.Errorf("catalog %s, storage %s", fmtTree(got), fmtTree(want))
		}
	})

	t.Run("DeleteFolderTombstonesItsAssets", func(t *testing.T) {
		f := setup(t)
		n, err := f.svc.DeleteFolder(f.ctx, f.acct.ID, f.user.ID, f.folder("photos").ID)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("removed %d assets, want 2", n)
		}
		if f.inStorage("photos") {
			t.Error("the folder is still in the storage")
		}
		if got := f.catalogTree(); !slices.Equal(got, []string{"docs/", "docs/readme.txt", "top.txt"}) {
			t.Errorf("catalog = %s", fmtTree(got))
		}
		f.noDiff()
	})

	t.Run("EditAssetRefusedChangesNothing", func(t *testing.T) {
		f := setup(t)
		a := f.asset("photos/a.jpg")
		storageBefore, catalogBefore := f.storageTree(), f.catalogTree()
		title, missing, bad := "After", int64(987654), 9
		for _, tc := range []struct {
			what string
			edit library.AssetEdit
			kind error
		}{
			{"a title with a name holding a slash", library.AssetEdit{Meta: &catalog.MetadataUpdate{Title: &title}, Name: ptr("../z.jpg")}, library.ErrInvalid},
			{"a title with an unknown folder", library.AssetEdit{Meta: &catalog.MetadataUpdate{Title: &title}, Move: true, FolderID: &missing}, library.ErrNotFound},
			{"a title with a taken name", library.AssetEdit{Meta: &catalog.MetadataUpdate{Title: &title}, Name: ptr("readme.txt"), Move: true, FolderID: f.folderID("docs")}, library.ErrConflict},
			{"a rating out of range with a move", library.AssetEdit{Meta: &catalog.MetadataUpdate{Rating: &bad}, Move: true, FolderID: nil}, library.ErrInvalid},
		} {
			_, err := f.svc.EditAsset(f.ctx, f.acct.ID, f.user.ID, a.ID, tc.edit)
			wantKind(t, err, tc.kind, tc.what)
		}
		if got := f.asset("photos/a.jpg"); got.Title != "" {
			t.Errorf("a refused edit set the title: %+v", got)
		}
		if after := f.storageTree(); !slices.Equal(after, storageBefore) {
			t.Errorf("a refused edit changed the storage: %s → %s", fmtTree(storageBefore), fmtTree(after))
		}
		if after := f.catalogTree(); !slices.Equal(after, catalogBefore) {
			t.Errorf("a refused edit changed the catalog: %s → %s", fmtTree(catalogBefore), fmtTree(after))
		}
		_, err := f.svc.EditAsset(f.ctx, f.acct.ID, f.user.ID, missing, library.AssetEdit{Name: ptr("x.jpg")})
		wantKind(t, err, library.ErrNotFound, "editing an unknown asset")
	})

	t.Run("EditAssetRenamesMovesAndRetitlesAtOnce", func(t *testing.T) {
		f := setup(t)
		a := f.asset("photos/a.jpg")
		title := "Hero"
		out, err := f.svc.EditAsset(f.ctx, f.acct.ID, f.user.ID, a.ID, library.AssetEdit{
			Meta: &catalog.MetadataUpdate{Title: &title}, Name: ptr(" hero.jpg "), Move: true, FolderID: f.folderID("docs")})
		if err != nil {
			t.Fatal(err)
		}
		if out.ID != a.ID || out.Path != "docs/hero.jpg" || out.Title != "Hero" {
			t.Errorf("edited asset = %+v", out)
		}
		if f.inStorage("photos/a.jpg") || !f.inStorage("docs/hero.jpg") {
			t.Error("the storage was not moved")
		}
		if ev := f.eventTypes(); !slices.Contains(ev, notify.AssetMoved) || !slices.Contains(ev, notify.AssetUpdated) {
			t.Errorf("events %v, want asset.moved and asset.updated", ev)
		}
		// Without Move the asset stays in its folder; an edit of nothing
		// changes nothing.
		out, err = f.svc.EditAsset(f.ctx, f.acct.ID, f.user.ID, a.ID, library.AssetEdit{Name: ptr("hero-2.jpg")})
		if err != nil || out.Path != "docs/hero-2.jpg" {
			t.Fatalf("rename in place: %+v %v", out, err)
		}
		if out, err = f.svc.EditAsset(f.ctx, f.acct.ID, f.user.ID, a.ID, library.AssetEdit{}); err != nil || out.Path != "docs/hero-2.jpg" {
			t.Fatalf("empty edit: %+v %v", out, err)
		}
		f.noDiff()
	})

	t.Run("EditFolder", func(t *testing.T) {
		f := setup(t)
		photos := f.folder("photos")
		_, err := f.svc.EditFolder(f.ctx, f.acct.ID, f.user.ID, photos.ID, library.FolderEdit{Name: ptr("renamed"), Move: true, ParentID: f.folderID("photos/2024")})
		wantKind(t, err, library.ErrInvalid, "renamed and moved into itself")
		if !f.inStorage("photos/a.jpg") || f.folder("photos").ID != photos.ID {
			t.Fatal("a refused folder edit changed something")
		}
		out, err := f.svc.EditFolder(f.ctx, f.acct.ID, f.user.ID, photos.ID, library.FolderEdit{Name: ptr("Pictures"), Move: true, ParentID: f.folderID("docs")})
		if err != nil || out.Path != "docs/Pictures" || !f.inStorage("docs/Pictures/2024/b.jpg") {
			t.Fatalf("rename and move: %+v %v", out, err)
		}
		out, err = f.svc.EditFolder(f.ctx, f.acct.ID, f.user.ID, photos.ID, library.FolderEdit{Move: true})
		if err != nil || out.Path != "Pictures" {
			t.Fatalf("move to the top level: %+v %v", out, err)
		}
		f.noDiff()
	})

	t.Run("UpdateMeta", func(t *testing.T) {
		f := setup(t)
		a := f.asset("top.txt")
		title, rating := "Top", 4
		out, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, a.ID, catalog.MetadataUpdate{Title: &title, Rating: &rating,
			Custom: map[string]string{"client": "ACME"}})
		if err != nil {
			t.Fatal(err)
		}
		if out.Title != "Top" || out.Rating != 4 || out.Custom["client"] != "ACME" {
			t.Errorf("updated = %+v", out)
		}
		bad := 9
		_, err = f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, a.ID, catalog.MetadataUpdate{Rating: &bad})
		wantKind(t, err, library.ErrInvalid, "rating 9")
		f.noDiff()
		if got := f.asset("top.txt"); got.Title != "Top" {
			t.Error("the sync dropped the metadata")
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		f := setup(t)
		missing := int64(987654)
		_, err := f.svc.EditAsset(f.ctx, f.acct.ID, f.user.ID, missing, library.AssetEdit{Name: ptr("x")})
		wantKind(t, err, library.ErrNotFound, "rename of an unknown asset")
		r, n := body("x")
		_, err = f.svc.Upload(f.ctx, f.acct.ID, f.user.ID, &missing, "x.txt", r, n, "")
		wantKind(t, err, library.ErrNotFound, "upload into an unknown folder")
		_, err = f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, missing, catalog.MetadataUpdate{})
		wantKind(t, err, library.ErrNotFound, "metadata of an unknown asset")
		_, err = f.svc.DeleteFolder(f.ctx, f.acct.ID, f.user.ID, missing)
		wantKind(t, err, library.ErrNotFound, "delete of an unknown folder")
		// Another account's asset is not found either.
		other, _, err := f.store.CreateAccountWithAdmin(f.ctx, catalog.NewAccount{Name: "Other"},
			catalog.NewUser{Email: "other-" + f.user.Email, PasswordHash: "x", Role: catalog.RoleAdmin}, f.acct.CreatedAt)
		if err != nil {
			t.Fatal(err)
		}
		a := f.asset("top.txt")
		err = f.svc.DeleteAsset(f.ctx, other.ID, f.user.ID, a.ID)
		wantKind(t, err, library.ErrNotFound, "delete through another account")
		if !f.inStorage("top.txt") {
			t.Fatal("another account deleted the file")
		}
	})
}

func TestOpsLocalSQLite(t *testing.T) {
	t.Parallel()
	runOpsSuite(t, sqliteDB, localBackend)
}

func TestOpsLocalPostgres(t *testing.T) {
	t.Parallel()
	runOpsSuite(t, postgresDB, localBackend)
}

func TestOpsS3FakeSQLite(t *testing.T) {
	t.Parallel()
	runOpsSuite(t, sqliteDB, s3FakeBackend)
}

func TestOpsDriveFakeSQLite(t *testing.T) {
	t.Parallel()
	runOpsSuite(t, sqliteDB, driveFakeBackend)
}

func TestOpsVersitygwSQLite(t *testing.T) {
	t.Parallel()
	runOpsSuite(t, sqliteDB, versitygwBackend)
}

// TestConcurrentUploadsOfOneName: of several uploads racing for one name,
// exactly one lands; the others are told the name is taken, and nothing is
// overwritten.
func TestConcurrentUploadsOfOneName(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sqliteDB, localBackend)
	f.seed("docs/", "docs/readme.txt")
	const n = 8
	errs := make(chan error, n)
	winners := make(chan string, n)
	for i := range n {
		go func() {
			content := fmt.Sprintf("version %d", i)
			r, size := body(content)
			_, err := f.svc.Upload(f.ctx, f.acct.ID, f.user.ID, f.folderID("docs"), "same.txt", r, size, "")
			if err == nil {
				winners <- content
			}
			errs <- err
		}()
	}
	conflicts := 0
	for range n {
		err := <-errs
		switch {
		case err == nil:
		case errors.Is(err, library.ErrConflict):
			conflicts++
		default:
			t.Errorf("upload: %v", err)
		}
	}
	close(winners)
	var won []string
	for w := range winners {
		won = append(won, w)
	}
	if len(won) != 1 || conflicts != n-1 {
		t.Fatalf("%d uploads landed and %d were refused; want 1 and %d", len(won), conflicts, n-1)
	}
	if got := f.content("docs/same.txt"); got != won[0] {
		t.Errorf("storage holds %q, but the upload that landed wrote %q", got, won[0])
	}
	f.noDiff()
}
