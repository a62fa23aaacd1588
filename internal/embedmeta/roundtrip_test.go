package embedmeta

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/tiff"
)

// minimalPDF is a one-page PDF with a drawn rectangle and a correct
// cross-reference table.
func minimalPDF() string {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 4 0 R >>",
		"<< /Length 25 >>\nstream\n0 0 1 rg 10 10 50 50 re f\nendstream",
	}
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.String()
}

// TestWriteBackRoundTrip writes a title, description, keywords (with a
// comma, a semicolon and an emoji) and a rating into every format Shelf
// writes in place, reads them back, and checks the image data did not
// change: decoded pixels for images, the original bytes kept whole for PDF
// (exiftool appends an incremental update).
func TestWriteBackRoundTrip(t *testing.T) {
	t.Parallel()
	x := needExiftool(t)
	dir := t.TempDir()
	src := testImage()
	encode := map[string]func(*bytes.Buffer) error{
		"jpg": func(b *bytes.Buffer) error { return jpeg.Encode(b, src, &jpeg.Options{Quality: 85}) },
		"png": func(b *bytes.Buffer) error { return png.Encode(b, src) },
		"tif": func(b *bytes.Buffer) error { return tiff.Encode(b, src, &tiff.Options{Compression: tiff.Deflate}) },
		"dng": func(b *bytes.Buffer) error { return tiff.Encode(b, src, nil) },
		"pdf": func(b *bytes.Buffer) error { _, err := b.WriteString(minimalPDF()); return err },
	}
	decode := func(ext string, b []byte) (image.Image, error) {
		switch ext {
		case "jpg":
			return jpeg.Decode(bytes.NewReader(b))
		case "png":
			return png.Decode(bytes.NewReader(b))
		}
		return tiff.Decode(bytes.NewReader(b))
	}
	title, desc, rating := "Round trip", "Line one\nline two, with ü", 5
	tags := []string{"a, b", "semi;colon", "🐱", "plain"}
	for ext, enc := range encode {
		t.Run(ext, func(t *testing.T) {
			var b bytes.Buffer
			if err := enc(&b); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "f."+ext)
			if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if ext == "dng" { // a TIFF that says it is a DNG, as a camera's is
				exiftoolSet(t, x, file, "-IFD0:DNGVersion=1 4 0 0")
			}
			before, _ := os.ReadFile(file)
			if WriteTarget("f."+ext, "") != "embedded" {
				t.Fatalf("%s is not written in place", ext)
			}
			err := x.WriteEmbedded(context.Background(), file, Values{Title: &title, Description: &desc, Tags: &tags, Rating: &rating})
			if err != nil {
				t.Fatal(err)
			}
			after, _ := os.ReadFile(file)
			m, _ := ReadEmbedded(context.Background(), x, file)
			if str(m.Title) != title || str(m.Description) != desc || !slices.Equal(m.Tags, tags) || m.Rating == nil || *m.Rating != rating {
				t.Errorf("read back: title %q, description %q, tags %q, rating %v", str(m.Title), str(m.Description), m.Tags, m.Rating)
			}
			if ext == "pdf" {
				if !bytes.HasPrefix(after, before) || len(after) == len(before) {
					t.Errorf("the PDF's original bytes changed (%d → %d bytes)", len(before), len(after))
				}
				return
			}
			want, err := decode(ext, before)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decode(ext, after)
			if err != nil {
				t.Fatalf("the rewritten file no longer decodes: %v", err)
			}
			if !slices.Equal(rgba(want).Pix, rgba(got).Pix) {
				t.Errorf("writing metadata changed the pixels of the %s", ext)
			}
			// Clearing: empty values remove the fields.
			empty, none, zero := "", []string{}, 0
			if err := x.WriteEmbedded(context.Background(), file, Values{Title: &empty, Tags: &none, Rating: &zero}); err != nil {
				t.Fatal(err)
			}
			if m, _ := ReadEmbedded(context.Background(), x, file); m.Title != nil || len(m.Tags) != 0 || m.Rating != nil {
				t.Errorf("after clearing: title %q, tags %q, rating %v", str(m.Title), m.Tags, m.Rating)
			}
		})
	}
}

