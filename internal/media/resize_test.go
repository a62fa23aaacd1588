package media

import (
	"image"
	"math"
	"testing"

	"golang.org/x/image/draw"
)

// TestResizeInBandsMatchesOneCall: scaling in bands on several cores
// gives the picture one Kernel.Scale call gives (up to the rounding of the
// 8-bit intermediate), so no seam shows between bands.
func TestResizeInBandsMatchesOneCall(t *testing.T) {
	t.Parallel()
	// Smooth waves (no clipping of the kernel's overshoot), steep enough
	// that a band off by one pixel differs by more than rounding.
	whole := image.NewRGBA(image.Rect(0, 0, 1100, 900))
	for y := range 900 {
		for x := range 1100 {
			i := whole.PixOffset(x, y)
			whole.Pix[i] = uint8(128 + 80*math.Sin(float64(x)/9))
			whole.Pix[i+1] = uint8(128 + 80*math.Sin(float64(y)/7))
			whole.Pix[i+2] = uint8(128 + 80*math.Sin(float64(x+y)/11))
			whole.Pix[i+3] = 255
		}
	}
	src := whole.SubImage(image.Rect(37, 21, 1037, 821)) // 1000×800, bounds not at the origin
	for _, size := range []image.Point{{400, 320}, {999, 13}, {130, 797}, {1000, 700}} {
		got := resize(src, size.X, size.Y)
		want := image.NewRGBA(image.Rect(0, 0, size.X, size.Y))
		draw.CatmullRom.Scale(want, want.Bounds(), src, src.Bounds(), draw.Src, nil)
		if got.Bounds() != want.Bounds() {
			t.Fatalf("%v: resized to %v", size, got.Bounds())
		}
		for i := range got.Pix {
			if d := int(got.Pix[i]) - int(want.Pix[i]); d < -1 || d > 1 {
				x, y := (i/4)%size.X, (i/4)/size.X
				t.Fatalf("%v: pixel (%d, %d) channel %d is %d, one Scale call gives %d", size, x, y, i%4, got.Pix[i], want.Pix[i])
			}
		}
	}
}
