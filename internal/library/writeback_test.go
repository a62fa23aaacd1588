package library_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/embedmeta"
	"github.com/shelf-dam/shelf/internal/library"
)

// fakeWriter stands in for exiftool: it appends a marker to the file (or
// writes a sidecar) so that the write shows in the storage, or fails.
type fakeWriter struct{ fail error }

func (w fakeWriter) Available() bool { return true }

func (w fakeWriter) WriteEmbedded(_ context.Context, file string, v embedmeta.Values) error {
	return w.write(file, v)
}

func (w fakeWriter) WriteSidecar(_ context.Context, file string, v embedmeta.Values) error {
	return w.write(file, v)
}

func (w fakeWriter) write(file string, v embedmeta.Values) error {
	if w.fail != nil {
		return w.fail
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	out := ""
	if v.Title != nil {
		out += "|title=" + *v.Title
	}
	if v.Tags != nil {
		out += "|tags=" + strings.Join(*v.Tags, ",")
	}
	_, err = f.WriteString(out)
	return err
}

// Read finds the keywords the last "|tags=" marker of the file lists.
func (w fakeWriter) Read(_ context.Context, file string) (embedmeta.Meta, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return embedmeta.Meta{}, err
	}
	var m embedmeta.Meta
	if i := strings.LastIndex(string(b), "|tags="); i >= 0 {
		list, _, _ := strings.Cut(string(b[i+len("|tags="):]), "|")
		m.Tags = strings.Split(list, ",")
	}
	return m, nil
}

func withMeta(w library.MetadataWriter) func(*options) { return func(o *options) { o.meta = w } }

// TestWriteBackThroughEveryConnector: an edit written into a JPEG (in
// place) and a RAW file (a new sidecar) goes through the storage first and
// the next sync sees no difference, on every connector; the RAW file
// itself is untouched and the sidecar stays out of listings.
func TestWriteBackThroughEveryConnector(t *testing.T) {
	t.Parallel()
	for _, be := range []backend{localBackend, s3FakeBackend, versitygwBackend, driveFakeBackend} {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, sqliteDB, be, withMeta(fakeWriter{}))
			f.seed("shoot/", "shoot/a.jpg", "shoot/IMG_1.CR2")
			if err := f.store.SetWriteMetadataToFiles(f.ctx, f.acct.ID, true, time.Now()); err != nil {
				t.Fatal(err)
			}
			jpg := f.asset("shoot/a.jpg")
			if _, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, jpg.ID, catalog.MetadataUpdate{Title: ptr("Sunset")}); err != nil {
				t.Fatal(err)
			}
			if got := f.content("shoot/a.jpg"); got != "content of shoot/a.jpg|title=Sunset" {
				t.Errorf("a.jpg in storage: %q", got)
			}
			raw := f.asset("shoot/IMG_1.CR2")
			if _, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, raw.ID, catalog.MetadataUpdate{Title: ptr("Raw")}); err != nil {
				t.Fatal(err)
			}
			if got := f.content("shoot/IMG_1.CR2"); got != "content of shoot/IMG_1.CR2" {
				t.Errorf("the RAW file changed: %q", got)
			}
			if got := f.content("shoot/IMG_1.xmp"); got != "|title=Raw" {
				t.Errorf("the sidecar holds %q", got)
			}
			// A second edit updates the sidecar Shelf wrote.
			if _, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, raw.ID, catalog.MetadataUpdate{Title: ptr("Raw 2")}); err != nil {
				t.Fatal(err)
			}
			if got := f.content("shoot/IMG_1.xmp"); got != "|title=Raw|title=Raw 2" {
				t.Errorf("the sidecar holds %q after a second edit", got)
			}
			for _, p := range f.catalogTree() {
				if strings.HasSuffix(p, ".xmp") {
					t.Errorf("the sidecar %s is listed", p)
				}
			}
			f.noDiff()
		})
	}
}

