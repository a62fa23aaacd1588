package media

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"io"
	"strings"
	"testing"
	"time"
)

func makeResult(t *testing.T, g *Generator, name, mime string, data []byte) Result {
	t.Helper()
	res, err := g.Make(context.Background(), name, mime, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Make(%s): %v", name, err)
	}
	return res
}

func wantReady(t *testing.T, res Result, w, h int) (thumb, preview image.Image) {
	t.Helper()
	if res.State != StateReady {
		t.Fatalf("state = %q (%s), want ready", res.State, res.Error)
	}
	if res.Facts.Width == nil || res.Facts.Height == nil || *res.Facts.Width != w || *res.Facts.Height != h {
		t.Fatalf("facts size = %v×%v, want %d×%d", deref(res.Facts.Width), deref(res.Facts.Height), w, h)
	}
	return decodeJPEG(t, res.Thumb), decodeJPEG(t, res.Preview)
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestMakeEveryImageFormat(t *testing.T) {
	t.Parallel()
	g := NewGenerator(Config{})
	img := twoTone(1000, 500)
	small := twoTone(40, 20)
	cases := []struct {
		name string
		data []byte
		w, h int
	}{
		{"photo.jpg", jpegWithExif(t, img, nil), 1000, 500},
		{"shot.png", pngWithExif(t, img, nil), 1000, 500},
		{"anim.gif", encodeGIF(t, small), 40, 20},
		{"scan.tiff", encodeTIFF(t, img), 1000, 500},
		{"red.webp", mustHex(t, webpLosslessHex), 8, 6},
		{"blue.webp", mustHex(t, webpLossyHex), 16, 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The MIME type is deliberately generic: formats are sniffed.
			res := makeResult(t, g, c.name, "application/octet-stream", c.data)
			thumb, preview := wantReady(t, res, c.w, c.h)
			tb, pb := thumb.Bounds(), preview.Bounds()
			if max(tb.Dx(), tb.Dy()) > 400 || max(pb.Dx(), pb.Dy()) > 1600 {
				t.Errorf("thumb %v / preview %v exceed 400 / 1600 px", tb.Size(), pb.Size())
			}
			if c.w >= 400 {
				if tb.Dx() != 400 || tb.Dy() != 200 {
					t.Errorf("thumb is %v, want 400×200 (aspect kept)", tb.Size())
				}
				if pb.Dx() != c.w || pb.Dy() != c.h {
					t.Errorf("preview is %v, want %d×%d (never scaled up)", pb.Size(), c.w, c.h)
				}
			} else if tb.Dx() != c.w || tb.Dy() != c.h {
				t.Errorf("small image thumb is %v, want the original %d×%d", tb.Size(), c.w, c.h)
			}
		})
	}
}

func TestMakeAppliesExifOrientationAndReadsFacts(t *testing.T) {
	t.Parallel()
	g := NewGenerator(Config{})
	// Stored wide (left red, right blue); orientation 6 says "rotate 90°
	// clockwise to show", so the shown image is tall with red on top.
	exif := buildExif(exifSpec{orientation: 6, make: "NIKON CORPORATION", model: "NIKON D850",
		original: "2024:05:17 14:03:22", offset: "+02:00", dateTime: "2024:06:01 10:00:00"})
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"rotated.jpg", jpegWithExif(t, twoTone(80, 40), exif)},
		{"rotated.png", pngWithExif(t, twoTone(80, 40), exif)},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := makeResult(t, g, c.name, "", c.data)
			thumb, _ := wantReady(t, res, 40, 80)
			b := thumb.Bounds()
			if b.Dx() != 40 || b.Dy() != 80 {
				t.Fatalf("thumb is %v, want 40×80 (rotated)", b.Size())
			}
			if top := thumb.At(20, 10); !isReddish(top) {
				t.Errorf("top of the upright image is %v, want red", top)
			}
			if bottom := thumb.At(20, 70); !isBluish(bottom) {
				t.Errorf("bottom of the upright image is %v, want blue", bottom)
			}
			want := time.Date(2024, 5, 17, 12, 3, 22, 0, time.UTC)
			if res.Facts.TakenAt == nil || !res.Facts.TakenAt.Equal(want) {
				t.Errorf("taken at %v, want %v (original time with its offset)", deref(res.Facts.TakenAt), want)
			}
			if res.Facts.Camera != "NIKON D850" {
				t.Errorf("camera = %q, want %q", res.Facts.Camera, "NIKON D850")
			}
		})
	}
}

