package embedmeta

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// needExiftool returns exiftool or skips the test, naming how to enable it.
func needExiftool(t *testing.T) Exiftool {
	t.Helper()
	x := FindExiftool()
	if !x.Available() {
		t.Skip("exiftool is not installed: apt-get install libimage-exiftool-perl (scripts/test-all installs it)")
	}
	return x
}

// testImage is a small image with a gradient, so a changed pixel shows.
func testImage() *image.RGBA {
	im := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for y := range 12 {
		for x := range 16 {
			im.Set(x, y, color.RGBA{uint8(x * 16), uint8(y * 20), uint8(x*y + 7), 255})
		}
	}
	return im
}

// writeJPEG writes a small JPEG made with Go's encoder and returns its path.
func writeJPEG(t *testing.T, dir, name string) string {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// exiftoolSet runs exiftool with tag assignments on file, as Lightroom or
// a camera would have written them.
func exiftoolSet(t *testing.T, x Exiftool, file string, args ...string) {
	t.Helper()
	cmd := exec.Command(x.Path, append(append([]string{"-q", "-overwrite_original"}, args...), file)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("exiftool %v: %v\n%s", args, err, out)
	}
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
