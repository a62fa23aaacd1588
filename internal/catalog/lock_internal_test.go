package catalog

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/testenv"
)

// A write intent that starts while a sync is taking the lease waits for
// the lease decision instead of slipping in between: BeginWriteIntent and
// AcquireLease serialise on the account.
func TestIntentWaitsForLeaseDecision(t *testing.T) {
	t.Parallel()
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
			now := time.Now()
			acct, err := s.CreateAccount(ctx, NewAccount{Name: "A"}, now)
			if err != nil {
				t.Fatal(err)
			}
			run, err := s.CreateSyncRun(ctx, SyncRun{AccountID: acct.ID, Trigger: TriggerAuto}, now)
			if err != nil {
				t.Fatal(err)
			}
			intentErr := make(chan error, 1)
			err = s.InTx(ctx, func(tx *sql.Tx) error {
				// What AcquireLease does, held open while a write tries to begin.
				if err := s.lockAccount(ctx, tx, acct.ID); err != nil {
					return err
				}
				go func() {
					_, err := s.BeginWriteIntent(ctx, acct.ID, 0, "upload", now, time.Minute)
					intentErr <- err
				}()
				if _, err := s.exec(ctx, tx, `INSERT INTO sync_leases (account_id, run_id, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
					acct.ID, run.ID, "sync", ms(now), ms(now.Add(time.Minute))); err != nil {
					return err
				}
				time.Sleep(100 * time.Millisecond) // give the write every chance to slip in
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var le *LockedError
			if err := <-intentErr; !errors.As(err, &le) || le.RunID != run.ID {
				t.Fatalf("a write intent begun while the lease was being taken got %v, want *LockedError for run %d", err, run.ID)
			}
		})
	}
}
