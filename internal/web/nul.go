package web

import (
	"net/http"
	"strings"
)

// PostgreSQL text cannot hold NUL characters: a NUL reaching a query fails
// it (a 500). Requests carrying one are refused up front with a 400.

// errNUL is the answer to text holding a NUL character.
func errNUL() *apiError {
	return errBadRequest("invalid_field", "text in the request contains a NUL (\\u0000) character; remove it")
}

// refuseNUL answers 400 to requests whose query string holds a NUL.
func (s *Server) refuseNUL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.RawQuery, "\x00") || strings.Contains(strings.ToLower(r.URL.RawQuery), "%00") {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				s.writeError(w, r, errNUL())
			} else {
				http.Error(w, errNUL().Message, http.StatusBadRequest)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

// containsNUL reports whether a decoded JSON value holds a NUL in any
// string or object key.
func containsNUL(v any) bool {
	switch t := v.(type) {
	case string:
		return strings.ContainsRune(t, 0)
	case []any:
		for _, e := range t {
			if containsNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range t {
			if strings.ContainsRune(k, 0) || containsNUL(e) {
				return true
			}
		}
	}
	return false
}
