package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"time"
)

// Tools are the absolute paths of the external programs used for posters;
// an empty path means the tool is absent and those files get a type icon.
type Tools struct {
	FFmpeg   string
	FFprobe  string
	PDFToPPM string
	// Still-image tools (stilltools.go): vipsthumbnail and vipsheader
	// (libvips-tools) for HEIC/HEIF, PSD and animated WebP, exiftool for
	// camera RAW previews, rsvg-convert (librsvg2-bin) for SVG.
	VipsThumbnail string
	VipsHeader    string
	ExifTool      string
	RSVGConvert   string
}

// DetectTools looks up ffmpeg, ffprobe, pdftoppm and the still-image
// tools on PATH once, at start-up, and logs what was found.
func DetectTools(logger *slog.Logger) Tools {
	find := func(name string) string {
		p, err := exec.LookPath(name)
		if err != nil {
			return ""
		}
		return p
	}
	t := Tools{FFmpeg: find("ffmpeg"), FFprobe: find("ffprobe"), PDFToPPM: find("pdftoppm")}
	t.findStillTools(find)
	if logger != nil {
		logger.Info("preview tools",
			slog.String("ffmpeg", orAbsent(t.FFmpeg)),
			slog.String("ffprobe", orAbsent(t.FFprobe)),
			slog.String("pdftoppm", orAbsent(t.PDFToPPM)))
		if !t.Video() {
			logger.Info("videos get a type icon: install ffmpeg (with ffprobe) for video posters and durations")
		}
		if !t.PDF() {
			logger.Info("PDFs get a type icon: install poppler-utils (pdftoppm) for PDF posters")
		}
		t.logStillTools(logger)
	}
	return t
}

// Video reports whether video posters can be made.
func (t Tools) Video() bool { return t.FFmpeg != "" && t.FFprobe != "" }

// PDF reports whether PDF posters can be made.
func (t Tools) PDF() bool { return t.PDFToPPM != "" }

func orAbsent(p string) string {
	if p == "" {
		return "absent"
	}
	return p
}

// maxToolStderr bounds how much of a tool's error output is kept for the
// message recorded on the asset.
const maxToolStderr = 2 << 10

// runTool runs an external program with a timeout and returns its standard
// output. A failure carries the tail of its standard error.
func (g *Generator) runTool(ctx context.Context, bin string, args ...string) ([]byte, error) {
	return g.runToolInput(ctx, nil, bin, args...)
}

// runToolInput is runTool with stdin as the program's standard input (nil:
// none). The program runs directly, never through a shell.
func (g *Generator) runToolInput(ctx context.Context, stdin io.Reader, bin string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.ToolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = stdin
	cmd.WaitDelay = 5 * time.Second
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: maxToolStderr}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	name := bin[strings.LastIndexByte(bin, '/')+1:]
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("%s took longer than %s and was stopped: %w", name, g.cfg.ToolTimeout, errToolTimeout)
	}
	msg := strings.TrimSpace(stderr.String())
	if msg == "" {
		return nil, fmt.Errorf("%s failed: %w", name, err)
	}
	return nil, fmt.Errorf("%s failed (%w): %s", name, err, msg)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
