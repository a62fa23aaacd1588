package app_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/embedmeta"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

// taggedJPEG returns a small JPEG carrying a title and a keyword.
func taggedJPEG(t *testing.T) []byte {
	t.Helper()
	im := image.NewRGBA(image.Rect(0, 0, 12, 9))
	for i := range im.Pix {
		im.Pix[i] = uint8(i * 13)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, im, nil); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "x.jpg")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("exiftool", "-q", "-overwrite_original", "-XMP-dc:Title=Original", "-XMP-dc:Subject=old", file).CombinedOutput(); err != nil {
		t.Fatalf("exiftool: %v\n%s", err, out)
	}
	out, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func uploadFile(name, mime string, content []byte) apitest.Multipart {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, name))
	h.Set("Content-Type", mime)
	pw, _ := mw.CreatePart(h)
	_, _ = pw.Write(content)
	_ = mw.Close()
	return apitest.Multipart{Body: &buf, ContentType: mw.FormDataContentType()}
}

// download returns an asset's original as the storage holds it.
func download(t *testing.T, c *apitest.Client, id string) []byte {
	t.Helper()
	return c.Must(200, "GET", "/api/v1/assets/"+id+"/download", nil).Raw
}

// readBack reads the metadata of content with exiftool, as another tool
// would after the file left Shelf.
func readBack(t *testing.T, content []byte) embedmeta.Meta {
	t.Helper()
	file := filepath.Join(t.TempDir(), "back.jpg")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	m, _ := embedmeta.ReadEmbedded(context.Background(), embedmeta.FindExiftool(), file)
	return m
}

// writeBackTargets are the storages write-back is tried on: local
// folders, the S3 fake, versitygw (full test run) and the Drive fake.
func writeBackTargets() []uploadTarget {
	return append(slices.Clone(uploadTargets), uploadTarget{"drivefake", func(t *testing.T, e *env, c *apitest.Client, accountID int64) func() []string {
		folder := e.connectDrive(c, accountID)
		return func() []string {
			var out []string
			for _, f := range e.drive.Children(folder) {
				if !f.Trashed {
					out = append(out, f.Name)
				}
			}
			slices.Sort(out)
			return out
		}
	}})
}

