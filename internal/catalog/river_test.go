package catalog_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

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

// A sync run and its River job commit or roll back together through
// InQueueTx: on SQLite with riversqlite on the store's pool, on PostgreSQL
// with riverpgxv5 on the same transaction, nested savepoints included.
func TestRiverInsertTxSQLite(t *testing.T) {
	t.Parallel()
	s := openMigrated(t, filepath.Join(t.TempDir(), "shelf.db"))
	client, err := river.NewClient(riversqlite.New(s.DB()), &river.Config{})
	if err != nil {
		t.Fatalf("creating River client: %v", err)
	}
	testRiverInsertTx(t, s, func(ctx context.Context, qt *catalog.QueueTx, args river.JobArgs) error {
		_, err := client.InsertTx(ctx, qt.SQL(), args, nil)
		return err
	})
}

func TestRiverInsertTxPostgres(t *testing.T) {
	t.Parallel()
	s := openMigrated(t, testenv.PostgresURL(t))
	client, err := river.NewClient(riverpgxv5.New(s.PgxPool()), &river.Config{})
	if err != nil {
		t.Fatalf("creating River client: %v", err)
	}
	testRiverInsertTx(t, s, func(ctx context.Context, qt *catalog.QueueTx, args river.JobArgs) error {
		ptx := qt.Pgx()
		if _, err := client.InsertTx(ctx, ptx, args, nil); err != nil {
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
		return nil
	})
}

func testRiverInsertTx(t *testing.T, s *catalog.Store, insert func(context.Context, *catalog.QueueTx, river.JobArgs) error) {
	ctx := context.Background()
	acct, err := s.CreateAccount(ctx, catalog.NewAccount{Name: "A"}, time.Now())
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	enqueue := func(fail bool) error {
		return s.InQueueTx(ctx, func(qt *catalog.QueueTx) error {
			if _, err := qt.LockSchedule(ctx, acct.ID); err != nil {
				return err
			}
			if _, err := qt.CreateRun(ctx, catalog.SyncRun{AccountID: acct.ID, Trigger: catalog.TriggerManual}, time.Now()); err != nil {
				return err
			}
			if err := insert(ctx, qt, probeArgs{AccountID: acct.ID}); err != nil {
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
