package gdrive_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

// drain reads the changes feed from cursor to its end and returns the
// changes, the new cursor and how many pages it took.
func drain(t *testing.T, c *gdrive.Conn, cursor string) ([]storage.Change, string, int) {
	t.Helper()
	var all []storage.Change
	pages := 0
	for {
		chs, next, more, err := c.Changes(context.Background(), cursor)
		if err != nil {
			t.Fatalf("Changes(%q): %v", cursor, err)
		}
		pages++
		all = append(all, chs...)
		cursor = next
		if !more {
			return all, cursor, pages
		}
	}
}

func startCursor(t *testing.T, c *gdrive.Conn) string {
	t.Helper()
	cur, err := c.StartCursor(context.Background())
	if err != nil {
		t.Fatalf("StartCursor: %v", err)
	}
	return cur
}

// byID indexes changes by ID (the last one wins).
func byID(chs []storage.Change) map[string]storage.Change {
	m := map[string]storage.Change{}
	for _, c := range chs {
		m[c.ID] = c
	}
	return m
}

func TestChangesFeedScoped(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	f := b.fake
	ctx := context.Background()
	albums := f.CreateFolder(b.rootID, "albums")
	keep := f.CreateFile(albums, "keep.jpg", "image/jpeg", []byte("k"))
	leave := f.CreateFile(albums, "leave.jpg", "image/jpeg", []byte("l"))
	bin := f.CreateFile(albums, "bin.jpg", "image/jpeg", []byte("b"))
	elsewhere := f.CreateFolder("root", "Elsewhere")
	incoming := f.CreateFolder(elsewhere, "incoming")
	inner := f.CreateFile(incoming, "inner.jpg", "image/jpeg", []byte("i"))
	scanAll(t, b.conn)
	cursor := startCursor(t, b.conn)

	newFile := f.CreateFile(albums, "new.jpg", "image/jpeg", []byte("n"))
	if err := f.Rename(keep, "kept.jpg"); err != nil {
		t.Fatal(err)
	}
	if err := f.Rename(albums, "Albums 2026"); err != nil {
		t.Fatal(err)
	}
	must(t, f.Move(leave, elsewhere))
	must(t, f.Trash(bin))
	must(t, f.Move(incoming, b.rootID))
	outsider := f.CreateFile(elsewhere, "outsider.jpg", "image/jpeg", []byte("o"))

	chs, _, _ := drain(t, b.conn, cursor)
	got := byID(chs)
	wantUpsert := map[string]string{
		newFile:  "Albums 2026/new.jpg",
		keep:     "Albums 2026/kept.jpg",
		albums:   "Albums 2026",
		incoming: "incoming",
	}
	for id, path := range wantUpsert {
		c, ok := got[id]
		if !ok || c.Kind != storage.ChangeUpsert || c.Entry.Path != path {
			t.Errorf("change for %s = %+v, want an upsert at %q", path, c, path)
		}
	}
	for _, id := range []string{leave, bin} {
		if c, ok := got[id]; !ok || c.Kind != storage.ChangeRemove {
			t.Errorf("change for %s = %+v, want a removal (moved out / trashed)", id, c)
		}
	}
	if c, ok := got[outsider]; ok && c.Kind != storage.ChangeRemove {
		t.Errorf("an item created outside the root came through as %+v", c)
	}
	if !got[incoming].Entry.IsDir || got[incoming].Entry.ParentID != "" {
		t.Errorf("folder moved in: %+v, want a top-level folder", got[incoming].Entry)
	}

	// The moved-in folder arrives alone; ScanFolder lists its content.
	var sub []storage.Entry
	must(t, b.conn.ScanFolder(ctx, incoming, func(e storage.Entry) error {
		sub = append(sub, e)
		return nil
	}))
	if len(sub) != 1 || sub[0].ID != inner || sub[0].Path != "incoming/inner.jpg" || sub[0].ParentID != incoming {
		t.Errorf("ScanFolder(incoming) = %+v, want inner.jpg at incoming/inner.jpg", sub)
	}
	err := b.conn.ScanFolder(ctx, elsewhere, func(storage.Entry) error { return nil })
	mustClass(t, err, storage.ErrNotFound)
}

