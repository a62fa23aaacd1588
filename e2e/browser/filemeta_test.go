package browser

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAssetPageFileMetadata: at desktop and phone width, the asset page of
// a JPEG tagged in Lightroom shows what its file says (creator, copyright,
// lens, location) and where each team value came from, without sideways
// scrolling.
func TestAssetPageFileMetadata(t *testing.T) {
	exiftool, err := exec.LookPath("exiftool")
	if err != nil {
		t.Skip("exiftool is not installed: apt-get install libimage-exiftool-perl (scripts/test-all installs it)")
	}
	s := startShelf(t)
	im := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range im.Pix {
		im.Pix[i] = uint8(i)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, im, nil); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(s.Root, "lightroom-export.jpg")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(exiftool, "-q", "-overwrite_original", "-XMP-dc:Title=Harbour at dawn",
		"-XMP-dc:Subject=harbour", "-XMP-dc:Subject=boats, fog", "-XMP-xmp:Rating=4", "-XMP-dc:Creator=Ann Example",
		"-XMP-dc:Rights=© 2026 Ann Example, all rights reserved", "-ExifIFD:LensModel=EF 24-70mm f/2.8L II USM",
		"-GPSLatitude=52.520008", "-GPSLatitudeRef=N", "-GPSLongitude=13.404954", "-GPSLongitudeRef=E", file).CombinedOutput(); err != nil {
		t.Fatalf("exiftool: %v\n%s", err, out)
	}
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "filemeta@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)
	var assetID int64
	deadline := time.Now().Add(waitLimit)
	for assetID == 0 {
		_, res := apiJSON(b, ctx, "GET", "/assets?q=lightroom-export", nil)
		for _, a := range res["assets"].([]any) {
			if m := a.(map[string]any); m["title"] == "Harbour at dawn" {
				assetID = int64(m["id"].(float64))
			}
		}
		if assetID == 0 && time.Now().After(deadline) {
			t.Fatalf("the file's metadata was not read: %v", res)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, width := range []string{"desktop", "phone"} {
		if width == "desktop" {
			b.desktop(ctx)
		} else {
			b.phone(ctx)
		}
		b.open(ctx, s.URL, fmt.Sprintf("/assets/%d", assetID))
		b.waitFor(ctx, "the file metadata block", `!!document.getElementById('file-metadata')`)
		text := eval[string](b, ctx, textOf("#file-metadata"))
		for _, want := range []string{"Ann Example", "EF 24-70mm", "52.52001, 13.40495", "Title", "the file"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the block lacks %q: %s", width, want, text)
			}
		}
		if got := eval[string](b, ctx, `document.getElementById('m-tags').value`); got != "harbour, boats, fog" {
			t.Errorf("%s: tags field %q", width, got)
		}
		b.checkPage(ctx, "asset-file-metadata-"+width)
	}

	// Settings → Storage: the admin turns writing into the files on and
	// off; the box says so and the account keeps it.
	for _, width := range []string{"desktop", "phone"} {
		if width == "desktop" {
			b.desktop(ctx)
		} else {
			b.phone(ctx)
		}
		b.open(ctx, s.URL, "/settings/storage")
		b.waitFor(ctx, "the write-back setting", `!!document.getElementById('write-metadata')`)
		was := eval[bool](b, ctx, `document.getElementById('write-metadata').checked`)
		b.do(ctx, "switching the write-back setting", chromedp.Click(chromedp.ID("write-metadata")))
		want := "On:"
		if was {
			want = "Off:"
		}
		b.waitFor(ctx, "the saved setting", fmt.Sprintf(`document.getElementById('write-metadata-status').textContent.startsWith(%q)`, want))
		if _, res := apiJSON(b, ctx, "GET", "/account", nil); res["account"].(map[string]any)["write_metadata_to_files"] != !was {
			t.Errorf("%s: the account says %v after switching from %v", width, res["account"], was)
		}
		b.checkPage(ctx, "storage-write-metadata-"+width)
		b.open(ctx, s.URL, "/settings/storage")
		if got := eval[bool](b, ctx, `document.getElementById('write-metadata').checked`); got != !was {
			t.Errorf("%s: after a reload the box is %v", width, got)
		}
	}
}
