package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxJSONBody bounds JSON request bodies (uploads are multipart, not JSON).
const maxJSONBody = 1 << 20

// apiError is the JSON error body of SPEC §5: {"error":{"code","message"}}.
type apiError struct {
	Status    int    `json:"-"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	SyncRunID *int64 `json:"sync_run_id,omitempty"`
	// Field names the request field the error concerns, for forms.
	Field string `json:"field,omitempty"`
	// Fields carries several field-level errors (connect-storage validation).
	Fields     map[string]string `json:"fields,omitempty"`
	RetryAfter time.Duration     `json:"-"`
	Extra      map[string]any    `json:"-"`
	// quiet marks a 5xx that is an expected answer under load (server
	// busy, query timeout): the request's log line records it, not an
	// error line each.
	quiet bool
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Common errors.
func errNotFound(what string) *apiError {
	return errorf(http.StatusNotFound, "not_found", "%s not found", what)
}

func errBadRequest(code, format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, code, format, args...)
}

func errForbidden(format string, args ...any) *apiError {
	return errorf(http.StatusForbidden, "forbidden", format, args...)
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// writeError answers err as a JSON error. Errors that are not *apiError are
// logged and answered as a generic 500 so internals never leak.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := s.answerFor(r, err)
	setRetryAfter(w, ae.RetryAfter)
	body := map[string]any{
		"code":    ae.Code,
		"message": ae.Message,
	}
	if ae.SyncRunID != nil {
		body["sync_run_id"] = *ae.SyncRunID
	}
	if ae.Field != "" {
		body["field"] = ae.Field
	}
	if len(ae.Fields) > 0 {
		body["fields"] = ae.Fields
	}
	for k, v := range ae.Extra {
		body[k] = v
	}
	writeJSON(w, ae.Status, map[string]any{"error": body})
}

// answerFor is the API error that answers err, logged where an operator
// should see it. The failure of a request whose client went away (an
// upload cut off by closing the connection) is the client's doing: 499,
// logged only by the request's line, whatever it led to. A catalog query
// stopped by the query timeout is a 503 query_timeout.
func (s *Server) answerFor(r *http.Request, err error) *apiError {
	if clientGone(r) {
		return errorf(statusClientClosed, "client_closed_request", "the client closed the connection before the request was complete")
	}
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = s.classify(err)
	}
	if ae.Status < 500 {
		return ae
	}
	if t := s.timedOut(r, err); t != nil {
		return t
	}
	if !ae.quiet {
		s.logger.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method), slog.String("path", logPath(r)), slog.Any("err", err))
	}
	return ae
}

// setRetryAfter sets the Retry-After header, in whole seconds rounded up.
func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	if d > 0 {
		secs := int((d + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
}

// decodeJSON reads a JSON object body into dst with a clear error for
// malformed input or a body not sent as application/json (415). Fields dst does not have are ignored (the web forms send
// all their fields); see decodeJSONStrict.
func decodeJSON(r *http.Request, dst any) error { return decodeJSONBody(r, dst, false) }

// decodeJSONStrict is decodeJSON refusing fields dst does not have, so a
// misspelt field of an edit is a 400 rather than a silent no-op.
func decodeJSONStrict(r *http.Request, dst any) error { return decodeJSONBody(r, dst, true) }

func decodeJSONBody(r *http.Request, dst any, strict bool) error {
	if err := checkJSONBody(r); err != nil {
		return err
	}
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxJSONBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errorf(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than %d bytes; JSON requests are small, files go to POST /api/v1/assets as multipart", maxJSONBody)
	}
	if err != nil {
		return errBadRequest("invalid_json", "the request body could not be read: %v", err)
	}
	if bytes.Contains(data, []byte(`\u0000`)) {
		var v any
		if json.Unmarshal(data, &v) == nil && containsNUL(v) {
			return errNUL()
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(dst); err != nil {
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name, _ := strconv.Unquote(field)
			return &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Field: name, Message: "unknown field " + field + "; see docs/api.md for the fields of this call"}
		}
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return errBadRequest("invalid_json", "the request body is empty; send a JSON object")
		case errors.As(err, &syn):
			return errBadRequest("invalid_json", "the request body is not valid JSON (at byte %d); send a JSON object", syn.Offset)
		case errors.As(err, &typ):
			return errBadRequest("invalid_json", "field %q must be a %s", typ.Field, typ.Type.String())
		default:
			return errBadRequest("invalid_json", "the request body could not be read as JSON: %v", err)
		}
	}
	if dec.More() {
		return errBadRequest("invalid_json", "the request body holds more than one JSON value")
	}
	return nil
}

// timeOrNil renders an optional time as RFC 3339 UTC or null.
func timeOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
