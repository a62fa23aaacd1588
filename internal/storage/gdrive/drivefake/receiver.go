package drivefake

import (
	"io"
	"net/http"
	"net/http/httptest"
	"time"
)

// Notification is one push message a Receiver got.
type Notification struct {
	Method string
	Header http.Header
	Body   []byte
}

// State is the message's X-Goog-Resource-State: "sync" or "change".
func (n Notification) State() string { return n.Header.Get("X-Goog-Resource-State") }

// Receiver is an HTTP server on a loopback port that collects push
// notifications, for tests. It answers 200 to every POST.
type Receiver struct {
	// URL is the address to give changes.watch (plain http, which the
	// fake accepts for loopback addresses).
	URL string
	got chan Notification
}

// NewReceiver starts a Receiver that stops with the test. It keeps up to
// 256 notifications not yet read and drops any beyond.
func NewReceiver(t Cleanuper) *Receiver {
	r := &Receiver{got: make(chan Notification, 256)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		select {
		case r.got <- Notification{Method: req.Method, Header: req.Header.Clone(), Body: b}:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/drive-notifications"
	return r
}

// Next waits up to timeout for the next notification; false when none
// came.
func (r *Receiver) Next(timeout time.Duration) (Notification, bool) {
	select {
	case n := <-r.got:
		return n, true
	case <-time.After(timeout):
		return Notification{}, false
	}
}

// Pending returns the notifications that arrived and were not read yet,
// without waiting. After Server.FlushNotifications it holds everything the
// fake sent this receiver.
func (r *Receiver) Pending() []Notification {
	var out []Notification
	for {
		select {
		case n := <-r.got:
			out = append(out, n)
		default:
			return out
		}
	}
}
