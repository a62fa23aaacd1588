package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

const leaseColumns = `account_id, run_id, holder, acquired_at, expires_at`

func scanLease(row interface{ Scan(...any) error }) (Lease, error) {
	var (
		l                 Lease
		acquired, expires int64
	)
	if err := row.Scan(&l.AccountID, &l.RunID, &l.Holder, &acquired, &expires); err != nil {
		return Lease{}, mapErr(err)
	}
	l.AcquiredAt, l.ExpiresAt = fromMS(acquired), fromMS(expires)
	return l, nil
}

// lockAccount serialises the account's lease and write-intent decisions
// inside tx. On PostgreSQL it row-locks the account (FOR NO KEY UPDATE,
// which does not block inserts referencing the account); on SQLite every
// transaction already begins IMMEDIATE, one writer at a time. A missing
// account gives ErrNotFound.
func (s *Store) lockAccount(ctx context.Context, tx *sql.Tx, accountID int64) error {
	query := `SELECT id FROM accounts WHERE id = ?`
	if s.dialect == DialectPostgres {
		query += ` FOR NO KEY UPDATE`
		// PostgreSQL writers wait here (SQLite ones in InTx).
		s.writersWaiting.Add(1)
		defer func() {
			s.writersWaiting.Add(-1)
			s.writersBegun.Add(1)
		}()
	}
	var id int64
	if err := s.queryRow(ctx, tx, query, accountID).Scan(&id); err != nil {
		return mapErr(err)
	}
	return nil
}

// currentLease returns the account's unexpired lease at now, or ErrNotFound.
func (s *Store) currentLease(ctx context.Context, q querier, accountID int64, now time.Time) (Lease, error) {
	return scanLease(s.queryRow(ctx, q, `SELECT `+leaseColumns+` FROM sync_leases WHERE account_id = ? AND expires_at > ?`, accountID, ms(now)))
}

// AcquireLease takes the account's library lease for a run until now+ttl.
// While another run (or another holder) has an unexpired lease it returns
// *LockedError naming that run; an expired lease is taken over. After
// acquiring, the sync waits until CountOpenWriteIntents is zero before it
// scans.
func (s *Store) AcquireLease(ctx context.Context, accountID, runID int64, holder string, now time.Time, ttl time.Duration) (Lease, error) {
	return s.acquireLease(ctx, accountID, runID, holder, now, ttl, false)
}

// AcquireIdleLease is AcquireLease only while no library write is open:
// otherwise it takes nothing and returns ErrWritesInFlight, so a sync
// waiting for a slow upload does not lock every other write out
// meanwhile. The check and the take are atomic with BeginWriteIntent's
// (both hold the account row).
func (s *Store) AcquireIdleLease(ctx context.Context, accountID, runID int64, holder string, now time.Time, ttl time.Duration) (Lease, error) {
	return s.acquireLease(ctx, accountID, runID, holder, now, ttl, true)
}

// acquireLease takes the lease in a transaction of its own. A folder move
// that a dead process left part-way is finished first, batch by batch, so
// the sync finds the catalog whole.
func (s *Store) acquireLease(ctx context.Context, accountID, runID int64, holder string, now time.Time, ttl time.Duration, idleOnly bool) (Lease, error) {
	try := func(now time.Time) (Lease, error) {
		var l Lease
		err := s.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			l, err = s.acquireLeaseTx(ctx, tx, accountID, runID, holder, now, ttl, idleOnly, false)
			return err
		})
		return l, err
	}
	l, err := try(now)
	if errors.Is(err, errAbandonedMove) {
		start := time.Now()
		if err := s.finishAbandonedMoves(ctx, accountID, now); err != nil {
			return Lease{}, err
		}
		l, err = try(now.Add(time.Since(start)))
	}
	return l, err
}

// AcquireIdleLease is Store.AcquireIdleLease inside the transaction (a
// live batch takes its run and the lease together). A folder move that a
// dead process left part-way is finished first, in this transaction.
func (t *QueueTx) AcquireIdleLease(ctx context.Context, accountID, runID int64, holder string, now time.Time, ttl time.Duration) (Lease, error) {
	return t.s.acquireLeaseTx(ctx, t.tx, accountID, runID, holder, now, ttl, true, true)
}

