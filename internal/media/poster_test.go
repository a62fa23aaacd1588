package media

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// toolsOrSkip returns the installed tools, skipping the test when the ones
// it needs are absent.
func toolsOrSkip(t *testing.T, need func(Tools) bool, what string) Tools {
	t.Helper()
	tools := DetectTools(nil)
	if !need(tools) {
		t.Skipf("%s not installed: install it (Debian: apt-get install %s) to test posters", what, map[string]string{
			"ffmpeg": "ffmpeg", "pdftoppm": "poppler-utils"}[what])
	}
	return tools
}

func TestVideoPosterAndDuration(t *testing.T) {
	t.Parallel()
	tools := toolsOrSkip(t, Tools.Video, "ffmpeg")
	file := filepath.Join(t.TempDir(), "clip.mp4")
	out, err := exec.Command(tools.FFmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=2",
		"-c:v", "mpeg4", "-metadata", "creation_time=2022-03-04T05:06:07Z", "-y", file).CombinedOutput()
	if err != nil {
		t.Fatalf("making a test video: %v: %s", err, out)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := NewGenerator(Config{Tools: tools, TempDir: t.TempDir()})
	res, err := g.Make(context.Background(), "clip.mp4", "video/mp4", f)
	if err != nil {
		t.Fatal(err)
	}
	wantReady(t, res, 64, 48)
	if res.Facts.DurationMS == nil || *res.Facts.DurationMS < 1900 || *res.Facts.DurationMS > 2100 {
		t.Errorf("duration = %v ms, want about 2000", deref(res.Facts.DurationMS))
	}
	if res.Facts.TakenAt == nil || !res.Facts.TakenAt.Equal(time.Date(2022, 3, 4, 5, 6, 7, 0, time.UTC)) {
		t.Errorf("taken at = %v, want the container's creation time", deref(res.Facts.TakenAt))
	}
}

func TestVideoThatCannotBeReadIsAnError(t *testing.T) {
	t.Parallel()
	tools := toolsOrSkip(t, Tools.Video, "ffmpeg")
	g := NewGenerator(Config{Tools: tools, TempDir: t.TempDir()})
	res, err := g.Make(context.Background(), "broken.mp4", "video/mp4",
		strings.NewReader("\x00\x00\x00\x18ftypmp42"+strings.Repeat("\xde\xad", 100)))
	if err != nil {
		t.Fatal(err)
	}
	if res.State != StateError || res.Error != msgVideoUnreadable {
		t.Fatalf("state %q, error %q; want %q", res.State, res.Error, msgVideoUnreadable)
	}
	// The tool's own message names the temporary copy: log only.
	if !strings.Contains(res.Detail, "ffprobe") {
		t.Errorf("detail %q, want ffprobe's message for the log", res.Detail)
	}
}

func TestLegacyReasonsAreReworded(t *testing.T) {
	t.Parallel()
	raw := "cannot read this video: ffprobe failed (exit status 1): /tmp/shelf-media-123.mp4: Invalid data found when processing input"
	if got := Reason(raw); got != msgVideoUnreadable || strings.Contains(got, "/tmp") {
		t.Errorf("Reason(%q) = %q, want %q", raw, got, msgVideoUnreadable)
	}
	if got := Reason("cannot decode this jpeg file: unexpected EOF"); strings.Contains(got, "EOF") {
		t.Errorf("Reason kept the decoder's message: %q", got)
	}
	if got := Reason(""); got != "" {
		t.Errorf("Reason(\"\") = %q, want empty", got)
	}
}

func TestToolTimeoutIsRecorded(t *testing.T) {
	t.Parallel()
	tools := toolsOrSkip(t, Tools.Video, "ffmpeg")
	g := NewGenerator(Config{Tools: tools, TempDir: t.TempDir(), ToolTimeout: time.Nanosecond})
	res, err := g.Make(context.Background(), "x.mp4", "video/mp4", strings.NewReader("\x00\x00\x00\x18ftypmp42"))
	if err != nil {
		t.Fatal(err)
	}
	if res.State != StateError || res.Error != msgToolTooSlow || !strings.Contains(res.Detail, "was stopped") {
		t.Fatalf("state %q, error %q; want the timeout recorded", res.State, res.Error)
	}
}

// minimalPDF is a one-page PDF, 200×100 points, with a filled rectangle.
func minimalPDF() string {
	content := "0 0 1 rg 20 20 160 60 re f"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources << >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
	}
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.String()
}

func TestPDFPoster(t *testing.T) {
	t.Parallel()
	tools := toolsOrSkip(t, Tools.PDF, "pdftoppm")
	g := NewGenerator(Config{Tools: tools, TempDir: t.TempDir()})
	res, err := g.Make(context.Background(), "doc.pdf", "application/pdf", strings.NewReader(minimalPDF()))
	if err != nil {
		t.Fatal(err)
	}
	if res.State != StateReady {
		t.Fatalf("state %q (%s), want ready", res.State, res.Error)
	}
	thumb := decodeJPEG(t, res.Thumb)
	if b := thumb.Bounds(); b.Dx() != 400 || b.Dy() != 200 {
		t.Errorf("thumb is %v, want 400×200 (the page's shape)", b.Size())
	}
	if c := thumb.At(200, 100); !isBluish(c) {
		t.Errorf("the page's blue rectangle came out %v", c)
	}
	if res.Facts.Width != nil {
		t.Errorf("a PDF's rendered pixel width was recorded as a fact: %v", *res.Facts.Width)
	}
}

func TestBrokenPDFIsAnError(t *testing.T) {
	t.Parallel()
	tools := toolsOrSkip(t, Tools.PDF, "pdftoppm")
	g := NewGenerator(Config{Tools: tools, TempDir: t.TempDir()})
	res, err := g.Make(context.Background(), "bad.pdf", "", strings.NewReader("%PDF-1.4\nnot really"))
	if err != nil {
		t.Fatal(err)
	}
	if res.State != StateError || !strings.Contains(res.Error, "PDF") {
		t.Fatalf("state %q, error %q; want an error about the PDF", res.State, res.Error)
	}
}

func TestTemporaryCopiesAreRemoved(t *testing.T) {
	t.Parallel()
	tools := toolsOrSkip(t, Tools.PDF, "pdftoppm")
	dir := t.TempDir()
	g := NewGenerator(Config{Tools: tools, TempDir: dir})
	if _, err := g.Make(context.Background(), "doc.pdf", "", strings.NewReader(minimalPDF())); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}
