package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const runColumns = `id, account_id, trigger, state, requested_by, created_at, started_at, finished_at,
seen, added, updated, moved, removed, errors, total_estimate, full_scan, error,
phase, rate_per_second, apply_total, pending_removals, pending_removal_paths`

func scanRun(row interface{ Scan(...any) error }) (SyncRun, error) {
	var (
		r                                        SyncRun
		requestedBy, started, finished, t, apply sql.NullInt64
		rate                                     sql.NullFloat64
		created                                  int64
		paths                                    string
	)
	if err := row.Scan(&r.ID, &r.AccountID, &r.Trigger, &r.State, &requestedBy, &created, &started, &finished,
		&r.Counts.Seen, &r.Counts.Added, &r.Counts.Updated, &r.Counts.Moved, &r.Counts.Removed, &r.Counts.Errors,
		&t, &r.FullScan, &r.Error, &r.Phase, &rate, &apply, &r.PendingRemovals, &paths); err != nil {
		return SyncRun{}, mapErr(err)
	}
	if rate.Valid {
		r.RatePerSecond = &rate.Float64
	}
	r.ApplyTotal = nullInt64Ptr(apply)
	if err := decodePaths(paths, &r.PendingRemovalPaths); err != nil {
		return SyncRun{}, err
	}
	r.RequestedBy = nullInt64Ptr(requestedBy)
	r.CreatedAt = fromMS(created)
	r.StartedAt, r.FinishedAt = fromNullMS(started), fromNullMS(finished)
	r.TotalEstimate = nullInt64Ptr(t)
	return r, nil
}

func checkRunState(state string) error {
	switch state {
	case RunQueued, RunRunning, RunSucceeded, RunFailed, RunNeedsConfirmation:
		return nil
	}
	return fmt.Errorf("unknown sync run state %q", state)
}

// CreateSyncRun records a new run (AccountID, Trigger, State queued or
// running — empty means queued —, RequestedBy, FullScan, StartedAt) created
// at now. An account has at most one queued or running run: while one
// exists this gives ErrConflict; ActiveSyncRun returns it.
func (s *Store) CreateSyncRun(ctx context.Context, r SyncRun, now time.Time) (SyncRun, error) {
	return s.createSyncRun(ctx, s.db, r, now)
}

func (s *Store) createSyncRun(ctx context.Context, q querier, r SyncRun, now time.Time) (SyncRun, error) {
	if r.State == "" {
		r.State = RunQueued
	}
	// A live run (the hour's batches) never shows as active: it is
	// created settled, and each batch adds to it.
	live := r.Trigger == TriggerLive && r.State == RunSucceeded
	if r.State != RunQueued && r.State != RunRunning && !live {
		return SyncRun{}, fmt.Errorf("a new sync run is queued or running, not %q", r.State)
	}
	switch r.Trigger {
	case TriggerManual, TriggerAuto, TriggerInitial, TriggerCLI, TriggerLive:
	default:
		return SyncRun{}, fmt.Errorf("unknown sync trigger %q", r.Trigger)
	}
	out, err := scanRun(s.queryRow(ctx, q, `INSERT INTO sync_runs (account_id, trigger, state, requested_by, created_at, started_at, finished_at, full_scan, total_estimate)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+runColumns,
		r.AccountID, r.Trigger, r.State, int64PtrArg(r.RequestedBy), ms(now), msPtr(r.StartedAt), msPtr(r.FinishedAt), r.FullScan, int64PtrArg(r.TotalEstimate)))
	if err != nil {
		return SyncRun{}, fmt.Errorf("creating sync run: %w", err)
	}
	return out, nil
}

// GetSyncRun returns a run of the account.
func (s *Store) GetSyncRun(ctx context.Context, accountID, runID int64) (SyncRun, error) {
	return scanRun(s.queryRow(ctx, s.db, `SELECT `+runColumns+` FROM sync_runs WHERE id = ? AND account_id = ?`, runID, accountID))
}

// ListSyncRuns returns the account's runs, newest first.
func (s *Store) ListSyncRuns(ctx context.Context, accountID int64, limit int) ([]SyncRun, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.query(ctx, s.db, `SELECT `+runColumns+` FROM sync_runs WHERE account_id = ? ORDER BY id DESC LIMIT ?`, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing sync runs: %w", err)
	}
	defer rows.Close()
	var out []SyncRun
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("reading sync run: %w", err)
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// LatestFinishedSyncRun returns the account's newest run that is no longer
// queued or running; ErrNotFound when none.
func (s *Store) LatestFinishedSyncRun(ctx context.Context, accountID int64) (SyncRun, error) {
	return scanRun(s.queryRow(ctx, s.db, `SELECT `+runColumns+` FROM sync_runs
WHERE account_id = ? AND state NOT IN ('queued', 'running') ORDER BY id DESC LIMIT 1`, accountID))
}

// ActiveSyncRun returns the account's queued or running run; ErrNotFound
// when none.
func (s *Store) ActiveSyncRun(ctx context.Context, accountID int64) (SyncRun, error) {
	return s.activeSyncRun(ctx, s.db, accountID)
}

func (s *Store) activeSyncRun(ctx context.Context, q querier, accountID int64) (SyncRun, error) {
	return scanRun(s.queryRow(ctx, q, `SELECT `+runColumns+` FROM sync_runs
WHERE account_id = ? AND state IN ('queued', 'running') ORDER BY id DESC LIMIT 1`, accountID))
}

// UpdateSyncRun writes the run's State, Counts, TotalEstimate, FullScan,
// Error, StartedAt and FinishedAt (matched by ID and AccountID).
func (s *Store) UpdateSyncRun(ctx context.Context, r SyncRun) error {
	return s.updateSyncRun(ctx, s.db, r)
}

func (s *Store) updateSyncRun(ctx context.Context, q querier, r SyncRun) error {
	if err := checkRunState(r.State); err != nil {
		return err
	}
	c := r.Counts
	return s.execOne(ctx, q, `UPDATE sync_runs SET state = ?, started_at = ?, finished_at = ?,
seen = ?, added = ?, updated = ?, moved = ?, removed = ?, errors = ?, total_estimate = ?, full_scan = ?, error = ?
WHERE id = ? AND account_id = ?`,
		r.State, msPtr(r.StartedAt), msPtr(r.FinishedAt), c.Seen, c.Added, c.Updated, c.Moved, c.Removed, c.Errors,
		int64PtrArg(r.TotalEstimate), r.FullScan, r.Error, r.ID, r.AccountID)
}
