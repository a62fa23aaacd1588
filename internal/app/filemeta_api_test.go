package app_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/embedmeta"
)

// writeTaggedJPEG writes a small JPEG under the local root with metadata
// set by exiftool (as Lightroom would), modified at mod.
func (e *env) writeTaggedJPEG(rel string, mod time.Time, tags ...string) string {
	e.t.Helper()
	im := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range im.Pix {
		im.Pix[i] = uint8(i * 7)
	}
	im.Set(0, 0, color.White)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, im, nil); err != nil {
		e.t.Fatal(err)
	}
	e.writeFile(rel, b.String())
	p := filepath.Join(e.local, rel)
	e.exiftool(p, mod, tags...)
	return p
}

// exiftool sets tags on a file under the local root and its modification
// time to mod.
func (e *env) exiftool(p string, mod time.Time, tags ...string) {
	e.t.Helper()
	if len(tags) > 0 {
		if out, err := exec.Command("exiftool", append(append([]string{"-q", "-overwrite_original"}, tags...), p)...).CombinedOutput(); err != nil {
			e.t.Fatalf("exiftool: %v\n%s", err, out)
		}
	}
	if err := os.Chtimes(p, mod, mod); err != nil {
		e.t.Fatal(err)
	}
}

// assetNamed returns the asset of that name anywhere in the library.
func assetNamed(t *testing.T, c *apitest.Client, name string) map[string]any {
	t.Helper()
	for _, a := range c.Must(200, "GET", "/api/v1/assets?recursive=true", nil).List("assets") {
		if m := a.(map[string]any); m["name"] == name {
			return c.Must(200, "GET", "/api/v1/assets/"+itoa(apitest.Num(m["id"])), nil).Obj("asset")
		}
	}
	t.Fatalf("no asset %q in the library", name)
	return nil
}

