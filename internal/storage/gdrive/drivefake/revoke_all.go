package drivefake

// RevokeAll revokes every refresh token issued so far and the access
// tokens made from them, as a user removing the app's access in their
// Google account does.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.oauth.refresh {
		g.revoked = true
	}
	for at, g := range s.oauth.access {
		if g.refresh != "" {
			delete(s.oauth.access, at)
		}
	}
}