// TestWriteBackFailuresKeepTheEdit: without exiftool, for a format Shelf
// does not write, and when the tool fails, the edit is saved in the
// catalog, the file is untouched and the asset says why.
func TestWriteBackFailuresKeepTheEdit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		writer library.MetadataWriter
		file   string
		reason string
	}{
		{"no exiftool", nil, "a.jpg", "exiftool is not installed"},
		{"unsupported format", fakeWriter{}, "notes.txt", "not into txt files"},
		{"tool fails", fakeWriter{fail: errors.New("exiftool: Error: Not a valid JPEG")}, "a.jpg", "Not a valid JPEG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, sqliteDB, localBackend, withMeta(tc.writer))
			f.seed(tc.file)
			if err := f.store.SetWriteMetadataToFiles(f.ctx, f.acct.ID, true, time.Now()); err != nil {
				t.Fatal(err)
			}
			a, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, f.asset(tc.file).ID, catalog.MetadataUpdate{Title: ptr("Kept"), Tags: &[]string{"x"}})
			if err != nil || a.Title != "Kept" || len(a.Tags) != 1 {
				t.Fatalf("the edit was not kept: %+v %v", a, err)
			}
			facts, err := f.store.GetFileFacts(f.ctx, f.acct.ID, a.ID)
			if err != nil || !strings.Contains(facts.WriteError, tc.reason) {
				t.Errorf("write_error %q, want it to say %q (%v)", facts.WriteError, tc.reason, err)
			}
			if facts.ReadAt != nil {
				t.Error("recording the failure marked the file's metadata as read")
			}
			if got := f.content(tc.file); got != "content of "+tc.file {
				t.Errorf("the file changed: %q", got)
			}
			f.noDiff()
		})
	}
}

// hookWriter is fakeWriter with a hook run while the tool works on the
// downloaded copy (someone saving a new version in the storage meanwhile).
type hookWriter struct {
	fakeWriter
	during func()
}

func (w *hookWriter) WriteEmbedded(ctx context.Context, file string, v embedmeta.Values) error {
	if w.during != nil {
		w.during()
	}
	return w.fakeWriter.WriteEmbedded(ctx, file, v)
}

// TestWriteBackKeepsAVersionSavedMeanwhile: a new version saved in the
// storage while the write-back rewrites its copy is not replaced by the
// old content; the edit is kept in the catalog and the asset says why.
func TestWriteBackKeepsAVersionSavedMeanwhile(t *testing.T) {
	t.Parallel()
	w := &hookWriter{}
	f := newFixture(t, sqliteDB, localBackend, withMeta(w))
	f.seed("a.jpg")
	if err := f.store.SetWriteMetadataToFiles(f.ctx, f.acct.ID, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	w.during = func() {
		body := "a newer version saved meanwhile"
		if _, err := f.conn.Put(f.ctx, "a.jpg", strings.NewReader(body), int64(len(body)), ""); err != nil {
			t.Error(err)
		}
	}
	a, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, f.asset("a.jpg").ID, catalog.MetadataUpdate{Title: ptr("Kept")})
	if err != nil || a.Title != "Kept" {
		t.Fatalf("the edit was not kept: %+v %v", a, err)
	}
	if got := f.content("a.jpg"); got != "a newer version saved meanwhile" {
		t.Errorf("the newer version was overwritten: %q", got)
	}
	facts, err := f.store.GetFileFacts(f.ctx, f.acct.ID, a.ID)
	if err != nil || !strings.Contains(facts.WriteError, "changed in the storage meanwhile") {
		t.Errorf("write_error %q (%v)", facts.WriteError, err)
	}
}

