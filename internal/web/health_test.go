package web

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// answer is one response of a request sent from a goroutine.
type answer struct {
	status     int
	retryAfter string
	body       string
	err        error
}

// getAsync sends GET path with c's cookies, safe to call from any goroutine.
func (c *client) getAsync(path string, timeout time.Duration) answer {
	hc := *c.http
	hc.Timeout = timeout
	resp, err := hc.Get(c.f.srv.URL + path)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(b)}
}

// TestReadyzWhileThePoolIsExhausted holds every connection of the
// catalog's pool and checks that /readyz still answers 200: a busy node is
// not a dead one, and a load balancer must not drop it.
func TestReadyzWhileThePoolIsExhausted(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		held := 0
		for {
			cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			conn, err := f.store.DB().Conn(cctx)
			cancel()
			if err != nil {
				break
			}
			held++
			t.Cleanup(func() { conn.Close() })
			if held > 1000 {
				t.Fatal("the catalog pool has no limit")
			}
		}
		c := f.newClient()
		if a := c.getAsync("/readyz", 5*time.Second); a.status != http.StatusOK {
			t.Errorf("with all %d catalog connections busy, GET /readyz: HTTP %d (err %v) %s; want 200", held, a.status, a.err, a.body)
		}
	})
}
