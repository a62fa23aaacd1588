// Package embedmeta owns the metadata that travels inside a library's
// files (SPEC §4.1): it reads embedded XMP, IPTC-IIM and EXIF and XMP
// sidecars (name.xmp, name.ext.xmp) with exiftool, or with its own XMP
// reader where exiftool is absent, and writes the team's title,
// description, tags and rating back with exiftool. internal/media keeps
// only what it needs to draw a preview (orientation, dimensions, the
// capture date and camera it has always read); everything descriptive
// lives here.
package embedmeta

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Limits a file's values must keep; they mirror the library's limits for
// a team edit (internal/library), so what a file brings in could also have
// been typed in Shelf.
const (
	MaxTitle       = 500
	MaxDescription = 20_000
	MaxTags        = 100
	MaxTag         = 100
	maxFact        = 500
	maxNotes       = 10
)

// Meta is what a file says about itself. Nil Title, Description, Tags and
// Rating mean the file says nothing about that field (not "empty").
type Meta struct {
	Title       *string
	Description *string
	Tags        []string // nil: no keywords in the file
	Rating      *int     // 0..5 (XMP -1 "rejected" is read as 0)
	Creator     string
	Copyright   string
	Lens        string
	GPSLat      *float64
	GPSLon      *float64
	// Notes say what was skipped or cut (bad input), for the sync run.
	Notes []string
	// Incomplete says part of the file's metadata could not be read: a
	// field missing here is unknown, not removed from the file.
	Incomplete bool
}

// Empty reports whether the file said nothing Shelf keeps.
func (m Meta) Empty() bool {
	return m.Title == nil && m.Description == nil && m.Tags == nil && m.Rating == nil &&
		m.Creator == "" && m.Copyright == "" && m.Lens == "" && m.GPSLat == nil
}

// overlay returns m with every field o has replacing m's: a sidecar's
// values win over the embedded ones (Lightroom keeps the newer edits in
// the sidecar).
func (m Meta) overlay(o Meta) Meta {
	if o.Title != nil {
		m.Title = o.Title
	}
	if o.Description != nil {
		m.Description = o.Description
	}
	if o.Tags != nil {
		m.Tags = o.Tags
	}
	if o.Rating != nil {
		m.Rating = o.Rating
	}
	for _, p := range []struct {
		dst *string
		src string
	}{{&m.Creator, o.Creator}, {&m.Copyright, o.Copyright}, {&m.Lens, o.Lens}} {
		if p.src != "" {
			*p.dst = p.src
		}
	}
	if o.GPSLat != nil && o.GPSLon != nil {
		m.GPSLat, m.GPSLon = o.GPSLat, o.GPSLon
	}
	m.Notes = append(m.Notes, o.Notes...)
	m.Incomplete = m.Incomplete || o.Incomplete
	return m
}

// note records a skipped value, keeping at most maxNotes per file.
func (m *Meta) note(format string, args ...any) {
	if len(m.Notes) < maxNotes {
		m.Notes = append(m.Notes, fmt.Sprintf(format, args...))
	}
}

// skip records that part of the metadata could not be read: noted, and
// the read is incomplete.
func (m *Meta) skip(format string, args ...any) {
	m.note(format, args...)
	m.Incomplete = true
}

// clean makes a text value valid UTF-8 without control characters (other
// than line breaks and tabs) and trims it.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// cut shortens s to at most max bytes on a rune boundary.
func cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// setText stores a cleaned, bounded text value in *dst (nil when v is
// empty: an empty XMP title says nothing).
func (m *Meta) setText(dst **string, field, v string, max int) {
	v = clean(v)
	if v == "" {
		return
	}
	if len(v) > max {
		m.note("%s cut to %d bytes (it had %d)", field, max, len(v))
		v = cut(v, max)
	}
	*dst = &v
}

// setFact stores a cleaned, bounded file fact.
func setFact(dst *string, v string) {
	if v = cut(clean(v), maxFact); v != "" {
		*dst = v
	}
}

// setTags stores a file's keywords: each cleaned, empty and over-long ones
// skipped, duplicates (ignoring case) dropped, at most MaxTags kept. Commas
// and semicolons inside one keyword are part of it: XMP and IPTC keep each
// keyword as its own list entry.
func (m *Meta) setTags(list []string) {
	if list == nil {
		return
	}
	out := make([]string, 0, min(len(list), MaxTags))
	seen := map[string]bool{}
	long, over := 0, 0
	for _, t := range list {
		t = clean(strings.ReplaceAll(strings.ReplaceAll(t, "\n", " "), "\t", " "))
		key := strings.ToLower(t)
		switch {
		case t == "" || seen[key]:
			continue
		case len(t) > MaxTag:
			long++
			continue
		case len(out) == MaxTags:
			over++
			continue
		}
		seen[key] = true
		out = append(out, t)
	}
	if long > 0 {
		m.note("%d keyword(s) longer than %d bytes skipped", long, MaxTag)
	}
	if over > 0 {
		m.note("only the first %d keywords kept (%d more skipped)", MaxTags, over)
	}
	m.Tags = out
}

// setRating stores an XMP / EXIF rating: 0..5, with -1 (rejected) as 0;
// anything else is skipped with a note.
func (m *Meta) setRating(v float64) {
	switch {
	case math.IsNaN(v) || v < -1 || v > 5:
		m.skip("rating %v is not 0 to 5; skipped", v)
		return
	case v < 0:
		v = 0
	}
	r := int(math.Round(v))
	m.Rating = &r
}

// setGPS stores a position when both halves are valid coordinates.
func (m *Meta) setGPS(lat, lon float64) {
	if math.IsNaN(lat) || math.IsNaN(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		m.skip("GPS position %v, %v is out of range; skipped", lat, lon)
		return
	}
	m.GPSLat, m.GPSLon = &lat, &lon
}
