package media

import (
	"bytes"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// MaxAnimationBytes is the largest GIF or WebP the asset page plays as it
// is; a larger one shows its still preview.
const MaxAnimationBytes = 25 << 20

// Animates reports whether the asset page plays asset a's original (a GIF
// or WebP, which may be animated: its thumbnail is the first frame) rather
// than its still preview: it must have a ready preview (it decoded) and be
// at most MaxAnimationBytes.
func Animates(a catalog.Asset) bool {
	if a.PreviewState != StateReady || a.Size > MaxAnimationBytes || a.Native {
		return false
	}
	switch baseMIME(a.MIME) {
	case "image/gif", "image/webp":
		return true
	}
	ext := extOf(a.Name)
	return ext == ".gif" || ext == ".webp"
}

// AnimationType is the Content-Type to serve an animation's original with,
// from its first bytes: "image/gif", "image/webp", or "" when the content
// is neither (it is then not served as an image).
func AnimationType(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return "image/gif"
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "image/webp"
	}
	return ""
}