// waitAsset polls an asset until ok holds (the metadata job runs after
// the sync) and returns it.
func waitAsset(t *testing.T, c *apitest.Client, name string, ok func(a map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		a := assetNamed(t, c, name)
		if ok(a) {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("asset %q did not get there in 30 s: %v", name, a)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tagsOf(a map[string]any) []string {
	var out []string
	for _, t := range a["tags"].([]any) {
		out = append(out, t.(string))
	}
	return out
}

func source(a map[string]any, field string) string {
	s, _ := a["file_metadata"].(map[string]any)["sources"].(map[string]any)[field].(map[string]any)
	src, _ := s["source"].(string)
	return src
}

// TestFileMetadataOnSync: a JPEG tagged in Lightroom shows its keywords,
// title, rating and facts after a sync; a RAW takes its values from its
// Lightroom sidecar, which is not listed as an asset; an orphan sidecar is
// noted on the run; a team edit survives syncs until the file's own
// metadata changes after it, and the newer of the two wins.
func TestFileMetadataOnSync(t *testing.T) {
	t.Parallel()
	needExiftool(t)
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		c, acct, _ := e.signup("meta@example.com", "Meta")
		base := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
		lr := e.writeTaggedJPEG("m/shoot/lr.jpg", base,
			"-XMP-dc:Title=Harbour", "-XMP-dc:Description=Fog, boats", "-XMP-dc:Subject=Harbour",
			"-XMP-dc:Subject=boats, fog", "-XMP-dc:Subject=🐱", "-XMP-xmp:Rating=4", "-XMP-dc:Creator=Ann",
			"-XMP-dc:Rights=© Ann", "-ExifIFD:LensModel=EF 50mm", "-GPSLatitude=52.5", "-GPSLatitudeRef=N",
			"-GPSLongitude=13.4", "-GPSLongitudeRef=E")
		e.writeFile("m/shoot/IMG_1.CR2", "not really a raw file")
		e.writeFile("m/shoot/IMG_1.xmp", strings.ReplaceAll(lightroomSidecarForTest, "\n", "\r\n"))
		e.writeFile("m/shoot/lost.xmp", lightroomSidecarForTest)
		e.writeFile("m/shoot/bad.jpg.xmp", "<<< not xml")
		e.writeTaggedJPEG("m/shoot/bad.jpg", base, "-XMP-dc:Title=Only embedded")
		run := e.connectLocal(c, acct, "m")

		a := waitAsset(t, c, "lr.jpg", func(a map[string]any) bool { return a["title"] == "Harbour" })
		if got := tagsOf(a); !slices.Equal(got, []string{"harbour", "boats, fog", "🐱"}) || a["rating"] != 4.0 || a["description"] != "Fog, boats" {
			t.Errorf("lr.jpg: tags %q, rating %v, description %q", got, a["rating"], a["description"])
		}
		fm := a["file_metadata"].(map[string]any)
		if fm["creator"] != "Ann" || fm["copyright"] != "© Ann" || fm["lens"] != "EF 50mm" || fm["gps"] == nil || fm["reader"] != "exiftool" {
			t.Errorf("lr.jpg facts: %v", fm)
		}
		if source(a, "title") != "file" {
			t.Errorf("title source = %q", source(a, "title"))
		}
		// The file facts are searchable (short and long words alike).
		for _, q := range []string{"ann", "EF 50mm", "50mm ©"} {
			var names []string
			for _, hit := range c.Must(200, "GET", "/api/v1/assets?recursive=true&q="+url.QueryEscape(q), nil).List("assets") {
				names = append(names, hit.(map[string]any)["name"].(string))
			}
			if !slices.Equal(names, []string{"lr.jpg"}) {
				t.Errorf("search %q found %q", q, names)
			}
		}
		raw := waitAsset(t, c, "IMG_1.CR2", func(a map[string]any) bool { return a["title"] == "From the sidecar" })
		if got := tagsOf(raw); !slices.Equal(got, []string{"raw", "lightroom"}) || raw["rating"] != 2.0 {
			t.Errorf("IMG_1.CR2: tags %q, rating %v", got, raw["rating"])
		}
		if raw["file_metadata"].(map[string]any)["sidecar_path"] != "shoot/IMG_1.xmp" {
			t.Errorf("IMG_1.CR2 sidecar: %v", raw["file_metadata"])
		}
		bad := waitAsset(t, c, "bad.jpg", func(a map[string]any) bool { return a["title"] == "Only embedded" })
		if notes, _ := bad["file_metadata"].(map[string]any)["notes"].(string); !strings.Contains(notes, "not XMP") {
			t.Errorf("bad.jpg notes = %q", notes)
		}
		for _, p := range libraryPaths(c) {
			if strings.HasSuffix(p, ".xmp") {
				t.Errorf("sidecar %s is listed as an asset", p)
			}
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			notes := c.Must(200, "GET", "/api/v1/sync/runs/"+itoa(run.ID), nil).List("notes")
			var texts []string
			for _, n := range notes {
				texts = append(texts, n.(map[string]any)["path"].(string)+": "+n.(map[string]any)["note"].(string))
			}
			all := strings.Join(texts, "\n")
			if strings.Contains(all, "shoot/lost.xmp: orphan XMP sidecar") && strings.Contains(all, "shoot/bad.jpg: XMP sidecar is not XMP") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run notes lack the orphan sidecar and the bad one:\n%s", all)
			}
			time.Sleep(50 * time.Millisecond)
		}

		if page := string(c.Must(200, "GET", "/settings/sync", nil).Raw); !strings.Contains(page, "orphan XMP sidecar") {
			t.Error("the Sync page does not show the orphan sidecar")
		}

		// A team edit; the file then changes only its rating: the edit stays.
		id := itoa(apitest.Num(a["id"]))
		c.Must(200, "PATCH", "/api/v1/assets/"+id, map[string]any{"title": "Team title"})
		e.exiftool(lr, base.Add(time.Hour), "-XMP-xmp:Rating=5")
		e.syncNow(c, acct)
		a = waitAsset(t, c, "lr.jpg", func(a map[string]any) bool { return a["rating"] == 5.0 })
		if a["title"] != "Team title" || source(a, "title") != "shelf" || source(a, "rating") != "file" {
			t.Errorf("after a file change of another field: title %q (%s), rating source %s", a["title"], source(a, "title"), source(a, "rating"))
		}

		// The file changes the title, but its change is older than the
		// team's edit: the edit stays.
		e.exiftool(lr, base.Add(2*time.Hour), "-XMP-dc:Title=Older file title", "-XMP-xmp:Rating=1")
		e.syncNow(c, acct)
		a = waitAsset(t, c, "lr.jpg", func(a map[string]any) bool { return a["rating"] == 1.0 })
		if a["title"] != "Team title" {
			t.Errorf("an older file change replaced the team's title: %q", a["title"])
		}

		// The file changes the title after the edit: the file wins.
		e.exiftool(lr, time.Now().Add(time.Hour), "-XMP-dc:Title=Newer file title")
		e.syncNow(c, acct)
		a = waitAsset(t, c, "lr.jpg", func(a map[string]any) bool { return a["title"] == "Newer file title" })
		if source(a, "title") != "file" {
			t.Errorf("title source = %q", source(a, "title"))
		}
		page := string(c.Must(200, "GET", "/assets/"+id, nil).Raw)
		for _, want := range []string{"In the file", "Ann", "EF 50mm", `data-field="title" data-source="file"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the asset page lacks %q", want)
			}
		}
	})
}

const lightroomSidecarForTest = `<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmp:Rating="2">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">From the sidecar</rdf:li></rdf:Alt></dc:title>
   <dc:subject><rdf:Bag><rdf:li>raw</rdf:li><rdf:li>Lightroom</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
`

// needExiftool skips a test that needs exiftool where it is absent.
func needExiftool(t *testing.T) {
	t.Helper()
	if !embedmeta.FindExiftool().Available() {
		t.Skip("exiftool is not installed: apt-get install libimage-exiftool-perl (scripts/test-all installs it)")
	}
}
