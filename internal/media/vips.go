package media

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
)

// vipsDims finds "WxH" in vipsheader's summary line
// ("file.heic: 4032x3024 uchar, 3 bands, srgb, heifload").
var vipsDims = regexp.MustCompile(`: (\d+)x(\d+) `)

// makeVips makes the previews of a HEIC/HEIF, PSD or animated WebP file
// with libvips: vipsheader first reads its size (a file declaring more
// pixels than Config.MaxPixels gets its icon without being decoded), then
// vipsthumbnail shrinks it (never enlarges) to the preview size, applying
// the file's orientation, and writes a PNG to standard output. Only the
// first image of a multi-image file is read: a HEIF's primary image, a
// PSD's composite, an animation's first frame.
func (g *Generator) makeVips(ctx context.Context, k kind, file string) (Result, error) {
	info := stillKinds[k]
	out, err := g.runTool(ctx, g.cfg.Tools.VipsHeader, file)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return toolFailed(info.unreadable(), err), nil
	}
	m := vipsDims.FindSubmatch(out)
	if m == nil {
		return Result{State: StateError, Error: info.unreadable(), Detail: fmt.Sprintf("vipsheader answered %q", out)}, nil
	}
	w, _ := strconv.Atoi(string(m[1]))
	h, _ := strconv.Atoi(string(m[2]))
	var res Result
	res.Facts.Width, res.Facts.Height = intPtr(w), intPtr(h)
	if w <= 0 || h <= 0 {
		res.State, res.Error = StateError, info.unreadable()
		return res, nil
	}
	if int64(w)*int64(h) > g.cfg.MaxPixels {
		res.State = StateIcon
		res.Error = fmt.Sprintf("the image is %d×%d pixels, more than the %d megapixel limit for previews", w, h, g.cfg.MaxPixels/1_000_000)
		return res, nil
	}
	size := strconv.Itoa(g.cfg.PreviewSize)
	png, err := g.runTool(ctx, g.cfg.Tools.VipsThumbnail, file, "--size", size+"x"+size+">", "-o", ".png")
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		failed := toolFailed(info.unreadable(), err)
		failed.Facts = res.Facts
		return failed, nil
	}
	// The dimensions are the file's, from vipsheader, not the preview's.
	return g.posterFromPNG(res, png, true), nil
}
