package media

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
)

// maxSVGBytes is the largest SVG rendered; larger ones get their icon.
const maxSVGBytes = 20 << 20

// makeSVG renders an SVG with rsvg-convert to a PNG that fits the preview
// size. The drawing goes in on standard input, so it has no file name or
// folder: librsvg then resolves no reference to another file (only data:
// URLs), and it never fetches from the network. Pages show only the
// rendered JPEG, never the SVG itself, so its scripts never run.
func (g *Generator) makeSVG(ctx context.Context, r io.Reader) (Result, error) {
	data, truncated, err := readCapped(r, maxSVGBytes)
	if err != nil {
		return Result{}, err
	}
	if truncated {
		return Result{State: StateIcon, Error: fmt.Sprintf("the file is larger than %d MiB, the limit for SVG previews", maxSVGBytes>>20)}, nil
	}
	size := strconv.Itoa(g.cfg.PreviewSize)
	png, err := g.runToolInput(ctx, bytes.NewReader(data), g.cfg.Tools.RSVGConvert,
		"--format", "png", "--keep-aspect-ratio", "--width", size, "--height", size)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return toolFailed(stillKinds[kindSVG].unreadable(), err), nil
	}
	// A drawing has no pixel size of its own, like a PDF page.
	return g.posterFromPNG(Result{}, png, true), nil
}
