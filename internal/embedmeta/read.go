package embedmeta

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
)

// fallbackRead is how much of a file Go's own reader searches for an XMP
// packet when exiftool is absent (a JPEG keeps it near the start).
const fallbackRead = 16 << 20

// ReadEmbedded reads the metadata embedded in a local file: with exiftool
// when it is installed, else Go's XMP reader over the file's first 16 MiB.
// It returns the reader used ("exiftool" or "go"). A file whose metadata
// cannot be read gives what was read and a note, not an error.
func ReadEmbedded(ctx context.Context, tool Exiftool, file string) (Meta, string) {
	if tool.Available() {
		m, err := tool.Read(ctx, file)
		if err != nil {
			m.skip("embedded metadata not read: %s", cut(err.Error(), 200))
		}
		return m, "exiftool"
	}
	var m Meta
	f, err := os.Open(file)
	if err != nil {
		m.skip("embedded metadata not read: %v", err)
		return m, "go"
	}
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.LimitReader(f, fallbackRead))
	if err != nil {
		m.skip("embedded metadata not read: %v", err)
		return m, "go"
	}
	packet := findPacket(b)
	switch {
	case packet == nil:
		return m, "go"
	case len(packet) > MaxSidecar:
		m.skip("XMP block larger than %d MiB skipped", MaxSidecar>>20)
		return m, "go"
	}
	m, _ = ParseXMP(bytes.NewReader(packet))
	return m, "go"
}

// ReadSidecar reads an XMP sidecar's content (at most MaxSidecar bytes are
// accepted); a sidecar that is too large or not XML gives a note.
func ReadSidecar(r io.Reader) Meta {
	b, err := io.ReadAll(io.LimitReader(r, MaxSidecar+1))
	var m Meta
	switch {
	case err != nil:
		m.skip("XMP sidecar not read: %v", err)
		return m
	case len(b) > MaxSidecar:
		m.skip("XMP sidecar larger than %d MiB skipped", MaxSidecar>>20)
		return m
	case len(bytes.TrimSpace(b)) == 0:
		m.skip("XMP sidecar is empty")
		return m
	}
	m, err = ParseXMP(bytes.NewReader(b))
	if err != nil && m.Empty() {
		m.Notes = []string{fmt.Sprintf("XMP sidecar is not XMP (not well-formed XML: %s); skipped", cut(err.Error(), 120))}
	}
	m.Incomplete = m.Incomplete || err != nil
	return m
}
