package media

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// Still-image formats Go cannot decode get their previews from Debian's
// tools, run directly (never through a shell), one file at a time, with
// the generator's timeout and size limits:
//
//   - HEIC/HEIF (and AVIF), Photoshop PSD (its composite image) and
//     animated WebP (the first frame): vipsthumbnail, from libvips-tools;
//   - camera RAW (DNG, CR2, CR3, NEF, ARW, ORF, RW2, RAF, PEF, SRW): the
//     JPEG preview the camera embedded, extracted by exiftool
//     (libimage-exiftool-perl); the sensor data is never developed;
//   - SVG: rendered to a raster by rsvg-convert (librsvg2-bin) from
//     standard input, so the file has no location and references to
//     other files or URLs cannot be resolved; pages only ever show the
//     rendered JPEG.
//
// Without a tool those files get their type icon and a note saying what
// to install (Result.Error, shown on the asset page).

// findStillTools fills in the still-image tools found by find.
func (t *Tools) findStillTools(find func(string) string) {
	t.VipsThumbnail, t.VipsHeader = find("vipsthumbnail"), find("vipsheader")
	t.ExifTool = find("exiftool")
	t.RSVGConvert = find("rsvg-convert")
}

// logStillTools logs the still-image tools found, and what a missing one
// costs.
func (t Tools) logStillTools(logger *slog.Logger) {
	logger.Info("still-image preview tools",
		slog.String("vipsthumbnail", orAbsent(t.VipsThumbnail)),
		slog.String("vipsheader", orAbsent(t.VipsHeader)),
		slog.String("exiftool", orAbsent(t.ExifTool)),
		slog.String("rsvg-convert", orAbsent(t.RSVGConvert)))
	for _, k := range []kind{kindHEIF, kindRAW, kindSVG} {
		if !t.canMake(k) {
			logger.Info(stillKinds[k].what + " get a type icon: install " + stillKinds[k].pkg + " for their previews")
		}
	}
}

// stillKind describes how a still format's previews are made.
type stillKind struct {
	what string // plural, for messages: "HEIC/HEIF images"
	one  string // singular: "HEIC/HEIF image"
	pkg  string // the Debian package with the tool
}

var stillKinds = map[kind]stillKind{
	kindHEIF:     {"HEIC/HEIF images", "HEIC/HEIF image", "libvips-tools"},
	kindPSD:      {"Photoshop (PSD) files", "Photoshop file", "libvips-tools"},
	kindAnimWebP: {"animated WebP images", "animated WebP image", "libvips-tools"},
	kindRAW:      {"camera RAW files", "camera RAW file", "libimage-exiftool-perl"},
	kindSVG:      {"SVG drawings", "SVG drawing", "librsvg2-bin"},
}

// unreadable is the reason for a still file its tool could not read.
func (k stillKind) unreadable() string {
	return "This " + k.one + " could not be read (it may be damaged or in a variant the server's tools do not know)."
}

// canMake reports whether the tools for still kind k are installed.
func (t Tools) canMake(k kind) bool {
	switch k {
	case kindHEIF, kindPSD, kindAnimWebP:
		return t.VipsThumbnail != "" && t.VipsHeader != ""
	case kindRAW:
		return t.ExifTool != ""
	case kindSVG:
		return t.RSVGConvert != ""
	}
	return false
}

// noTool is the note on an asset whose preview needs a tool the server
// lacks.
func noTool(what, pkg string) string {
	return noToolPrefix + what + " yet: an admin can install " + pkg + noToolSuffix
}

const (
	noToolPrefix = "The server cannot make previews of "
	noToolSuffix = " (a Debian package) and restart Shelf."
)

// hasPackage reports whether the tools of a Debian package named in a
// noTool note are installed now.
func (t Tools) hasPackage(pkg string) bool {
	switch pkg {
	case "ffmpeg":
		return t.Video()
	case "poppler-utils":
		return t.PDF()
	case "libvips-tools":
		return t.canMake(kindHEIF)
	case "libimage-exiftool-perl":
		return t.canMake(kindRAW)
	case "librsvg2-bin":
		return t.canMake(kindSVG)
	}
	return false
}

// retryInstalledTool remakes the previews of asset a, recorded as an icon
// because a tool was missing, once that tool is installed (the server was
// restarted with it), and returns the asset as it is then: its thumbnail
// appears the next time a page asks for it, without a sync. An icon
// without a note, recorded before Shelf made previews of a still format,
// is retried too when its name or type is of a format the installed tools
// now make (once per version and process: content not of that format
// stays an icon).
func (s *Service) retryInstalledTool(ctx context.Context, a catalog.Asset) catalog.Asset {
	if a.PreviewState != StateIcon || a.Native {
		return a
	}
	switch {
	case strings.HasPrefix(a.PreviewError, noToolPrefix):
		_, rest, _ := strings.Cut(a.PreviewError, ": an admin can install ")
		pkg, _, _ := strings.Cut(rest, noToolSuffix)
		if !s.cfg.Generator.Tools().hasPackage(pkg) {
			return a
		}
	case a.PreviewError == "":
		k := stillKindByName(a.Name, a.MIME)
		if k == kindOther || !s.cfg.Generator.Tools().canMake(k) || !s.retried.first(retryKey(a)) {
			return a
		}
	default:
		return a
	}
	s.regenerate(ctx, a)
	if fresh, err := s.cfg.Store.GetAsset(ctx, a.AccountID, a.ID); err == nil {
		return fresh
	}
	return a
}

