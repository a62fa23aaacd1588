package media

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// sniffLen is how many leading bytes decide a file's kind.
const sniffLen = 512

// Make reads a file's content from r (at most the configured limits) and
// returns its previews and facts. name and mimeType help recognise formats
// without a signature. Undecodable content is a Result with StateError, not
// an error; an error is returned only when reading r fails or ctx ends, so
// the caller can retry later.
func (g *Generator) Make(ctx context.Context, name, mimeType string, r io.Reader) (Result, error) {
	br := bufio.NewReaderSize(r, 4096)
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return Result{}, fmt.Errorf("reading the file failed: %w", err)
	}
	switch k := classify(head, name, mimeType); k {
	case kindHEIF, kindPSD, kindAnimWebP, kindRAW, kindSVG:
		return g.makeStill(ctx, k, br, name)
	case kindImage:
		data, truncated, err := readCapped(br, g.cfg.MaxImageBytes)
		if err != nil {
			return Result{}, err
		}
		return g.makeImage(data, truncated), nil
	case kindVideo:
		if !g.cfg.Tools.Video() {
			return Result{State: StateIcon, Error: noTool("videos", "ffmpeg")}, nil
		}
		return g.withTempCopy(ctx, br, name, g.makeVideo)
	case kindPDF:
		if !g.cfg.Tools.PDF() {
			return Result{State: StateIcon, Error: noTool("PDFs", "poppler-utils")}, nil
		}
		return g.withTempCopy(ctx, br, name, g.makePDF)
	}
	return Result{State: StateIcon}, nil
}

// readCapped reads r up to max bytes; truncated reports that more followed.
func readCapped(r io.Reader, max int64) (data []byte, truncated bool, err error) {
	data, err = io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, false, fmt.Errorf("reading the file failed: %w", err)
	}
	if int64(len(data)) > max {
		return data[:max], true, nil
	}
	return data, false, nil
}

// withTempCopy copies r into a temporary file (external tools need a
// seekable file: an MP4 may keep its index at the end) and runs fn on it.
func (g *Generator) withTempCopy(ctx context.Context, r io.Reader, name string,
	fn func(ctx context.Context, file string) (Result, error)) (Result, error) {
	f, err := os.CreateTemp(g.cfg.TempDir, "shelf-media-*"+safeExt(name))
	if err != nil {
		return Result{}, fmt.Errorf("creating a temporary file for the preview failed (check the data directory is writable): %w", err)
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	n, err := io.Copy(f, io.LimitReader(r, g.cfg.MaxToolInputBytes+1))
	if err != nil {
		return Result{}, fmt.Errorf("copying the file for the preview failed: %w", err)
	}
	if n > g.cfg.MaxToolInputBytes {
		return Result{State: StateIcon,
			Error: fmt.Sprintf("the file is larger than %d MiB, the limit for posters", g.cfg.MaxToolInputBytes>>20)}, nil
	}
	if err := f.Close(); err != nil {
		return Result{}, fmt.Errorf("writing the temporary copy failed: %w", err)
	}
	return fn(ctx, f.Name())
}

// safeExt keeps a short, plain extension for the temporary file (some
// tools guess the format from it) and drops anything else.
func safeExt(name string) string {
	ext := extOf(name)
	if len(ext) > 8 || strings.ContainsFunc(ext[min(1, len(ext)):], func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		return ""
	}
	return ext
}
