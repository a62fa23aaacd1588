package media

import (
	"bytes"
	"path"
	"strings"
)

// kind is how Shelf makes a preview for a file.
type kind int

const (
	kindOther    kind = iota // a type icon
	kindImage                // decoded in process
	kindVideo                // poster by ffmpeg
	kindPDF                  // poster by pdftoppm
	kindHEIF                 // HEIC/HEIF/AVIF stills: vipsthumbnail
	kindPSD                  // Photoshop's composite image: vipsthumbnail
	kindAnimWebP             // animated WebP (first frame): vipsthumbnail
	kindRAW                  // camera RAW: its embedded preview, by exiftool
	kindSVG                  // rendered by rsvg-convert
)

// classify decides how to preview a file from its first bytes, falling back
// to the MIME type and the name's extension for formats without a reliable
// signature.
func classify(head []byte, name, mimeType string) kind {
	if k := classifyStill(head, name, mimeType); k != kindOther {
		return k
	}
	switch {
	case imageFormat(head) != "":
		return kindImage
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return kindPDF
	case isVideoSignature(head):
		return kindVideo
	}
	mt := baseMIME(mimeType)
	if strings.HasPrefix(mt, "video/") || videoExts[extOf(name)] {
		return kindVideo
	}
	return kindOther
}

// imageFormat names the image format Shelf decodes in process ("jpeg",
// "png", "gif", "webp", "tiff", "bmp") from its signature, or "".
func imageFormat(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		return "jpeg"
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return "gif"
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "webp"
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return "tiff"
	case bytes.HasPrefix(head, []byte("BM")) && len(head) >= 26:
		return "bmp"
	}
	return ""
}

// isVideoSignature recognises ISO media (MP4, MOV, M4V, 3GP), Matroska and
// WebM, AVI, MPEG program and transport streams, and Ogg.
func isVideoSignature(head []byte) bool {
	switch {
	case len(head) >= 12 && string(head[4:8]) == "ftyp" && !isStillImageContainer(head):
		return true
	case bytes.HasPrefix(head, []byte("\x1a\x45\xdf\xa3")): // EBML: Matroska, WebM
		return true
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "AVI ":
		return true
	case bytes.HasPrefix(head, []byte("\x00\x00\x01\xba")), bytes.HasPrefix(head, []byte("\x00\x00\x01\xb3")):
		return true
	}
	return false
}

// isStillImageContainer recognises HEIF/AVIF stills, which share MP4's
// container but are not videos.
func isStillImageContainer(head []byte) bool {
	if len(head) < 12 || string(head[4:8]) != "ftyp" {
		return false
	}
	switch string(head[8:12]) {
	case "heic", "heix", "hevc", "heim", "heis", "mif1", "msf1", "avif", "avis":
		return true
	}
	return false
}

var videoExts = map[string]bool{
	".mp4": true, ".m4v": true, ".mov": true, ".mkv": true, ".webm": true,
	".avi": true, ".mpg": true, ".mpeg": true, ".3gp": true, ".wmv": true,
	".flv": true, ".ogv": true, ".mts": true, ".m2ts": true,
}

func extOf(name string) string { return strings.ToLower(path.Ext(name)) }

func baseMIME(m string) string {
	m, _, _ = strings.Cut(m, ";")
	return strings.ToLower(strings.TrimSpace(m))
}
