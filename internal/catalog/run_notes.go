package catalog

import (
	"context"
	"fmt"
	"time"
)

// RunNote is something a sync run (or the metadata reading after it)
// skipped or noticed about one file.
type RunNote struct {
	Path      string    `json:"path"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

// maxRunNotes bounds the notes kept per run: a library full of broken
// files says so in the first ones.
const maxRunNotes = 500

// AddLatestRunNotes attaches notes to the account's latest sync run
// (what a background read after a sync found belongs to that sync); with
// no run yet, or beyond maxRunNotes, they are dropped.
func (s *Store) AddLatestRunNotes(ctx context.Context, accountID int64, notes []RunNote, now time.Time) error {
	if len(notes) == 0 {
		return nil
	}
	var runID, have int64
	err := s.queryRow(ctx, s.db, `SELECT r.id, (SELECT COUNT(*) FROM sync_run_notes n WHERE n.run_id = r.id)
FROM sync_runs r WHERE r.account_id = ? ORDER BY r.id DESC LIMIT 1`, accountID).Scan(&runID, &have)
	if err != nil {
		if err = mapErr(err); err == ErrNotFound {
			return nil
		}
		return fmt.Errorf("finding the latest run of account %d for its notes: %w", accountID, err)
	}
	for _, n := range notes {
		if have >= maxRunNotes {
			break
		}
		if _, err := s.exec(ctx, s.db, `INSERT INTO sync_run_notes (account_id, run_id, path, note, created_at) VALUES (?, ?, ?, ?, ?)`,
			accountID, runID, n.Path, n.Note, ms(now)); err != nil {
			return fmt.Errorf("recording a note of run %d: %w", runID, err)
		}
		have++
	}
	return nil
}

// ListRunNotes returns a run's notes, oldest first.
func (s *Store) ListRunNotes(ctx context.Context, accountID, runID int64) ([]RunNote, error) {
	rows, err := s.query(ctx, s.db, `SELECT path, note, created_at FROM sync_run_notes WHERE account_id = ? AND run_id = ? ORDER BY id LIMIT ?`,
		accountID, runID, maxRunNotes)
	if err != nil {
		return nil, fmt.Errorf("listing the notes of run %d: %w", runID, err)
	}
	defer func() { _ = rows.Close() }()
	out := []RunNote{}
	for rows.Next() {
		var n RunNote
		var at int64
		if err := rows.Scan(&n.Path, &n.Note, &at); err != nil {
			return nil, fmt.Errorf("reading a note of run %d: %w", runID, err)
		}
		n.CreatedAt = fromMS(at)
		out = append(out, n)
	}
	return out, rows.Err()
}
