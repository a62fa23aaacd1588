package catalog_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/testenv"
)

type probeArgs struct {
	AccountID int64 `json:"account_id"`
}

func (probeArgs) Kind() string { return "catalog_probe" }

var errAbandon = errors.New("abandon")

// countJobsAndRuns counts River jobs and sync runs of the store's database.
func countJobsAndRuns(t *testing.T, s *catalog.Store) (jobs, runs int) {
	t.Helper()
	ctx := context.Background()
	if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job`).Scan(&jobs); err != nil {
		t.Fatalf("counting River jobs: %v", err)
	}
	if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM sync_runs`).Scan(&runs); err != nil {
		t.Fatalf("counting sync runs: %v", err)
	}
	return jobs, runs
}

// A sync run and its River job commit or roll back together on SQLite,
// with River's riversqlite driver on the store's pool and the *sql.Tx of
// InTx.
func TestRiverInsertTxSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openMigrated(t, filepath.Join(t.TempDir(), "shelf.db"))
	client, err := river.NewClient(riversqlite.New(s.DB()), &river.Config{})
	if err != nil {
		t.Fatalf("creating River client: %v", err)
	}
	acct, err := s.CreateAccount(ctx, catalog.NewAccount{Name: "A"}, time.Now())
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	enqueue := func(fail bool) error {
		return s.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := s.CreateSyncRunTx(ctx, tx, catalog.SyncRun{AccountID: acct.ID, Trigger: catalog.TriggerManual}, time.Now()); err != nil {
				return err
			}
			if _, err := client.InsertTx(ctx, tx, probeArgs{AccountID: acct.ID}, nil); err != nil {
				return err
			}
			if fail {
				return errAbandon
			}
			return nil
		})
	}
	if err := enqueue(true); !errors.Is(err, errAbandon) {
		t.Fatalf("abandoned enqueue: %v", err)
	}
	if jobs, runs := countJobsAndRuns(t, s); jobs != 0 || runs != 0 {
		t.Fatalf("after rollback: %d jobs, %d runs; want none", jobs, runs)
	}
	if err := enqueue(false); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	if jobs, runs := countJobsAndRuns(t, s); jobs != 1 || runs != 1 {
		t.Fatalf("after commit: %d jobs, %d runs; want 1 and 1", jobs, runs)
	}
}

// The same on PostgreSQL through InTxPgx and riverpgxv5, nested savepoints
// included.
func TestRiverInsertTxPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openMigrated(t, testenv.PostgresURL(t))
	client, err := river.NewClient(riverpgxv5.New(s.PgxPool()), &river.Config{})
	if err != nil {
		t.Fatalf("creating River client: %v", err)
	}
	acct, err := s.CreateAccount(ctx, catalog.NewAccount{Name: "A"}, time.Now())
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	enqueue := func(fail bool) error {
		return s.InTxPgx(ctx, func(tx *sql.Tx, ptx pgx.Tx) error {
			if _, err := s.CreateSyncRunTx(ctx, tx, catalog.SyncRun{AccountID: acct.ID, Trigger: catalog.TriggerManual}, time.Now()); err != nil {
				return err
			}
			if _, err := client.InsertTx(ctx, ptx, probeArgs{AccountID: acct.ID}, nil); err != nil {
				return err
			}
			// The run is visible to the pgx side and a savepoint rolls back alone.
			sp, err := ptx.Begin(ctx)
			if err != nil {
				return err
			}
			if _, err := sp.Exec(ctx, `DELETE FROM sync_runs`); err != nil {
				return err
			}
			if err := sp.Rollback(ctx); err != nil {
				return err
			}
			if err := ptx.Commit(ctx); err == nil {
				t.Error("committing the outer transaction through pgx.Tx was allowed")
			}
			if fail {
				return errAbandon
			}
			return nil
		})
	}
	if err := enqueue(true); !errors.Is(err, errAbandon) {
		t.Fatalf("abandoned enqueue: %v", err)
	}
	if jobs, runs := countJobsAndRuns(t, s); jobs != 0 || runs != 0 {
		t.Fatalf("after rollback: %d jobs, %d runs; want none", jobs, runs)
	}
	if err := enqueue(false); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	if jobs, runs := countJobsAndRuns(t, s); jobs != 1 || runs != 1 {
		t.Fatalf("after commit: %d jobs, %d runs; want 1 and 1", jobs, runs)
	}
	sqlite := openMigrated(t, filepath.Join(t.TempDir(), "x.db"))
	if err := sqlite.InTxPgx(ctx, func(*sql.Tx, pgx.Tx) error { return nil }); err == nil {
		t.Fatal("InTxPgx ran on SQLite")
	}
}
