package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivertype"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/policy"
)

// ErrNoStorage: the account has no storage connection to sync.
var ErrNoStorage = errors.New("no storage is connected: connect a Google Drive folder, an S3 bucket or a local folder first")

// CooldownError is a manual sync the account's plan does not allow yet.
// The API answers it with 429 and Retry-After.
type CooldownError struct {
	Plan string
	// AvailableAt is when a manual sync becomes allowed.
	AvailableAt time.Time
	// RetryAfter is AvailableAt minus now, rounded up to whole seconds.
	RetryAfter time.Duration
	// AllowingPlan is the smallest plan that would allow a manual sync now
	// ("" when none would).
	AllowingPlan string
	// Cooldown is the plan's least time between manual syncs.
	Cooldown time.Duration
}

func (e *CooldownError) Error() string {
	msg := fmt.Sprintf("the %s plan allows one manual sync every %s; the next one is available at %s (in %s)",
		e.Plan, e.Cooldown, e.AvailableAt.UTC().Format(time.RFC3339), e.RetryAfter)
	if e.AllowingPlan != "" {
		msg += fmt.Sprintf("; the %s plan would allow it now", e.AllowingPlan)
	}
	return msg
}

// errDuplicateJob: River already holds a sync job for the account.
var errDuplicateJob = errors.New("a sync job for the account already exists")

// StartManualSync starts a manual sync of the account requested by userID
// (0: unknown). When a sync is already queued or running it returns that run
// and started=false, never a second one. When the plan's cooldown forbids a
// manual sync it returns a *CooldownError; without storage ErrNoStorage.
func (s *Service) StartManualSync(ctx context.Context, accountID, userID int64, now time.Time) (run catalog.SyncRun, started bool, err error) {
	return s.start(ctx, accountID, catalog.TriggerManual, userID, now, false)
}

// StartInitialSync starts the first sync after storage was connected or
// replaced. It does not start the manual cooldown and it (re)schedules the
// account's auto-sync from now.
func (s *Service) StartInitialSync(ctx context.Context, accountID, userID int64, now time.Time) (catalog.SyncRun, bool, error) {
	return s.start(ctx, accountID, catalog.TriggerInitial, userID, now, false)
}

// StartCLISync starts a sync for the operator's `shelf sync` command: no
// plan limit applies and the cooldown is left alone.
func (s *Service) StartCLISync(ctx context.Context, accountID int64, now time.Time) (catalog.SyncRun, bool, error) {
	return s.start(ctx, accountID, catalog.TriggerCLI, 0, now, false)
}

// ErrNotConfirmable: the run named for confirmation did not stop for the
// mass-delete guard, or a later run superseded it.
var ErrNotConfirmable = errors.New("only the latest run, stopped before removing many files (needs_confirmation), can be confirmed")

// ConfirmMassDelete starts, for an admin who confirmed it, a sync that may
// remove what run runID held back (the mass-delete guard). The storage is
// listed again, so only what is still gone is removed. No plan cooldown
// applies and the cooldown is left alone.
func (s *Service) ConfirmMassDelete(ctx context.Context, accountID, userID, runID int64, now time.Time) (catalog.SyncRun, bool, error) {
	run, err := s.cat.GetSyncRun(ctx, accountID, runID)
	if err != nil {
		return catalog.SyncRun{}, false, err
	}
	latest, err := s.latestRun(ctx, accountID)
	if err != nil {
		return catalog.SyncRun{}, false, err
	}
	if run.State != catalog.RunNeedsConfirmation || latest.ID != run.ID {
		return catalog.SyncRun{}, false, ErrNotConfirmable
	}
	return s.start(ctx, accountID, catalog.TriggerManual, userID, now, true)
}