func TestChangesFreshConnectorResolvesPaths(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	f := b.fake
	a := f.CreateFolder(b.rootID, "a")
	deep := f.CreateFolder(a, "b")
	cursor := startCursor(t, b.conn)
	id := f.CreateFile(deep, "c.txt", "text/plain", []byte("c"))

	fresh := connect(t, f, b.rootID, nil) // knows no folders yet
	chs, _, _ := drain(t, fresh, cursor)
	if len(chs) != 1 || chs[0].ID != id || chs[0].Entry.Path != "a/b/c.txt" || chs[0].Entry.ParentID != deep {
		t.Fatalf("changes = %+v, want c.txt at a/b/c.txt", chs)
	}
}

func TestChangesCallCount(t *testing.T) {
	t.Parallel()
	for _, k := range []int{0, 1, 999, 1000, 2000, 2500} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			t.Parallel()
			b := setup(t, drivefake.Options{})
			cursor := startCursor(t, b.conn)
			for i := range k {
				b.fake.CreateFile(b.rootID, fmt.Sprintf("f%d", i), "text/plain", nil)
			}
			b.fake.ResetCalls()
			chs, next, pages := drain(t, b.conn, cursor)
			if len(chs) != k {
				t.Errorf("%d changes reported, want %d", len(chs), k)
			}
			limit := (k+999)/1000 + 1
			if calls := b.fake.Calls("changes.list"); calls > limit || calls != pages {
				t.Errorf("%d changes took %d changes.list calls (%d pages), want at most %d", k, calls, pages, limit)
			}
			// The new cursor starts after everything.
			again, _, _ := drain(t, b.conn, next)
			if len(again) != 0 {
				t.Errorf("feed from the new cursor repeats %d changes", len(again))
			}
		})
	}
}

func TestChangesInvalidCursor(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	ctx := context.Background()
	for _, cur := range []string{"not-a-token", "999999999", ""} {
		_, _, _, err := b.conn.Changes(ctx, cur)
		mustClass(t, err, storage.ErrInvalidCursor)
	}
	old := startCursor(t, b.conn)
	b.fake.CreateFile(b.rootID, "x", "text/plain", nil)
	b.fake.ExpireChangeTokens()
	_, _, _, err := b.conn.Changes(ctx, old)
	mustClass(t, err, storage.ErrInvalidCursor)
}

// rejections are the answers Drive gives for a changes token it refuses.
var rejections = []struct {
	name string
	how  drivefake.TokenRejection
}{
	{"400 invalid", drivefake.TokenInvalid},
	{"404 not found", drivefake.TokenNotFound},
	{"410 gone", drivefake.TokenGone},
}

// TestChangesRejectedCursor: whichever way Drive refuses a saved changes
// token, the feed says storage.ErrInvalidCursor while the connected folder
// is there (the engine then scans in full), and a fresh cursor works.
func TestChangesRejectedCursor(t *testing.T) {
	t.Parallel()
	for _, tc := range rejections {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, drivefake.Options{})
			old := startCursor(t, b.conn)
			b.fake.CreateFile(b.rootID, "missed.txt", "text/plain", nil)
			b.fake.RejectChangeTokens(tc.how)
			_, _, _, err := b.conn.Changes(context.Background(), old)
			mustClass(t, err, storage.ErrInvalidCursor)
			if errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("a refused token with the folder in place reads as a missing folder: %v", err)
			}
			fresh := startCursor(t, b.conn)
			id := b.fake.CreateFile(b.rootID, "after.txt", "text/plain", nil)
			chs, _, _ := drain(t, b.conn, fresh)
			if len(chs) != 1 || chs[0].ID != id || chs[0].Kind != storage.ChangeUpsert {
				t.Fatalf("feed from a fresh cursor: %+v, want only after.txt", chs)
			}
		})
	}
}

