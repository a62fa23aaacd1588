package catalog_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/catalog/catalogtest"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	catalogtest.Run(t, func(t *testing.T) *catalog.Store {
		return openMigrated(t, filepath.Join(t.TempDir(), "shelf.db"))
	})
}

// openMigrated opens and migrates a store, closed when the test ends.
func openMigrated(t *testing.T, url string) *catalog.Store {
	t.Helper()
	ctx := context.Background()
	s, err := catalog.Open(ctx, url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("opening catalog: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrating catalog: %v", err)
	}
	return s
}
