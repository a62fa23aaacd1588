package media

import (
	"bytes"
	"encoding/binary"
	"strings"
	"time"
)

// exifInfo is what Shelf reads from an EXIF block: the orientation to apply
// before showing the image, when it was taken, and the camera.
type exifInfo struct {
	Orientation int // 1..8 as in the TIFF spec; 0 when absent
	TakenAt     *time.Time
	Make        string
	Model       string
}

// Camera returns "Make Model" without repeating the maker when the model
// already names it ("Canon" + "Canon EOS R5" → "Canon EOS R5").
func (e exifInfo) Camera() string {
	mk, model := strings.TrimSpace(e.Make), strings.TrimSpace(e.Model)
	switch {
	case model == "":
		return mk
	case mk == "" || strings.HasPrefix(strings.ToLower(model), strings.ToLower(mk)):
		return model
	}
	// Makers often write a long company name ("NIKON CORPORATION") and a
	// model starting with its first word ("NIKON D850").
	if first, _, _ := strings.Cut(mk, " "); strings.HasPrefix(strings.ToLower(model), strings.ToLower(first)+" ") {
		return model
	}
	return mk + " " + model
}

// TIFF / EXIF tags Shelf reads.
const (
	tagMake              = 0x010f
	tagModel             = 0x0110
	tagOrientation       = 0x0112
	tagDateTime          = 0x0132
	tagExifIFD           = 0x8769
	tagDateTimeOriginal  = 0x9003
	tagDateTimeDigitized = 0x9004
	tagOffsetTimeOrig    = 0x9011
)

// TIFF field types used by the tags above.
const (
	typeByte  = 1
	typeASCII = 2
	typeShort = 3
	typeLong  = 4
)

// maxIFDEntries bounds how many entries of one IFD are looked at, so a
// corrupt count cannot make the reader loop for long.
const maxIFDEntries = 512

