package media

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"testing"
)

// photoLike is a w×h image with smooth gradients and some detail, closer
// to a photo's cost to encode and decode than a flat colour.
func photoLike(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			i := img.PixOffset(x, y)
			img.Pix[i] = byte(x * 255 / w)
			img.Pix[i+1] = byte(y * 255 / h)
			img.Pix[i+2] = byte((x ^ y) & 0xff)
			img.Pix[i+3] = 255
		}
	}
	return img
}

// BenchmarkMakeJPEG12MP measures the preview of a 12-megapixel JPEG (a
// typical phone photo): decode, scale to 1600 and 400 px, encode both.
func BenchmarkMakeJPEG12MP(b *testing.B) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photoLike(4000, 3000), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	g := NewGenerator(Config{})
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		res, err := g.Make(context.Background(), "p.jpg", "image/jpeg", bytes.NewReader(data))
		if err != nil || res.State != StateReady {
			b.Fatalf("%v %s %s", err, res.State, res.Error)
		}
	}
}
