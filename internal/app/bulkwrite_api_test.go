package app_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/embedmeta"
)

// TestBulkMetadataWrite: a background write-back writes the current
// metadata of many assets into their files with a result per file — the
// ones that cannot be written fail with their reason, the others are
// read back by exiftool — and the next sync sees no difference. It is
// refused while the account's setting is off, and another account's
// assets are left out.
func TestBulkMetadataWrite(t *testing.T) {
	t.Parallel()
	needExiftool(t)
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		c, acct, _ := e.signup("bulk@example.com", "Bulk")
		other, otherAcct, _ := e.signup("other@example.com", "Other")
		old := time.Now().Add(-time.Hour)
		e.writeTaggedJPEG("bulk/a.jpg", old, "-XMP-dc:Title=A")
		e.writeTaggedJPEG("bulk/b.jpg", old, "-XMP-dc:Title=B")
		e.writeFile("bulk/d.jpg", "\xff\xd8\xff\xe0 corrupt")
		e.writeFile("bulk/notes.txt", "plain text")
		e.writeFile("o/x.txt", "x")
		e.connectLocal(c, acct, "bulk")
		e.connectLocal(other, otherAcct, "o")
		waitAsset(t, c, "b.jpg", func(a map[string]any) bool { return a["title"] == "B" })
		id := func(name string) int64 { return apitest.Num(assetNamed(t, c, name)["id"]) }
		foreign := apitest.Num(assetNamed(t, other, "x.txt")["id"])
		c.Must(200, "PATCH", "/api/v1/assets/"+itoa(id("a.jpg")), map[string]any{"tags": []string{"bulk", "one"}, "rating": 2})
		// Only fields edited in Shelf are written: d.jpg gets one, so that
		// writing into the corrupt file is tried (and fails).
		c.Must(200, "PATCH", "/api/v1/assets/"+itoa(id("d.jpg")), map[string]any{"title": "D"})
		ids := []int64{id("a.jpg"), id("b.jpg"), id("d.jpg"), id("notes.txt"), foreign}

		if r := c.Do("POST", "/api/v1/metadata-writes", map[string]any{"asset_ids": ids}); r.Status != 409 || r.ErrorCode() != "write_back_off" {
			t.Fatalf("write-back while off: %d %s", r.Status, r.Raw)
		}
		// The setting is an admin's.
		c.Must(201, "POST", "/api/v1/users", map[string]any{"email": "ed@example.com", "password": apitest.Password, "role": "editor"})
		editor := apitest.New(t, e.url)
		editor.Login("ed@example.com", apitest.Password)
		if r := editor.Do("PATCH", "/api/v1/account", map[string]any{"write_metadata_to_files": true}); r.Status != 403 {
			t.Errorf("an editor changed write_metadata_to_files: %d %s", r.Status, r.Raw)
		}
		c.Must(200, "PATCH", "/api/v1/account", map[string]any{"write_metadata_to_files": true})
		w := c.Must(202, "POST", "/api/v1/metadata-writes", map[string]any{"asset_ids": ids}).Obj("write")
		if w["total"] != 4.0 {
			t.Errorf("total = %v, want 4 (another account's asset left out)", w["total"])
		}
		wid := itoa(apitest.Num(w["id"]))
		deadline := time.Now().Add(30 * time.Second)
		var got apitest.Response
		for {
			got = c.Must(200, "GET", "/api/v1/metadata-writes/"+wid, nil)
			if got.Obj("write")["state"] == "done" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the write-back did not finish: %s", got.Raw)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if w := got.Obj("write"); w["written"] != 2.0 || w["failed"] != 2.0 {
			t.Errorf("counts: %v", w)
		}
		results := map[string]string{}
		for _, it := range got.List("items") {
			m := it.(map[string]any)
			results[m["path"].(string)] = m["state"].(string)
			if m["state"] == "failed" && m["error"] == "" {
				t.Errorf("%s failed without a reason", m["path"])
			}
		}
		want := map[string]string{"a.jpg": "written", "b.jpg": "written", "d.jpg": "failed", "notes.txt": "failed"}
		for p, s := range want {
			if results[p] != s {
				t.Errorf("%s: %q, want %q (all: %v)", p, results[p], s, results)
			}
		}
		m, _ := embedmeta.ReadEmbedded(context.Background(), embedmeta.FindExiftool(), filepath.Join(e.local, "bulk", "a.jpg"))
		if !slices.Equal(m.Tags, []string{"bulk", "one"}) || m.Rating == nil || *m.Rating != 2 || m.Title == nil || *m.Title != "A" {
			t.Errorf("a.jpg read back: title %q, tags %q, rating %v", textOrNil(m.Title), m.Tags, m.Rating)
		}
		if d := assetNamed(t, c, "d.jpg"); d["file_metadata"].(map[string]any)["write_error"] == "" {
			t.Error("d.jpg does not say why it was not written")
		}
		if list := c.Must(200, "GET", "/api/v1/metadata-writes", nil).List("writes"); len(list) != 1 {
			t.Errorf("write list: %v", list)
		}
		if r := other.Do("GET", "/api/v1/metadata-writes/"+wid, nil); r.Status != 404 {
			t.Errorf("another account sees the write: %d", r.Status)
		}
		if run := e.syncNow(c, acct); run.Counts.Updated != 0 || run.Counts.Added != 0 {
			t.Errorf("the sync after the write-back changed the library: %+v", run.Counts)
		}
	})
}
