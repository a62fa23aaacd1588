package media

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"

	// Decoders registered with image.Decode for the formats Shelf previews.
	_ "image/gif"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// makeImage decodes an image file held in memory and returns its previews
// and facts. Decoding problems become a StateError result; a decoder panic
// is recovered into one.
func (g *Generator) makeImage(data []byte, truncated bool) (res Result) {
	format := imageFormat(data)
	ex := parseTIFFExif(findExif(format, data))
	res.Facts.TakenAt = ex.TakenAt
	res.Facts.Camera = ex.Camera()

	defer func() {
		if p := recover(); p != nil {
			res = Result{State: StateError, Facts: res.Facts, Error: imageUnreadable(format),
				Detail: fmt.Sprintf("the %s decoder crashed on this file (%v)", format, p)}
		}
	}()

	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if truncated {
			return Result{State: StateIcon, Facts: res.Facts,
				Error: fmt.Sprintf("the file is larger than %d MiB, the limit for previews", g.cfg.MaxImageBytes>>20)}
		}
		return Result{State: StateError, Facts: res.Facts, Error: imageUnreadable(format), Detail: err.Error()}
	}
	w, h := cfg.Width, cfg.Height
	if ex.Orientation >= 5 { // rotated by 90°: the displayed image is transposed
		w, h = h, w
	}
	res.Facts.Width, res.Facts.Height = intPtr(w), intPtr(h)
	if w <= 0 || h <= 0 {
		res.State, res.Error = StateError, fmt.Sprintf("this %s file declares an empty image (%d×%d)", format, w, h)
		return res
	}
	if truncated {
		res.State = StateIcon
		res.Error = fmt.Sprintf("the file is larger than %d MiB, the limit for previews", g.cfg.MaxImageBytes>>20)
		return res
	}
	if int64(w)*int64(h) > g.cfg.MaxPixels {
		res.State = StateIcon
		res.Error = fmt.Sprintf("the image is %d×%d pixels, more than the %d megapixel limit for previews", w, h, g.cfg.MaxPixels/1_000_000)
		return res
	}

	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		res.State, res.Error, res.Detail = StateError, imageUnreadable(format), err.Error()
		return res
	}
	// Shrink before rotating: turning a full-size photo costs more than
	// turning its preview.
	img = orient(prescale(img, g.cfg.PreviewSize), ex.Orientation)
	thumb, preview, err := g.encodePreviews(img)
	if err != nil {
		res.State, res.Error, res.Detail = StateError, msgNotSaved, err.Error()
		return res
	}
	res.State, res.Thumb, res.Preview = StateReady, thumb, preview
	return res
}

// encodePreviews scales img to the preview and thumbnail sizes (never up),
// flattens transparency onto white and encodes both as JPEG.
func (g *Generator) encodePreviews(img image.Image) (thumb, preview []byte, err error) {
	big := fitWithin(img, g.cfg.PreviewSize)
	small := fitWithin(big, g.cfg.ThumbSize)
	if preview, err = g.encodeJPEG(big); err != nil {
		return nil, nil, err
	}
	if thumb, err = g.encodeJPEG(small); err != nil {
		return nil, nil, err
	}
	return thumb, preview, nil
}

func (g *Generator) encodeJPEG(img image.Image) ([]byte, error) {
	b := img.Bounds()
	flat := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(flat, flat.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(flat, flat.Bounds(), img, b.Min, draw.Over)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, flat, &jpeg.Options{Quality: g.cfg.JPEGQuality}); err != nil {
		return nil, fmt.Errorf("encoding the preview as JPEG failed: %w", err)
	}
	return buf.Bytes(), nil
}
