package testenv

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
)

// Red and Blue are the colours of TwoFrameGIF's frames.
var (
	Red  = color.RGBA{220, 0, 0, 255}
	Blue = color.RGBA{0, 0, 220, 255}
)

// TwoFrameGIF is an animated GIF of w×h pixels, looping: a Red frame,
// then a Blue one, each shown for delay hundredths of a second.
func TwoFrameGIF(w, h, delay int) []byte {
	anim := &gif.GIF{}
	for i := range 2 {
		fr := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{Red, Blue})
		for p := range fr.Pix {
			fr.Pix[p] = uint8(i)
		}
		anim.Image, anim.Delay = append(anim.Image, fr), append(anim.Delay, delay)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, anim); err != nil {
		panic("encoding a test GIF: " + err.Error()) // an in-memory write cannot fail
	}
	return buf.Bytes()
}
