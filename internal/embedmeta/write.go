package embedmeta

import (
	"context"
	"fmt"
	"strconv"
)

// Values are the team fields written into a file; nil fields are left as
// the file has them. An empty title or description, no tags or rating 0
// removes the field from the file.
type Values struct {
	Title       *string
	Description *string
	Tags        *[]string
	Rating      *int
}

// Empty reports whether there is nothing to write.
func (v Values) Empty() bool {
	return v.Title == nil && v.Description == nil && v.Tags == nil && v.Rating == nil
}

// writeArgs are exiftool's assignments for v. The Metadata Working Group
// module keeps XMP and IPTC-IIM in step (IPTC is updated only where the
// file already has it, with its digest), so tools that read either see
// the same values; a list is written entry by entry, so a comma stays
// inside its keyword. A cleared title or rating is removed from every
// place the reader looks (IPTC ObjectName, EXIF Rating).
func (v Values) writeArgs() []string {
	args := []string{"-use", "MWG"}
	if v.Title != nil {
		args = append(args, "-XMP-dc:Title="+*v.Title)
		if *v.Title == "" {
			// The reader falls back to IPTC's title: cleared too.
			args = append(args, "-IPTC:ObjectName=")
		}
	}
	if v.Description != nil {
		args = append(args, "-MWG:Description="+*v.Description)
	}
	if v.Tags != nil {
		if len(*v.Tags) == 0 {
			args = append(args, "-MWG:Keywords=")
		}
		for _, t := range *v.Tags {
			args = append(args, "-MWG:Keywords="+t)
		}
	}
	if v.Rating != nil {
		if *v.Rating == 0 {
			// The reader falls back to EXIF's rating: cleared too.
			args = append(args, "-XMP-xmp:Rating=", "-IFD0:Rating=", "-IFD0:RatingPercent=")
		} else {
			args = append(args, "-XMP-xmp:Rating="+strconv.Itoa(*v.Rating))
		}
	}
	return args
}

// WriteEmbedded writes v into file's own XMP (JPEG, PNG, TIFF, PDF, DNG),
// in place. exiftool rewrites only metadata blocks, never image data; a
// file it cannot write (corrupt, unsupported) gives an error saying why
// and stays as it was.
func (x Exiftool) WriteEmbedded(ctx context.Context, file string, v Values) error {
	return x.write(ctx, file, v)
}

// WriteSidecar writes v into the XMP sidecar at file, creating it when it
// does not exist (a RAW or video file's metadata lives beside it).
func (x Exiftool) WriteSidecar(ctx context.Context, file string, v Values) error {
	return x.write(ctx, file, v)
}

func (x Exiftool) write(ctx context.Context, file string, v Values) error {
	if !x.Available() {
		return ErrNoExiftool
	}
	// No -m: a file with a minor fault fails the write (recorded on the
	// asset) rather than being "fixed" by exiftool, which may drop a
	// damaged directory of it.
	args := append([]string{"-q", "-overwrite_original", "-charset", "filename=utf8"}, v.writeArgs()...)
	out, err := x.run(ctx, append(args, "--", file)...)
	if err != nil {
		return fmt.Errorf("writing metadata into the file failed: %w", err)
	}
	if len(out) > 0 {
		return fmt.Errorf("writing metadata into the file failed: exiftool: %s", cut(clean(string(out)), 300))
	}
	return nil
}
