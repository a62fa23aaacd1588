package notify

import (
	"math"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// Phases a run view reports beside the engine's own (catalog.PhaseListing,
// catalog.PhaseApplying).
const (
	PhaseQueued   = "queued"   // waiting for a worker
	PhaseStarting = "starting" // running, before the engine reported anything
	PhaseDone     = "done"     // finished, whatever the outcome
)

// RunView is a sync run as the API, the live events, the notification list
// and webhooks show it (SPEC §6).
type RunView struct {
	ID         int64          `json:"id"`
	AccountID  int64          `json:"account_id"`
	Trigger    string         `json:"trigger"`
	State      string         `json:"state"`
	CreatedAt  time.Time      `json:"created_at"`
	StartedAt  *time.Time     `json:"started_at"`
	FinishedAt *time.Time     `json:"finished_at"`
	Counts     catalog.Counts `json:"counts"`
	// Phase is queued, starting, listing, applying, or done.
	Phase string `json:"phase"`
	// Estimate is about how many entries the listing will see: the
	// previous complete listing's count; null when unknown (a first sync,
	// a changes-feed sync, or a listing that outgrew it).
	Estimate *int64 `json:"estimate"`
	// TotalEstimate is Estimate under its earlier name.
	TotalEstimate *int64 `json:"total_estimate,omitempty"`
	// ApplyTotal is, once applying, about how many changes the run will
	// have made when done.
	ApplyTotal *int64 `json:"apply_total"`
	// RatePerSecond is how fast the running phase goes (entries seen while
	// listing, changes while applying); ETASeconds the time left in the
	// phase at that rate, when its end is known. Null unless running.
	RatePerSecond *float64 `json:"rate_per_second"`
	ETASeconds    *int64   `json:"eta_seconds"`
	// PendingRemovals and PendingRemovalPaths: for a run stopped by the
	// mass-removal guard, how many assets a confirmation would remove and
	// the first 100 of their paths.
	PendingRemovals     int64    `json:"pending_removals"`
	PendingRemovalPaths []string `json:"pending_removal_paths,omitempty"`
	Error               *string  `json:"error"`
}

// ViewRun turns a run into its API shape.
func ViewRun(r catalog.SyncRun) RunView {
	v := RunView{
		ID: r.ID, AccountID: r.AccountID, Trigger: r.Trigger, State: r.State,
		CreatedAt: r.CreatedAt.UTC(), StartedAt: utcPtr(r.StartedAt), FinishedAt: utcPtr(r.FinishedAt),
		Counts: r.Counts, Estimate: r.TotalEstimate, TotalEstimate: r.TotalEstimate, ApplyTotal: r.ApplyTotal,
		PendingRemovals: r.PendingRemovals, PendingRemovalPaths: r.PendingRemovalPaths,
	}
	switch {
	case r.State == catalog.RunQueued:
		v.Phase = PhaseQueued
	case r.State != catalog.RunRunning:
		v.Phase = PhaseDone
	case r.Phase == "":
		v.Phase = PhaseStarting
	default:
		v.Phase = r.Phase
		v.RatePerSecond, v.ETASeconds = rateAndETA(r)
	}
	if r.Error != "" {
		v.Error = &r.Error
	}
	return v
}

// rateAndETA is a running run's rate (to a tenth) and the seconds left in
// its phase at that rate, when the phase's end is known.
func rateAndETA(r catalog.SyncRun) (*float64, *int64) {
	if r.RatePerSecond == nil || *r.RatePerSecond < 0 {
		return nil, nil
	}
	rate := math.Round(*r.RatePerSecond*10) / 10
	var left int64
	switch {
	case r.Phase == catalog.PhaseListing && r.TotalEstimate != nil:
		left = *r.TotalEstimate - r.Counts.Seen
	case r.Phase == catalog.PhaseApplying && r.ApplyTotal != nil:
		left = *r.ApplyTotal - r.Counts.Changes()
	}
	if left <= 0 || *r.RatePerSecond <= 0 {
		return &rate, nil
	}
	eta := int64(math.Ceil(float64(left) / *r.RatePerSecond))
	return &rate, &eta
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// RunEventType is the event that announces a run in its state ("" for a
// queued run).
func RunEventType(state string) string {
	switch state {
	case catalog.RunRunning:
		return SyncStarted
	case catalog.RunSucceeded:
		return SyncCompleted
	case catalog.RunNeedsConfirmation:
		return SyncNeedsConfirmation
	case catalog.RunFailed:
		return SyncFailed
	}
	return ""
}
