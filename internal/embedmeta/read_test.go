package embedmeta

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// A JPEG tagged the way Lightroom writes it: XMP for everything, IPTC
// keywords kept for older tools, EXIF lens and GPS from the camera.
func TestReadEmbeddedLightroomJPEG(t *testing.T) {
	t.Parallel()
	x := needExiftool(t)
	file := writeJPEG(t, t.TempDir(), "lr.jpg")
	exiftoolSet(t, x, file,
		"-XMP-dc:Title=Harbour at dawn", "-XMP-dc:Description=Boats, fog; calm",
		"-XMP-dc:Subject=harbour", "-XMP-dc:Subject=boats, fog", "-XMP-dc:Subject=semi;colon", "-XMP-dc:Subject=🐱 cat", "-XMP-dc:Subject=2024",
		"-XMP-xmp:Rating=4", "-XMP-dc:Creator=Ann Example", "-XMP-dc:Rights=© 2024 Ann",
		"-IPTC:Keywords=old-iptc", "-ExifIFD:LensModel=EF 24-70mm f/2.8L",
		"-GPSLatitude=52.5", "-GPSLatitudeRef=N", "-GPSLongitude=13.4", "-GPSLongitudeRef=W")
	m, reader := ReadEmbedded(context.Background(), x, file)
	if reader != "exiftool" {
		t.Fatalf("reader = %q", reader)
	}
	if str(m.Title) != "Harbour at dawn" || str(m.Description) != "Boats, fog; calm" {
		t.Errorf("title %q, description %q", str(m.Title), str(m.Description))
	}
	want := []string{"harbour", "boats, fog", "semi;colon", "🐱 cat", "2024"}
	if !slices.Equal(m.Tags, want) {
		t.Errorf("tags = %q, want %q (XMP before IPTC, each keyword whole)", m.Tags, want)
	}
	if m.Rating == nil || *m.Rating != 4 {
		t.Errorf("rating = %v", m.Rating)
	}
	if m.Creator != "Ann Example" || m.Copyright != "© 2024 Ann" || m.Lens != "EF 24-70mm f/2.8L" {
		t.Errorf("facts: creator %q, copyright %q, lens %q", m.Creator, m.Copyright, m.Lens)
	}
	if m.GPSLat == nil || *m.GPSLat != 52.5 || *m.GPSLon != -13.4 {
		t.Errorf("gps = %v, %v", m.GPSLat, m.GPSLon)
	}
	if len(m.Notes) != 0 {
		t.Errorf("notes = %q", m.Notes)
	}
}

// IPTC alone (an older tool), in Latin-1 without a charset marker: read
// as exiftool decodes it, valid UTF-8 either way.
func TestReadEmbeddedIPTCOnlyLatin1(t *testing.T) {
	t.Parallel()
	x := needExiftool(t)
	file := writeJPEG(t, t.TempDir(), "iptc.jpg")
	exiftoolSet(t, x, file, "-charset", "iptc=Latin", "-IPTC:ObjectName=Café", "-IPTC:Keywords=Zürich",
		"-IPTC:Keywords=street", "-IPTC:By-line=Bob", "-IPTC:CopyrightNotice=Bob 2020", "-IPTC:Caption-Abstract=A caption")
	m, _ := ReadEmbedded(context.Background(), x, file)
	if str(m.Title) != "Café" || m.Tags[0] != "Zürich" {
		t.Errorf("Latin-1 IPTC read as %q, %q", str(m.Title), m.Tags)
	}
	// UTF-8 bytes without the IPTC marker that says so (a wrong charset):
	// read as Latin-1, garbled but valid text, never an error.
	exiftoolSet(t, x, file, "-charset", "iptc=UTF8", "-IPTC:ObjectName=Café")
	m, _ = ReadEmbedded(context.Background(), x, file)
	if m.Title == nil || !strings.HasPrefix(*m.Title, "Caf") || m.Description == nil || *m.Description != "A caption" {
		t.Errorf("title %q, description %q", str(m.Title), str(m.Description))
	}
	if len(m.Tags) != 2 || m.Tags[1] != "street" {
		t.Errorf("tags = %q", m.Tags)
	}
	if m.Creator != "Bob" || m.Copyright != "Bob 2020" {
		t.Errorf("creator %q, copyright %q", m.Creator, m.Copyright)
	}
	if !strings.HasPrefix(str(m.Title), "Caf") || !utf8.ValidString(str(m.Title)) {
		t.Errorf("wrongly marked IPTC title read as %q", str(m.Title))
	}
}