// TestMakeAppliesEveryExifOrientation stores a picture with four
// coloured quadrants under each EXIF orientation and checks where each
// quadrant is shown: 0th row and column land where the EXIF standard
// says (2 mirrored, 3 upside down, 6 needs a clockwise quarter turn...).
func TestMakeAppliesEveryExifOrientation(t *testing.T) {
	t.Parallel()
	quadrants := map[string]color.RGBA{
		"red": {R: 220, A: 255}, "green": {G: 220, A: 255},
		"blue": {B: 220, A: 255}, "yellow": {R: 220, G: 220, A: 255},
	}
	// Stored: red top-left, green top-right, blue bottom-left, yellow
	// bottom-right.
	stored := image.NewRGBA(image.Rect(0, 0, 60, 40))
	for y := range 40 {
		for x := range 60 {
			name := [2][2]string{{"red", "green"}, {"blue", "yellow"}}[y/20][x/30]
			stored.SetRGBA(x, y, quadrants[name])
		}
	}
	nearest := func(c color.Color) string {
		r, g, b, _ := c.RGBA()
		best, bestD := "", uint32(1<<31)
		for name, q := range quadrants {
			qr, qg, qb, _ := q.RGBA()
			d := absDiff(r, qr)>>4 + absDiff(g, qg)>>4 + absDiff(b, qb)>>4
			if d < bestD {
				best, bestD = name, d
			}
		}
		return best
	}
	// Shown top-left, top-right, bottom-left, bottom-right.
	want := map[int][4]string{
		1: {"red", "green", "blue", "yellow"},
		2: {"green", "red", "yellow", "blue"},
		3: {"yellow", "blue", "green", "red"},
		4: {"blue", "yellow", "red", "green"},
		5: {"red", "blue", "green", "yellow"},
		6: {"blue", "red", "yellow", "green"},
		7: {"yellow", "green", "blue", "red"},
		8: {"green", "yellow", "red", "blue"},
	}
	g := NewGenerator(Config{})
	for o := 1; o <= 8; o++ {
		exif := buildExif(exifSpec{orientation: o})
		for name, data := range map[string][]byte{"png": pngWithExif(t, stored, exif), "jpeg": jpegWithExif(t, stored, exif)} {
			w, h := 60, 40
			if o >= 5 {
				w, h = 40, 60
			}
			thumb, _ := wantReady(t, makeResult(t, g, "o."+name, "", data), w, h)
			if got := thumb.Bounds().Size(); got != image.Pt(w, h) {
				t.Fatalf("orientation %d %s: thumb is %v, want %d×%d", o, name, got, w, h)
			}
			got := [4]string{nearest(thumb.At(w/4, h/4)), nearest(thumb.At(w*3/4, h/4)),
				nearest(thumb.At(w/4, h*3/4)), nearest(thumb.At(w*3/4, h*3/4))}
			if got != want[o] {
				t.Errorf("orientation %d %s: quadrants shown %v, want %v", o, name, got, want[o])
			}
		}
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestMakeReadsWebPExif(t *testing.T) {
	t.Parallel()
	g := NewGenerator(Config{})
	exif := buildExif(exifSpec{bigEndian: true, make: "Google", model: "Pixel 8", original: "2023:12:24 18:30:00"})
	data := webpWithExif(t, mustHex(t, webpLossyHex), 16, 8, exif)
	res := makeResult(t, g, "x.webp", "image/webp", data)
	wantReady(t, res, 16, 8)
	if res.Facts.Camera != "Google Pixel 8" {
		t.Errorf("camera = %q", res.Facts.Camera)
	}
	if res.Facts.TakenAt == nil || !res.Facts.TakenAt.Equal(time.Date(2023, 12, 24, 18, 30, 0, 0, time.UTC)) {
		t.Errorf("taken at %v", deref(res.Facts.TakenAt))
	}
}

func TestMakeFlattensTransparencyOntoWhite(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(0, 0, 20, 20)) // fully transparent
	res := makeResult(t, NewGenerator(Config{}), "clear.png", "image/png", pngWithExif(t, img, nil))
	thumb, _ := wantReady(t, res, 20, 20)
	r, g, b, _ := thumb.At(10, 10).RGBA()
	if r < 0xf000 || g < 0xf000 || b < 0xf000 {
		t.Errorf("transparent pixel became %v, want white", thumb.At(10, 10))
	}
}

func TestMakeCorruptFilesAreErrorsNotCrashes(t *testing.T) {
	t.Parallel()
	g := NewGenerator(Config{})
	good := jpegWithExif(t, twoTone(64, 64), buildExif(exifSpec{orientation: 3, make: "X"}))
	cases := map[string][]byte{
		"garbage.jpg":   append([]byte("\xff\xd8\xff\xe0"), bytes.Repeat([]byte{0x13, 0x37}, 300)...),
		"truncated.jpg": good[:len(good)/2],
		"bad.png":       append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte("junk"), 50)...),
		"bad.gif":       []byte("GIF89a\x10\x00\x10\x00garbage"),
		"bad.webp":      append([]byte("RIFF\x20\x00\x00\x00WEBPVP8 "), bytes.Repeat([]byte{0xff}, 40)...),
		"bad.tiff":      append([]byte("II*\x00\xff\xff\xff\x7f"), bytes.Repeat([]byte{1}, 64)...),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			res := makeResult(t, g, name, "", data)
			if res.State != StateError || res.Error == "" {
				t.Fatalf("state = %q, error = %q; want error with a message", res.State, res.Error)
			}
			if res.Thumb != nil {
				t.Error("an undecodable file produced a thumbnail")
			}
		})
	}
}

