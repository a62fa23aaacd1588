package embedmeta

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// XMP namespaces Shelf reads.
const (
	nsRDF    = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	nsDC     = "http://purl.org/dc/elements/1.1/"
	nsXMP    = "http://ns.adobe.com/xap/1.0/"
	nsAux    = "http://ns.adobe.com/exif/1.0/aux/"
	nsExifEX = "http://cipa.jp/exif/1.0/"
	nsExif   = "http://ns.adobe.com/exif/1.0/"
)

// MaxSidecar bounds an XMP sidecar Shelf reads; a larger one is skipped
// with a note (Lightroom's are a few kB).
const MaxSidecar = 4 << 20

// ParseXMP reads an XMP packet (a sidecar file, or a packet found inside a
// file) with Go's XML decoder: no entity expansion, no network, bounded by
// the caller. It returns what it understood before any damage and an error
// saying what was wrong.
func ParseXMP(r io.Reader) (Meta, error) {
	p := xmpParser{values: map[string][]string{}}
	err := p.parse(xml.NewDecoder(r))
	m := p.meta()
	if err != nil {
		m.skip("the XMP is not well-formed XML (%s); what came before the damage was kept", cut(err.Error(), 120))
	}
	return m, err
}

// xmpParser collects the values of the properties Shelf reads, by
// "namespace property" key, from both XMP forms: elements (with rdf:Alt,
// rdf:Bag, rdf:Seq lists) and attributes of rdf:Description.
type xmpParser struct {
	values map[string][]string
	stack  []xml.Name
	text   strings.Builder
}

var wanted = map[string]bool{
	nsDC + " title": true, nsDC + " description": true, nsDC + " subject": true, nsDC + " creator": true,
	nsDC + " rights": true, nsXMP + " Rating": true, nsAux + " Lens": true, nsExifEX + " LensModel": true,
	nsExif + " GPSLatitude": true, nsExif + " GPSLongitude": true,
}

func key(n xml.Name) string { return n.Space + " " + n.Local }

// property is the wanted property the decoder is inside, if any.
func (p *xmpParser) property() string {
	for i := len(p.stack) - 1; i >= 0; i-- {
		if k := key(p.stack[i]); wanted[k] {
			return k
		}
	}
	return ""
}

func (p *xmpParser) parse(d *xml.Decoder) error {
	d.Strict = true
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space == nsRDF && t.Name.Local == "Description" {
				for _, a := range t.Attr {
					if k := key(a.Name); wanted[k] {
						p.values[k] = append(p.values[k], a.Value)
					}
				}
			}
			p.stack = append(p.stack, t.Name)
			p.text.Reset()
		case xml.CharData:
			if p.property() != "" && p.text.Len() < MaxSidecar {
				p.text.Write(t)
			}
		case xml.EndElement:
			if len(p.stack) == 0 {
				return fmt.Errorf("unexpected </%s>", t.Name.Local)
			}
			name := p.stack[len(p.stack)-1]
			p.stack = p.stack[:len(p.stack)-1]
			k := key(name)
			isItem := name.Space == nsRDF && name.Local == "li"
			if (isItem || wanted[k]) && strings.TrimSpace(p.text.String()) != "" {
				if prop := p.propertyOf(name); prop != "" {
					p.values[prop] = append(p.values[prop], p.text.String())
				}
			}
			p.text.Reset()
		}
	}
}

// propertyOf is the wanted property an ending element's text belongs to:
// the element itself or the property holding its list.
func (p *xmpParser) propertyOf(name xml.Name) string {
	if k := key(name); wanted[k] {
		return k
	}
	return p.property()
}

func (p *xmpParser) meta() Meta {
	var m Meta
	one := func(k string) (string, bool) {
		v := p.values[k]
		if len(v) == 0 {
			return "", false
		}
		return v[0], true // rdf:Alt: x-default comes first by convention
	}
	if s, ok := one(nsDC + " title"); ok {
		m.setText(&m.Title, "title", s, MaxTitle)
	}
	if s, ok := one(nsDC + " description"); ok {
		m.setText(&m.Description, "description", s, MaxDescription)
	}
	if v, ok := p.values[nsDC+" subject"]; ok {
		m.setTags(v)
	}
	if s, ok := one(nsXMP + " Rating"); ok {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			m.setRating(f)
		} else {
			m.skip("rating %q is not a number; skipped", cut(s, 40))
		}
	}
	setFact(&m.Creator, strings.Join(p.values[nsDC+" creator"], ", "))
	if s, ok := one(nsDC + " rights"); ok {
		setFact(&m.Copyright, s)
	}
	for _, k := range []string{nsExifEX + " LensModel", nsAux + " Lens"} {
		if s, ok := one(k); ok && m.Lens == "" {
			setFact(&m.Lens, s)
		}
	}
	lat, okLat := one(nsExif + " GPSLatitude")
	lon, okLon := one(nsExif + " GPSLongitude")
	if okLat && okLon {
		a, errA := xmpCoordinate(lat)
		b, errB := xmpCoordinate(lon)
		if errA == nil && errB == nil {
			m.setGPS(a, b)
		} else {
			m.skip("GPS position %q, %q is not an XMP coordinate; skipped", cut(lat, 30), cut(lon, 30))
		}
	}
	return m
}

// xmpCoordinate parses XMP's GPS form "DDD,MM.mmk" or "DDD,MM,SSk" (k one
// of N, S, E, W).
func xmpCoordinate(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, errors.New("too short")
	}
	dir := s[len(s)-1]
	parts := strings.Split(s[:len(s)-1], ",")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, errors.New("not DDD,MM.mm")
	}
	v, scale := 0.0, 1.0
	for _, part := range parts {
		f, err := strconv.ParseFloat(part, 64)
		if err != nil {
			return 0, err
		}
		v += f / scale
		scale *= 60
	}
	switch dir {
	case 'S', 'W':
		v = -v
	case 'N', 'E':
	default:
		return 0, errors.New("no N, S, E or W")
	}
	return v, nil
}

// findPacket returns the first XMP packet (<x:xmpmeta …</x:xmpmeta>) in a
// file's bytes, or nil: Go's fallback reader of embedded XMP, where
// exiftool is absent.
func findPacket(b []byte) []byte {
	start := bytes.Index(b, []byte("<x:xmpmeta"))
	if start < 0 {
		return nil
	}
	end := bytes.Index(b[start:], []byte("</x:xmpmeta>"))
	if end < 0 {
		return b[start:]
	}
	return b[start : start+end+len("</x:xmpmeta>")]
}
