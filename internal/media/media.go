// Package media makes previews and reads file facts: thumbnails for images
// (JPEG, PNG, GIF, WebP, TIFF, BMP) with EXIF orientation applied, posters
// for video (ffmpeg) and PDF (pdftoppm), previews of HEIC/HEIF, PSD and
// animated WebP (vipsthumbnail), camera RAW (the embedded JPEG, by
// exiftool) and SVG (rsvg-convert) where those tools are installed, and
// type icons for everything else. Previews are derived data kept under the
// data directory, never written to the customer's storage.
//
// Decoding never crashes the process: a file that cannot be decoded yields
// the state "error" with a message, and decoder panics are recovered.
package media

import (
	"log/slog"
	"time"
)

// Preview states, as stored in assets.preview_state.
const (
	StatePending = "pending"
	StateReady   = "ready"
	StateIcon    = "icon"
	StateError   = "error"
)

// Facts are what the content tells about a file. Nil fields are unknown.
type Facts struct {
	Width      *int
	Height     *int
	DurationMS *int64
	TakenAt    *time.Time
	Camera     string
}

// Result is the outcome of looking at one file's content.
type Result struct {
	// State is StateReady (Thumb and Preview hold JPEGs), StateIcon (no
	// preview can be made for this type or size; Error may say why) or
	// StateError (the content could not be decoded; Error says why).
	State string
	// Error says in plain words why there is no preview; it is shown to
	// people, so it never carries a tool's output or a server path.
	Error string
	// Detail is the technical cause (a tool's message), for the log only.
	Detail string
	Facts  Facts
	// Thumb is a JPEG whose long edge is at most Config.ThumbSize; Preview
	// one at most Config.PreviewSize. Both nil unless State is StateReady.
	Thumb   []byte
	Preview []byte
}

// Config tunes a Generator. Zero fields take the defaults noted.
type Config struct {
	// ThumbSize is the long edge of grid thumbnails in pixels (default 400).
	ThumbSize int
	// PreviewSize is the long edge of asset-page previews (default 1600).
	PreviewSize int
	// JPEGQuality of the written thumbnails and previews (default 82).
	JPEGQuality int
	// MaxImageBytes is the largest image file decoded (default 200 MiB);
	// larger ones get an icon. The content is read only up to this limit.
	MaxImageBytes int64
	// MaxPixels is the largest decoded image, width × height (default
	// 120 million), so a small file declaring a huge canvas cannot exhaust
	// memory.
	MaxPixels int64
	// MaxToolInputBytes caps how much of a video or PDF is copied to a
	// temporary file for ffmpeg / pdftoppm (default 2 GiB).
	MaxToolInputBytes int64
	// ToolTimeout bounds each run of an external tool (default 60 s).
	ToolTimeout time.Duration
	// TempDir holds temporary copies for external tools (default: the
	// system's temporary directory).
	TempDir string
	// Tools are the external programs found at start-up (DetectTools).
	Tools Tools
	// Logger receives warnings about files that could not be decoded
	// (default: discard).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.ThumbSize <= 0 {
		c.ThumbSize = 400
	}
	if c.PreviewSize <= 0 {
		c.PreviewSize = 1600
	}
	if c.PreviewSize < c.ThumbSize {
		c.PreviewSize = c.ThumbSize
	}
	if c.JPEGQuality <= 0 || c.JPEGQuality > 100 {
		c.JPEGQuality = 82
	}
	if c.MaxImageBytes <= 0 {
		c.MaxImageBytes = 200 << 20
	}
	if c.MaxPixels <= 0 {
		c.MaxPixels = 120_000_000
	}
	if c.MaxToolInputBytes <= 0 {
		c.MaxToolInputBytes = 2 << 30
	}
	if c.ToolTimeout <= 0 {
		c.ToolTimeout = 60 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Generator turns file content into a Result. It holds no per-file state
// and is safe for concurrent use.
type Generator struct {
	cfg Config
}

// NewGenerator returns a Generator with cfg, defaults filled in.
func NewGenerator(cfg Config) *Generator {
	return &Generator{cfg: cfg.withDefaults()}
}

// Tools reports which external tools this generator uses.
func (g *Generator) Tools() Tools { return g.cfg.Tools }

func intPtr(v int) *int { return &v }
