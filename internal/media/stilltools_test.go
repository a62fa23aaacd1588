package media

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/testenv"
)

// stillToolsOrSkip returns the installed tools, skipping the test when
// those for kind k (or the extra programs a test needs to make its
// sample) are absent.
func stillToolsOrSkip(t *testing.T, k kind, extra ...string) Tools {
	t.Helper()
	tools := DetectTools(nil)
	if !tools.canMake(k) {
		t.Skipf("the tools for %s are not installed: scripts/test-all installs them (Debian package %s)",
			stillKinds[k].what, stillKinds[k].pkg)
	}
	for _, p := range extra {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s is not installed: scripts/test-all installs it", p)
		}
	}
	return tools
}

// run runs a program to make a test sample.
func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// wantTwoTone checks that a preview still shows twoTone's red left and
// blue right halves.
func wantTwoTone(t *testing.T, img image.Image) {
	t.Helper()
	b := img.Bounds()
	l, r := img.At(b.Min.X+b.Dx()/5, b.Dy()/2), img.At(b.Max.X-1-b.Dx()/5, b.Dy()/2)
	if !isReddish(l) || !isBluish(r) {
		t.Errorf("preview colours: left %v, right %v; want red | blue", l, r)
	}
}

func stillGenerator(t *testing.T, tools Tools) *Generator {
	return NewGenerator(Config{Tools: tools, TempDir: t.TempDir(), ToolTimeout: 30 * time.Second})
}

func TestHEICPreview(t *testing.T) {
	t.Parallel()
	tools := stillToolsOrSkip(t, kindHEIF, "heif-enc")
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "in.png"), twoTone(640, 320))
	run(t, "heif-enc", "-q", "80", "-o", filepath.Join(dir, "photo.heic"), filepath.Join(dir, "in.png"))
	data, err := os.ReadFile(filepath.Join(dir, "photo.heic"))
	if err != nil {
		t.Fatal(err)
	}
	if k := classify(data, "photo.heic", ""); k != kindHEIF {
		t.Fatalf("classified as %d, want HEIF", k)
	}
	res := makeResult(t, stillGenerator(t, tools), "photo.heic", "image/heic", data)
	thumb, preview := wantReady(t, res, 640, 320)
	if tb := thumb.Bounds(); tb.Dx() != 400 || tb.Dy() != 200 {
		t.Errorf("thumb is %v, want 400×200", tb.Size())
	}
	if pb := preview.Bounds(); pb.Dx() != 640 {
		t.Errorf("preview is %v, want 640 wide (never enlarged)", pb.Size())
	}
	wantTwoTone(t, preview)
}

// psdFile writes img as a minimal Photoshop file: the header, empty
// colour-mode, resource and layer sections, and the composite image as
// raw 8-bit RGB planes (the layout of the PSD specification).
func psdFile(img image.Image) []byte {
	b := img.Bounds()
	var out bytes.Buffer
	out.WriteString("8BPS")
	be := binary.BigEndian
	out.Write(be.AppendUint16(nil, 1)) // version
	out.Write(make([]byte, 6))         // reserved
	out.Write(be.AppendUint16(nil, 3)) // channels
	out.Write(be.AppendUint32(nil, uint32(b.Dy())))
	out.Write(be.AppendUint32(nil, uint32(b.Dx())))
	out.Write(be.AppendUint16(nil, 8)) // depth
	out.Write(be.AppendUint16(nil, 3)) // colour mode: RGB
	out.Write(make([]byte, 4*3))       // colour mode data, image resources, layers: empty
	out.Write(be.AppendUint16(nil, 0)) // composite: raw
	for ch := range 3 {
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
				out.WriteByte([]uint8{c.R, c.G, c.B}[ch])
			}
		}
	}
	return out.Bytes()
}

func TestPSDPreview(t *testing.T) {
	t.Parallel()
	tools := stillToolsOrSkip(t, kindPSD)
	data := psdFile(twoTone(120, 60))
	res := makeResult(t, stillGenerator(t, tools), "poster.psd", "image/vnd.adobe.photoshop", data)
	_, preview := wantReady(t, res, 120, 60)
	wantTwoTone(t, preview)
}

