package media

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"slices"
	"testing"

	"golang.org/x/image/tiff"
)

// exifSpec describes an EXIF block to build for a test.
type exifSpec struct {
	bigEndian   bool
	orientation int
	make, model string
	original    string // DateTimeOriginal
	offset      string // OffsetTimeOriginal
	dateTime    string // IFD0 DateTime
	// rawPreview, when set, makes the block a minimal camera RAW (DNG
	// layout): IFD0 is a reduced-resolution image holding this JPEG.
	rawPreview []byte
}

// buildExif writes a TIFF-structured EXIF block: IFD0 with Make, Model,
// Orientation, DateTime and a pointer to an EXIF IFD with DateTimeOriginal
// and OffsetTimeOriginal. Values longer than 4 bytes go to a data area.
func buildExif(s exifSpec) []byte {
	var bo interface {
		binary.ByteOrder
		binary.AppendByteOrder
	} = binary.LittleEndian
	hdr := []byte("II*\x00")
	if s.bigEndian {
		bo, hdr = binary.BigEndian, []byte("MM\x00*")
	}
	type entry struct {
		tag, typ uint16
		count    uint32
		val      []byte
		ptr      bool // val goes to the data area even when short; the entry holds its offset
	}
	ascii := func(tag uint16, v string) entry {
		b := append([]byte(v), 0)
		return entry{tag, typeASCII, uint32(len(b)), b, false}
	}
	short := func(tag uint16, v int) entry {
		b := make([]byte, 2)
		bo.PutUint16(b, uint16(v))
		return entry{tag, typeShort, 1, b, false}
	}
	long := func(tag uint16, v uint32) entry {
		b := make([]byte, 4)
		bo.PutUint32(b, v)
		return entry{tag, typeLong, 1, b, false}
	}
	var ifd0, exif []entry
	if s.make != "" {
		ifd0 = append(ifd0, ascii(tagMake, s.make))
	}
	if s.model != "" {
		ifd0 = append(ifd0, ascii(tagModel, s.model))
	}
	if s.orientation != 0 {
		ifd0 = append(ifd0, short(tagOrientation, s.orientation))
	}
	if s.dateTime != "" {
		ifd0 = append(ifd0, ascii(tagDateTime, s.dateTime))
	}
	if s.rawPreview != nil {
		ifd0 = append(ifd0, long(0x00fe, 1), short(0x0103, 6), // NewSubfileType: reduced; Compression: JPEG
			entry{0x0201, typeLong, 1, s.rawPreview, true}, long(0x0202, uint32(len(s.rawPreview))),
			entry{0xc612, typeByte, 4, []byte{1, 4, 0, 0}, false}) // DNGVersion 1.4
	}
	if s.original != "" {
		exif = append(exif, ascii(tagDateTimeOriginal, s.original))
	}
	if s.offset != "" {
		exif = append(exif, ascii(tagOffsetTimeOrig, s.offset))
	}
	ifdLen := func(n int) int { return 2 + 12*n + 4 }
	ifd0Off := 8
	hasExif := len(exif) > 0
	n0 := len(ifd0)
	if hasExif {
		n0++
	}
	exifOff := ifd0Off + ifdLen(n0)
	dataOff := exifOff
	if hasExif {
		dataOff += ifdLen(len(exif))
	}
	if hasExif {
		ifd0 = append(ifd0, long(tagExifIFD, uint32(exifOff)))
	}
	slices.SortFunc(ifd0, func(a, b entry) int { return int(a.tag) - int(b.tag) })
	var data []byte
	writeIFD := func(out []byte, es []entry) []byte {
		out = bo.AppendUint16(out, uint16(len(es)))
		for _, e := range es {
			out = bo.AppendUint16(out, e.tag)
			out = bo.AppendUint16(out, e.typ)
			out = bo.AppendUint32(out, e.count)
			if len(e.val) <= 4 && !e.ptr {
				v := make([]byte, 4)
				copy(v, e.val)
				out = append(out, v...)
			} else {
				out = bo.AppendUint32(out, uint32(dataOff+len(data)))
				data = append(data, e.val...)
			}
		}
		return bo.AppendUint32(out, 0)
	}
	out := append([]byte{}, hdr...)
	out = bo.AppendUint32(out, uint32(ifd0Off))
	out = writeIFD(out, ifd0)
	if hasExif {
		out = writeIFD(out, exif)
	}
	return append(out, data...)
}

// twoTone is a w×h image whose left half is red and right half blue.
func twoTone(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{R: 220, A: 255}
			if x >= w/2 {
				c = color.RGBA{B: 220, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

// jpegWithExif encodes img as JPEG and inserts an APP1 Exif segment right
// after the SOI marker.
func jpegWithExif(t *testing.T, img image.Image, exif []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if exif == nil {
		return b
	}
	payload := append([]byte("Exif\x00\x00"), exif...)
	seg := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{}, b[:2]...)
	out = append(out, seg...)
	return append(out, b[2:]...)
}

// pngWithExif encodes img as PNG and inserts an eXIf chunk after IHDR.
func pngWithExif(t *testing.T, img image.Image, exif []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if exif == nil {
		return b
	}
	ihdrEnd := 8 + 8 + 13 + 4
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(exif)))
	chunk = append(chunk, "eXIf"...)
	chunk = append(chunk, exif...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	out := append([]byte{}, b[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, b[ihdrEnd:]...)
}

func encodeGIF(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeTIFF(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := tiff.Encode(&buf, img, &tiff.Options{Compression: tiff.Deflate}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Known-good WebP files made with libwebp (ffmpeg -c:v libwebp): an 8×6
// lossless red image and a 16×8 lossy blue one.
const (
	webpLosslessHex = "5249464620000000574542505650384c140000002f074001000710f58ffe070082f0bf6d22a2ff21"
	webpLossyHex    = "524946463a00000057454250565038202e000000b001009d012a1000080002c04c25a00274010efe02ec00fef8472a3ff6d0ffff6d0ffff6d0ffa8ef06c914e48000"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// webpWithExif turns a simple-format WebP into the extended format (VP8X
// header with the EXIF flag) with an EXIF chunk.
func webpWithExif(t *testing.T, webp []byte, w, h int, exif []byte) []byte {
	t.Helper()
	vp8x := []byte("VP8X")
	vp8x = binary.LittleEndian.AppendUint32(vp8x, 10)
	flags := []byte{0x08, 0, 0, 0} // EXIF present
	vp8x = append(vp8x, flags...)
	put24 := func(v int) { vp8x = append(vp8x, byte(v), byte(v>>8), byte(v>>16)) }
	put24(w - 1)
	put24(h - 1)
	ex := []byte("EXIF")
	ex = binary.LittleEndian.AppendUint32(ex, uint32(len(exif)))
	ex = append(ex, exif...)
	if len(exif)%2 == 1 {
		ex = append(ex, 0)
	}
	body := append([]byte("WEBP"), vp8x...)
	body = append(body, webp[12:]...)
	body = append(body, ex...)
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	return append(out, body...)
}

// decodeJPEG decodes a produced thumbnail.
func decodeJPEG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the produced preview is not a JPEG: %v", err)
	}
	return img
}

// isReddish / isBluish tell the two halves of twoTone apart after JPEG
// compression and scaling.
func isReddish(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r > 0x8000 && b < 0x6000 && g < 0x6000
}

func isBluish(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return b > 0x8000 && r < 0x6000 && g < 0x6000
}
