package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/shelf-dam/shelf/internal/storage"
)

// nameFieldError checks a new file or folder name before the library does,
// so the dialog can show the problem at its field in plain words (without
// echoing a name of hundreds of characters back).
func nameFieldError(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Field: "name",
			Message: "Enter a name; a name of only spaces cannot be used."}
	case len(name) > storage.MaxNameBytes:
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Field: "name",
			Message: "The name is " + thousands(int64(len(name))) + " bytes long; the limit is " + thousands(storage.MaxNameBytes) + ". Shorten it."}
	}
	return nil
}

// metadataFields are the leading words of the library's metadata messages
// and the form field each concerns.
var metadataFields = []struct{ words, field string }{
	{"The title ", "title"},
	{"The description ", "description"},
	{"The rating ", "rating"},
	{"The tag ", "tags"},
	{" tags given", "tags"},
	{"The custom field", "custom"},
	{" custom fields given", "custom"},
	{"The name ", "name"},
}

// withField names the form field an invalid-request error concerns, so
// forms show it at that field rather than as a general error. fallback is
// the field when the message names none (a request changing one field).
func withField(err error, fallback string) error {
	var ae *apiError
	if !errors.As(err, &ae) || ae.Field != "" {
		return err
	}
	field := fallback
	switch ae.Code {
	case "invalid_field":
	case "conflict": // a same-named file or folder: the name is the problem
		if fallback == "" {
			return err
		}
	default:
		return err
	}
	for _, m := range metadataFields {
		if strings.Contains(ae.Message, m.words) {
			field = m.field
			break
		}
	}
	if field == "" {
		return err
	}
	out := *ae
	out.Field = field
	return &out
}

// soleField is field when the request changes only that field, else "".
func soleField(only bool, field string) string {
	if only {
		return field
	}
	return ""
}