func rgba(im image.Image) *image.RGBA {
	out := image.NewRGBA(im.Bounds())
	draw.Draw(out, out.Bounds(), im, im.Bounds().Min, draw.Src)
	return out
}

// A RAW file's or a video's metadata goes to a sidecar that exiftool
// creates, named as Lightroom looks for it; the file itself is not
// opened for writing.
func TestWriteSidecarCreatesLightroomSidecar(t *testing.T) {
	t.Parallel()
	x := needExiftool(t)
	for _, name := range []string{"IMG_1.CR2", "clip.mp4"} {
		if got := WriteTarget(name, ""); got != "sidecar" {
			t.Errorf("WriteTarget(%q) = %q", name, got)
		}
	}
	if WriteTarget("clip.bin", "video/quicktime") != "sidecar" || WriteTarget("notes.txt", "text/plain") != "" {
		t.Error("targets by MIME type are wrong")
	}
	file := filepath.Join(t.TempDir(), "IMG_1.xmp")
	title, tags := "Sidecar title", []string{"x, y", "z"}
	if err := x.WriteSidecar(context.Background(), file, Values{Title: &title, Tags: &tags}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	m := ReadSidecar(f)
	if str(m.Title) != title || !slices.Equal(m.Tags, tags) {
		t.Errorf("sidecar read back: %q %q", str(m.Title), m.Tags)
	}
}

// A file exiftool cannot write gives an error and stays as it was.
func TestWriteEmbeddedCorruptFile(t *testing.T) {
	t.Parallel()
	x := needExiftool(t)
	file := filepath.Join(t.TempDir(), "broken.jpg")
	content := []byte("\xff\xd8\xff\xe0 this is not really a JPEG")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	title := "x"
	if err := x.WriteEmbedded(context.Background(), file, Values{Title: &title}); err == nil {
		t.Fatal("writing into a corrupt JPEG succeeded")
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(after, content) {
		t.Error("the corrupt file was changed")
	}
}

// A file with a minor fault exiftool would "fix" by dropping part of it
// (here an EXIF IFD1 pointer past the end, which -m deletes) is not
// written: the write fails and the file stays as it was.
func TestWriteEmbeddedMinorFaultIsNotWritten(t *testing.T) {
	t.Parallel()
	x := needExiftool(t)
	file := writeJPEG(t, t.TempDir(), "fault.jpg")
	exiftoolSet(t, x, file, "-IFD0:Make=Canon", "-IFD0:Model=EOS")
	content, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tiff := bytes.Index(content, []byte("Exif\x00\x00")) + 6
	order := binary.ByteOrder(binary.BigEndian)
	if string(content[tiff:tiff+2]) == "II" {
		order = binary.LittleEndian
	}
	ifd0 := tiff + int(order.Uint32(content[tiff+4:]))
	next := ifd0 + 2 + 12*int(order.Uint16(content[ifd0:]))
	order.PutUint32(content[next:], 0x7fff) // IFD1 beyond the end
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	d := "a description"
	if err := x.WriteEmbedded(context.Background(), file, Values{Description: &d}); err == nil {
		t.Fatal("writing into a file with a bad IFD1 succeeded")
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(after, content) {
		t.Error("the file was changed")
	}
}

// Clearing the title and the rating clears them everywhere the reader
// looks (IPTC ObjectName, EXIF Rating), so they do not come back on the
// next read.
func TestWriteEmbeddedClearsEveryCopy(t *testing.T) {
	t.Parallel()
	x := needExiftool(t)
	file := writeJPEG(t, t.TempDir(), "copies.jpg")
	exiftoolSet(t, x, file, "-XMP-dc:Title=Old", "-IPTC:ObjectName=Old", "-XMP-xmp:Rating=4", "-IFD0:Rating=4")
	empty, none := "", 0
	if err := x.WriteEmbedded(context.Background(), file, Values{Title: &empty, Rating: &none}); err != nil {
		t.Fatal(err)
	}
	m, err := x.Read(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	if m.Title != nil || m.Rating != nil {
		t.Errorf("after clearing: title %q, rating %v", str(m.Title), m.Rating)
	}
}
