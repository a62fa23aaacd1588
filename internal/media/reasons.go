package media

import (
	"errors"
	"strings"
)

// Reasons shown to people when there is no preview. They say what went
// wrong in plain words; the tool's own message goes to the log (Detail),
// since it is technical and names server paths.
const (
	msgVideoUnreadable  = "This video could not be read (it may be damaged or in a format the server's tools do not know)."
	msgVideoNoFrame     = "No picture could be taken from this video (it may be damaged or hold no frames)."
	msgPDFUnreadable    = "This PDF could not be rendered (it may be damaged or protected by a password)."
	msgPosterUnreadable = "The server's tools made a preview that could not be read; try again later or report it to an admin."
	msgNotSaved         = "The preview could not be made; try again later or report it to an admin."
	msgToolTooSlow      = "The server's tools took too long with this file and were stopped (it may be very large or damaged)."
	msgNoPermission     = "The storage does not allow Shelf to read this file; an admin can check the connection in Settings → Storage."
)

// errToolTimeout marks a tool run that was stopped for taking too long.
var errToolTimeout = errors.New("tool timed out")

// toolFailed is the Result for an external tool that could not handle a
// file: reason for people, the tool's message for the log.
func toolFailed(reason string, err error) Result {
	if errors.Is(err, errToolTimeout) {
		reason = msgToolTooSlow
	}
	return Result{State: StateError, Error: reason, Detail: err.Error()}
}

// imageUnreadable is the reason for an image the decoder refuses.
func imageUnreadable(format string) string {
	if format == "" || format == "unknown" {
		return "This image could not be read (it may be damaged or incomplete)."
	}
	return "This " + strings.ToUpper(format) + " image could not be read (it may be damaged or incomplete)."
}

// legacyReasons maps the start of reasons recorded by earlier versions,
// which carried the tool's raw message, to today's plain words.
var legacyReasons = []struct{ prefix, reason string }{
	{"cannot read this video", msgVideoUnreadable},
	{"cannot make a poster for this video", msgVideoNoFrame},
	{"cannot render this PDF", msgPDFUnreadable},
	{"cannot decode the poster", msgPosterUnreadable},
	{"decoding the poster crashed", msgPosterUnreadable},
	{"the storage does not allow reading", msgNoPermission},
}

// Reason returns the recorded reason for a missing preview in the words
// to show people; reasons recorded before they were worded this way are
// translated, so a tool's output or a server path never reaches a page.
func Reason(recorded string) string {
	for _, l := range legacyReasons {
		if strings.HasPrefix(recorded, l.prefix) {
			return l.reason
		}
	}
	if strings.HasPrefix(recorded, "cannot read this ") || strings.HasPrefix(recorded, "cannot decode this ") ||
		strings.Contains(recorded, "decoder crashed") {
		return imageUnreadable("")
	}
	if recorded == "" {
		return ""
	}
	return strings.ToUpper(recorded[:1]) + recorded[1:]
}
