package syncrun

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	latest, err := s.latestHeldRun(ctx, accountID)
	if err != nil {
		return catalog.SyncRun{}, false, err
	}
	if run.State != catalog.RunNeedsConfirmation || latest.ID != run.ID {
		return catalog.SyncRun{}, false, ErrNotConfirmable
	}
	return s.start(ctx, accountID, catalog.TriggerManual, userID, now, true)
}

// latestHeldRun is the run a confirmation may be for: the newest, not
// counting live runs that applied their batches (a live batch after a held
// run does not settle what that run held).
func (s *Service) latestHeldRun(ctx context.Context, accountID int64) (catalog.SyncRun, error) {
	runs, err := s.cat.ListSyncRuns(ctx, accountID, 100)
	if err != nil {
		return catalog.SyncRun{}, err
	}
	for _, r := range runs {
		if r.Trigger == catalog.TriggerLive && r.State == catalog.RunSucceeded {
			continue
		}
		return r, nil
	}
	return catalog.SyncRun{}, catalog.ErrNotFound
}

// start creates a queued run and its River job in one transaction, unless a
// sync is already active (then that run is returned). A job waiting to
// retry a failed run is brought forward: it is replaced by this start's
// job, so the sync runs now instead of after the retry's backoff.
func (s *Service) start(ctx context.Context, accountID int64, trigger string, userID int64, now time.Time, confirmed bool) (catalog.SyncRun, bool, error) {
	conn, err := s.cat.GetConnection(ctx, accountID)
	if errors.Is(err, catalog.ErrNotFound) {
		return catalog.SyncRun{}, false, ErrNoStorage
	}
	if err != nil {
		return catalog.SyncRun{}, false, fmt.Errorf("reading the storage connection of account %d: %w", accountID, err)
	}

	var (
		run      catalog.SyncRun
		existing bool
	)
	err = s.store.InQueueTx(ctx, func(t *catalog.QueueTx) error {
		sched, err := t.LockSchedule(ctx, accountID)
		if err != nil {
			return err
		}
		if active, err := t.ActiveRun(ctx, accountID); err == nil {
			run, existing = active, true
			return nil
		} else if !errors.Is(err, catalog.ErrNotFound) {
			return fmt.Errorf("looking for the account's active sync: %w", err)
		}
		if trigger == catalog.TriggerManual && !confirmed {
			if st := s.manualStatus(sched, conn.Kind, now); !st.Allowed {
				return s.cooldownError(sched.Plan, conn.Kind, st, now)
			}
		}
		var requestedBy *int64
		if userID != 0 {
			requestedBy = &userID
		}
		run, err = t.CreateRun(ctx, catalog.SyncRun{AccountID: accountID, Trigger: trigger, RequestedBy: requestedBy}, now)
		if err != nil {
			return fmt.Errorf("creating the sync run: %w", err)
		}
		args := SyncArgs{AccountID: accountID, RunID: run.ID, Trigger: trigger, ConfirmedMassDelete: confirmed}
		res, err := s.queue.InsertTx(ctx, t, args, nil)
		if err != nil {
			return err
		}
		if res.UniqueSkippedAsDuplicate && s.replaceWaitingJob(ctx, t, res.Job) {
			if res, err = s.queue.InsertTx(ctx, t, args, nil); err != nil {
				return err
			}
		}
		if res.UniqueSkippedAsDuplicate {
			// The account's job is running already (an auto-sync taking
			// its run this moment): it is the sync.
			return errDuplicateJob
		}
		switch {
		case confirmed:
		case trigger == catalog.TriggerManual:
			return t.SetLastManualSync(ctx, accountID, now)
		case trigger == catalog.TriggerInitial:
			return t.SetNextAutoSync(ctx, accountID, s.policy.NextAutoSync(sched.Plan, conn.Kind, now), now)
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
	if !existing {
		s.logger.Info("sync queued", "account_id", accountID, "run_id", run.ID, "trigger", trigger)
	}
	return run, !existing, nil
}

// replaceWaitingJob deletes the account's sync job that waits rather than
// runs — an auto-sync queued ahead of its due time (no run yet), or the
// retry of a failed run waiting for its backoff — so that a sync asked for
// now takes its place: one job, one run. It reports whether it did.
func (s *Service) replaceWaitingJob(ctx context.Context, t *catalog.QueueTx, job *rivertype.JobRow) bool {
	var args SyncArgs
	if job == nil || unmarshalArgs(job, &args) != nil {
		return false
	}
	switch job.State {
	case rivertype.JobStateScheduled, rivertype.JobStateAvailable, rivertype.JobStateRetryable:
	default:
		return false
	}
	if args.RunID != 0 {
		// A job with a run is waiting only as the retry of a failed run.
		prev, err := t.GetRun(ctx, args.AccountID, args.RunID)
		if err != nil || prev.State != catalog.RunFailed {
			return false
		}
	}
	if err := s.queue.DeleteTx(ctx, t, job.ID); err != nil {
		// Running already: that job is the sync.
		return false
	}
	return true
}

func (s *Service) cooldownError(plan, kind string, st ManualStatus, now time.Time) *CooldownError {
	wait := st.AvailableAt.Sub(now)
	if r := wait % time.Second; r != 0 {
		wait += time.Second - r
	}
	return &CooldownError{
		Plan:         plan,
		AvailableAt:  st.AvailableAt,
		RetryAfter:   wait,
		AllowingPlan: st.AllowingPlan,
		Cooldown:     s.policy.Limits(plan, kind).ManualCooldown,
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

// TakeOverRetry starts now, for the operator's `shelf sync`, the retry that
// a failed sync of the account waits for (River's, after its worker died;
// or the service's own, after a temporary failure): the waiting job is
// replaced by a new run that runs at once. ok is false when no retry
// waits — the failure was final.
func (s *Service) TakeOverRetry(ctx context.Context, accountID int64, now time.Time) (run catalog.SyncRun, ok bool, err error) {
	waiting, err := s.accountSyncJobs(ctx, accountID, rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStateAvailable)
	if err != nil {
		return run, false, err
	}
	for _, j := range waiting {
		var args SyncArgs
		if unmarshalArgs(j, &args) != nil || args.RunID == 0 {
			continue
		}
		prev, err := s.cat.GetSyncRun(ctx, accountID, args.RunID)
		if err != nil || prev.State != catalog.RunFailed {
			continue
		}
		// Started, or found the retry already running: either is the sync.
		run, _, err := s.start(ctx, accountID, catalog.TriggerCLI, 0, now, false)
		return run, err == nil && run.ID != prev.ID, err
	}
	return run, false, nil
}
