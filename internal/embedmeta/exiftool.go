package embedmeta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Exiftool runs the exiftool program (Debian libimage-exiftool-perl), one
// process per file, never through a shell. The zero Path means absent.
type Exiftool struct {
	Path string
	// Timeout bounds one run (default 30 s): a file that makes the tool
	// hang is skipped with a note, the sync goes on.
	Timeout time.Duration
}

// FindExiftool looks exiftool up on PATH; the result's Path is empty when
// it is not installed.
func FindExiftool() Exiftool {
	p, err := exec.LookPath("exiftool")
	if err != nil {
		return Exiftool{}
	}
	return Exiftool{Path: p}
}

// Available reports whether exiftool was found.
func (x Exiftool) Available() bool { return x.Path != "" }

// maxToolOutput bounds what is read from exiftool's output: a file whose
// metadata prints to more than this (a 50 MB XMP block) is skipped.
const maxToolOutput = 8 << 20

// errTooLarge marks output over maxToolOutput.
var errTooLarge = errors.New("the file's metadata is larger than 8 MiB")

// readTags are the tags asked for; -G1 names them with their group (XMP-dc,
// IPTC, IFD0, ExifIFD, Composite) so that the precedence below can pick.
var readTags = []string{
	"-XMP-dc:Title", "-XMP-dc:Description", "-XMP-dc:Subject", "-XMP-xmp:Rating",
	"-XMP-dc:Creator", "-XMP-dc:Rights", "-XMP-aux:Lens", "-XMP-exifEX:LensModel",
	"-IPTC:ObjectName", "-IPTC:Caption-Abstract", "-IPTC:Keywords", "-IPTC:By-line", "-IPTC:CopyrightNotice",
	"-IFD0:ImageDescription", "-IFD0:Artist", "-IFD0:Copyright", "-IFD0:Rating",
	"-ExifIFD:LensModel", "-Composite:LensID", "-Composite:GPSLatitude", "-Composite:GPSLongitude",
	"-Warning", "-Error",
}

// Read returns the metadata embedded in file (a local path Shelf chose, so
// it never starts with "-").
func (x Exiftool) Read(ctx context.Context, file string) (Meta, error) {
	m, err := x.read(ctx, file, readTags)
	if !errors.Is(err, errTooLarge) {
		return m, err
	}
	// Some value is huge (a 50 MB description): read the short fields
	// alone, so the keywords, rating and facts are kept.
	short := slices.DeleteFunc(slices.Clone(readTags), func(tag string) bool { return longTags[tag] })
	if m, err = x.read(ctx, file, short); err != nil {
		return m, err
	}
	m.skip("title and description not read: %v", errTooLarge)
	return m, nil
}

// longTags are the free-text tags that may be huge.
var longTags = map[string]bool{
	"-XMP-dc:Title": true, "-XMP-dc:Description": true, "-IPTC:ObjectName": true,
	"-IPTC:Caption-Abstract": true, "-IFD0:ImageDescription": true,
}

// read runs exiftool for tags on file and decodes its answer.
func (x Exiftool) read(ctx context.Context, file string, tags []string) (Meta, error) {
	args := append([]string{"-json", "-n", "-a", "-G1", "-charset", "filename=utf8", "-api", "LargeFileSupport=1"}, tags...)
	out, err := x.run(ctx, append(args, "--", file)...)
	if err != nil && len(out) == 0 {
		return Meta{}, err
	}
	var rows []map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if jerr := dec.Decode(&rows); jerr != nil || len(rows) != 1 {
		if err == nil {
			err = fmt.Errorf("exiftool printed no metadata: %v", jerr)
		}
		return Meta{}, err
	}
	return fromTags(rows[0]), nil
}

// run runs exiftool with args under the timeout and returns its standard
// output (also when it exits with an error, as it does for a file it
// cannot read but still describes).
func (x Exiftool) run(ctx context.Context, args ...string) ([]byte, error) {
	if !x.Available() {
		return nil, ErrNoExiftool
	}
	timeout := x.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, x.Path, args...)
	cmd.WaitDelay = 2 * time.Second
	stdout := &capped{max: maxToolOutput}
	var stderr capped
	stderr.max = 2 << 10
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	err := cmd.Run()
	switch {
	case stdout.over:
		return nil, errTooLarge
	case ctx.Err() != nil:
		return nil, fmt.Errorf("exiftool took longer than %s on the file; skipped", timeout)
	case err != nil:
		msg := strings.TrimSpace(stderr.buf.String())
		if msg == "" {
			msg = err.Error()
		}
		return stdout.buf.Bytes(), fmt.Errorf("exiftool: %s", msg)
	}
	return stdout.buf.Bytes(), nil
}