// TestBulkWriteBackWritesOnlyTeamFields: a background write-back writes
// only the fields edited in Shelf (not a title the file gave, which the
// catalog may have shortened) and keeps the file's spelling of the
// keywords the catalog holds lower-cased.
func TestBulkWriteBackWritesOnlyTeamFields(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sqliteDB, localBackend, withMeta(fakeWriter{}))
	body := "jpeg|tags=Berlin,Zoo"
	if _, err := f.conn.Put(f.ctx, "a.jpg", strings.NewReader(body), int64(len(body)), ""); err != nil {
		t.Fatal(err)
	}
	f.sync(nil)
	a := f.asset("a.jpg")
	if ok, err := f.store.ApplyFileMeta(f.ctx, a, catalog.FileMeta{Title: ptr("The file's own title"), Tags: []string{"Berlin", "Zoo"}, Reader: "go"}, time.Now()); !ok || err != nil {
		t.Fatalf("reading the file's metadata: %v %v", ok, err)
	}
	// Edited while write-back was off: only the tags are the team's.
	if _, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, a.ID, catalog.MetadataUpdate{Tags: &[]string{"berlin", "zoo", "Night"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetWriteMetadataToFiles(f.ctx, f.acct.ID, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.WriteCurrentMetadata(f.ctx, f.acct.ID, f.user.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.content("a.jpg"); got != body+"|tags=Berlin,Zoo,night" {
		t.Errorf("the file holds %q, want only the team's tags, in the file's spelling", got)
	}
	f.noDiff()
}

// beforeIntent is a catalog that runs a hook right before a write intent
// is taken (another edit or a sync landing between a look-up and the
// claim).
type beforeIntent struct {
	library.Catalog
	hook func()
}

func (c *beforeIntent) BeginWriteIntentOn(ctx context.Context, accountID, userID int64, op string, claim catalog.PathClaim, now time.Time, ttl time.Duration) (int64, error) {
	if c.hook != nil {
		c.hook()
		c.hook = nil
	}
	return c.Catalog.BeginWriteIntentOn(ctx, accountID, userID, op, claim, now, ttl)
}

// TestBulkWriteBackUsesTheAssetUnderTheClaim: a background write-back
// writes the asset's values as they are once the write's claim is taken,
// not as they were read before it.
func TestBulkWriteBackUsesTheAssetUnderTheClaim(t *testing.T) {
	t.Parallel()
	cat := &beforeIntent{}
	f := newFixture(t, sqliteDB, localBackend, withMeta(fakeWriter{}), func(o *options) {
		o.catalog = func(c library.Catalog) library.Catalog { cat.Catalog = c; return cat }
	})
	f.seed("a.jpg")
	a := f.asset("a.jpg")
	if _, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, a.ID, catalog.MetadataUpdate{Title: ptr("Old")}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetWriteMetadataToFiles(f.ctx, f.acct.ID, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	cat.hook = func() {
		if _, err := f.store.UpdateAssetMetadata(f.ctx, f.acct.ID, a.ID, catalog.MetadataUpdate{Title: ptr("New")}, time.Now()); err != nil {
			t.Error(err)
		}
	}
	if err := f.svc.WriteCurrentMetadata(f.ctx, f.acct.ID, f.user.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.content("a.jpg"); got != "content of a.jpg|title=New" {
		t.Errorf("the file holds %q, want the title as it is under the claim", got)
	}
}

// TestWriteBackBesideAnUnsyncedSidecar: a sidecar saved in the storage
// that no sync has brought in yet is not replaced, and the edit is not
// lost: it is kept in the catalog with the reason.
func TestWriteBackBesideAnUnsyncedSidecar(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sqliteDB, localBackend, withMeta(fakeWriter{}))
	f.seed("IMG_1.CR2")
	if err := f.store.SetWriteMetadataToFiles(f.ctx, f.acct.ID, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	body := "<x:xmpmeta>Lightroom's</x:xmpmeta>"
	if _, err := f.conn.Put(f.ctx, "IMG_1.xmp", strings.NewReader(body), int64(len(body)), ""); err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, f.asset("IMG_1.CR2").ID, catalog.MetadataUpdate{Title: ptr("Kept")})
	if err != nil || a.Title != "Kept" {
		t.Fatalf("the edit was not kept: %+v %v", a, err)
	}
	if got := f.content("IMG_1.xmp"); got != body {
		t.Errorf("the sidecar was replaced: %q", got)
	}
	facts, err := f.store.GetFileFacts(f.ctx, f.acct.ID, a.ID)
	if err != nil || !strings.Contains(facts.WriteError, "not yet in Shelf") {
		t.Errorf("write_error %q (%v)", facts.WriteError, err)
	}
}

// TestWriteBackSuccessClearsAnEarlierFailure: a file whose metadata was
// never read, whose first write failed, loses the failure once a write
// succeeds.
func TestWriteBackSuccessClearsAnEarlierFailure(t *testing.T) {
	t.Parallel()
	w := &hookWriter{fakeWriter: fakeWriter{fail: errors.New("exiftool: Error: file is busy")}}
	f := newFixture(t, sqliteDB, localBackend, withMeta(w))
	f.seed("a.jpg")
	if err := f.store.SetWriteMetadataToFiles(f.ctx, f.acct.ID, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	id := f.asset("a.jpg").ID
	if _, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, id, catalog.MetadataUpdate{Title: ptr("One")}); err != nil {
		t.Fatal(err)
	}
	if facts, _ := f.store.GetFileFacts(f.ctx, f.acct.ID, id); facts.WriteError == "" {
		t.Fatal("the first write's failure was not recorded")
	}
	w.fail = nil
	if _, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, id, catalog.MetadataUpdate{Title: ptr("Two")}); err != nil {
		t.Fatal(err)
	}
	facts, err := f.store.GetFileFacts(f.ctx, f.acct.ID, id)
	if err != nil || facts.WriteError != "" || facts.WrittenAt == nil {
		t.Errorf("after a successful write: write_error %q, written_at %v (%v)", facts.WriteError, facts.WrittenAt, err)
	}
	if got := f.content("a.jpg"); got != "content of a.jpg|title=Two" {
		t.Errorf("the file holds %q", got)
	}
}

// TestBulkWriteBackTurnedOff: a background write-back started while
// write_metadata_to_files was on writes nothing once it is turned off:
// its files are failed with the reason and the write is finished.
func TestBulkWriteBackTurnedOff(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sqliteDB, localBackend, withMeta(fakeWriter{}))
	f.seed("a.jpg", "b.jpg")
	ids := []int64{f.asset("a.jpg").ID, f.asset("b.jpg").ID}
	for _, id := range ids {
		if _, err := f.svc.UpdateMeta(f.ctx, f.acct.ID, f.user.ID, id, catalog.MetadataUpdate{Title: ptr("Team")}); err != nil {
			t.Fatal(err)
		}
	}
	mw, err := f.store.CreateMetadataWrite(f.ctx, f.acct.ID, &f.user.ID, ids, time.Now(),
		func(context.Context, *catalog.QueueTx, catalog.MetadataWrite) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	// write_metadata_to_files is off (it was turned off after the request).
	job := &river.Job[library.WriteMetadataArgs]{JobRow: &rivertype.JobRow{}, Args: library.WriteMetadataArgs{AccountID: f.acct.ID, WriteID: mw.ID, UserID: f.user.ID}}
	if err := library.NewWriteMetadataWorker(f.svc).Work(f.ctx, job); err != nil {
		t.Fatal(err)
	}
	items, err := f.store.ListMetadataWriteItems(f.ctx, f.acct.ID, mw.ID, "failed", 0, 10)
	if err != nil || len(items) != 2 || !strings.Contains(items[0].Error, "turned off") {
		t.Errorf("failed items %+v (%v), want both, turned off", items, err)
	}
	for _, p := range []string{"a.jpg", "b.jpg"} {
		if got := f.content(p); got != "content of "+p {
			t.Errorf("%s was written: %q", p, got)
		}
	}
	if got, err := f.store.GetMetadataWrite(f.ctx, f.acct.ID, mw.ID); err != nil || got.State != "done" || got.Failed != 2 {
		t.Errorf("the write is %+v (%v), want done with 2 failed", got, err)
	}
}
