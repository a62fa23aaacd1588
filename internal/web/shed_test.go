package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/config"
)

// slowSearch is the search text whose listings slowSearches holds.
const slowSearch = "photo"

// slowSearches makes every search for slowSearch hold a catalog connection
// until release is closed, as a slow search does; other listings run as
// usual.
func slowSearches(release <-chan struct{}) func(*Server) {
	return func(s *Server) {
		s.assetQueryHook = func(ctx context.Context, q catalog.AssetQuery) error {
			if q.Q != slowSearch {
				return nil
			}
			conn, err := s.store.DB().Conn(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// TestFloodOfOneAccountIsShed floods one account with slow searches and
// checks that the excess is refused quickly with 429 and Retry-After, that
// another account (its searches too), the flooding account's cheap calls
// and /readyz still answer during the flood, and that nothing fails with a
// 500.
func TestFloodOfOneAccountIsShed(t *testing.T) {
	t.Parallel()
	forEachDialectWith(t, func(t *testing.T, dialect string) {
		release := make(chan struct{})
		const perAccount = 2
		f := setupWith(t, dialect, fixtureOptions{
			config: func(c *config.Config) {
				c.QueryConcurrency, c.QueryConcurrencyPerAccount = 3, perAccount
				c.AdmissionQueue, c.AdmissionWait = 4, time.Second
			},
			server: slowSearches(release),
		})
		var once sync.Once
		finish := func() { once.Do(func() { close(release) }) }
		t.Cleanup(finish)
		flooder, _ := f.signup("flood@example.com", "Flood")
		other, _ := f.signup("other@example.com", "Other")

		const n = 60
		answers := make(chan answer, n)
		for range n {
			go func() { answers <- flooder.getAsync("/api/v1/assets?q="+slowSearch, time.Minute) }()
		}
		// While the admitted searches hold on, the rest is answered:
		// refused at once, or after waiting briefly in the queue.
		var early []answer
		deadline := time.After(15 * time.Second)
	collect:
		for len(early) < n-perAccount {
			select {
			case a := <-answers:
				early = append(early, a)
			case <-deadline:
				break collect
			}
		}
		if len(early) < n-perAccount {
			t.Fatalf("only %d of %d flooding searches were answered while the first %d ran; want the excess refused", len(early), n, perAccount)
		}
		for _, a := range early {
			if a.status != http.StatusTooManyRequests || a.retryAfter == "" || !strings.Contains(a.body, `"too_many_requests"`) {
				t.Errorf("excess search: HTTP %d (Retry-After %q, err %v) %s; want 429 too_many_requests with Retry-After", a.status, a.retryAfter, a.err, a.body)
			}
		}
		for _, probe := range []struct {
			who  *client
			path string
		}{{other, "/api/v1/me"}, {other, "/api/v1/assets?q=other"}, {flooder, "/api/v1/me"}, {other, "/readyz"}} {
			if a := probe.who.getAsync(probe.path, 5*time.Second); a.status != http.StatusOK {
				t.Errorf("during the flood, GET %s: HTTP %d (err %v) %s; want 200", probe.path, a.status, a.err, a.body)
			}
		}
		finish()
		for range perAccount {
			if a := <-answers; a.status != http.StatusOK {
				t.Errorf("admitted search: HTTP %d (err %v) %s; want 200", a.status, a.err, a.body)
			}
		}
	})
}

// TestSlowQueryIsStopped checks that a search whose catalog query outlasts
// SHELF_QUERY_TIMEOUT is stopped and answered 503 query_timeout, logged,
// and that its catalog connection is free again.
func TestSlowQueryIsStopped(t *testing.T) {
	t.Parallel()
	forEachDialectWith(t, func(t *testing.T, dialect string) {
		logs := &apitest.LogBuffer{}
		f := setupWith(t, dialect, fixtureOptions{
			config: func(c *config.Config) { c.QueryTimeout = 300 * time.Millisecond },
			server: func(s *Server) {
				s.logger = slog.New(slog.NewTextHandler(logs, nil))
				s.assetQueryHook = func(ctx context.Context, q catalog.AssetQuery) error {
					if q.Q != slowSearch {
						return nil
					}
					// A query that runs for minutes unless stopped.
					var n int64
					return s.store.DB().QueryRowContext(ctx,
						`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c`).Scan(&n)
				}
			},
		})
		c, _ := f.signup("slow@example.com", "Slow")
		start := time.Now()
		a := c.getAsync("/api/v1/assets?q="+slowSearch, time.Minute)
		if a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, `"query_timeout"`) {
			t.Fatalf("slow search: HTTP %d (err %v) %s; want 503 query_timeout", a.status, a.err, a.body)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("the slow search answered after %s; the query was not stopped", d)
		}
		if !strings.Contains(logs.String(), "query timeout") {
			t.Errorf("the stopped query was not logged; log:\n%s", logs)
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("a stopped query is logged as a server error; log:\n%s", logs)
		}
		if code, body := c.do("GET", "/api/v1/assets", nil); code != http.StatusOK {
			t.Errorf("after the stopped query, a listing: %d %v", code, body)
		}
	})
}

// forEachDialectWith runs fn on SQLite and on PostgreSQL, leaving the
// fixture to fn.
func forEachDialectWith(t *testing.T, fn func(t *testing.T, dialect string)) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}
