package catalog

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/testenv"
)

// onEachDialect runs fn on a migrated store of each dialect (PostgreSQL
// skipped without scripts/test-all) with one account.
func onEachDialect(t *testing.T, fn func(t *testing.T, s *Store, acct Account, now time.Time)) {
	for name, url := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "shelf.db") },
		"postgres": func(t *testing.T) string { return testenv.PostgresURL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, err := Open(ctx, url(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			acct, err := s.CreateAccount(ctx, NewAccount{Name: "A"}, now)
			if err != nil {
				t.Fatal(err)
			}
			fn(t, s, acct, now)
		})
	}
}
