package embedmeta

import (
	"path"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// IsSidecar reports whether a file name is an XMP sidecar ("IMG_1.xmp",
// "IMG_1.CR2.xmp"). Sidecars are not shown as assets: their values go to
// the file they describe.
func IsSidecar(name string) bool { return strings.EqualFold(path.Ext(name), ".xmp") }

// base is a file name without its extension.
func base(name string) string { return strings.TrimSuffix(name, path.Ext(name)) }

// sidecarNames are the names a file's sidecar may have: darktable's
// "name.ext.xmp" first, then Lightroom's "name.xmp".
func sidecarNames(name string) []string { return []string{name + ".xmp", base(name) + ".xmp"} }

// describedBy reports whether the sidecar named sidecar describes the
// file named name.
func describedBy(name, sidecar string) bool {
	for _, n := range sidecarNames(name) {
		if strings.EqualFold(n, sidecar) {
			return true
		}
	}
	return false
}

// pickSidecar returns the sidecar of the file named name among found (the
// folder's assets with one of its sidecar names), preferring name.ext.xmp.
func pickSidecar(name string, found []catalog.Asset) (catalog.Asset, bool) {
	for _, want := range sidecarNames(name) {
		for _, a := range found {
			if strings.EqualFold(a.Name, want) {
				return a, true
			}
		}
	}
	return catalog.Asset{}, false
}

// rawExts are camera RAW formats whose files Shelf never writes into: their
// metadata goes to a sidecar, as Lightroom does.
var rawExts = map[string]bool{
	".cr2": true, ".cr3": true, ".crw": true, ".nef": true, ".nrw": true, ".arw": true, ".srf": true, ".sr2": true,
	".orf": true, ".rw2": true, ".raf": true, ".pef": true, ".srw": true, ".x3f": true, ".3fr": true, ".erf": true,
	".kdc": true, ".mef": true, ".mos": true, ".mrw": true, ".iiq": true, ".rwl": true,
}

// videoExts are video formats whose metadata goes to a sidecar: rewriting
// a large video to change its title is slow and risky.
var videoExts = map[string]bool{
	".mp4": true, ".m4v": true, ".mov": true, ".avi": true, ".mkv": true, ".mts": true, ".m2ts": true, ".webm": true, ".wmv": true,
}

// embeddedExts are formats Shelf writes metadata into (embedded XMP):
// exiftool rewrites their metadata blocks without touching image data.
var embeddedExts = map[string]bool{
	".jpg": true, ".jpeg": true, ".jpe": true, ".png": true, ".tif": true, ".tiff": true, ".pdf": true, ".dng": true,
}

// carriesMetadata reports whether a file of this name and type may hold
// embedded metadata worth downloading it for.
func carriesMetadata(name, mime string) bool {
	ext := strings.ToLower(path.Ext(name))
	switch {
	case rawExts[ext], embeddedExts[ext]:
		return true
	case strings.HasPrefix(mime, "image/"), strings.HasPrefix(mime, "video/"), strings.HasPrefix(mime, "audio/"):
		return true
	case mime == "application/pdf":
		return true
	}
	return ext == ".psd" || ext == ".heic" || ext == ".heif" || ext == ".webp" || ext == ".mp4" || ext == ".mov"
}

// WriteTarget says how an edit is written back to a file of this name:
// "embedded" (into the file), "sidecar" (name.xmp beside it) or "" (the
// format takes no metadata Shelf writes).
func WriteTarget(name, mime string) string {
	ext := strings.ToLower(path.Ext(name))
	switch {
	case IsSidecar(name):
		return ""
	case embeddedExts[ext]:
		return "embedded"
	case rawExts[ext], videoExts[ext], strings.HasPrefix(mime, "video/"):
		return "sidecar"
	}
	return ""
}