// TestMakeSurvivesMutatedFiles flips bytes all over valid files of every
// format: whatever the decoders make of them, Make must return, never panic.
func TestMakeSurvivesMutatedFiles(t *testing.T) {
	t.Parallel()
	g := NewGenerator(Config{})
	exif := buildExif(exifSpec{orientation: 6, make: "M", model: "N", original: "2020:01:02 03:04:05"})
	seeds := [][]byte{
		jpegWithExif(t, twoTone(32, 16), exif), pngWithExif(t, twoTone(32, 16), exif),
		encodeGIF(t, twoTone(16, 8)), encodeTIFF(t, twoTone(32, 16)),
		mustHex(t, webpLossyHex), webpWithExif(t, mustHex(t, webpLosslessHex), 8, 6, exif),
	}
	state := uint32(1)
	next := func() uint32 { state = state*1664525 + 1013904223; return state >> 8 }
	for _, seed := range seeds {
		for range 60 {
			data := append([]byte{}, seed...)
			for range 1 + next()%6 {
				data[int(next())%len(data)] = byte(next())
			}
			if next()%4 == 0 {
				data = data[:int(next())%len(data)]
			}
			res := makeResult(t, g, "m", "", data)
			if res.State != StateReady && res.State != StateError && res.State != StateIcon {
				t.Fatalf("unexpected state %q", res.State)
			}
		}
	}
}

func TestMakeRecoversFromDecoderPanic(t *testing.T) {
	// Registers a global image format; not parallel with the other tests of
	// this file that might sniff "BM" files (none do).
	image.RegisterFormat("shelf-panic", "BMPANIC", func(r io.Reader) (image.Image, error) { panic("boom") },
		func(r io.Reader) (image.Config, error) { panic("boom") })
	data := append([]byte("BMPANIC"), bytes.Repeat([]byte{0xAA}, 40)...)
	res := makeResult(t, NewGenerator(Config{}), "x.bmp", "image/bmp", data)
	if res.State != StateError || !strings.Contains(res.Detail, "crashed") {
		t.Fatalf("state = %q, error = %q; want a recorded crash", res.State, res.Error)
	}
}