// 1,000 keywords: the first MaxTags are kept and the rest noted.
func TestReadEmbeddedThousandKeywords(t *testing.T) {
	t.Parallel()
	x := needExiftool(t)
	file := writeJPEG(t, t.TempDir(), "many.jpg")
	args := make([]string, 0, 1000)
	for i := range 1000 {
		args = append(args, fmt.Sprintf("-XMP-dc:Subject=kw%04d", i))
	}
	exiftoolSet(t, x, file, args...)
	m, _ := ReadEmbedded(context.Background(), x, file)
	if len(m.Tags) != MaxTags || m.Tags[0] != "kw0000" {
		t.Fatalf("%d tags kept, first %q", len(m.Tags), m.Tags[:1])
	}
	if len(m.Notes) != 1 || !strings.Contains(m.Notes[0], "900 more skipped") {
		t.Errorf("notes = %q", m.Notes)
	}
}

// A malformed XMP packet inside a JPEG: the file's EXIF facts and IPTC
// keywords are still read and the damage is noted; nothing hangs.
func TestReadEmbeddedMalformedXMP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeJPEG(t, dir, "bad.jpg")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	packet := `http://ns.adobe.com/xap/1.0/` + "\x00" + `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">` +
		`<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt><rdf:li>Kept title</rdf:li></rdf:Alt></dc:title><dc:subject><rdf:Bag><rdf:li>a</rdf:li><broken` +
		`</x:xmpmeta>`
	seg := append([]byte{0xff, 0xe1, byte((len(packet) + 2) >> 8), byte(len(packet) + 2)}, packet...)
	bad := append(append(append([]byte{}, b[:2]...), seg...), b[2:]...)
	if err := os.WriteFile(file, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("go", func(t *testing.T) {
		m, reader := ReadEmbedded(context.Background(), Exiftool{}, file)
		if reader != "go" || str(m.Title) != "Kept title" {
			t.Errorf("reader %q, title %q", reader, str(m.Title))
		}
		if len(m.Notes) == 0 || !strings.Contains(m.Notes[0], "not well-formed") {
			t.Errorf("notes = %q", m.Notes)
		}
	})
	t.Run("exiftool", func(t *testing.T) {
		x := needExiftool(t)
		exiftoolSet(t, x, file, "-IPTC:Keywords=still-here", "-ExifIFD:LensModel=Lens X")
		m, _ := ReadEmbedded(context.Background(), x, file)
		if m.Lens != "Lens X" {
			t.Errorf("lens %q: the EXIF facts were lost with the XMP", m.Lens)
		}
		if !slices.Contains(m.Tags, "still-here") {
			t.Errorf("tags = %q: the IPTC keywords were lost with the XMP", m.Tags)
		}
	})
}

// A tool that hangs is stopped at its timeout and the file is noted.
func TestReadEmbeddedToolTimeout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "exiftool")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := writeJPEG(t, dir, "a.jpg")
	start := time.Now()
	m, _ := ReadEmbedded(context.Background(), Exiftool{Path: script, Timeout: 300 * time.Millisecond}, file)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the read took %s", d)
	}
	if len(m.Notes) != 1 || !strings.Contains(m.Notes[0], "took longer than") {
		t.Errorf("notes = %q", m.Notes)
	}
	if !m.Incomplete {
		t.Error("a read cut by the timeout is not marked incomplete: its missing fields would count as removed")
	}
}

// A metadata block too large to print (50 MB of XMP in a PNG): skipped
// with a note, no memory blow-up, no hang.
func TestReadEmbeddedHugeXMPBlock(t *testing.T) {
	t.Parallel()
	x := needExiftool(t)
	dir := t.TempDir()
	file := writeJPEG(t, dir, "huge.jpg")
	big := filepath.Join(dir, "big.txt")
	if err := os.WriteFile(big, []byte(strings.Repeat("word ", 10<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	exiftoolSet(t, x, file, "-XMP-dc:Description<="+big, "-XMP-dc:Title=Small", "-XMP-dc:Subject=kept", "-XMP-dc:Creator=Ann")
	st, _ := os.Stat(file)
	if st.Size() < 50<<20 {
		t.Fatalf("the test file has only %d bytes", st.Size())
	}
	m, _ := ReadEmbedded(context.Background(), x, file)
	if len(m.Notes) == 0 || !strings.Contains(strings.Join(m.Notes, ";"), "larger than 8 MiB") {
		t.Errorf("notes = %q", m.Notes)
	}
	if len(m.Tags) != 1 || m.Tags[0] != "kept" || m.Creator != "Ann" {
		t.Errorf("tags %q, creator %q: the short fields were lost with the huge one", m.Tags, m.Creator)
	}
	// Go's reader reads the standard packet at the file's start.
	m, _ = ReadEmbedded(context.Background(), Exiftool{}, file)
	if str(m.Title) != "Small" {
		t.Errorf("the Go reader read title %q", str(m.Title))
	}
}
