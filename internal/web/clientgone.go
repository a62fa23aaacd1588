package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
)

// statusClientClosed is the status logged for a request its client
// abandoned (nginx's 499): nobody reads the answer, and it is not a
// server error.
const statusClientClosed = 499

// bodyWatch is a request body that remembers whether a read deadline
// passed while reading it: the client is slow, not gone, and the handler
// answers it (408).
type bodyWatch struct {
	io.ReadCloser
	timedOut atomic.Bool
}

func (b *bodyWatch) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		b.timedOut.Store(true)
	}
	return n, err
}

type bodyWatchKey struct{}

// watchBody lets clientGone tell a client that left from one that was too
// slow.
func watchBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		bw := &bodyWatch{ReadCloser: r.Body}
		r = r.WithContext(context.WithValue(r.Context(), bodyWatchKey{}, bw))
		r.Body = bw
		next.ServeHTTP(w, r)
	})
}

// clientGone reports whether r's client went away: its connection closed
// (the request's context was canceled), mid-body included.
//
// A read deadline that passed (a stalled upload) cancels the request's
// context too — net/http gives up on the connection — but the client is
// slow, not gone, and is answered (408).
func clientGone(r *http.Request) bool {
	bw, ok := r.Context().Value(bodyWatchKey{}).(*bodyWatch)
	if ok && bw.timedOut.Load() {
		return false
	}
	return errors.Is(r.Context().Err(), context.Canceled)
}