// TestWriteMetadataToFiles: with the account setting on, a team edit of
// title, tags and rating is written into the stored JPEG (read back by
// exiftool, pixels unchanged), into a Lightroom-named sidecar beside a RAW
// file (the RAW untouched, the sidecar not listed), refused with 423 while
// a sync holds the lock, and kept in the catalog with the reason shown
// when the file cannot be written; the next sync sees no difference.
func TestWriteMetadataToFiles(t *testing.T) {
	t.Parallel()
	needExiftool(t)
	for _, target := range writeBackTargets() {
		t.Run(target.name, func(t *testing.T) {
			t.Parallel()
			e := start(t, "sqlite")
			c, acct, _ := e.signup("wb-"+target.name+"@example.com", "WB")
			if on := c.Must(200, "GET", "/api/v1/account", nil).Obj("account")["write_metadata_to_files"]; on != false {
				t.Fatalf("write_metadata_to_files is %v by default", on)
			}
			stored := target.connect(t, e, c, acct)
			photo := taggedJPEG(t)
			raw := []byte("RAW sensor data that must never change")
			upload := func(name, mime string, content []byte) string {
				return itoa(apitest.Num(c.Must(201, "POST", "/api/v1/assets", uploadFile(name, mime, content)).List("assets")[0].(map[string]any)["id"]))
			}
			pid := upload("photo.jpg", "image/jpeg", photo)
			rid := upload("IMG_1.CR2", "image/x-canon-cr2", raw)
			bid := upload("broken.jpg", "image/jpeg", []byte("\xff\xd8\xff\xe0 not a JPEG"))
			waitAsset(t, c, "photo.jpg", func(a map[string]any) bool { return a["title"] == "Original" })

			// Off: the edit stays in the catalog, the file is untouched.
			c.Must(200, "PATCH", "/api/v1/assets/"+pid, map[string]any{"rating": 1})
			if !bytes.Equal(download(t, c, pid), photo) {
				t.Fatal("the file changed while write_metadata_to_files was off")
			}
			c.Must(200, "PATCH", "/api/v1/account", map[string]any{"write_metadata_to_files": true})

			a := c.Must(200, "PATCH", "/api/v1/assets/"+pid, map[string]any{"title": "Team title", "tags": []string{"Team, one", "🐱"}, "rating": 3}).Obj("asset")
			if fm := a["file_metadata"].(map[string]any); fm["write_error"] != "" || fm["written_at"] == nil {
				t.Fatalf("write-back of photo.jpg: %v", fm)
			}
			after := download(t, c, pid)
			m := readBack(t, after)
			if m.Title == nil || *m.Title != "Team title" || !slices.Equal(m.Tags, []string{"Team, one", "🐱"}) || m.Rating == nil || *m.Rating != 3 {
				t.Errorf("exiftool reads back title %q, tags %q, rating %v", textOrNil(m.Title), m.Tags, m.Rating)
			}
			if a["title"] != "Team title" || !slices.Equal(tagsOf(a), []string{"team, one", "🐱"}) {
				t.Errorf("the catalog holds title %q, tags %q", a["title"], tagsOf(a))
			}
			before, err1 := jpeg.Decode(bytes.NewReader(photo))
			now, err2 := jpeg.Decode(bytes.NewReader(after))
			if err1 != nil || err2 != nil || !bytes.Equal(before.(*image.YCbCr).Y, now.(*image.YCbCr).Y) || !bytes.Equal(before.(*image.YCbCr).Cb, now.(*image.YCbCr).Cb) {
				t.Errorf("the write-back changed the image data (%v, %v)", err1, err2)
			}

			r := c.Must(200, "PATCH", "/api/v1/assets/"+rid, map[string]any{"title": "Raw title", "tags": []string{"raw"}}).Obj("asset")
			if fm := r["file_metadata"].(map[string]any); fm["write_error"] != "" {
				t.Errorf("write-back of the RAW: %v", fm)
			}
			if !bytes.Equal(download(t, c, rid), raw) {
				t.Error("the RAW file itself was changed")
			}
			if list := stored(); !slices.ContainsFunc(list, func(p string) bool { return strings.HasSuffix(p, "IMG_1.xmp") }) {
				t.Errorf("no IMG_1.xmp sidecar in the storage: %q", list)
			}
			for _, p := range libraryPaths(c) {
				if strings.HasSuffix(p, ".xmp") {
					t.Errorf("the sidecar %s is listed as an asset", p)
				}
			}

			b := c.Must(200, "PATCH", "/api/v1/assets/"+bid, map[string]any{"title": "Kept anyway"}).Obj("asset")
			if b["title"] != "Kept anyway" || b["file_metadata"].(map[string]any)["write_error"] == "" {
				t.Errorf("a file that cannot be written: title %q, %v", b["title"], b["file_metadata"])
			}
			page := string(c.Must(200, "GET", "/assets/"+bid, nil).Raw)
			if !strings.Contains(page, `id="writeback-error"`) {
				t.Error("the asset page does not say why the write-back failed")
			}

			// The next sync sees no difference.
			run := e.syncNow(c, acct)
			if run.Counts.Added != 0 || run.Counts.Updated != 0 || run.Counts.Removed != 0 {
				t.Errorf("the sync after write-backs changed the library: %+v", run.Counts)
			}
			time.Sleep(300 * time.Millisecond) // a metadata read, had anything been pending
			if a := assetNamed(t, c, "photo.jpg"); a["title"] != "Team title" || source(a, "title") != "shelf" {
				t.Errorf("after the sync: title %q from %s", a["title"], source(a, "title"))
			}

			// While a sync holds the lock the edit is refused, the file kept.
			if _, err := e.a.Store.AcquireLease(context.Background(), acct, run.ID, "test", time.Now(), time.Minute); err != nil {
				t.Fatal(err)
			}
			if r := c.Do("PATCH", "/api/v1/assets/"+pid, map[string]any{"title": "Locked"}); r.Status != http.StatusLocked {
				t.Errorf("PATCH while locked: %d %s", r.Status, r.Raw)
			}
			if !bytes.Equal(download(t, c, pid), after) {
				t.Error("the file changed while the library was locked")
			}
		})
	}
}

