package gdrive_test

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

// bundle is what setup returns: the fake, a connector on a fresh root
// folder, and that folder's ID.
type bundle struct {
	fake   *drivefake.Server
	conn   *gdrive.Conn
	rootID string
}

// noWaitPacer retries without sleeping, so tests with injected faults run
// at once.
func noWaitPacer() *storage.Pacer {
	return storage.NewPacer(storage.PacerConfig{
		MaxAttempts: 6,
		Sleep:       func(ctx context.Context, d time.Duration) error { return ctx.Err() },
	})
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b))
	return len(b), nil
}

// setup starts a fake Drive with opts, creates the folder "Shelf" in My
// Drive and connects to it.
func setup(t *testing.T, opts drivefake.Options) bundle {
	t.Helper()
	fake := drivefake.New(t, opts)
	rootID := fake.CreateFolder("root", "Shelf")
	return bundle{fake: fake, conn: connect(t, fake, rootID, nil), rootID: rootID}
}

func connect(t *testing.T, fake *drivefake.Server, folderID string, adjust func(*gdrive.Config)) *gdrive.Conn {
	t.Helper()
	cfg := gdrive.Config{FolderID: folderID, Endpoint: fake.URL(), HTTPClient: fake.Client(), Pacer: noWaitPacer()}
	if adjust != nil {
		adjust(&cfg)
	}
	conn, err := gdrive.New(context.Background(), cfg, testLogger(t))
	if err != nil {
		t.Fatalf("gdrive.New: %v", err)
	}
	return conn
}

// scanAll runs a scan and returns its entries by path (duplicates joined
// with their IDs), checking parents come before children.
func scanAll(t *testing.T, c storage.Connector) []storage.Entry {
	t.Helper()
	var out []storage.Entry
	seen := map[string]bool{"": true}
	err := c.Scan(context.Background(), func(e storage.Entry) error {
		if !seen[e.ParentID] {
			t.Errorf("entry %q (parent %q) came before its parent", e.Path, e.ParentID)
		}
		seen[e.ID] = true
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return out
}

// paths returns the sorted paths of entries (folders with a trailing /).
func paths(es []storage.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, storage.SortKey(e.Path, e.IsDir))
	}
	sort.Strings(out)
	return out
}

func mustClass(t *testing.T, err, class error) {
	t.Helper()
	if !errors.Is(err, class) {
		t.Fatalf("error %v, want class %v", err, class)
	}
}
