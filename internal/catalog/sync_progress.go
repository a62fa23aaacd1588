package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Phases of a running sync (SyncRun.Phase). A run the engine has not
// started on yet has none.
const (
	// PhaseListing: the storage (or its changes feed) is being read;
	// additions and updates are applied as it goes.
	PhaseListing = "listing"
	// PhaseApplying: the listing is complete; moves, staged additions and
	// removals are being applied.
	PhaseApplying = "applying"
)

// MaxPendingRemovalPaths is how many paths a run stopped by the
// mass-removal guard keeps of the assets it would remove.
const MaxPendingRemovalPaths = 100

// RunProgress is a running sync's progress as the engine reports it.
type RunProgress struct {
	Counts Counts
	// Phase is PhaseListing or PhaseApplying.
	Phase string
	// Estimate is about how many entries the listing will have seen
	// (Counts.Seen) when complete: the previous complete listing's count.
	// Nil when unknown: before any listing completed, or once this one
	// saw more.
	Estimate *int64
	// ApplyTotal, while applying, is about how many changes (added,
	// updated, moved, removed) the run will have made when done; nil
	// otherwise.
	ApplyTotal *int64
	// RatePerSecond is how fast the phase's count moved lately: entries
	// seen while listing, changes made while applying. Nil until known.
	RatePerSecond *float64
}

// Changes is the number of changes the counters record.
func (c Counts) Changes() int64 { return c.Added + c.Updated + c.Moved + c.Removed }

// WithProgress returns the run carrying p.
func (r SyncRun) WithProgress(p RunProgress) SyncRun {
	r.Counts, r.Phase, r.TotalEstimate, r.ApplyTotal, r.RatePerSecond = p.Counts, p.Phase, p.Estimate, p.ApplyTotal, p.RatePerSecond
	return r
}

// UpdateSyncRunProgress records a running sync's progress: one small
// update, cheap enough to call twice a second.
func (s *Store) UpdateSyncRunProgress(ctx context.Context, accountID, runID int64, p RunProgress) error {
	c := p.Counts
	var rate any
	if p.RatePerSecond != nil {
		rate = *p.RatePerSecond
	}
	return s.execOne(ctx, s.db, `UPDATE sync_runs SET seen = ?, added = ?, updated = ?, moved = ?, removed = ?, errors = ?,
total_estimate = ?, phase = ?, apply_total = ?, rate_per_second = ?
WHERE id = ? AND account_id = ?`, c.Seen, c.Added, c.Updated, c.Moved, c.Removed, c.Errors,
		int64PtrArg(p.Estimate), p.Phase, int64PtrArg(p.ApplyTotal), rate, runID, accountID)
}

// SetSyncRunHeldRemovals records, on a run the mass-removal guard stopped,
// how many assets it would have removed and the first of their paths.
func (s *Store) SetSyncRunHeldRemovals(ctx context.Context, accountID, runID, n int64, paths []string) error {
	if len(paths) > MaxPendingRemovalPaths {
		paths = paths[:MaxPendingRemovalPaths]
	}
	if paths == nil {
		paths = []string{}
	}
	data, err := json.Marshal(paths)
	if err != nil {
		return fmt.Errorf("encoding the paths held back: %w", err)
	}
	if err := s.execOne(ctx, s.db, `UPDATE sync_runs SET pending_removals = ?, pending_removal_paths = ? WHERE id = ? AND account_id = ?`,
		n, string(data), runID, accountID); err != nil {
		return fmt.Errorf("recording the removals held back by sync run %d: %w", runID, err)
	}
	return nil
}

func decodePaths(data string, out *[]string) error {
	*out = nil
	if data == "" || data == "[]" {
		return nil
	}
	if err := json.Unmarshal([]byte(data), out); err != nil {
		return fmt.Errorf("reading the paths a sync run held back: %w", err)
	}
	return nil
}

// SyncPendingRemovalPaths returns, in path order, the paths of up to limit
// live assets the staged removals of a running sync would take out of the
// library: the gone assets, and those under gone folders (a changes feed
// reports a deleted folder alone).
func (s *Store) SyncPendingRemovalPaths(ctx context.Context, accountID int64, limit int) ([]string, error) {
	rows, err := s.query(ctx, s.db, `WITH RECURSIVE sub(id) AS (
	SELECT ref_id FROM sync_stage WHERE account_id = ? AND kind = ? AND ref_id IS NOT NULL
	UNION
	SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id WHERE f.account_id = ?
)
SELECT path FROM sync_stage WHERE account_id = ? AND kind = ? AND NOT matched
UNION
SELECT path FROM assets WHERE account_id = ? AND removed_at IS NULL AND folder_id IN (SELECT id FROM sub)
ORDER BY 1 LIMIT ?`, accountID, StageGoneFolder, accountID, accountID, StageGoneAsset, accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing the assets a sync would remove: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("listing the assets a sync would remove: %w", mapErr(err))
		}
		out = append(out, p)
	}
	return out, mapErr(rows.Err())
}

// SyncLastListing returns how many entries the last complete listing of
// the account's storage saw; nil when none completed since the root was
// connected.
func (s *Store) SyncLastListing(ctx context.Context, accountID int64) (*int64, error) {
	var n *int64
	err := s.queryRow(ctx, s.db, `SELECT last_listed FROM storage_connections WHERE account_id = ?`, accountID).Scan(&n)
	if errors.Is(mapErr(err), ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the last listing's size: %w", mapErr(err))
	}
	return n, nil
}

// SetSyncLastListing records the number of entries a complete listing of
// the account's storage saw.
func (s *Store) SetSyncLastListing(ctx context.Context, accountID, n int64) error {
	if _, err := s.exec(ctx, s.db, `UPDATE storage_connections SET last_listed = ? WHERE account_id = ?`, n, accountID); err != nil {
		return fmt.Errorf("recording the listing's size: %w", err)
	}
	return nil
}
