package drivefake

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Fault is an error the fake answers instead of serving a call.
type Fault int

// Injectable faults, each answered as Drive answers it.
const (
	// FaultRateLimit: 403 with reason userRateLimitExceeded.
	FaultRateLimit Fault = iota + 1
	// FaultTooManyRequests: 429 with reason rateLimitExceeded.
	FaultTooManyRequests
	// FaultServerError: 500 with reason backendError.
	FaultServerError
	// FaultUnavailable: 503 with reason backendError.
	FaultUnavailable
	// FaultAuth: 401 with reason authError (an access token Drive rejects).
	FaultAuth
)

// fault is a pending injected fault: for the next n matching calls, or for
// each matching call with probability p.
type fault struct {
	kind   Fault
	method string // "" matches every Drive method
	n      int
	p      float64
	after  bool // serve the call, then answer the fault (the reply is lost)
}

func (f *fault) write(w http.ResponseWriter) {
	switch f.kind {
	case FaultRateLimit:
		writeErrorDomain(w, http.StatusForbidden, "usageLimits", "userRateLimitExceeded", "User Rate Limit Exceeded. Rate of requests for user exceed configured project quota.", "", "")
	case FaultTooManyRequests:
		writeErrorDomain(w, http.StatusTooManyRequests, "usageLimits", "rateLimitExceeded", "Rate Limit Exceeded", "", "")
	case FaultServerError:
		writeError(w, http.StatusInternalServerError, "backendError", "Internal Error", "", "")
	case FaultUnavailable:
		writeError(w, http.StatusServiceUnavailable, "backendError", "Backend Error", "", "")
	case FaultAuth:
		writeAuthError(w)
	}
}

// FailNext makes the next n calls to method (a name as in Calls, or "" for
// any Drive method; "oauth.token" for the token endpoint) answer with the
// fault.
func (s *Server) FailNext(method string, n int, kind Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{kind: kind, method: method, n: n})
}

// FailAfterNext makes the next n calls to method take effect but answer
// with the fault, as when Drive applies a change and the reply is lost (a
// retried create must not make a duplicate).
func (s *Server) FailAfterNext(method string, n int, kind Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{kind: kind, method: method, n: n, after: true})
}

// FailRandomly makes each call to method (or any Drive method for "")
// answer with the fault with probability p, until ClearFaults.
func (s *Server) FailRandomly(method string, p float64, kind Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{kind: kind, method: method, p: p})
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the fault to answer for a call to method, if any.
// Called with s.mu held.
func (s *Server) takeFault(method string) *fault {
	if method == "unknown" {
		return nil
	}
	for i, f := range s.faults {
		if f.method != method && (f.method != "" || strings.HasPrefix(method, "oauth.")) {
			continue
		}
		if f.p > 0 {
			if s.rng.Float64() < f.p {
				return f
			}
			continue
		}
		f.n--
		if f.n <= 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		return f
	}
	return nil
}

// apiError is Drive's error body.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Errors  []apiErrorEntry `json:"errors"`
}

type apiErrorEntry struct {
	Domain       string `json:"domain"`
	Reason       string `json:"reason"`
	Message      string `json:"message"`
	Location     string `json:"location,omitempty"`
	LocationType string `json:"locationType,omitempty"`
}

// writeError answers a Drive error in domain "global".
func writeError(w http.ResponseWriter, code int, reason, msg, location, locationType string) {
	writeErrorDomain(w, code, "global", reason, msg, location, locationType)
}

func writeErrorDomain(w http.ResponseWriter, code int, domain, reason, msg, location, locationType string) {
	body := apiError{Error: apiErrorBody{Code: code, Message: msg, Errors: []apiErrorEntry{{
		Domain: domain, Reason: reason, Message: msg, Location: location, LocationType: locationType,
	}}}}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
}

// writeAuthError answers Drive's 401 for a missing or rejected token.
func writeAuthError(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
	writeError(w, http.StatusUnauthorized, "authError", "Invalid Credentials", "Authorization", "header")
}

// writeNotFound answers Drive's 404 for a file ID.
func writeNotFound(w http.ResponseWriter, id string) {
	writeError(w, http.StatusNotFound, "notFound", "File not found: "+id+".", "fileId", "parameter")
}

// writeInvalid answers Drive's 400 for a bad parameter value.
func writeInvalid(w http.ResponseWriter, location, msg string) {
	if msg == "" {
		msg = "Invalid Value"
	}
	writeError(w, http.StatusBadRequest, "invalid", msg, location, "parameter")
}

// writeNoPermission answers Drive's 403 for a write the user may not do.
func writeNoPermission(w http.ResponseWriter) {
	writeError(w, http.StatusForbidden, "insufficientFilePermissions", "The user does not have sufficient permissions for this file.", "", "")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
