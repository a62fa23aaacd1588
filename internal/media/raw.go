package media

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// rawPreviewTags are the embedded images a camera RAW may carry, asked of
// exiftool at once; the largest one is used.
var rawPreviewTags = []string{"JpgFromRaw", "PreviewImage", "OtherImage", "ThumbnailImage"}

// makeRAW makes the previews of a camera RAW file from the JPEG preview
// the camera embedded in it, extracted by exiftool in one run that also
// reads the orientation, the sensor's size, the camera and the capture
// time. The RAW data itself is never developed.
func (g *Generator) makeRAW(ctx context.Context, file string) (Result, error) {
	args := []string{"-json", "-b", "-n"}
	for _, t := range rawPreviewTags {
		args = append(args, "-"+t)
	}
	args = append(args, "-Orientation", "-ImageSize", "-Make", "-Model", "-DateTimeOriginal", "-OffsetTimeOriginal", "--", file)
	info := stillKinds[kindRAW]
	out, err := g.runTool(ctx, g.cfg.Tools.ExifTool, args...)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return toolFailed(info.unreadable(), err), nil
	}
	raw, err := parseRAWInfo(out)
	if err != nil {
		return Result{State: StateError, Error: info.unreadable(), Detail: err.Error()}, nil
	}
	var res Result
	res.Facts.Camera, res.Facts.TakenAt = raw.exif.Camera(), raw.exif.TakenAt
	if raw.width > 0 && raw.height > 0 {
		w, h := raw.width, raw.height
		if raw.exif.Orientation >= 5 {
			w, h = h, w
		}
		res.Facts.Width, res.Facts.Height = intPtr(w), intPtr(h)
	}
	if len(raw.preview) == 0 {
		res.State, res.Error = StateIcon, "This camera RAW file holds no embedded preview, and Shelf does not develop RAW data."
		return res, nil
	}
	return g.rawPreview(res, raw), nil
}

// rawPreview decodes the embedded JPEG and turns it upright: the RAW's
// own orientation wins, since cameras rarely repeat it in the preview.
// Without the sensor's size the preview's (upright) size is recorded.
func (g *Generator) rawPreview(res Result, raw rawInfo) Result {
	o := raw.exif.Orientation
	if o == 0 {
		o = parseTIFFExif(findExif("jpeg", raw.preview)).Orientation
	}
	return g.previewFromEncoded(res, raw.preview, o, res.Facts.Width == nil, stillKinds[kindRAW].unreadable(), "the embedded preview")
}

// rawInfo is what exiftool tells of a RAW file.
type rawInfo struct {
	preview       []byte // the largest embedded JPEG
	width, height int    // the sensor image's size, 0 when unknown
	exif          exifInfo
}

// parseRAWInfo reads exiftool's -json -b -n answer for one file: binary
// tags come as "base64:…" strings.
func parseRAWInfo(out []byte) (rawInfo, error) {
	var files []map[string]any
	if err := json.Unmarshal(out, &files); err != nil || len(files) != 1 {
		return rawInfo{}, fmt.Errorf("exiftool answered something unexpected (%d files, %v)", len(files), err)
	}
	f := files[0]
	str := func(k string) string {
		switch v := f[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	var ri rawInfo
	for _, t := range rawPreviewTags {
		s, ok := strings.CutPrefix(str(t), "base64:")
		if !ok {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err == nil && len(b) > len(ri.preview) && imageFormat(b) == "jpeg" {
			ri.preview = b
		}
	}
	// ImageSize is "W H" with -n (older exiftool: "WxH").
	if w, h, ok := strings.Cut(strings.ReplaceAll(str("ImageSize"), "x", " "), " "); ok {
		ri.width, _ = strconv.Atoi(strings.TrimSpace(w))
		ri.height, _ = strconv.Atoi(strings.TrimSpace(h))
	}
	ri.exif.Orientation, _ = strconv.Atoi(str("Orientation"))
	if ri.exif.Orientation < 1 || ri.exif.Orientation > 8 {
		ri.exif.Orientation = 0
	}
	ri.exif.Make, ri.exif.Model = str("Make"), str("Model")
	if t, ok := parseExifTime(str("DateTimeOriginal"), str("OffsetTimeOriginal")); ok {
		ri.exif.TakenAt = &t
	}
	return ri, nil
}
