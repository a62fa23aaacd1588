package embedmeta_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/embedmeta"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/localfs"
)

// failingOpen is a connector whose reads of one file fail as a storage
// answering 500 would.
type failingOpen struct {
	storage.Connector
	bad string
}

func (c failingOpen) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if p == c.bad {
		return nil, storage.Classify(storage.ErrRetryable, "open", p, errors.New("HTTP 500"))
	}
	return c.Connector.Open(ctx, p)
}

// TestReadPendingPassesAnUnreadableFile: a file the storage keeps failing
// to serve does not stop the reader: the files after it are read in the
// same pass, the pass reports the failure (the job retries), and after
// a few attempts the file is recorded as read incomplete with a note.
func TestReadPendingPassesAnUnreadableFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := catalog.Open(ctx, filepath.Join(dir, "shelf.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	acct, err := store.CreateAccount(ctx, catalog.NewAccount{Name: "A"}, now)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "files")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, name := range []string{"a.jpg", "bad.jpg", "c.jpg"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte("not really a jpeg"), 0o644); err != nil {
			t.Fatal(err)
		}
		a, err := store.PutUploadedAsset(ctx, acct.ID, 0, catalog.Asset{Name: name, StorageID: name, Size: 17, ETag: "e-" + name, ModTime: &now, MIME: "image/jpeg"}, now)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = a.ID
	}
	conn, err := localfs.New(root, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	svc := embedmeta.NewService(embedmeta.Config{Catalog: store, Exiftool: embedmeta.Exiftool{},
		Connect: func(context.Context, int64) (storage.Connector, error) { return failingOpen{conn, "bad.jpg"}, nil }})
	pending := func() []string {
		t.Helper()
		list, err := store.ListFileMetaPending(ctx, acct.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range list {
			names = append(names, a.Name)
		}
		return names
	}

	if _, err := svc.ReadPending(ctx, acct.ID); err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("the first pass reported %v, want the failure of bad.jpg", err)
	}
	if got := pending(); len(got) != 1 || got[0] != "bad.jpg" {
		t.Fatalf("pending after the first pass: %v, want only bad.jpg", got)
	}
	if _, err := svc.ReadPending(ctx, acct.ID); err == nil {
		t.Error("the second pass reported no failure")
	}
	if _, err := svc.ReadPending(ctx, acct.ID); err != nil {
		t.Errorf("the last attempt failed the pass: %v", err)
	}
	if got := pending(); len(got) != 0 {
		t.Errorf("still pending after the last attempt: %v", got)
	}
	facts, err := store.GetFileFacts(ctx, acct.ID, ids["bad.jpg"])
	if err != nil || facts.ReadAt == nil || !strings.Contains(facts.Notes, "not read after 3 attempts") {
		t.Errorf("bad.jpg recorded as %+v (%v), want read incomplete with a note", facts, err)
	}
}
