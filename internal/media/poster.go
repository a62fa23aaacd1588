package media

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"strconv"
	"time"
)

// makeVideo reads a video's duration and dimensions with ffprobe and grabs
// a poster frame with ffmpeg (which applies the stream's rotation itself).
func (g *Generator) makeVideo(ctx context.Context, file string) (Result, error) {
	var res Result
	out, err := g.runTool(ctx, g.cfg.Tools.FFprobe, "-v", "error", "-print_format", "json",
		"-show_format", "-show_streams", "--", file)
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return toolFailed(msgVideoUnreadable, err), nil
	}
	probe, err := parseProbe(out)
	if err != nil {
		return toolFailed(msgVideoUnreadable, err), nil
	}
	res.Facts = probe.facts()
	if !probe.hasVideo {
		res.State, res.Error = StateIcon, "the file holds no video stream"
		return res, nil
	}
	// A frame a little into the video is more telling than a black first
	// frame; short clips fall back to the start.
	at := 0.0
	if probe.duration > 0 {
		at = math.Min(probe.duration*0.1, 3)
	}
	frame, err := g.grabFrame(ctx, file, at)
	if err == nil && len(frame) == 0 && at > 0 {
		frame, err = g.grabFrame(ctx, file, 0)
	}
	if err == nil && len(frame) == 0 {
		err = fmt.Errorf("ffmpeg produced no frame")
	}
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		failed := toolFailed(msgVideoNoFrame, err)
		failed.Facts = res.Facts
		return failed, nil
	}
	return g.posterFromPNG(res, frame, false), nil
}

func (g *Generator) grabFrame(ctx context.Context, file string, at float64) ([]byte, error) {
	return g.runTool(ctx, g.cfg.Tools.FFmpeg, "-v", "error", "-nostdin",
		"-ss", strconv.FormatFloat(at, 'f', 3, 64), "-i", file,
		"-frames:v", "1", "-an", "-f", "image2pipe", "-c:v", "png", "-")
}

// makePDF renders the first page of a PDF with pdftoppm.
func (g *Generator) makePDF(ctx context.Context, file string) (Result, error) {
	out, err := g.runTool(ctx, g.cfg.Tools.PDFToPPM, "-f", "1", "-l", "1", "-singlefile",
		"-png", "-scale-to", strconv.Itoa(g.cfg.PreviewSize), file)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		return toolFailed(msgPDFUnreadable, err), nil
	}
	if len(out) == 0 {
		return Result{State: StateError, Error: msgPDFUnreadable, Detail: "pdftoppm produced no page"}, nil
	}
	return g.posterFromPNG(Result{}, out, true), nil
}

// posterFromPNG turns a PNG rendered by a tool into the previews. Video
// dimensions come from the frame (it is already rotated); a PDF page's
// pixel size says nothing about the document, so it is not recorded.
func (g *Generator) posterFromPNG(res Result, png []byte, document bool) Result {
	return g.previewFromEncoded(res, png, 0, !document, msgPosterUnreadable, "the poster")
}

// previewFromEncoded decodes an encoded image a tool produced (what names
// it in the log), turns it upright by orientation and makes the previews.
// With recordSize the (upright) image's size becomes the facts' size. An
// image past Config.MaxPixels, or one that cannot be decoded, is a
// StateError with unreadable as its reason; a decoder panic is recovered.
func (g *Generator) previewFromEncoded(res Result, data []byte, orientation int, recordSize bool, unreadable, what string) (out Result) {
	defer func() {
		if p := recover(); p != nil {
			out = Result{State: StateError, Facts: res.Facts, Error: unreadable, Detail: fmt.Sprintf("decoding %s crashed: %v", what, p)}
		}
	}()
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err == nil && int64(cfg.Width)*int64(cfg.Height) > g.cfg.MaxPixels {
		err = fmt.Errorf("it declares %d×%d pixels", cfg.Width, cfg.Height)
	}
	var img image.Image
	if err == nil {
		img, _, err = image.Decode(bytes.NewReader(data))
	}
	if err != nil {
		res.State, res.Error, res.Detail = StateError, unreadable, "decoding "+what+" failed: "+err.Error()
		return res
	}
	img = orient(prescale(img, g.cfg.PreviewSize), orientation)
	if recordSize {
		b := img.Bounds()
		res.Facts.Width, res.Facts.Height = intPtr(b.Dx()), intPtr(b.Dy())
	}
	thumb, preview, err := g.encodePreviews(img)
	if err != nil {
		res.State, res.Error, res.Detail = StateError, msgNotSaved, err.Error()
		return res
	}
	res.State, res.Thumb, res.Preview = StateReady, thumb, preview
	return res
}

// probeInfo is the part of ffprobe's JSON output Shelf uses.
type probeInfo struct {
	hasVideo      bool
	width, height int
	rotated       bool
	duration      float64
	created       *time.Time
}

func parseProbe(out []byte) (probeInfo, error) {
	var raw struct {
		Streams []struct {
			CodecType string            `json:"codec_type"`
			Width     int               `json:"width"`
			Height    int               `json:"height"`
			Tags      map[string]string `json:"tags"`
			SideData  []struct {
				Rotation float64 `json:"rotation"`
			} `json:"side_data_list"`
			Disposition map[string]int `json:"disposition"`
		} `json:"streams"`
		Format struct {
			Duration string            `json:"duration"`
			Tags     map[string]string `json:"tags"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return probeInfo{}, fmt.Errorf("ffprobe answered something unexpected: %w", err)
	}
	var p probeInfo
	for _, s := range raw.Streams {
		// Cover art in audio files is a "video" stream with attached_pic.
		if s.CodecType != "video" || s.Disposition["attached_pic"] == 1 {
			continue
		}
		p.hasVideo, p.width, p.height = true, s.Width, s.Height
		rot := 0.0
		if r, err := strconv.ParseFloat(s.Tags["rotate"], 64); err == nil {
			rot = r
		}
		for _, sd := range s.SideData {
			if sd.Rotation != 0 {
				rot = sd.Rotation
			}
		}
		p.rotated = math.Mod(math.Abs(rot), 180) == 90
		break
	}
	if d, err := strconv.ParseFloat(raw.Format.Duration, 64); err == nil && d > 0 && !math.IsInf(d, 0) {
		p.duration = d
	}
	if t, err := time.Parse(time.RFC3339Nano, raw.Format.Tags["creation_time"]); err == nil && t.Year() > 1970 {
		t = t.UTC()
		p.created = &t
	}
	return p, nil
}

func (p probeInfo) facts() Facts {
	var f Facts
	if p.width > 0 && p.height > 0 {
		w, h := p.width, p.height
		if p.rotated {
			w, h = h, w
		}
		f.Width, f.Height = intPtr(w), intPtr(h)
	}
	if p.duration > 0 {
		ms := int64(math.Round(p.duration * 1000))
		f.DurationMS = &ms
	}
	f.TakenAt = p.created
	return f
}
