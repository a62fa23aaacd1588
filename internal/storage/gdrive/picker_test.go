package gdrive_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

func TestListFolders(t *testing.T) {
	t.Parallel()
	for _, broken := range []bool{false, true} {
		fake := drivefake.New(t, drivefake.Options{BrokenORParents: broken})
		photos := fake.CreateFolder("root", "Photos")
		fake.CreateFolder(photos, "2025")
		fake.CreateFolder("root", "archive")
		fake.CreateFile("root", "notes.txt", "text/plain", nil)
		team := fake.CreateSharedDrive("Team")
		fake.CreateFolder(team, "Brand")
		binned := fake.CreateFolder("root", "Binned")
		must(t, fake.Trash(binned))
		conn := connect(t, fake, "", nil)
		ctx := context.Background()

		top, err := conn.ListFolders(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		// With Drive's OR bug the batch cannot be told from one without
		// subfolders: every folder may have children.
		want := []gdrive.Folder{
			{ID: "", Name: "archive", HasChildren: broken},
			{ID: photos, Name: "Photos", HasChildren: true},
			{ID: team, Name: "Team", HasChildren: true, SharedDrive: true},
		}
		if len(top) != len(want) {
			t.Fatalf("broken=%v: ListFolders(\"\") = %+v, want %d folders", broken, top, len(want))
		}
		for i, w := range want {
			g := top[i]
			if g.Name != w.Name || g.HasChildren != w.HasChildren || g.SharedDrive != w.SharedDrive || (w.ID != "" && g.ID != w.ID) {
				t.Errorf("broken=%v: folder %d = %+v, want %+v", broken, i, g, w)
			}
		}
		sub, err := conn.ListFolders(ctx, photos)
		if err != nil || len(sub) != 1 || sub[0].Name != "2025" || sub[0].HasChildren {
			t.Errorf("broken=%v: ListFolders(Photos) = %+v, %v; want [2025] without children", broken, sub, err)
		}
	}
}

func TestValidateRootAndProbeWrite(t *testing.T) {
	t.Parallel()
	fake := drivefake.New(t, drivefake.Options{})
	ctx := context.Background()
	conn := connect(t, fake, "", nil)

	good := fake.CreateFolder("root", "Good")
	file := fake.CreateFile("root", "file.jpg", "image/jpeg", []byte("x"))
	hidden := fake.CreateFolder("root", "Hidden")
	must(t, fake.SetAccess(hidden, drivefake.AccessNone))
	binned := fake.CreateFolder("root", "Binned")
	must(t, fake.Trash(binned))
	readOnly := fake.CreateFolder("root", "ReadOnly")
	must(t, fake.SetAccess(readOnly, drivefake.AccessReader))
	team := fake.CreateSharedDrive("Team")

	cases := []struct {
		id    string
		class error
		says  string
	}{
		{"", storage.ErrInvalidPath, "choose"},
		{"1NoSuchFolder", storage.ErrNotFound, "not shared"},
		{hidden, storage.ErrNotFound, "not shared"},
		{file, storage.ErrInvalidPath, "not a folder"},
		{binned, storage.ErrNotFound, "trash"},
	}
	for _, c := range cases {
		_, err := conn.ValidateRoot(ctx, c.id)
		mustClass(t, err, c.class)
		if !strings.Contains(err.Error(), c.says) {
			t.Errorf("ValidateRoot(%q) = %v; the message should say %q", c.id, err, c.says)
		}
	}
	for _, id := range []string{good, readOnly, team} {
		f, err := conn.ValidateRoot(ctx, id)
		if err != nil || f.ID != id {
			t.Errorf("ValidateRoot(%s) = %+v, %v", id, f, err)
		}
	}

	if err := connect(t, fake, good, nil).ProbeWrite(ctx); err != nil {
		t.Fatalf("ProbeWrite in a writable folder: %v", err)
	}
	for _, c := range fake.Children(good) {
		if !c.Trashed {
			t.Errorf("write probe left %q in the folder (not trashed)", c.Name)
		}
	}
	err := connect(t, fake, readOnly, nil).ProbeWrite(ctx)
	mustClass(t, err, storage.ErrPermission)
	if !strings.Contains(err.Error(), "edit access") {
		t.Errorf("read-only probe error %q should say to give edit access", err)
	}
}
