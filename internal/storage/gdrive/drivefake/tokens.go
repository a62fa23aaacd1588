package drivefake

import (
	"fmt"
	"net/http"
)

// TokenRejection is how the fake answers a changes page token it no longer
// accepts. Drive's reference says only that a rejected token "should be
// discarded" and the listing restarted; clients meet these answers:
type TokenRejection int

const (
	// TokenInvalid: 400, reason invalid, "Invalid Value" at location
	// pageToken — Drive's answer to a page token it cannot use.
	TokenInvalid TokenRejection = iota + 1
	// TokenNotFound: 404, reason notFound, naming no parameter — the
	// answer reported for an expired changes token. It looks like the
	// answer for a missing file or shared drive, so only a look at the
	// connected folder tells the two apart.
	TokenNotFound
	// TokenGone: 410 Gone, reason deleted — Google's answer for a sync
	// token it invalidated (expiry, changed access), which asks for a full
	// resynchronisation.
	TokenGone
)

// String names the answer, as in test messages.
func (t TokenRejection) String() string {
	switch t {
	case TokenInvalid:
		return "400 invalid"
	case TokenNotFound:
		return "404 notFound"
	case TokenGone:
		return "410 deleted"
	}
	return fmt.Sprintf("TokenRejection(%d)", int(t))
}

// RejectChangeTokens makes every changes page token issued so far, the
// current start token included, rejected the way how says, as when Drive
// drops a saved token. Tokens issued afterwards (getStartPageToken, or a
// page's newStartPageToken) work.
func (s *Server) RejectChangeTokens(how TokenRejection) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A feed entry that belongs to no file moves "now" past every token
	// issued so far; listings skip it.
	seq := s.st.startToken()
	s.st.changes = append(s.st.changes, change{seq: seq, at: s.st.now()})
	s.st.minToken = s.st.startToken()
	s.st.tokenRejection = how
}

// ExpireChangeTokens makes every changes page token issued so far invalid
// (Drive answers 400 for them), as when a saved token is too old.
func (s *Server) ExpireChangeTokens() { s.RejectChangeTokens(TokenInvalid) }

// writeTokenRejected answers changes.list for a rejected page token.
func writeTokenRejected(w http.ResponseWriter, how TokenRejection) {
	switch how {
	case TokenNotFound:
		writeError(w, http.StatusNotFound, "notFound", "Not Found", "", "")
	case TokenGone:
		writeError(w, http.StatusGone, "deleted", "The page token is no longer valid; a full resynchronisation is required.", "", "")
	default:
		writeInvalid(w, "pageToken", "")
	}
}
