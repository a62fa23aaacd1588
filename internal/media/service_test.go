package media_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/media"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/localfs"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// serviceBundle is a preview service on a real catalog and a local folder.
type serviceBundle struct {
	store   *catalog.Store
	conn    *localfs.Conn
	dir     string
	account catalog.Account
	svc     *media.Service
	thumbs  *media.ThumbStore
}

func setupService(t *testing.T, databaseURL string) serviceBundle {
	t.Helper()
	ctx := context.Background()
	store, err := catalog.Open(ctx, databaseURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("opening catalog: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatalf("migrating catalog: %v", err)
	}
	acct, err := store.CreateAccount(ctx, catalog.NewAccount{Name: "Media"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conn, err := localfs.New(dir, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	thumbs := media.NewThumbStore(t.TempDir())
	svc := media.NewService(media.ServiceConfig{
		Store:     store,
		Connect:   func(context.Context, int64) (storage.Connector, error) { return conn, nil },
		Generator: media.NewGenerator(media.Config{TempDir: t.TempDir()}),
		Thumbs:    thumbs,
	})
	return serviceBundle{store: store, conn: conn, dir: dir, account: acct, svc: svc, thumbs: thumbs}
}

// addFile writes a file into the storage folder and records it in the
// catalog as an upload would.
func (b serviceBundle) addFile(t *testing.T, name string, data []byte) catalog.Asset {
	t.Helper()
	ctx := context.Background()
	if err := os.WriteFile(filepath.Join(b.dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := b.conn.Stat(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	intent, err := b.store.BeginWriteIntent(ctx, b.account.ID, 0, "upload", time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	mt := e.ModTime
	a, err := b.store.PutUploadedAsset(ctx, b.account.ID, intent, catalog.Asset{
		StorageID: e.ID, Name: e.Name, Size: e.Size, ModTime: &mt, MIME: e.MIME}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (b serviceBundle) reload(t *testing.T, id int64) catalog.Asset {
	t.Helper()
	a, err := b.store.GetAsset(context.Background(), b.account.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func testJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = []byte{200, 60, 20, 255}[i%4]
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func runServiceSuite(t *testing.T, databaseURL func(t *testing.T) string) {
	t.Run("GenerateAnnouncesTheNewPreview", func(t *testing.T) {
		t.Parallel()
		b := setupService(t, databaseURL(t))
		var events []notify.Event
		svc := media.NewService(media.ServiceConfig{
			Store:     b.store,
			Connect:   func(context.Context, int64) (storage.Connector, error) { return b.conn, nil },
			Generator: media.NewGenerator(media.Config{TempDir: t.TempDir()}),
			Thumbs:    b.thumbs,
			Publish:   func(_ context.Context, ev notify.Event) error { events = append(events, ev); return nil },
		})
		a := b.addFile(t, "photo.jpg", testJPEG(t, 90, 60))
		pendingVersion := media.ThumbVersion(a)
		if err := svc.Generate(context.Background(), b.account.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].Type != notify.AssetUpdated || events[0].AccountID != b.account.ID {
			t.Fatalf("events %+v, want one asset.updated of the account", events)
		}
		var got media.PreviewPayload
		if err := json.Unmarshal(events[0].Data, &got); err != nil {
			t.Fatal(err)
		}
		a = b.reload(t, a.ID)
		if got.ID != a.ID || got.PreviewState != media.StateReady || got.PreviewVersion != media.ThumbVersion(a) {
			t.Errorf("payload %+v, want asset %d ready at version %s", got, a.ID, media.ThumbVersion(a))
		}
		// The thumbnail URL changes, so a page that showed the icon fetches the image.
		if got.PreviewVersion == pendingVersion {
			t.Errorf("the ready preview kept the pending version %q", pendingVersion)
		}
		// Remaking an unchanged preview (another node lacked the file) is no news.
		if err := svc.Generate(context.Background(), b.account.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 {
			t.Errorf("%d events after remaking the same preview, want still 1", len(events))
		}
	})

	t.Run("GenerateRecordsFactsAndWritesThumbs", func(t *testing.T) {
		t.Parallel()
		b := setupService(t, databaseURL(t))
		a := b.addFile(t, "photo.jpg", testJPEG(t, 900, 600))
		if a.PreviewState != media.StatePending {
			t.Fatalf("new asset preview state %q, want pending", a.PreviewState)
		}
		if err := b.svc.Generate(context.Background(), b.account.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		a = b.reload(t, a.ID)
		if a.PreviewState != media.StateReady || a.PreviewError != "" {
			t.Fatalf("state %q (%q), want ready", a.PreviewState, a.PreviewError)
		}
		if a.Width == nil || *a.Width != 900 || a.Height == nil || *a.Height != 600 {
			t.Errorf("facts %v×%v, want 900×600", a.Width, a.Height)
		}
		for _, size := range []string{media.SizeThumb, media.SizePreview} {
			if !b.thumbs.Has(a, size) {
				t.Errorf("no %s file at %s", size, b.thumbs.Path(a, size))
			}
		}
		// Derived files live under the data directory, never in the storage.
		if entries, _ := os.ReadDir(b.dir); len(entries) != 1 {
			t.Errorf("the storage folder holds %d entries, want only the original", len(entries))
		}
	})

	t.Run("CorruptFileIsRecordedAndServedAsIcon", func(t *testing.T) {
		t.Parallel()
		b := setupService(t, databaseURL(t))
		a := b.addFile(t, "broken.png", []byte("\x89PNG\r\n\x1a\nthis is not a png"))
		if err := b.svc.Generate(context.Background(), b.account.ID, a.ID); err != nil {
			t.Fatalf("a corrupt file must not fail the job: %v", err)
		}
		a = b.reload(t, a.ID)
		if a.PreviewState != media.StateError || a.PreviewError == "" {
			t.Fatalf("state %q, error %q; want error with a message", a.PreviewState, a.PreviewError)
		}
		rec := httptest.NewRecorder()
		b.svc.ServeThumb(rec, httptest.NewRequest(http.MethodGet, "/thumb", nil), a, media.SizeThumb)
		if ct := rec.Header().Get("Content-Type"); ct != "image/svg+xml" || !strings.Contains(rec.Body.String(), "<svg") {
			t.Errorf("served %q, want the SVG icon", ct)
		}
	})

	t.Run("ServeThumbRegeneratesOnMiss", func(t *testing.T) {
		t.Parallel()
		b := setupService(t, databaseURL(t))
		a := b.addFile(t, "p.jpg", testJPEG(t, 300, 200))
		if err := b.svc.Generate(context.Background(), b.account.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		a = b.reload(t, a.ID)
		// Another node made the previews: this node's disk lacks them.
		if err := os.Remove(b.thumbs.Path(a, media.SizeThumb)); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		b.svc.ServeThumb(rec, httptest.NewRequest(http.MethodGet, "/thumb", nil), a, media.SizeThumb)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/jpeg" {
			t.Fatalf("status %d, type %q; want the regenerated JPEG", rec.Code, rec.Header().Get("Content-Type"))
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "private, no-cache" {
			t.Errorf("an unversioned URL is cached as %q; a changed file would show a stale preview", cc)
		}
		etag := rec.Header().Get("ETag")
		img, err := jpeg.Decode(rec.Body)
		if err != nil {
			t.Fatalf("served thumbnail is not a JPEG: %v", err)
		}
		if got := img.Bounds().Size(); got != image.Pt(300, 200) {
			t.Errorf("served %v, want 300×200", got)
		}
		c := color.RGBAModel.Convert(img.At(10, 10)).(color.RGBA)
		if c.R < 150 || c.B > 80 {
			t.Errorf("served colour %v, want the file's orange", c)
		}
		// Revalidation answers 304; a versioned URL may be kept for good.
		req := httptest.NewRequest(http.MethodGet, "/thumb?v="+media.Version(a), nil)
		req.Header.Set("If-None-Match", etag)
		rec = httptest.NewRecorder()
		b.svc.ServeThumb(rec, req, a, media.SizeThumb)
		if rec.Code != http.StatusNotModified || !strings.Contains(rec.Header().Get("Cache-Control"), "immutable") {
			t.Errorf("revalidating a versioned URL: status %d, Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
		}
	})

	t.Run("StaleResultsAreNotRecorded", func(t *testing.T) {
		t.Parallel()
		b := setupService(t, databaseURL(t))
		a := b.addFile(t, "p.jpg", testJPEG(t, 50, 50))
		old := a
		old.Size++ // the version the job read differs from the catalog's now
		ok, err := b.store.SetAssetPreview(context.Background(), old, catalog.PreviewUpdate{State: media.StateReady}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if ok || b.reload(t, a.ID).PreviewState != media.StatePending {
			t.Fatal("a preview of another version of the file was recorded")
		}
	})

	t.Run("RemovedFileIsAnErrorNotARetry", func(t *testing.T) {
		t.Parallel()
		b := setupService(t, databaseURL(t))
		a := b.addFile(t, "gone.jpg", testJPEG(t, 10, 10))
		if err := os.Remove(filepath.Join(b.dir, "gone.jpg")); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.Generate(context.Background(), b.account.ID, a.ID); err != nil {
			t.Fatalf("a file gone from storage must not make the job retry: %v", err)
		}
		if a = b.reload(t, a.ID); a.PreviewState != media.StateError {
			t.Errorf("state %q, want error", a.PreviewState)
		}
	})

	t.Run("DeletedAssetLosesItsDerivedFiles", func(t *testing.T) {
		t.Parallel()
		b := setupService(t, databaseURL(t))
		ctx := context.Background()
		a := b.addFile(t, "p.jpg", testJPEG(t, 120, 80))
		if err := b.svc.Generate(ctx, b.account.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		a = b.reload(t, a.ID)
		intent, err := b.store.BeginWriteIntent(ctx, b.account.ID, 0, "delete", time.Now(), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.store.DeleteAsset(ctx, b.account.ID, intent, a.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := b.svc.Generate(ctx, b.account.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if b.thumbs.Has(a, media.SizeThumb) || b.thumbs.Has(a, media.SizePreview) {
			t.Error("the derived files of a deleted asset are still on disk")
		}
	})

	t.Run("MissingAssetIsNothingToDo", func(t *testing.T) {
		t.Parallel()
		b := setupService(t, databaseURL(t))
		if err := b.svc.Generate(context.Background(), b.account.ID, 424242); err != nil {
			t.Fatalf("Generate of an unknown asset: %v", err)
		}
	})
}

func TestServiceSQLite(t *testing.T) {
	t.Parallel()
	runServiceSuite(t, func(t *testing.T) string { return filepath.Join(t.TempDir(), "shelf.db") })
}

func TestServicePostgres(t *testing.T) {
	t.Parallel()
	runServiceSuite(t, func(t *testing.T) string { return testenv.PostgresURL(t) })
}

// TestIconForAMissingToolHealsOnceInstalled: an SVG previewed by a server
// without rsvg-convert gets an icon and a note naming the package; once
// the server runs with the tool, the next request for its thumbnail makes
// the preview (no sync or re-upload needed).
func TestIconForAMissingToolHealsOnceInstalled(t *testing.T) {
	t.Parallel()
	tools := media.DetectTools(nil)
	if tools.RSVGConvert == "" {
		t.Skip("rsvg-convert is not installed: scripts/test-all installs it (librsvg2-bin)")
	}
	b := setupService(t, filepath.Join(t.TempDir(), "shelf.db"))
	a := b.addFile(t, "logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#c00"/></svg>`))
	if err := b.svc.Generate(context.Background(), b.account.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	a = b.reload(t, a.ID)
	if a.PreviewState != media.StateIcon || !strings.Contains(a.PreviewError, "install librsvg2-bin") {
		t.Fatalf("without the tool: state %q, note %q", a.PreviewState, a.PreviewError)
	}
	// The same library served by a server that has the tool.
	withTool := media.NewService(media.ServiceConfig{
		Store:     b.store,
		Connect:   func(context.Context, int64) (storage.Connector, error) { return b.conn, nil },
		Generator: media.NewGenerator(media.Config{TempDir: t.TempDir(), Tools: tools}),
		Thumbs:    b.thumbs,
	})
	rec := httptest.NewRecorder()
	withTool.ServeThumb(rec, httptest.NewRequest(http.MethodGet, "/thumb", nil), a, media.SizeThumb)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/jpeg" {
		t.Fatalf("status %d, type %q; want the newly made JPEG", rec.Code, rec.Header().Get("Content-Type"))
	}
	if a = b.reload(t, a.ID); a.PreviewState != media.StateReady || a.PreviewError != "" {
		t.Errorf("after: state %q, note %q; want ready", a.PreviewState, a.PreviewError)
	}
}

// openCounter counts the files opened in a storage.
type openCounter struct {
	storage.Connector
	opens atomic.Int32
}

func (c *openCounter) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	c.opens.Add(1)
	return c.Connector.Open(ctx, p)
}

// Regression: an SVG (HEIC, PSD, RAW) recorded as a plain icon before
// Shelf made previews of its format never got one. The next request for
// its thumbnail makes it when the name claims a format the tools make; a
// file whose content is not of that format is read once, and other icons
// not at all.
func TestOldIconOfANewlyPreviewedFormatHeals(t *testing.T) {
	t.Parallel()
	tools := media.DetectTools(nil)
	if tools.RSVGConvert == "" {
		t.Skip("rsvg-convert is not installed: scripts/test-all installs it (librsvg2-bin)")
	}
	ctx := context.Background()
	b := setupService(t, filepath.Join(t.TempDir(), "shelf.db"))
	old := func(name, content string) catalog.Asset {
		a := b.addFile(t, name, []byte(content))
		if ok, err := b.store.SetAssetPreview(ctx, a, catalog.PreviewUpdate{State: media.StateIcon}, time.Now()); err != nil || !ok {
			t.Fatalf("recording the old icon: %v %v", ok, err)
		}
		return b.reload(t, a.ID)
	}
	logo := old("logo.svg", `<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#c00"/></svg>`)
	fake := old("fake.svg", "not a drawing")
	archive := old("files.zip", "PK\x03\x04")
	conn := &openCounter{Connector: b.conn}
	withTools := media.NewService(media.ServiceConfig{
		Store:     b.store,
		Connect:   func(context.Context, int64) (storage.Connector, error) { return conn, nil },
		Generator: media.NewGenerator(media.Config{TempDir: t.TempDir(), Tools: tools}),
		Thumbs:    b.thumbs,
	})
	serve := func(a catalog.Asset) string {
		rec := httptest.NewRecorder()
		withTools.ServeThumb(rec, httptest.NewRequest(http.MethodGet, "/thumb", nil), a, media.SizeThumb)
		return rec.Header().Get("Content-Type")
	}
	if got := serve(logo); got != "image/jpeg" {
		t.Fatalf("the old SVG icon: served %q, want its newly made JPEG", got)
	}
	if a := b.reload(t, logo.ID); a.PreviewState != media.StateReady {
		t.Errorf("the old SVG icon: state %q, want ready", a.PreviewState)
	}
	conn.opens.Store(0)
	for range 3 {
		if got := serve(b.reload(t, fake.ID)); got != "image/svg+xml" {
			t.Fatalf("fake.svg served %q, want its icon", got)
		}
		serve(archive)
	}
	if n := conn.opens.Load(); n != 1 {
		t.Errorf("the storage was opened %d times for 3 requests each of fake.svg and files.zip, want once", n)
	}
}
