package s3_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/s3"
)

// proxied returns a connector on the fake S3 server behind handler, which
// gets the fake's own handler to pass requests on to.
func (e fakeEnv) proxied(t *testing.T, handler func(next http.Handler) http.Handler) *s3.Conn {
	t.Helper()
	proxy := httptest.NewServer(handler(e.srv.Handler()))
	t.Cleanup(proxy.Close)
	return e.conn(t, func(c *s3.Config) { c.Endpoint = proxy.URL })
}

// TestCreateOnAServerWithoutConditionalWrites: a server that answers 501
// NotImplemented to If-None-Match gets the write again without it.
func TestCreateOnAServerWithoutConditionalWrites(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t)
	var refused atomic.Int64
	c := env.proxied(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("If-None-Match") != "" {
				refused.Add(1)
				w.WriteHeader(http.StatusNotImplemented)
				fmt.Fprint(w, `<Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>`)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	ctx := context.Background()
	if _, err := c.Create(ctx, "new.txt", strings.NewReader("new"), 3, ""); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if refused.Load() != 1 {
		t.Errorf("the server refused %d conditional writes, want 1 (then the plain one)", refused.Load())
	}
	if !env.srv.ObjectExists(env.bucket, "new.txt") {
		t.Fatal("new.txt was not stored")
	}
	_, err := c.Create(ctx, "new.txt", strings.NewReader("again"), 5, "")
	if !errors.Is(err, storage.ErrExists) {
		t.Fatalf("Create over new.txt: %v, want ErrExists", err)
	}
}

// TestCreateWhoseAnswerWasLost: the server stores a conditional PutObject
// but the answer never arrives; the retry is refused (412) because of the
// write's own object, which Create recognises by its content.
func TestCreateWhoseAnswerWasLost(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t)
	var dropped atomic.Bool
	c := env.proxied(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && r.Header.Get("If-None-Match") != "" && dropped.CompareAndSwap(false, true) {
				next.ServeHTTP(httptest.NewRecorder(), r) // stored, answer lost
				panic(http.ErrAbortHandler)
			}
			next.ServeHTTP(w, r)
		})
	})
	ctx := context.Background()
	if _, err := c.Create(ctx, "lost.txt", strings.NewReader("mine"), 4, ""); err != nil {
		t.Fatalf("Create whose first answer was lost: %v", err)
	}
	if !dropped.Load() {
		t.Fatal("no answer was dropped")
	}
	if err := env.srv.PutObject(env.bucket, "other.txt", []byte("someone else's")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(ctx, "other.txt", strings.NewReader("mine"), 4, ""); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("Create over another writer's object: %v, want ErrExists", err)
	}
}
