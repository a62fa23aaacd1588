package embedmeta

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// lightroomSidecar is an XMP sidecar as Lightroom Classic writes it beside
// a RAW file: the rating and lens as attributes, the rest as elements.
const lightroomSidecar = `<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:aux="http://ns.adobe.com/exif/1.0/aux/"
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
   xmp:Rating="3"
   aux:Lens="RF24-105mm F4 L IS USM"
   exif:GPSLatitude="48,51.5N"
   exif:GPSLongitude="2,21.0E">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Eiffel at night</rdf:li><rdf:li xml:lang="fr">La tour</rdf:li></rdf:Alt></dc:title>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">From the Trocadéro</rdf:li></rdf:Alt></dc:description>
   <dc:creator><rdf:Seq><rdf:li>Ann</rdf:li><rdf:li>Bob</rdf:li></rdf:Seq></dc:creator>
   <dc:rights><rdf:Alt><rdf:li xml:lang="x-default">CC BY 4.0</rdf:li></rdf:Alt></dc:rights>
   <dc:subject><rdf:Bag><rdf:li>paris</rdf:li><rdf:li>night, city</rdf:li><rdf:li>Paris</rdf:li><rdf:li>🌙</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>`

func TestReadSidecarLightroom(t *testing.T) {
	t.Parallel()
	m := ReadSidecar(strings.NewReader(lightroomSidecar))
	if m.Incomplete {
		t.Error("a good sidecar is marked incomplete")
	}
	if str(m.Title) != "Eiffel at night" || str(m.Description) != "From the Trocadéro" {
		t.Errorf("title %q, description %q", str(m.Title), str(m.Description))
	}
	if want := []string{"paris", "night, city", "🌙"}; !slices.Equal(m.Tags, want) {
		t.Errorf("tags = %q, want %q (duplicates by case dropped)", m.Tags, want)
	}
	if m.Rating == nil || *m.Rating != 3 {
		t.Errorf("rating = %v", m.Rating)
	}
	if m.Creator != "Ann, Bob" || m.Copyright != "CC BY 4.0" || m.Lens != "RF24-105mm F4 L IS USM" {
		t.Errorf("creator %q, copyright %q, lens %q", m.Creator, m.Copyright, m.Lens)
	}
	if m.GPSLat == nil || *m.GPSLat < 48.858 || *m.GPSLat > 48.859 || *m.GPSLon != 2.35 {
		t.Errorf("gps = %v, %v", m.GPSLat, m.GPSLon)
	}
	if len(m.Notes) != 0 {
		t.Errorf("notes = %q", m.Notes)
	}
}

// Bad sidecars are noted and skipped, never an error or a hang.
func TestReadSidecarBadInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, content, note string
	}{
		{"not XML", "this is a text file\x00\x01 with junk", "not XMP"},
		{"empty", "  \n", "empty"},
		{"too large", "<x:xmpmeta>" + strings.Repeat("a", MaxSidecar) + "</x:xmpmeta>", "larger than 4 MiB"},
		{"entity bomb", `<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>`, "not XMP"},
		{"rating out of range", `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="99"/></rdf:RDF></x:xmpmeta>`, "not 0 to 5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := ReadSidecar(strings.NewReader(c.content))
			if m.Title != nil || m.Tags != nil || m.Rating != nil {
				t.Errorf("values read from a bad sidecar: %+v", m)
			}
			if len(m.Notes) != 1 || !strings.Contains(m.Notes[0], c.note) {
				t.Errorf("notes = %q, want one containing %q", m.Notes, c.note)
			}
			if !m.Incomplete {
				t.Error("a bad sidecar is not marked incomplete")
			}
		})
	}
}

// A sidecar cut off half-way keeps what came before the damage.
func TestReadSidecarTruncated(t *testing.T) {
	t.Parallel()
	cut := lightroomSidecar[:strings.Index(lightroomSidecar, "<dc:creator>")]
	m := ReadSidecar(bytes.NewReader([]byte(cut)))
	if str(m.Title) != "Eiffel at night" || m.Rating == nil {
		t.Errorf("title %q, rating %v", str(m.Title), m.Rating)
	}
	if len(m.Notes) != 1 || !strings.Contains(m.Notes[0], "not well-formed") {
		t.Errorf("notes = %q", m.Notes)
	}
}

func TestSidecarNames(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		file, sidecar string
		want          bool
	}{
		{"IMG_1.CR2", "IMG_1.xmp", true}, {"IMG_1.CR2", "img_1.XMP", true}, {"IMG_1.CR2", "IMG_1.CR2.xmp", true},
		{"IMG_1.CR2", "IMG_10.xmp", false}, {"a.b.jpg", "a.xmp", false}, {"a.b.jpg", "a.b.xmp", true},
	} {
		if got := describedBy(c.file, c.sidecar); got != c.want {
			t.Errorf("describedBy(%q, %q) = %v", c.file, c.sidecar, got)
		}
	}
}
