package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// QueueTx is one catalog transaction that the job queue (River) writes into
// too: a sync run and the job that works it, a finished run and its
// completed job, commit or roll back together. It carries the run, lease
// and account-schedule operations of a sync's life; the queue reaches the
// same transaction through SQL (riversqlite) or Pgx (riverpgxv5).
type QueueTx struct {
	s  *Store
	tx *sql.Tx
	pg pgx.Tx // PostgreSQL: tx as pgx sees it; nil on SQLite
}

// InQueueTx runs fn in a QueueTx, committed when fn returns nil.
func (s *Store) InQueueTx(ctx context.Context, fn func(t *QueueTx) error) error {
	if s.dialect == DialectPostgres {
		return s.inTxPgx(ctx, func(tx *sql.Tx, ptx pgx.Tx) error {
			return fn(&QueueTx{s: s, tx: tx, pg: ptx})
		})
	}
	return s.InTx(ctx, func(tx *sql.Tx) error { return fn(&QueueTx{s: s, tx: tx}) })
}

// SQL is the transaction for database/sql drivers (River's riversqlite).
func (t *QueueTx) SQL() *sql.Tx { return t.tx }

// Pgx is the transaction for pgx drivers (River's riverpgxv5); nil on
// SQLite.
func (t *QueueTx) Pgx() pgx.Tx { return t.pg }

// SyncSchedule is the part of an account that decides when it syncs.
type SyncSchedule struct {
	Plan             string
	LastManualSyncAt *time.Time
	NextAutoSyncAt   *time.Time
}

// LockSchedule reads the account's schedule and holds the account for the
// rest of the transaction, so concurrent starts of one account (on any
// node) take turns. It is the same lock the lease and write intents take.
func (t *QueueTx) LockSchedule(ctx context.Context, accountID int64) (SyncSchedule, error) {
	if err := t.s.lockAccount(ctx, t.tx, accountID); err != nil {
		if err == ErrNotFound {
			return SyncSchedule{}, fmt.Errorf("account %d: %w", accountID, ErrNotFound)
		}
		return SyncSchedule{}, fmt.Errorf("locking account %d: %w", accountID, err)
	}
	var (
		sc               SyncSchedule
		manual, nextAuto sql.NullInt64
	)
	err := t.s.queryRow(ctx, t.tx, `SELECT plan, last_manual_sync_at, next_auto_sync_at FROM accounts WHERE id = ?`, accountID).
		Scan(&sc.Plan, &manual, &nextAuto)
	if err != nil {
		return sc, fmt.Errorf("reading account %d: %w", accountID, mapErr(err))
	}
	sc.LastManualSyncAt, sc.NextAutoSyncAt = fromNullMS(manual), fromNullMS(nextAuto)
	return sc, nil
}

// ActiveRun returns the account's queued or running run; ErrNotFound when
// none.
func (t *QueueTx) ActiveRun(ctx context.Context, accountID int64) (SyncRun, error) {
	return t.s.activeSyncRun(ctx, t.tx, accountID)
}

// GetRun returns one run of the account.
func (t *QueueTx) GetRun(ctx context.Context, accountID, runID int64) (SyncRun, error) {
	return scanRun(t.s.queryRow(ctx, t.tx, `SELECT `+runColumns+` FROM sync_runs WHERE id = ? AND account_id = ?`, runID, accountID))
}

// CreateRun records a new queued run (see Store.CreateSyncRun).
func (t *QueueTx) CreateRun(ctx context.Context, r SyncRun, now time.Time) (SyncRun, error) {
	return t.s.createSyncRun(ctx, t.tx, r, now)
}

// DeleteRun removes a run that never started (its job was not needed).
func (t *QueueTx) DeleteRun(ctx context.Context, accountID, runID int64) error {
	_, err := t.s.exec(ctx, t.tx, `DELETE FROM sync_runs WHERE id = ? AND account_id = ? AND state = 'queued'`, runID, accountID)
	if err != nil {
		return fmt.Errorf("dropping the unneeded sync run %d: %w", runID, err)
	}
	return nil
}

// UpdateRun writes the run's outcome (see Store.UpdateSyncRun).
func (t *QueueTx) UpdateRun(ctx context.Context, r SyncRun) error {
	if err := t.s.updateSyncRun(ctx, t.tx, r); err != nil {
		return fmt.Errorf("recording sync run %d: %w", r.ID, err)
	}
	return nil
}

// FinishRun records a run's end: its State, FinishedAt, Counts, FullScan
// and Error (what the engine wrote as it went, such as the estimate, stays).
func (t *QueueTx) FinishRun(ctx context.Context, r SyncRun) error {
	if err := checkRunState(r.State); err != nil {
		return err
	}
	c := r.Counts
	err := t.s.execOne(ctx, t.tx, `UPDATE sync_runs SET state = ?, finished_at = ?,
seen = ?, added = ?, updated = ?, moved = ?, removed = ?, errors = ?, full_scan = ?, error = ?
WHERE id = ? AND account_id = ?`, r.State, msPtr(r.FinishedAt), c.Seen, c.Added, c.Updated, c.Moved, c.Removed, c.Errors,
		r.FullScan, r.Error, r.ID, r.AccountID)
	if err != nil {
		return fmt.Errorf("recording the end of sync run %d: %w", r.ID, err)
	}
	return nil
}

// SetLastManualSync records when a manual sync of the account started.
func (t *QueueTx) SetLastManualSync(ctx context.Context, accountID int64, at time.Time) error {
	if err := t.s.execOne(ctx, t.tx, `UPDATE accounts SET last_manual_sync_at = ?, updated_at = ? WHERE id = ?`, ms(at), ms(at), accountID); err != nil {
		return fmt.Errorf("recording the manual sync time: %w", err)
	}
	return nil
}

// SetNextAutoSync sets when the account is next due (nil: never).
func (t *QueueTx) SetNextAutoSync(ctx context.Context, accountID int64, at *time.Time, now time.Time) error {
	if err := t.s.execOne(ctx, t.tx, `UPDATE accounts SET next_auto_sync_at = ?, updated_at = ? WHERE id = ?`, msPtr(at), ms(now), accountID); err != nil {
		return fmt.Errorf("scheduling the next auto-sync: %w", err)
	}
	return nil
}

// ReleaseLease gives up the run's lease (see Store.ReleaseLease).
func (t *QueueTx) ReleaseLease(ctx context.Context, accountID, runID int64, holder string) error {
	_, err := t.s.exec(ctx, t.tx, `DELETE FROM sync_leases WHERE account_id = ? AND run_id = ? AND holder = ?`, accountID, runID, holder)
	if err != nil {
		return fmt.Errorf("releasing the sync lease: %w", err)
	}
	return nil
}

// LatestRun returns the account's newest run with the trigger created at
// or after since; ErrNotFound when none (a live batch adds to the hour's
// row).
func (t *QueueTx) LatestRun(ctx context.Context, accountID int64, trigger string, since time.Time) (SyncRun, error) {
	return scanRun(t.s.queryRow(ctx, t.tx, `SELECT `+runColumns+` FROM sync_runs
WHERE account_id = ? AND trigger = ? AND created_at >= ? ORDER BY id DESC LIMIT 1`, accountID, trigger, ms(since)))
}

// LibraryVersion returns the account's count of library writes made
// through Shelf (see Store.LibraryVersion).
func (t *QueueTx) LibraryVersion(ctx context.Context, accountID int64) (int64, error) {
	return t.s.libraryVersion(ctx, t.tx, accountID)
}
