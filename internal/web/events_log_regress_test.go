package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/live"
	"github.com/shelf-dam/shelf/internal/storage"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// An events request that fails with an internal error (the catalog
// unreachable for a moment) is logged by answerFor with r.URL.Path: the
// events URL's secret lands in the error log.
func TestEventsSecretNotInErrorLog(t *testing.T) {
	ctx := context.Background()
	broken, err := catalog.Open(ctx, filepath.Join(t.TempDir(), "other.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := broken.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	broken.Close() // the database goes away
	logs := &syncBuf{}
	f := setupWith(t, "sqlite", fixtureOptions{server: func(s *Server) {
		s.events = live.NewReceiver(live.ReceiverConfig{Store: broken})
		s.logger = slog.New(slog.NewTextHandler(logs, nil))
	}})
	const secret = "S3cr3tEventsKeyThatMustNotBeLogged0123456789"
	resp, err := http.Post(f.srv.URL+"/api/v1/storage/events/"+secret, "application/json", strings.NewReader(`{"Records":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Logf("status %d", resp.StatusCode)
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the events URL's secret was logged:\n%s", logs.String())
	}
}

type failingConns struct{}

func (failingConns) Connector(context.Context, int64) (storage.Connector, error) {
	return nil, errors.New("the S3 endpoint refused the connection")
}

// Since 2febdfb every refusal of 500 and up (503 "the storage connection
// cannot be opened", 503 "the SNS signing certificate could not be
// fetched", 502 "confirming the SNS subscription failed") goes through
// writeError too, which logs "request failed" with r.URL.Path.
func TestEvents503SecretNotInErrorLog(t *testing.T) {
	logs := &syncBuf{}
	f := setupWith(t, "sqlite", fixtureOptions{server: func(s *Server) {
		s.events = live.NewReceiver(live.ReceiverConfig{Store: s.store, Connectors: failingConns{}})
		s.logger = slog.New(slog.NewTextHandler(logs, nil))
	}})
	ctx := context.Background()
	acct, err := f.store.CreateAccount(ctx, catalog.NewAccount{Name: "A"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.PutConnection(ctx, catalog.Connection{AccountID: acct.ID, Kind: "s3", RootKey: "s3://b/"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	key, err := f.store.EventsKey(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(f.srv.URL+"/api/v1/storage/events/"+key, "application/json", strings.NewReader(`{"Records":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Logf("status %d", resp.StatusCode)
	if strings.Contains(logs.String(), key) {
		t.Errorf("the events URL's secret was logged:\n%s", logs.String())
	}
}
