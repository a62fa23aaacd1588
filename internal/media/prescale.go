package media

import (
	"image"
	"image/color"
)

// prescale shrinks a large decoded JPEG (image.YCbCr) by the largest whole
// factor that keeps its long edge at least target, averaging each block of
// source pixels. Averaging Y, Cb and Cr and converting once per output
// pixel is several times cheaper than the generic resampling path, which
// converts every one of the source's millions of pixels; the exact resize
// to the preview size then runs on an image a few times smaller. Other
// images, and images less than twice the target, are returned unchanged.
func prescale(img image.Image, target int) image.Image {
	src, ok := img.(*image.YCbCr)
	if !ok {
		return img
	}
	b := src.Bounds()
	k := max(b.Dx(), b.Dy()) / target
	if k < 2 {
		return img
	}
	w, h := b.Dx()/k, b.Dy()/k
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	n := uint32(k * k)
	for oy := range h {
		for ox := range w {
			var sy, scb, scr uint32
			x0, y0 := b.Min.X+ox*k, b.Min.Y+oy*k
			for y := y0; y < y0+k; y++ {
				for x := x0; x < x0+k; x++ {
					sy += uint32(src.Y[src.YOffset(x, y)])
					ci := src.COffset(x, y)
					scb += uint32(src.Cb[ci])
					scr += uint32(src.Cr[ci])
				}
			}
			r, g, bl := color.YCbCrToRGB(uint8(sy/n), uint8(scb/n), uint8(scr/n))
			i := dst.PixOffset(ox, oy)
			dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = r, g, bl, 0xff
		}
	}
	return dst
}