// TestChangesRejectedCursorRootGone: when the token is refused and the
// connected folder is gone (deleted, trashed, no longer shared, or its
// shared drive out of reach), the feed says the folder is missing, not
// that a full scan would help.
func TestChangesRejectedCursorRootGone(t *testing.T) {
	t.Parallel()
	gone := []struct {
		name   string
		shared bool
		remove func(f *drivefake.Server, root string) error
	}{
		{"deleted", false, func(f *drivefake.Server, root string) error { return f.Delete(root) }},
		{"trashed", false, func(f *drivefake.Server, root string) error { return f.Trash(root) }},
		{"unshared", false, func(f *drivefake.Server, root string) error { return f.SetAccess(root, drivefake.AccessNone) }},
		{"shared drive unshared", true, func(f *drivefake.Server, root string) error { return f.SetAccess(root, drivefake.AccessNone) }},
	}
	for _, g := range gone {
		for _, tc := range rejections {
			t.Run(g.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				fake := drivefake.New(t, drivefake.Options{})
				root := fake.CreateFolder("root", "Shelf")
				if g.shared {
					root = fake.CreateSharedDrive("Team")
				}
				conn := connect(t, fake, root, nil)
				old := startCursor(t, conn)
				fake.CreateFile(root, "x.txt", "text/plain", nil)
				fake.RejectChangeTokens(tc.how)
				if err := g.remove(fake, root); err != nil {
					t.Fatal(err)
				}
				_, _, _, err := conn.Changes(context.Background(), old)
				mustClass(t, err, storage.ErrNotFound)
				if errors.Is(err, storage.ErrInvalidCursor) {
					t.Fatalf("a missing folder reads as a refused token (a full scan would follow): %v", err)
				}
			})
		}
	}
}

func TestChangesSharedDriveAndEmptyPages(t *testing.T) {
	t.Parallel()
	fake := drivefake.New(t, drivefake.Options{MaxPageSize: 2, EmptyPageEvery: 2})
	drv := fake.CreateSharedDrive("Team")
	conn := connect(t, fake, drv, nil)
	cursor := startCursor(t, conn)
	var want []string
	for i := range 5 {
		want = append(want, fake.CreateFile(drv, fmt.Sprintf("f%d", i), "text/plain", nil))
		fake.CreateFile("root", fmt.Sprintf("mine%d", i), "text/plain", nil) // My Drive: not in this feed
	}
	chs, _, _ := drain(t, conn, cursor)
	var got []string
	for _, c := range chs {
		if c.Kind != storage.ChangeUpsert {
			t.Errorf("unexpected change %+v", c)
		}
		got = append(got, c.ID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("shared drive changes %v, want %v", got, want)
	}
}

func TestChangesRootTrashed(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	cursor := startCursor(t, b.conn)
	must(t, b.fake.Trash(b.rootID))
	_, _, _, err := b.conn.Changes(context.Background(), cursor)
	mustClass(t, err, storage.ErrNotFound)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestChangesOutsideRootStayCheap(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	cursor := startCursor(t, b.conn)
	other := b.fake.CreateFolder("root", "Other")
	for i := range 50 {
		b.fake.CreateFile("root", fmt.Sprintf("top%d", i), "text/plain", nil)
		b.fake.CreateFile(other, fmt.Sprintf("o%d", i), "text/plain", nil)
	}
	b.fake.ResetCalls()
	chs, _, _ := drain(t, b.conn, cursor)
	for _, c := range chs {
		if c.Kind == storage.ChangeUpsert {
			t.Fatalf("an item outside the root came through as an upsert: %+v", c)
		}
	}
	if n := b.fake.Calls("files.get"); n > 3 {
		t.Errorf("101 changes outside the root cost %d files.get calls; ancestors must be cached", n)
	}
}

func TestChangesMovesBetweenDrives(t *testing.T) {
	t.Parallel()
	fake := drivefake.New(t, drivefake.Options{})
	team := fake.CreateSharedDrive("Team")
	leaving := fake.CreateFile(team, "leaving.jpg", "image/jpeg", []byte("l"))
	mine := fake.CreateFolder("root", "Mine")
	arriving := fake.CreateFile("root", "arriving.jpg", "image/jpeg", []byte("a"))
	teamConn := connect(t, fake, team, nil)
	myConn := connect(t, fake, mine, nil)
	teamCursor, myCursor := startCursor(t, teamConn), startCursor(t, myConn)

	must(t, fake.Move(leaving, mine))
	must(t, fake.Move(arriving, team))

	chs, _, _ := drain(t, teamConn, teamCursor)
	got := byID(chs)
	if got[leaving].Kind != storage.ChangeRemove || got[arriving].Kind != storage.ChangeUpsert || got[arriving].Entry.Path != "arriving.jpg" {
		t.Errorf("shared drive feed %+v: want leaving.jpg removed and arriving.jpg added", chs)
	}
	chs, _, _ = drain(t, myConn, myCursor)
	got = byID(chs)
	if got[leaving].Kind != storage.ChangeUpsert || got[leaving].Entry.Path != "leaving.jpg" {
		t.Errorf("My Drive folder feed %+v: want leaving.jpg added", chs)
	}
}