func retryKey(a catalog.Asset) string {
	return fmt.Sprintf("%d/%d/%s", a.AccountID, a.ID, Version(a))
}

// stillKindByName is the still format made by tools that a file's name or
// type claims (without reading it), or kindOther.
func stillKindByName(name, mimeType string) kind {
	ext, mt := extOf(name), baseMIME(mimeType)
	switch {
	case ext == ".heic" || ext == ".heif" || ext == ".hif" || ext == ".avif" ||
		mt == "image/heic" || mt == "image/heif" || mt == "image/avif":
		return kindHEIF
	case ext == ".psd" || ext == ".psb" || mt == "image/vnd.adobe.photoshop" || mt == "image/x-photoshop":
		return kindPSD
	case ext == ".svg" || mt == "image/svg+xml":
		return kindSVG
	case rawExts[ext]:
		return kindRAW
	}
	return kindOther
}

// onceSet remembers keys seen, up to a bound (then it starts afresh), so a
// retry is made once per key in a process.
type onceSet struct {
	mu   sync.Mutex
	seen map[string]bool
}

const onceSetMax = 10_000

// first reports whether key is new, remembering it.
func (o *onceSet) first(key string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[key] {
		return false
	}
	if o.seen == nil || len(o.seen) >= onceSetMax {
		o.seen = map[string]bool{}
	}
	o.seen[key] = true
	return true
}

// makeStill makes the previews of a still-image file of kind k read from r.
func (g *Generator) makeStill(ctx context.Context, k kind, r *bufio.Reader, name string) (Result, error) {
	if !g.cfg.Tools.canMake(k) {
		return Result{State: StateIcon, Error: noTool(stillKinds[k].what, stillKinds[k].pkg)}, nil
	}
	switch k {
	case kindSVG:
		return g.makeSVG(ctx, r)
	case kindRAW:
		return g.withTempCopy(ctx, r, name, g.makeRAW)
	}
	return g.withTempCopy(ctx, r, name, func(ctx context.Context, file string) (Result, error) {
		return g.makeVips(ctx, k, file)
	})
}

// classifyStill recognises the still formats made by tools, from their
// signatures (RAW formats built on TIFF also by their extension), or
// returns kindOther.
func classifyStill(head []byte, name, mimeType string) kind {
	switch {
	case isRAW(head, extOf(name)):
		return kindRAW
	case len(head) >= 6 && string(head[:4]) == "8BPS" && (head[5] == 1 || head[5] == 2) && head[4] == 0:
		return kindPSD // version 1: PSD, 2: PSB
	case isStillImageContainer(head):
		return kindHEIF
	case isAnimatedWebP(head):
		return kindAnimWebP
	case isSVG(head, extOf(name), baseMIME(mimeType)):
		return kindSVG
	}
	return kindOther
}

// rawExts are the camera RAW formats built on TIFF, recognised by their
// extension since their signature is TIFF's.
var rawExts = map[string]bool{".dng": true, ".cr2": true, ".nef": true, ".nrw": true, ".arw": true,
	".srf": true, ".sr2": true, ".pef": true, ".srw": true, ".orf": true, ".rw2": true, ".raf": true, ".3fr": true,
	".erf": true, ".kdc": true, ".mef": true, ".mos": true, ".iiq": true, ".rwl": true, ".cr3": true}

func isRAW(head []byte, ext string) bool {
	tiff := bytes.HasPrefix(head, []byte("II*\x00")) || bytes.HasPrefix(head, []byte("MM\x00*"))
	switch {
	case tiff && len(head) >= 10 && string(head[8:10]) == "CR": // Canon CR2
		return true
	case tiff && rawExts[ext]:
		return true
	case len(head) >= 12 && string(head[4:8]) == "ftyp" && string(head[8:12]) == "crx ": // Canon CR3
		return true
	case bytes.HasPrefix(head, []byte("FUJIFILMCCD-RAW")),
		bytes.HasPrefix(head, []byte("IIU\x00")),                                                                            // Panasonic RW2
		bytes.HasPrefix(head, []byte("IIRO")), bytes.HasPrefix(head, []byte("IIRS")), bytes.HasPrefix(head, []byte("MMOR")): // Olympus ORF
		return true
	}
	return false
}

// isAnimatedWebP recognises an extended WebP (VP8X) whose animation flag
// is set: Go's decoder reads only still WebP.
func isAnimatedWebP(head []byte) bool {
	return len(head) >= 21 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP" &&
		string(head[12:16]) == "VP8X" && head[20]&0x02 != 0
}

// isSVG recognises an SVG by its name or type and a start that is markup
// (SVG has no signature; a file named .svg holding something else is left
// to the type icon).
func isSVG(head []byte, ext, mimeType string) bool {
	if ext != ".svg" && mimeType != "image/svg+xml" {
		return false
	}
	s := strings.TrimLeft(strings.TrimPrefix(string(head), "\xef\xbb\xbf"), " \t\r\n")
	return strings.HasPrefix(s, "<")
}