// start creates a queued run and its River job in one transaction, unless a
// sync is already active (then that run is returned).
func (s *Service) start(ctx context.Context, accountID int64, trigger string, userID int64, now time.Time, confirmed bool) (catalog.SyncRun, bool, error) {
	conn, err := s.cat.GetConnection(ctx, accountID)
	if errors.Is(err, catalog.ErrNotFound) {
		return catalog.SyncRun{}, false, ErrNoStorage
	}
	if err != nil {
		return catalog.SyncRun{}, false, fmt.Errorf("reading the storage connection of account %d: %w", accountID, err)
	}

	var (
		runID    int64
		existing bool
	)
	err = s.inTx(ctx, func(t *txn) error {
		acct, err := s.lockAccount(ctx, t, accountID)
		if err != nil {
			return err
		}
		if id, ok, err := activeRunID(ctx, t, accountID); err != nil {
			return err
		} else if ok {
			runID, existing = id, true
			return nil
		}
		if trigger == catalog.TriggerManual && !confirmed {
			if ok, at := s.policy.ManualAllowed(acct.plan, conn.Kind, acct.lastManual, now); !ok {
				return s.cooldownError(acct, conn.Kind, at, now)
			}
		}
		var requestedBy any
		if userID != 0 {
			requestedBy = userID
		}
		id, err := s.createRunTx(ctx, t, accountID, trigger, requestedBy, now)
		if err != nil {
			return err
		}
		args := SyncArgs{AccountID: accountID, RunID: id, Trigger: trigger, ConfirmedMassDelete: confirmed}
		res, err := s.insertTx(ctx, t, args, nil)
		if err != nil {
			return fmt.Errorf("enqueueing the sync job: %w", err)
		}
		if res.UniqueSkippedAsDuplicate && s.replaceAheadJob(ctx, t, res.Job) {
			if res, err = s.insertTx(ctx, t, args, nil); err != nil {
				return fmt.Errorf("enqueueing the sync job: %w", err)
			}
		}
		if res.UniqueSkippedAsDuplicate {
			// A job is waiting to retry a failed run; it is the sync.
			return errDuplicateJob
		}
		runID = id
		switch {
		case confirmed:
		case trigger == catalog.TriggerManual:
			if _, err := t.exec(ctx, `UPDATE accounts SET last_manual_sync_at = ?, updated_at = ? WHERE id = ?`,
				now.UnixMilli(), now.UnixMilli(), accountID); err != nil {
				return fmt.Errorf("recording the manual sync time: %w", err)
			}
		case trigger == catalog.TriggerInitial:
			next := s.policy.NextAutoSync(acct.plan, conn.Kind, now)
			if err := setNextAutoTx(ctx, t, accountID, next, now); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errDuplicateJob) {
		run, err := s.queuedSync(ctx, accountID)
		return run, false, err
	}
	if err != nil {
		var ce *CooldownError
		if errors.As(err, &ce) {
			return catalog.SyncRun{}, false, err
		}
		return catalog.SyncRun{}, false, fmt.Errorf("starting a %s sync of account %d: %w", trigger, accountID, err)
	}
	run, err := s.cat.GetSyncRun(ctx, accountID, runID)
	if err != nil {
		return catalog.SyncRun{}, false, fmt.Errorf("reading sync run %d: %w", runID, err)
	}
	if !existing {
		s.logger.Info("sync queued", "account_id", accountID, "run_id", runID, "trigger", trigger)
	}
	return run, !existing, nil
}

// replaceAheadJob deletes the account's auto-sync queued ahead of its due
// time (it has no run yet) so that a sync asked for now takes its place;
// the due slot is then covered by the new run. It reports whether it did.
func (s *Service) replaceAheadJob(ctx context.Context, t *txn, job *rivertype.JobRow) bool {
	var args SyncArgs
	if job == nil || unmarshalArgs(job, &args) != nil || args.RunID != 0 {
		return false
	}
	if job.State != rivertype.JobStateScheduled && job.State != rivertype.JobStateAvailable {
		return false
	}
	if err := s.deleteTx(ctx, t, job.ID); err != nil {
		// Running already: that job is the sync.
		return false
	}
	return true
}

func (s *Service) cooldownError(acct lockedAccount, kind string, at, now time.Time) *CooldownError {
	wait := at.Sub(now)
	if r := wait % time.Second; r != 0 {
		wait += time.Second - r
	}
	return &CooldownError{
		Plan:         acct.plan,
		AvailableAt:  at,
		RetryAfter:   wait,
		AllowingPlan: s.policy.PlanAllowingManualNow(kind, acct.lastManual, now),
		Cooldown:     s.policy.Limits(acct.plan, kind).ManualCooldown,
	}
}

// queuedSync returns the run of the sync job that made a start a
// duplicate: an auto-sync just starting (its run appears in a moment), or
// else a retry waiting for its turn (its run is the latest, failed one).
func (s *Service) queuedSync(ctx context.Context, accountID int64) (catalog.SyncRun, error) {
	for range 10 {
		run, err := s.cat.ActiveSyncRun(ctx, accountID)
		if err == nil {
			return run, nil
		}
		if !errors.Is(err, catalog.ErrNotFound) {
			return catalog.SyncRun{}, fmt.Errorf("reading the active sync of account %d: %w", accountID, err)
		}
		select {
		case <-ctx.Done():
			return catalog.SyncRun{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return s.latestRun(ctx, accountID)
}

// latestRun returns the account's newest run.
func (s *Service) latestRun(ctx context.Context, accountID int64) (catalog.SyncRun, error) {
	runs, err := s.cat.ListSyncRuns(ctx, accountID, 1)
	if err != nil {
		return catalog.SyncRun{}, fmt.Errorf("reading the latest sync run of account %d: %w", accountID, err)
	}
	if len(runs) == 0 {
		return catalog.SyncRun{}, fmt.Errorf("account %d has no sync run: %w", accountID, catalog.ErrNotFound)
	}
	return runs[0], nil
}

// lockedAccount is the part of an account row the start decision reads.
type lockedAccount struct {
	plan       string
	lastManual *time.Time
	nextAuto   *time.Time
}

// lockAccount reads the account row, locking it on PostgreSQL so that
// concurrent starts of one account (on any node) take turns. SQLite
// transactions here begin IMMEDIATE and are serialised already.
func (s *Service) lockAccount(ctx context.Context, t *txn, accountID int64) (lockedAccount, error) {
	q := `SELECT plan, last_manual_sync_at, next_auto_sync_at FROM accounts WHERE id = ?`
	if t.pg != nil {
		q += ` FOR UPDATE`
	}
	var (
		a                lockedAccount
		manual, nextAuto sql.NullInt64
	)
	if err := t.queryRow(ctx, q, accountID).Scan(&a.plan, &manual, &nextAuto); err != nil {
		if errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
			return a, fmt.Errorf("account %d: %w", accountID, catalog.ErrNotFound)
		}
		return a, fmt.Errorf("reading account %d: %w", accountID, err)
	}
	a.lastManual = msTime(manual)
	a.nextAuto = msTime(nextAuto)
	return a, nil
}

func activeRunID(ctx context.Context, t *txn, accountID int64) (int64, bool, error) {
	var id int64
	err := t.queryRow(ctx, `SELECT id FROM sync_runs WHERE account_id = ? AND state IN ('queued', 'running') ORDER BY id LIMIT 1`, accountID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("looking for the account's active sync: %w", err)
	}
	return id, true, nil
}

func (s *Service) createRunTx(ctx context.Context, t *txn, accountID int64, trigger string, requestedBy any, now time.Time) (int64, error) {
	var id int64
	err := t.queryRow(ctx, `INSERT INTO sync_runs (account_id, trigger, state, requested_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		accountID, trigger, catalog.RunQueued, requestedBy, now.UnixMilli()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("creating the sync run: %w", err)
	}
	return id, nil
}

func setNextAutoTx(ctx context.Context, t *txn, accountID int64, next *time.Time, now time.Time) error {
	var v any
	if next != nil {
		v = next.UnixMilli()
	}
	if _, err := t.exec(ctx, `UPDATE accounts SET next_auto_sync_at = ?, updated_at = ? WHERE id = ?`, v, now.UnixMilli(), accountID); err != nil {
		return fmt.Errorf("scheduling the next auto-sync: %w", err)
	}
	return nil
}

func msTime(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}

// SetPlan moves an account to a plan as the operator's decision and
// reschedules its auto-sync at once for the new plan.
func (s *Service) SetPlan(ctx context.Context, accountID int64, plan string, now time.Time) error {
	if !policy.KnownPlan(plan) {
		return fmt.Errorf("unknown plan %q; plans are %v", plan, policy.Plans())
	}
	next, err := s.nextAutoFor(ctx, accountID, plan, now)
	if err != nil {
		return err
	}
	if err := s.store.SetPlan(ctx, accountID, plan, next, now); err != nil {
		return fmt.Errorf("setting the plan of account %d: %w", accountID, err)
	}
	if err := s.cancelAheadJobs(ctx, accountID); err != nil {
		return err
	}
	s.logger.Info("plan changed", "account_id", accountID, "plan", plan, "next_auto_sync_at", next)
	return nil
}

// Reschedule recomputes the account's next auto-sync from its current plan
// and storage, counted from now (after a plan change, trial expiry or a
// storage change).
func (s *Service) Reschedule(ctx context.Context, accountID int64, now time.Time) error {
	acct, err := s.cat.GetAccount(ctx, accountID)
	if err != nil {
		return fmt.Errorf("reading account %d: %w", accountID, err)
	}
	next, err := s.nextAutoFor(ctx, accountID, acct.Plan, now)
	if err != nil {
		return err
	}
	if err := s.cat.SetNextAutoSync(ctx, accountID, next, now); err != nil {
		return fmt.Errorf("rescheduling auto-sync of account %d: %w", accountID, err)
	}
	return s.cancelAheadJobs(ctx, accountID)
}

// nextAutoFor is when an account on plan is next due (nil: no auto-sync,
// also when it has no storage).
func (s *Service) nextAutoFor(ctx context.Context, accountID int64, plan string, now time.Time) (*time.Time, error) {
	conn, err := s.cat.GetConnection(ctx, accountID)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the storage connection of account %d: %w", accountID, err)
	}
	return s.policy.NextAutoSync(plan, conn.Kind, now), nil
}