// ErrNoExiftool is returned where exiftool is needed and not installed.
var ErrNoExiftool = errors.New("exiftool is not installed on the server (Debian: apt-get install libimage-exiftool-perl)")

// capped is a writer keeping at most max bytes; over reports more came
// (the rest is discarded, so the tool is not blocked on a full pipe).
type capped struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room < len(p) {
		c.over = true
		c.buf.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return c.buf.Write(p)
}

// fromTags turns exiftool's JSON object into Meta: XMP first, then IPTC,
// then EXIF (the Metadata Working Group's order), each value bounded.
func fromTags(t map[string]json.RawMessage) Meta {
	var m Meta
	first := func(keys ...string) (string, bool) {
		for _, k := range keys {
			if v, ok := t[k]; ok {
				if s := jsonText(v); clean(s) != "" {
					return s, true
				}
			}
		}
		return "", false
	}
	if s, ok := first("XMP-dc:Title", "IPTC:ObjectName"); ok {
		m.setText(&m.Title, "title", s, MaxTitle)
	}
	if s, ok := first("XMP-dc:Description", "IPTC:Caption-Abstract", "IFD0:ImageDescription"); ok {
		m.setText(&m.Description, "description", s, MaxDescription)
	}
	for _, k := range []string{"XMP-dc:Subject", "IPTC:Keywords"} {
		if v, ok := t[k]; ok {
			m.setTags(jsonList(v))
			break
		}
	}
	for _, k := range []string{"XMP-xmp:Rating", "IFD0:Rating"} {
		if v, ok := t[k]; ok {
			if f, err := strconv.ParseFloat(jsonText(v), 64); err == nil {
				m.setRating(f)
			} else {
				m.skip("rating %q is not a number; skipped", cut(jsonText(v), 40))
			}
			break
		}
	}
	if v, ok := t["XMP-dc:Creator"]; ok {
		setFact(&m.Creator, strings.Join(jsonList(v), ", "))
	}
	if m.Creator == "" {
		if s, ok := first("IPTC:By-line", "IFD0:Artist"); ok {
			setFact(&m.Creator, s)
		}
	}
	if s, ok := first("XMP-dc:Rights", "IPTC:CopyrightNotice", "IFD0:Copyright"); ok {
		setFact(&m.Copyright, s)
	}
	if s, ok := first("ExifIFD:LensModel", "XMP-exifEX:LensModel", "XMP-aux:Lens", "Composite:LensID"); ok {
		setFact(&m.Lens, s)
	}
	lat, errLat := strconv.ParseFloat(jsonText(t["Composite:GPSLatitude"]), 64)
	lon, errLon := strconv.ParseFloat(jsonText(t["Composite:GPSLongitude"]), 64)
	if errLat == nil && errLon == nil {
		m.setGPS(lat, lon)
	}
	if s := jsonText(t["ExifTool:Warning"]); s != "" {
		m.note("exiftool: %s", cut(clean(s), 200))
	}
	if s := jsonText(t["ExifTool:Error"]); s != "" {
		m.skip("exiftool: %s", cut(clean(s), 200))
	}
	return m
}

// jsonText is a JSON string or number as text; a list gives its entries
// joined (a title written as a list by a careless tool).
func jsonText(v json.RawMessage) string {
	if len(v) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String()
	}
	return strings.Join(jsonList(v), " ")
}

// jsonList is a JSON list of strings or numbers (or one of them) as text.
func jsonList(v json.RawMessage) []string {
	var raw []json.RawMessage
	if json.Unmarshal(v, &raw) != nil {
		if s := jsonText(v); s != "" {
			return []string{s}
		}
		return []string{}
	}
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		var s string
		if json.Unmarshal(r, &s) == nil {
			out = append(out, s)
			continue
		}
		var n json.Number
		if json.Unmarshal(r, &n) == nil {
			out = append(out, n.String())
		}
	}
	return out
}

// DetectExiftool finds exiftool at start-up and logs what that means.
func DetectExiftool(logger *slog.Logger) Exiftool {
	x := FindExiftool()
	if x.Available() {
		logger.Info("file metadata tool", slog.String("exiftool", x.Path))
	} else {
		logger.Info("exiftool is absent: file metadata is read from XMP packets only (no IPTC, no EXIF lens, GPS) and written back nowhere; install libimage-exiftool-perl")
	}
	return x
}
