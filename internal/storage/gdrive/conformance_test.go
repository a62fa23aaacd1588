package gdrive_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
	"github.com/shelf-dam/shelf/internal/storage/storagetest"
)

// outside reaches a sibling folder of the root, and My Drive's top level,
// directly in the fake.
type outside struct {
	fake    *drivefake.Server
	sibling string
}

func (o outside) folder(name string) (string, string) {
	if dir, base, ok := strings.Cut(name, "/"); ok && dir == "sibling" {
		return o.sibling, base
	}
	return o.fake.RootID(), name
}

func (o outside) Put(t *testing.T, name string, content []byte) {
	dir, base := o.folder(name)
	o.fake.CreateFile(dir, base, "text/plain", content)
}

func (o outside) Get(t *testing.T, name string) ([]byte, bool) {
	dir, base := o.folder(name)
	info, ok := o.fake.FindPath(dir, base)
	return info.Content, ok
}

func (o outside) Names() []string {
	return []string{"sibling/secret.txt", "top-secret.txt", "sibling/Shelf"}
}

func TestConformance(t *testing.T) {
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			storagetest.Run(t, storagetest.Config{
				New: func(t *testing.T) storagetest.Fixture {
					fake := drivefake.New(t, drivefake.Options{MaxPageSize: 7, EmptyPageEvery: 3})
					root := fake.CreateFolder("root", "Shelf")
					sibling := fake.CreateFolder("root", "Shelf-sibling")
					conn := connect(t, fake, root, func(c *gdrive.Config) { c.ScanWorkers = workers; c.ParentsPerQuery = 2 })
					return storagetest.Fixture{Conn: conn, Outside: outside{fake: fake, sibling: sibling}}
				},
				Extra: []storagetest.Case{{Name: "SameNameTwice", Run: testSameNameTwice}},
				// Drive has no conditional create; Move checks, then moves.
				CreateChecksFirst: true, MoveChecksFirst: true,
			})
		})
	}
}

// testSameNameTwice: Drive holds two files of one name in one folder; both
// are listed with their own IDs, and path calls address the older one.
func testSameNameTwice(t *testing.T, f storagetest.Fixture) {
	ctx := context.Background()
	first, err := f.Conn.Put(ctx, "dup.txt", strings.NewReader("first"), 5, "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	// A second file of the same name, made in Drive directly.
	c := f.Conn
	fake := f.Outside.(outside).fake
	info, _ := fake.File(first.ID)
	second := fake.CreateFile(info.ParentID, "dup.txt", "text/plain", []byte("second"))

	var ids []string
	if err := c.Scan(ctx, func(e storage.Entry) error {
		if e.Path == "dup.txt" {
			ids = append(ids, e.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] == ids[1] {
		t.Fatalf("scan listed dup.txt with IDs %v, want both files", ids)
	}
	st, err := c.Stat(ctx, "dup.txt")
	if err != nil || st.ID != first.ID {
		t.Fatalf("Stat(dup.txt) = %+v, %v; want the older file %s", st, err, first.ID)
	}
	if _, err := c.Put(ctx, "dup.txt", strings.NewReader("again"), 5, "text/plain"); err != nil {
		t.Fatal(err)
	}
	if got, _ := fake.File(first.ID); string(got.Content) != "again" {
		t.Errorf("Put over a duplicated name wrote elsewhere; older file holds %q", got.Content)
	}
	if got, _ := fake.File(second); string(got.Content) != "second" {
		t.Errorf("Put changed the newer duplicate to %q", got.Content)
	}
	if err := c.Delete(ctx, "dup.txt"); err != nil {
		t.Fatal(err)
	}
	rc, err := c.Open(ctx, "dup.txt")
	if err != nil {
		t.Fatalf("after trashing one duplicate the other must remain: %v", err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "second" {
		t.Errorf("remaining duplicate reads %q, want \"second\"", b)
	}
}