// TestWriteBackRefusedByDrive: a Drive file the grant may read but not
// edit keeps the team's edit in Shelf and says why it is not in the file.
func TestWriteBackRefusedByDrive(t *testing.T) {
	t.Parallel()
	needExiftool(t)
	e := start(t, "sqlite")
	c, acct, _ := e.signup("ro@example.com", "RO")
	folder := e.connectDrive(c, acct)
	photo := taggedJPEG(t)
	id := e.drive.CreateFile(folder, "shared.jpg", "image/jpeg", photo)
	if err := e.drive.SetAccess(id, drivefake.AccessReader); err != nil {
		t.Fatal(err)
	}
	e.syncNow(c, acct)
	waitAsset(t, c, "shared.jpg", func(a map[string]any) bool { return a["title"] == "Original" })
	c.Must(200, "PATCH", "/api/v1/account", map[string]any{"write_metadata_to_files": true})
	aid := itoa(apitest.Num(assetNamed(t, c, "shared.jpg")["id"]))
	a := c.Must(200, "PATCH", "/api/v1/assets/"+aid, map[string]any{"title": "Edited in Shelf"}).Obj("asset")
	reason, _ := a["file_metadata"].(map[string]any)["write_error"].(string)
	if a["title"] != "Edited in Shelf" || !strings.Contains(reason, "does not allow") {
		t.Errorf("title %q, write_error %q", a["title"], reason)
	}
	if f, _ := e.drive.File(id); !bytes.Equal(f.Content, photo) {
		t.Error("the read-only Drive file was changed")
	}
	// A later sync keeps the edit: the file did not change.
	e.syncNow(c, acct)
	if a := assetNamed(t, c, "shared.jpg"); a["title"] != "Edited in Shelf" {
		t.Errorf("after a sync the title is %q", a["title"])
	}
}

// TestWriteBackNeverOverwritesAnOutsideChange: two edits in a row are both
// written (Shelf knows the version it wrote), but a file changed in the
// storage since the last sync is not overwritten: the edit is kept in
// Shelf with the reason, the outside change stays in the file.
func TestWriteBackNeverOverwritesAnOutsideChange(t *testing.T) {
	t.Parallel()
	needExiftool(t)
	e := start(t, "sqlite")
	c, acct, _ := e.signup("outside@example.com", "Outside")
	p := e.writeTaggedJPEG("o/pic.jpg", time.Now().Add(-time.Hour), "-XMP-dc:Title=First")
	e.connectLocal(c, acct, "o")
	a := waitAsset(t, c, "pic.jpg", func(a map[string]any) bool { return a["title"] == "First" })
	id := itoa(apitest.Num(a["id"]))
	c.Must(200, "PATCH", "/api/v1/account", map[string]any{"write_metadata_to_files": true})
	for _, title := range []string{"Second", "Third"} {
		r := c.Must(200, "PATCH", "/api/v1/assets/"+id, map[string]any{"title": title}).Obj("asset")
		if werr := r["file_metadata"].(map[string]any)["write_error"]; werr != "" {
			t.Fatalf("writing %q: %v", title, werr)
		}
		content, _ := os.ReadFile(p)
		if m := readBack(t, content); m.Title == nil || *m.Title != title {
			t.Fatalf("the file says %q after writing %q", textOrNil(m.Title), title)
		}
	}
	e.exiftool(p, time.Now().Add(time.Minute), "-XMP-dc:Title=Changed outside")
	r := c.Must(200, "PATCH", "/api/v1/assets/"+id, map[string]any{"title": "Fourth"}).Obj("asset")
	if werr, _ := r["file_metadata"].(map[string]any)["write_error"].(string); !strings.Contains(werr, "changed in the storage") || r["title"] != "Fourth" {
		t.Errorf("title %q, write_error %q", r["title"], werr)
	}
	content, _ := os.ReadFile(p)
	if m := readBack(t, content); m.Title == nil || *m.Title != "Changed outside" {
		t.Errorf("the outside change was overwritten: %q", textOrNil(m.Title))
	}
}

func textOrNil(p *string) string {
	if p == nil {
		return "<none>"
	}
	return *p
}