// parseTIFFExif reads the tags Shelf needs from a TIFF-structured block (the
// payload of a JPEG APP1 "Exif" segment, a PNG eXIf chunk, a WebP EXIF chunk,
// or a whole TIFF file). It never panics and never reads outside b: every
// offset is checked; a malformed block yields whatever was read before the
// damage.
func parseTIFFExif(b []byte) exifInfo {
	var info exifInfo
	if len(b) < 8 {
		return info
	}
	var bo binary.ByteOrder
	switch string(b[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return info
	}
	if bo.Uint16(b[2:4]) != 42 {
		return info
	}
	r := ifdReader{b: b, bo: bo}
	var exifIFD uint32
	var dateTime string
	r.walk(bo.Uint32(b[4:8]), func(tag, typ uint16, count uint32, val []byte) {
		switch tag {
		case tagMake:
			info.Make = r.ascii(typ, count, val)
		case tagModel:
			info.Model = r.ascii(typ, count, val)
		case tagOrientation:
			if o := r.short(typ, count, val); o >= 1 && o <= 8 {
				info.Orientation = o
			}
		case tagDateTime:
			dateTime = r.ascii(typ, count, val)
		case tagExifIFD:
			exifIFD = r.long(typ, count, val)
		}
	})
	var original, digitized, offset string
	if exifIFD != 0 {
		r.walk(exifIFD, func(tag, typ uint16, count uint32, val []byte) {
			switch tag {
			case tagDateTimeOriginal:
				original = r.ascii(typ, count, val)
			case tagDateTimeDigitized:
				digitized = r.ascii(typ, count, val)
			case tagOffsetTimeOrig:
				offset = r.ascii(typ, count, val)
			}
		})
	}
	for _, s := range []string{original, digitized, dateTime} {
		if t, ok := parseExifTime(s, offset); ok {
			info.TakenAt = &t
			break
		}
	}
	return info
}

// ifdReader reads IFD entries out of a TIFF-structured byte slice.
type ifdReader struct {
	b  []byte
	bo binary.ByteOrder
}

// walk calls fn for each entry of the IFD at off, with the entry's value
// bytes (inline or pointed to), skipping entries whose value lies outside b.
func (r ifdReader) walk(off uint32, fn func(tag, typ uint16, count uint32, val []byte)) {
	if uint64(off)+2 > uint64(len(r.b)) {
		return
	}
	n := int(r.bo.Uint16(r.b[off:]))
	n = min(n, maxIFDEntries)
	for i := range n {
		e := uint64(off) + 2 + uint64(i)*12
		if e+12 > uint64(len(r.b)) {
			return
		}
		ent := r.b[e : e+12]
		tag, typ, count := r.bo.Uint16(ent[0:]), r.bo.Uint16(ent[2:]), r.bo.Uint32(ent[4:])
		size := uint64(count) * uint64(typeSize(typ))
		if size == 0 {
			continue
		}
		var val []byte
		if size <= 4 {
			val = ent[8 : 8+size]
		} else {
			p := uint64(r.bo.Uint32(ent[8:]))
			if p+size > uint64(len(r.b)) {
				continue
			}
			val = r.b[p : p+size]
		}
		fn(tag, typ, count, val)
	}
}

func (r ifdReader) ascii(typ uint16, _ uint32, val []byte) string {
	if typ != typeASCII && typ != typeByte {
		return ""
	}
	if i := bytes.IndexByte(val, 0); i >= 0 {
		val = val[:i]
	}
	s := strings.TrimSpace(string(val))
	return strings.ToValidUTF8(s, "")
}

func (r ifdReader) short(typ uint16, count uint32, val []byte) int {
	switch {
	case count < 1:
		return 0
	case typ == typeShort && len(val) >= 2:
		return int(r.bo.Uint16(val))
	case typ == typeLong && len(val) >= 4:
		return int(r.bo.Uint32(val))
	}
	return 0
}

func (r ifdReader) long(typ uint16, count uint32, val []byte) uint32 {
	switch {
	case count < 1:
		return 0
	case typ == typeLong && len(val) >= 4:
		return r.bo.Uint32(val)
	case typ == typeShort && len(val) >= 2:
		return uint32(r.bo.Uint16(val))
	}
	return 0
}

// typeSize is the byte size of one value of a TIFF field type (0 for types
// Shelf does not read, which makes walk skip them).
func typeSize(typ uint16) int {
	switch typ {
	case typeByte, typeASCII, 6, 7:
		return 1
	case typeShort, 8:
		return 2
	case typeLong, 9, 11:
		return 4
	case 5, 10, 12:
		return 8
	}
	return 0
}

// parseExifTime parses an EXIF date ("2006:01:02 15:04:05") with an optional
// EXIF offset ("+02:00"). Without an offset the camera's wall-clock time is
// kept as if it were UTC, which is what photo tools show.
func parseExifTime(s, offset string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 19 || strings.HasPrefix(s, "0000") {
		return time.Time{}, false
	}
	t, err := time.Parse("2006:01:02 15:04:05", s[:19])
	if err != nil {
		return time.Time{}, false
	}
	if off, err := time.Parse("-07:00", strings.TrimSpace(offset)); err == nil {
		_, secs := off.Zone()
		t = t.Add(-time.Duration(secs) * time.Second)
	}
	return t.UTC(), true
}

// findExif returns the TIFF-structured EXIF block inside an image file's
// bytes, by container format, or nil when there is none. It never panics.
func findExif(format string, b []byte) []byte {
	switch format {
	case "jpeg":
		return jpegExif(b)
	case "png":
		return pngExif(b)
	case "webp":
		return webpExif(b)
	case "tiff":
		return b
	}
	return nil
}

var exifPrefix = []byte("Exif\x00\x00")

// jpegExif walks JPEG marker segments up to the start of scan looking for an
// APP1 segment that starts with "Exif\0\0".
func jpegExif(b []byte) []byte {
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
		return nil
	}
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xff {
			return nil
		}
		marker := b[i+1]
		if marker == 0xff { // fill byte
			i++
			continue
		}
		if marker == 0xda || marker == 0xd9 { // start of scan, end of image
			return nil
		}
		if marker >= 0xd0 && marker <= 0xd7 || marker == 0x01 { // no length
			i += 2
			continue
		}
		size := int(binary.BigEndian.Uint16(b[i+2:]))
		if size < 2 || i+2+size > len(b) {
			return nil
		}
		seg := b[i+4 : i+2+size]
		if marker == 0xe1 && bytes.HasPrefix(seg, exifPrefix) {
			return seg[len(exifPrefix):]
		}
		i += 2 + size
	}
	return nil
}

// pngExif returns the payload of a PNG eXIf chunk found before the image
// data.
func pngExif(b []byte) []byte {
	const sig = "\x89PNG\r\n\x1a\n"
	if len(b) < len(sig) || string(b[:len(sig)]) != sig {
		return nil
	}
	i := len(sig)
	for i+8 <= len(b) {
		n := uint64(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		end := uint64(i) + 8 + n
		if end+4 > uint64(len(b)) {
			return nil
		}
		switch typ {
		case "eXIf":
			return b[i+8 : end]
		case "IDAT", "IEND":
			return nil
		}
		i = int(end + 4) // skip the CRC
	}
	return nil
}

// webpExif returns the payload of a WebP RIFF "EXIF" chunk.
func webpExif(b []byte) []byte {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return nil
	}
	i := 12
	for i+8 <= len(b) {
		n := uint64(binary.LittleEndian.Uint32(b[i+4:]))
		end := uint64(i) + 8 + n
		if end > uint64(len(b)) {
			return nil
		}
		if string(b[i:i+4]) == "EXIF" {
			p := b[i+8 : end]
			// Some writers keep the JPEG-style "Exif\0\0" prefix.
			return bytes.TrimPrefix(p, exifPrefix)
		}
		i = int(end + n%2) // chunks are padded to even sizes
	}
	return nil
}