func TestMakeRespectsLimits(t *testing.T) {
	t.Parallel()
	data := pngWithExif(t, twoTone(300, 200), nil)

	res := makeResult(t, NewGenerator(Config{MaxPixels: 300*200 - 1}), "big.png", "", data)
	if res.State != StateIcon || !strings.Contains(res.Error, "megapixel") {
		t.Errorf("over the pixel limit: state %q, error %q; want icon with a reason", res.State, res.Error)
	}
	if deref(res.Facts.Width) != 300 {
		t.Errorf("over the pixel limit the width is still known: got %v", deref(res.Facts.Width))
	}

	res = makeResult(t, NewGenerator(Config{MaxImageBytes: int64(len(data) - 10)}), "big.png", "", data)
	if res.State != StateIcon || !strings.Contains(res.Error, "larger than") {
		t.Errorf("over the byte limit: state %q, error %q; want icon with a reason", res.State, res.Error)
	}
}

func TestMakeOtherTypesGetIcons(t *testing.T) {
	t.Parallel()
	g := NewGenerator(Config{}) // no tools: videos and PDFs get icons
	cases := []struct{ name, mime, data, icon string }{
		{"notes.txt", "text/plain", "hello", IconText},
		{"clip.mp4", "video/mp4", "\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00", IconVideo},
		{"doc.pdf", "application/pdf", "%PDF-1.4\n", IconPDF},
		{"song.mp3", "audio/mpeg", "ID3\x03", IconAudio},
		{"data.bin", "", "\x00\x01\x02", IconFile},
		{"photo.heic", "", "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", IconImage},
	}
	for _, c := range cases {
		res := makeResult(t, g, c.name, c.mime, []byte(c.data))
		if res.State != StateIcon {
			t.Errorf("%s: state %q (%s), want icon", c.name, res.State, res.Error)
		}
		if got := IconName(c.name, c.mime); got != c.icon {
			t.Errorf("%s: icon %q, want %q", c.name, got, c.icon)
		}
		if svg := Icon(IconName(c.name, c.mime)); !bytes.HasPrefix(svg, []byte("<svg")) {
			t.Errorf("%s: icon is not an SVG", c.name)
		}
	}
}

func TestThumbnailColoursSurvive(t *testing.T) {
	t.Parallel()
	// A solid colour must come out as that colour (catches channel mix-ups
	// in the flatten step).
	img := image.NewRGBA(image.Rect(0, 0, 500, 500))
	for i := range img.Pix {
		img.Pix[i] = []byte{10, 200, 30, 255}[i%4]
	}
	res := makeResult(t, NewGenerator(Config{}), "g.png", "", pngWithExif(t, img, nil))
	thumb, _ := wantReady(t, res, 500, 500)
	c := color.NRGBAModel.Convert(thumb.At(200, 200)).(color.NRGBA)
	if c.G < 180 || c.R > 40 || c.B > 60 {
		t.Errorf("green became %v", c)
	}
}

// TestLargeRotatedJPEG covers the fast shrink of big photos: a 3401×1701
// JPEG stored sideways (orientation 6) comes out upright at the preview and
// thumbnail sizes, colours in place.
func TestLargeRotatedJPEG(t *testing.T) {
	t.Parallel()
	exif := buildExif(exifSpec{orientation: 6})
	res := makeResult(t, NewGenerator(Config{}), "big.jpg", "image/jpeg", jpegWithExif(t, twoTone(3401, 1701), exif))
	thumb, preview := wantReady(t, res, 1701, 3401)
	if got := preview.Bounds().Size(); got.Y != 1600 || got.X < 798 || got.X > 802 {
		t.Errorf("preview is %v, want about 800×1600", got)
	}
	if got := thumb.Bounds().Size(); got.Y != 400 || got.X < 198 || got.X > 202 {
		t.Errorf("thumb is %v, want about 200×400", got)
	}
	for _, img := range []image.Image{thumb, preview} {
		b := img.Bounds()
		if top := img.At(b.Dx()/2, b.Dy()/8); !isReddish(top) {
			t.Errorf("top of the upright %v image is %v, want red", b.Size(), top)
		}
		if bottom := img.At(b.Dx()/2, b.Dy()*7/8); !isBluish(bottom) {
			t.Errorf("bottom of the upright %v image is %v, want blue", b.Size(), bottom)
		}
	}
}