// animatedGIF has two frames: red, then blue.
func animatedGIF(w, h int) []byte { return testenv.TwoFrameGIF(w, h, 30) }

func TestAnimatedGIFThumbnailIsTheFirstFrame(t *testing.T) {
	t.Parallel()
	res := makeResult(t, NewGenerator(Config{}), "spin.gif", "image/gif", animatedGIF(60, 40))
	thumb, _ := wantReady(t, res, 60, 40)
	if c := thumb.At(30, 20); !isReddish(c) {
		t.Errorf("thumbnail colour %v, want the first (red) frame", c)
	}
}

func TestAnimatedWebPPreview(t *testing.T) {
	t.Parallel()
	tools := stillToolsOrSkip(t, kindAnimWebP, "vips")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.gif"), animatedGIF(60, 40), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "vips", "copy", filepath.Join(dir, "in.gif")+"[n=-1]", filepath.Join(dir, "spin.webp"))
	data, err := os.ReadFile(filepath.Join(dir, "spin.webp"))
	if err != nil {
		t.Fatal(err)
	}
	if !isAnimatedWebP(data) {
		t.Fatalf("vips did not write an animated WebP (head % x)", data[:min(32, len(data))])
	}
	res := makeResult(t, stillGenerator(t, tools), "spin.webp", "image/webp", data)
	thumb, _ := wantReady(t, res, 60, 40)
	if c := thumb.At(30, 20); !isReddish(c) {
		t.Errorf("thumbnail colour %v, want the first (red) frame", c)
	}
}

func TestSVGPreviewIsRenderedWithoutOutsideFiles(t *testing.T) {
	t.Parallel()
	tools := stillToolsOrSkip(t, kindSVG)
	// A red PNG next to nothing the SVG knows: an absolute reference to it
	// must not be followed, nor may a script run.
	secret := filepath.Join(t.TempDir(), "secret.png")
	red := image.NewRGBA(image.Rect(0, 0, 10, 10))
	for i := range red.Pix {
		red.Pix[i] = []uint8{230, 0, 0, 255}[i%4]
	}
	writePNG(t, secret, red)
	svg := `<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="100" viewBox="0 0 200 100">
  <script>alert(1)</script>
  <rect x="0" y="0" width="100" height="100" fill="#dc0000"/>
  <rect x="100" y="0" width="100" height="100" fill="#0000dc"/>
  <image x="100" y="0" width="100" height="100" xlink:href="file://` + secret + `"/>
  <image x="100" y="0" width="100" height="100" href="secret.png"/>
</svg>`
	res := makeResult(t, stillGenerator(t, tools), "logo.svg", "image/svg+xml", []byte(svg))
	if res.State != StateReady {
		t.Fatalf("state %q (%s; %s), want ready", res.State, res.Error, res.Detail)
	}
	if res.Facts.Width != nil {
		t.Errorf("an SVG has no pixel size, got width %v", *res.Facts.Width)
	}
	preview := decodeJPEG(t, res.Preview)
	if pb := preview.Bounds(); pb.Dx() != 1600 || pb.Dy() != 800 {
		t.Errorf("preview is %v, want 1600×800 (drawn to the preview size)", pb.Size())
	}
	wantTwoTone(t, preview) // the right half stays blue: the outside PNG was not drawn
}