// acquireLeaseTx takes the lease in tx. An abandoned folder move is
// finished in tx when finishMoves, and gives errAbandonedMove otherwise.
// An unfinished folder move counts as a write in flight.
func (s *Store) acquireLeaseTx(ctx context.Context, tx *sql.Tx, accountID, runID int64, holder string, now time.Time, ttl time.Duration, idleOnly, finishMoves bool) (Lease, error) {
	var l Lease
	err := func() error {
		if err := s.lockAccount(ctx, tx, accountID); err != nil {
			return err
		}
		moves, abandoned, err := s.pendingMoves(ctx, tx, accountID, now)
		switch {
		case err != nil:
			return err
		case abandoned && !finishMoves:
			return errAbandonedMove
		case abandoned:
			if err := s.finishAbandonedMovesTx(ctx, tx, accountID, now); err != nil {
				return err
			}
			if moves, _, err = s.pendingMoves(ctx, tx, accountID, now); err != nil {
				return err
			}
		}
		if idleOnly {
			var n int64
			if err := s.queryRow(ctx, tx, `SELECT COUNT(*) FROM write_intents WHERE account_id = ? AND expires_at > ?`, accountID, ms(now)).Scan(&n); err != nil {
				return fmt.Errorf("counting write intents: %w", mapErr(err))
			}
			if n > 0 || len(moves) > 0 {
				return ErrWritesInFlight
			}
		}
		cur, err := s.currentLease(ctx, tx, accountID, now)
		switch {
		case err == nil && (cur.RunID != runID || cur.Holder != holder):
			return &LockedError{RunID: cur.RunID, Live: cur.Live()}
		case err != nil && err != ErrNotFound:
			return fmt.Errorf("reading the sync lease: %w", err)
		}
		l, err = scanLease(s.queryRow(ctx, tx, `INSERT INTO sync_leases (`+leaseColumns+`) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (account_id) DO UPDATE SET run_id = excluded.run_id, holder = excluded.holder,
    acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
RETURNING `+leaseColumns, accountID, runID, holder, ms(now), ms(now.Add(ttl))))
		if err != nil {
			return fmt.Errorf("taking the sync lease: %w", err)
		}
		return nil
	}()
	return l, err
}

// RenewLease extends the run's lease to now+ttl. ErrLeaseLost when the
// lease expired or another holder has it: the run must stop.
func (s *Store) RenewLease(ctx context.Context, accountID, runID int64, holder string, now time.Time, ttl time.Duration) error {
	err := s.execOne(ctx, s.db, `UPDATE sync_leases SET expires_at = ?
WHERE account_id = ? AND run_id = ? AND holder = ? AND expires_at > ?`, ms(now.Add(ttl)), accountID, runID, holder, ms(now))
	if err == ErrNotFound {
		return ErrLeaseLost
	}
	return err
}

// ReleaseLease gives up the run's lease, unlocking the library. Releasing
// a lease that is no longer held is not an error.
func (s *Store) ReleaseLease(ctx context.Context, accountID, runID int64, holder string) error {
	_, err := s.exec(ctx, s.db, `DELETE FROM sync_leases WHERE account_id = ? AND run_id = ? AND holder = ?`, accountID, runID, holder)
	if err != nil {
		return fmt.Errorf("releasing the sync lease: %w", err)
	}
	return nil
}

// GetLease returns the account's unexpired lease at now; ErrNotFound when
// the library is unlocked.
func (s *Store) GetLease(ctx context.Context, accountID int64, now time.Time) (Lease, error) {
	return s.currentLease(ctx, s.db, accountID, now)
}

// ListExpiredLeases returns up to limit leases expired at now (their
// holders died), for the reaper to fail their runs and clear them with
// DeleteExpiredLease.
func (s *Store) ListExpiredLeases(ctx context.Context, now time.Time, limit int) ([]Lease, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.query(ctx, s.db, `SELECT `+leaseColumns+` FROM sync_leases WHERE expires_at <= ? ORDER BY expires_at LIMIT ?`, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("listing expired sync leases: %w", err)
	}
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		l, err := scanLease(rows)
		if err != nil {
			return nil, fmt.Errorf("reading sync lease: %w", err)
		}
		out = append(out, l)
	}
	return out, mapErr(rows.Err())
}

// DeleteExpiredLease removes the run's lease if it is still expired at now;
// ErrNotFound when it was renewed or taken over meanwhile.
func (s *Store) DeleteExpiredLease(ctx context.Context, accountID, runID int64, now time.Time) error {
	return s.execOne(ctx, s.db, `DELETE FROM sync_leases WHERE account_id = ? AND run_id = ? AND expires_at <= ?`, accountID, runID, ms(now))
}

// CountOpenWriteIntents counts the account's library writes in flight:
// intents unexpired at now, and folder moves whose subtree is still being
// rewritten. A sync holding the lease waits for zero. A folder move that a
// dead process left part-way is finished here first, so the sync does not
// wait for ever.
func (s *Store) CountOpenWriteIntents(ctx context.Context, accountID int64, now time.Time) (int64, error) {
	var n, abandoned int64
	count := func(now time.Time) error {
		err := s.queryRow(ctx, s.db, `SELECT
    (SELECT COUNT(*) FROM write_intents WHERE account_id = ? AND expires_at > ?) +
    (SELECT COUNT(*) FROM folder_moves WHERE account_id = ?),
    (SELECT COUNT(*) FROM folder_moves WHERE account_id = ? AND expires_at <= ?)`,
			accountID, ms(now), accountID, accountID, ms(now)).Scan(&n, &abandoned)
		if err != nil {
			return fmt.Errorf("counting write intents: %w", mapErr(err))
		}
		return nil
	}
	if err := count(now); err != nil {
		return 0, err
	}
	if abandoned > 0 {
		start := time.Now()
		if err := s.finishAbandonedMoves(ctx, accountID, now); err != nil {
			return 0, err
		}
		if err := count(now.Add(time.Since(start))); err != nil {
			return 0, err
		}
	}
	return n, nil
}
