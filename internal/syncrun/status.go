package syncrun

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// Status is an account's sync state as the API, the Sync page and the 429
// of Sync now all render it: the one place that decides whether a manual
// sync may start now.
type Status struct {
	Plan string
	// StorageKind is "" when no storage is connected.
	StorageKind string
	// Running is the queued or running run; nil when idle.
	Running *catalog.SyncRun
	// Latest is the newest finished run; nil before the first.
	Latest *catalog.SyncRun
	// Held is the run whose removals wait for an admin's confirmation
	// (ConfirmMassDelete takes it); nil when none. Live batches applied
	// after it do not settle it.
	Held           *catalog.SyncRun
	NextAutoSyncAt *time.Time
	Manual         ManualStatus
	ManualCooldown time.Duration
	AutoInterval   time.Duration
	// Live: the plan syncs this storage live (AutoInterval is then the
	// reconciliation's). LastChangeAt is when a live batch last changed
	// the library; LiveMode ("push", "polling", "error", "" while no
	// process watches yet) and LiveNote say how changes arrive, in words.
	Live         bool
	LastChangeAt *time.Time
	LiveMode     string
	LiveNote     string
}

// Why a manual sync cannot start now (ManualStatus.Reason).
const (
	ManualNoStorage = "no_storage"
	ManualRunning   = "running"
	ManualCooldown  = "cooldown"
)

// ManualStatus says whether Sync now starts a sync now.
type ManualStatus struct {
	Allowed bool
	// Reason is why not: ManualNoStorage, ManualRunning (Sync now shows
	// the running sync) or ManualCooldown (the plan's wait; 429).
	Reason string
	// AvailableAt is when the plan allows the next manual sync (zero when
	// it allows one now).
	AvailableAt time.Time
	// AllowingPlan is the smallest plan that would allow one now ("" when
	// none would, or when this one does).
	AllowingPlan string
}

// Status reads the account's sync state at now.
func (s *Service) Status(ctx context.Context, accountID int64, now time.Time) (Status, error) {
	acct, err := s.cat.GetAccount(ctx, accountID)
	if err != nil {
		return Status{}, fmt.Errorf("reading account %d: %w", accountID, err)
	}
	st := Status{Plan: acct.Plan, NextAutoSyncAt: acct.NextAutoSyncAt}
	if run, err := s.cat.ActiveSyncRun(ctx, accountID); err == nil {
		st.Running = &run
	} else if !errors.Is(err, catalog.ErrNotFound) {
		return Status{}, fmt.Errorf("reading the active sync of account %d: %w", accountID, err)
	}
	if run, err := s.cat.LatestFinishedSyncRun(ctx, accountID); err == nil {
		st.Latest = &run
	} else if !errors.Is(err, catalog.ErrNotFound) {
		return Status{}, fmt.Errorf("reading the latest sync of account %d: %w", accountID, err)
	}
	if h, err := s.latestHeldRun(ctx, accountID); err == nil && h.State == catalog.RunNeedsConfirmation {
		st.Held = &h
	} else if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return Status{}, err
	}
	conn, err := s.cat.GetConnection(ctx, accountID)
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		st.Manual = ManualStatus{Reason: ManualNoStorage}
		return st, nil
	case err != nil:
		return Status{}, fmt.Errorf("reading the storage connection of account %d: %w", accountID, err)
	}
	st.StorageKind = conn.Kind
	lim := s.policy.Limits(acct.Plan, conn.Kind)
	st.ManualCooldown, st.AutoInterval = lim.ManualCooldown, lim.AutoInterval
	st.Live, st.LastChangeAt = lim.Live, conn.LastChangeAt
	if st.Live {
		if w, err := s.cat.GetLiveWatcher(ctx, accountID); err == nil && w.ExpiresAt.After(now) {
			st.LiveMode, st.LiveNote = w.Mode, w.Note
		} else if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			return Status{}, fmt.Errorf("reading the live watcher of account %d: %w", accountID, err)
		}
	}
	st.Manual = s.manualStatus(catalog.SyncSchedule{Plan: acct.Plan, LastManualSyncAt: acct.LastManualSyncAt}, conn.Kind, now)
	if st.Running != nil {
		st.Manual.Allowed, st.Manual.Reason, st.Manual.AllowingPlan = false, ManualRunning, ""
	}
	return st, nil
}

// manualStatus applies the plan's cooldown (the running state is the
// caller's to add).
func (s *Service) manualStatus(sched catalog.SyncSchedule, kind string, now time.Time) ManualStatus {
	ok, at := s.policy.ManualAllowed(sched.Plan, kind, sched.LastManualSyncAt, now)
	if ok {
		return ManualStatus{Allowed: true}
	}
	return ManualStatus{
		Reason:       ManualCooldown,
		AvailableAt:  at,
		AllowingPlan: s.policy.PlanAllowingManualNow(kind, sched.LastManualSyncAt, now),
	}
}