func TestCameraRAWPreviewFromEmbeddedJPEG(t *testing.T) {
	t.Parallel()
	tools := stillToolsOrSkip(t, kindRAW)
	jpg := jpegWithExif(t, twoTone(64, 48), nil)
	raw := buildExif(exifSpec{orientation: 6, make: "Shelf", model: "Test Camera", rawPreview: jpg})
	g := stillGenerator(t, tools)
	for _, name := range []string{"IMG_0001.DNG", "DSC_0001.NEF", "DSC00001.ARW", "IMG_0001.CR2"} {
		t.Run(name, func(t *testing.T) {
			if k := classify(raw, name, ""); k != kindRAW {
				t.Fatalf("classified as %d, want RAW", k)
			}
			res := makeResult(t, g, name, "", raw)
			// Turned 90° clockwise: 48×64, the red half on top.
			thumb, _ := wantReady(t, res, 48, 64)
			if top, bottom := thumb.At(24, 8), thumb.At(24, 56); !isReddish(top) || !isBluish(bottom) {
				t.Errorf("thumb colours top %v, bottom %v; want red over blue (orientation applied)", top, bottom)
			}
			if res.Facts.Camera != "Shelf Test Camera" {
				t.Errorf("camera = %q", res.Facts.Camera)
			}
		})
	}
	t.Run("no preview", func(t *testing.T) {
		bare := buildExif(exifSpec{make: "Shelf", model: "Test Camera"})
		res := makeResult(t, g, "bare.dng", "", bare)
		if res.State != StateIcon || !strings.Contains(res.Error, "no embedded preview") {
			t.Errorf("state %q, error %q; want icon saying there is no embedded preview", res.State, res.Error)
		}
	})
}

func TestStillFormatsWithoutToolsGetIconsWithANote(t *testing.T) {
	t.Parallel()
	g := NewGenerator(Config{}) // no tools at all
	cases := []struct{ name, data, pkg string }{
		{"photo.heic", "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "libvips-tools"},
		{"poster.psd", "8BPS\x00\x01\x00\x00\x00\x00\x00\x00\x00\x03", "libvips-tools"},
		{"spin.webp", "RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02\x00\x00\x00", "libvips-tools"},
		{"IMG_1.CR3", "\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01", "libimage-exiftool-perl"},
		{"IMG_1.DNG", "II*\x00\x08\x00\x00\x00\x00\x00", "libimage-exiftool-perl"},
		{"logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>", "librsvg2-bin"},
		{"clip.mp4", "\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", "ffmpeg"},
		{"doc.pdf", "%PDF-1.4\n", "poppler-utils"},
	}
	for _, c := range cases {
		res := makeResult(t, g, c.name, "", []byte(c.data))
		if res.State != StateIcon || !strings.Contains(res.Error, "install "+c.pkg) {
			t.Errorf("%s: state %q, error %q; want an icon and a note to install %s", c.name, res.State, res.Error, c.pkg)
		}
		if got := Reason(res.Error); strings.Contains(got, "/") && !strings.Contains(got, "HEIC/HEIF") {
			t.Errorf("%s: the note %q names a path", c.name, got)
		}
	}
}

func TestClassifyStillFormats(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, mime, head string
		want             kind
	}{
		{"a.heic", "", "\x00\x00\x00\x18ftypheic", kindHEIF},
		{"a.avif", "", "\x00\x00\x00\x18ftypavif", kindHEIF},
		{"a.bin", "", "8BPS\x00\x01", kindPSD},
		{"a.cr2", "", "II*\x00\x10\x00\x00\x00CR\x02\x00", kindRAW},
		{"a.cr3", "", "\x00\x00\x00\x18ftypcrx ", kindRAW},
		{"a.nef", "", "MM\x00*\x00\x00\x00\x08", kindRAW},
		{"scan.tif", "", "II*\x00\x08\x00\x00\x00", kindImage},
		{"a.raf", "", "FUJIFILMCCD-RAW 0201", kindRAW},
		{"a.rw2", "", "IIU\x00\x18\x00\x00\x00", kindRAW},
		{"a.svg", "", "\xef\xbb\xbf\n<svg>", kindSVG},
		{"a", "image/svg+xml; charset=utf-8", "<?xml version='1.0'?><svg/>", kindSVG},
		{"a.svg", "", "not markup", kindOther},
		{"a.webp", "", "RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02\x00\x00\x00", kindAnimWebP},
		{"a.webp", "", "RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x10\x00\x00\x00", kindImage},
		{"a.mp4", "", "\x00\x00\x00\x18ftypmp42", kindVideo},
	}
	for _, c := range cases {
		if got := classify([]byte(c.head), c.name, c.mime); got != c.want {
			t.Errorf("classify(%q, %q) = %d, want %d", c.name, c.head, got, c.want)
		}
	}
}
