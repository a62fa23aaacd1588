package catalog

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// TestMigrate0026WithRows migrates a SQLite catalog at 0025 holding
// accounts, runs (one running with its lease, a deleted queued one at the
// top of the id sequence) to 0026, then checks the runs, the foreign keys
// and the id sequence.
func TestMigrate0026WithRows(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "shelf.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	list, err := migrations(s.dialect)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.version > 25 {
			break
		}
		if err := s.InTx(ctx, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, m.sql); return err }); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.version <= 25 {
			if _, err := s.db.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.version, m.name); err != nil {
				t.Fatal(err)
			}
		}
	}
	now := time.Now()
	a1, err := s.CreateAccount(ctx, NewAccount{Name: "A"}, now)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := s.CreateAccount(ctx, NewAccount{Name: "B"}, now)
	done, _ := s.CreateSyncRun(ctx, SyncRun{AccountID: a1.ID, Trigger: TriggerAuto}, now)
	done.State, done.FinishedAt, done.Counts.Added = RunSucceeded, &now, 7
	if err := s.UpdateSyncRun(ctx, done); err != nil {
		t.Fatal(err)
	}
	running, _ := s.CreateSyncRun(ctx, SyncRun{AccountID: a2.ID, Trigger: TriggerManual}, now)
	// Raw SQL: the store's lease code reads tables of later migrations.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sync_leases (account_id, run_id, holder, acquired_at, expires_at) VALUES (?, ?, 'node/job-1', ?, ?)`,
		a2.ID, running.ID, now.UnixMilli(), now.Add(time.Minute).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	// A queued run dropped as unneeded (scheduler.go) — the highest id.
	dropped, _ := s.CreateSyncRun(ctx, SyncRun{AccountID: a1.ID, Trigger: TriggerAuto}, now)
	if err := s.InQueueTx(ctx, func(t *QueueTx) error { return t.DeleteRun(ctx, a1.ID, dropped.ID) }); err != nil {
		t.Fatal(err)
	}

	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrating to 0026 with rows: %v", err)
	}
	runs, _ := s.ListSyncRuns(ctx, a1.ID, 10)
	if len(runs) != 1 || runs[0].Counts.Added != 7 {
		t.Errorf("runs of account A after the migration: %+v", runs)
	}
	if _, err := s.GetLease(ctx, a2.ID, now); err == nil {
		t.Log("lease kept")
	} else {
		t.Logf("lease of the running run after the migration: %v (dropped by the cascade, as the migration says)", err)
	}
	rows, err := s.db.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tbl, parent string
		var rowid, fk sql.NullInt64
		_ = rows.Scan(&tbl, &rowid, &parent, &fk)
		t.Errorf("foreign key violation: %s row %v -> %s", tbl, rowid, parent)
	}
	rows.Close()
	var ddl string
	_ = s.db.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE name = 'sync_leases'`).Scan(&ddl)
	t.Logf("sync_leases after: %s", ddl)
	// Leases and live runs work on the rebuilt table.
	live, err := s.CreateSyncRun(ctx, SyncRun{AccountID: a1.ID, Trigger: TriggerLive, State: RunSucceeded, StartedAt: &now, FinishedAt: &now}, now)
	if err != nil {
		t.Fatal(err)
	}
	if live.ID <= dropped.ID {
		t.Errorf("a run created after the migration reuses id %d (the dropped queued run had %d)", live.ID, dropped.ID)
	}
	if _, err := s.AcquireLease(ctx, a1.ID, live.ID, "node/live", now, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sync_leases (account_id, run_id, holder, acquired_at, expires_at) VALUES (?, 99999, 'x', 0, 0)`, a2.ID); err == nil {
		t.Error("a lease for a run that does not exist was accepted: the foreign key no longer holds")
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sync_runs WHERE id = ?`, live.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetLease(ctx, a1.ID, now); err == nil {
		t.Error("deleting a run left its lease: ON DELETE CASCADE lost")
	}
}
