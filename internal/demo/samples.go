// Package demo generates the sample library of `shelf demo`: a local folder
// of generated images (JPEG, PNG, GIF) and a few documents in nested
// folders, so a new user can try every page without connecting storage.
package demo

import (
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

// sample is one generated file.
type sample struct {
	path string
	kind string // jpeg | png | gif | text
	hue  float64
}

func samples() []sample {
	var out []sample
	add := func(dir string, n int, kind string, hue float64) {
		for i := 1; i <= n; i++ {
			ext := map[string]string{"jpeg": "jpg", "png": "png", "gif": "gif"}[kind]
			out = append(out, sample{path: filepath.Join(dir, fmt.Sprintf("%s-%02d.%s", filepath.Base(dir), i, ext)), kind: kind, hue: hue + float64(i)*17})
		}
	}
	add("Campaigns/Spring 2026/Hero shots", 6, "jpeg", 90)
	add("Campaigns/Spring 2026/Social", 5, "png", 150)
	add("Campaigns/Autumn 2026", 4, "jpeg", 20)
	add("Brand/Logos", 4, "png", 220)
	add("Brand/Animations", 2, "gif", 300)
	add("Photography/Studio", 8, "jpeg", 40)
	add("Photography/Outdoor/Mountains", 5, "jpeg", 200)
	add("Photography/Outdoor/Coast", 5, "jpeg", 180)
	out = append(out,
		sample{path: "Brand/Guidelines.txt", kind: "text"},
		sample{path: "README.txt", kind: "text"},
	)
	return out
}

// Generate writes the sample library under dir, leaving files that already
// exist alone (so edits made through Shelf survive a restart). It returns
// the number of files written.
func Generate(dir string) (int, error) {
	written := 0
	for _, s := range samples() {
		p := filepath.Join(dir, s.path)
		if _, err := os.Stat(p); err == nil {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return written, fmt.Errorf("creating demo folder: %w", err)
		}
		if err := writeSample(p, s); err != nil {
			return written, fmt.Errorf("writing demo file %s: %w", p, err)
		}
		written++
	}
	return written, nil
}

func writeSample(p string, s sample) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	defer f.Close()
	switch s.kind {
	case "text":
		_, err = fmt.Fprintf(f, "This is %s, a sample document of the Shelf demo library.\nEdit, move or delete files in this folder, and watch the open library in Shelf show it within seconds.\n", filepath.Base(p))
	case "jpeg":
		err = jpeg.Encode(f, picture(960, 640, s.hue), &jpeg.Options{Quality: 82})
	case "png":
		err = png.Encode(f, picture(640, 640, s.hue))
	case "gif":
		err = gif.EncodeAll(f, animation(s.hue))
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// picture draws a soft gradient with a few circles, coloured around hue.
func picture(w, h int, hue float64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	cx, cy := float64(w)*0.62, float64(h)*0.4
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			t := float64(y) / float64(h)
			d := math.Hypot(float64(x)-cx, float64(y)-cy) / float64(w)
			l := 0.35 + 0.4*t
			if d < 0.18 {
				l = 0.85 - d
			}
			img.Set(x, y, hsl(math.Mod(hue+40*t, 360), 0.55, l))
		}
	}
	return img
}

func animation(hue float64) *gif.GIF {
	var pal color.Palette
	for i := 0; i < 16; i++ {
		pal = append(pal, hsl(math.Mod(hue+float64(i)*8, 360), 0.6, 0.3+float64(i)*0.035))
	}
	g := &gif.GIF{}
	for f := 0; f < 6; f++ {
		img := image.NewPaletted(image.Rect(0, 0, 200, 200), pal)
		for y := 0; y < 200; y++ {
			for x := 0; x < 200; x++ {
				img.SetColorIndex(x, y, uint8((x/25+y/25+f)%16))
			}
		}
		g.Image = append(g.Image, img)
		g.Delay = append(g.Delay, 20)
	}
	return g
}

func hsl(h, s, l float64) color.RGBA {
	c := (1 - math.Abs(2*l-1)) * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := l - c/2
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	return color.RGBA{uint8((r + m) * 255), uint8((g + m) * 255), uint8((b + m) * 255), 255}
}
