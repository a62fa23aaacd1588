package media

import (
	"testing"
	"time"
)

func TestParseTIFFExif(t *testing.T) {
	t.Parallel()
	for _, big := range []bool{false, true} {
		b := buildExif(exifSpec{bigEndian: big, orientation: 8, make: "Canon", model: "Canon EOS R5",
			original: "2021:07:04 09:15:00", offset: "-05:00"})
		info := parseTIFFExif(b)
		if info.Orientation != 8 {
			t.Errorf("big-endian=%v: orientation %d, want 8", big, info.Orientation)
		}
		if got := info.Camera(); got != "Canon EOS R5" {
			t.Errorf("big-endian=%v: camera %q", big, got)
		}
		want := time.Date(2021, 7, 4, 14, 15, 0, 0, time.UTC)
		if info.TakenAt == nil || !info.TakenAt.Equal(want) {
			t.Errorf("big-endian=%v: taken at %v, want %v", big, deref(info.TakenAt), want)
		}
	}
}

func TestExifFallsBackToIFD0DateWithoutOffset(t *testing.T) {
	t.Parallel()
	info := parseTIFFExif(buildExif(exifSpec{dateTime: "2019:02:03 04:05:06", make: "Apple", model: "iPhone 12"}))
	if info.TakenAt == nil || !info.TakenAt.Equal(time.Date(2019, 2, 3, 4, 5, 6, 0, time.UTC)) {
		t.Errorf("taken at %v", deref(info.TakenAt))
	}
	if info.Camera() != "Apple iPhone 12" {
		t.Errorf("camera %q", info.Camera())
	}
	if info.Orientation != 0 {
		t.Errorf("orientation %d, want 0 (absent)", info.Orientation)
	}
}

func TestExifIgnoresEmptyDates(t *testing.T) {
	t.Parallel()
	info := parseTIFFExif(buildExif(exifSpec{original: "0000:00:00 00:00:00", make: "X"}))
	if info.TakenAt != nil {
		t.Errorf("an all-zero date was read as %v", *info.TakenAt)
	}
}

func TestExifSurvivesDamage(t *testing.T) {
	t.Parallel()
	good := buildExif(exifSpec{orientation: 6, make: "Make", model: "Model", original: "2020:01:01 00:00:00"})
	// Every truncation, and every single-byte change to 0x00 and 0xff.
	for n := range len(good) {
		parseTIFFExif(good[:n])
	}
	for i := range good {
		for _, v := range []byte{0x00, 0xff, 0x7f} {
			b := append([]byte{}, good...)
			b[i] = v
			info := parseTIFFExif(b)
			if info.Orientation < 0 || info.Orientation > 8 {
				t.Fatalf("orientation %d out of range", info.Orientation)
			}
		}
	}
}

func FuzzParseTIFFExif(f *testing.F) {
	f.Add(buildExif(exifSpec{orientation: 6, make: "M", model: "N", original: "2020:01:02 03:04:05", offset: "+01:00"}))
	f.Add(buildExif(exifSpec{bigEndian: true, dateTime: "2020:01:02 03:04:05"}))
	f.Add([]byte("II*\x00\x08\x00\x00\x00\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info := parseTIFFExif(b)
		if info.Orientation < 0 || info.Orientation > 8 {
			t.Fatalf("orientation %d out of range", info.Orientation)
		}
		for _, format := range []string{"jpeg", "png", "webp", "tiff"} {
			findExif(format, b)
		}
	})
}

func TestCameraName(t *testing.T) {
	t.Parallel()
	cases := []struct{ make, model, want string }{
		{"NIKON CORPORATION", "NIKON Z 6", "NIKON Z 6"},
		{"Canon", "Canon EOS 5D", "Canon EOS 5D"},
		{"SONY", "ILCE-7M3", "SONY ILCE-7M3"},
		{"", "Model Only", "Model Only"},
		{"Make Only", "", "Make Only"},
		{"", "", ""},
	}
	for _, c := range cases {
		if got := (exifInfo{Make: c.make, Model: c.model}).Camera(); got != c.want {
			t.Errorf("Camera(%q, %q) = %q, want %q", c.make, c.model, got, c.want)
		}
	}
}
