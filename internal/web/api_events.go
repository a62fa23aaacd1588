package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// sseHeartbeat keeps idle event streams alive through proxies.
const sseHeartbeat = 25 * time.Second

// handleEvents streams the account's live events as server-sent events.
// Only the signed-in user's account is subscribed: other accounts' events
// never reach this stream.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request, p *principal) {
	rc := http.NewResponseController(w)
	sub := s.hub.Subscribe(p.Account.ID)
	defer sub.Close()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 3000\n: connected\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	tick := time.NewTicker(sseHeartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-tick.C:
			if !s.stillSignedIn(r, p) {
				return
			}
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case ev, ok := <-sub.C:
			if !ok || !s.stillSignedIn(r, p) {
				return
			}
			data, err := json.Marshal(ev)
			if err != nil {
				continue
			}
			if _, err := fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", ev.ID, ev.Type, data); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// stillSignedIn reports whether the request's session or API token still
// signs in the same user of the same account: a stream ends when its user
// signs out, is removed from the account or loses the token, instead of
// receiving the account's events for as long as it stays open.
func (s *Server) stillSignedIn(r *http.Request, p *principal) bool {
	now, err := s.authenticate(r)
	return err == nil && now.User.ID == p.User.ID && now.Account.ID == p.Account.ID
}
