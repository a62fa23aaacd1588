package syncrun

import (
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Job kinds Shelf registers with River.
const (
	KindSync      = "shelf.sync"
	KindScheduler = "shelf.scheduler"
)

// activeStates are the River job states in which a job still counts as the
// account's one sync: a second insert for the account in any of them is
// skipped as a duplicate.
var activeStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRunning,
	rivertype.JobStateScheduled,
	rivertype.JobStateRetryable,
}

// SyncArgs is one sync of an account. It is unique per account (only
// AccountID counts) over the active states, so an account never has two sync
// jobs queued or running.
type SyncArgs struct {
	AccountID int64 `json:"account_id" river:"unique"`
	// RunID is the sync_runs row the job works on; a retry after that run
	// failed works on a new row with the same trigger. Zero for an
	// auto-sync queued ahead of its due time: its run is created when the
	// job starts.
	RunID   int64  `json:"run_id"`
	Trigger string `json:"trigger"`
	// Slot is the due time (Unix ms) an ahead-of-time auto-sync is for.
	Slot int64 `json:"slot,omitempty"`
	// ConfirmedMassDelete: an admin confirmed the removals a run stopped
	// for (mass-delete guard); this sync may apply them.
	ConfirmedMassDelete bool `json:"confirmed_mass_delete,omitempty"`
	// Tries counts the attempts made before this job: a failed sync that
	// may be retried ends its job and queues a new one, scheduled after
	// the backoff, with Tries one more.
	Tries int `json:"tries,omitempty"`
}

// Kind is the River job kind.
func (SyncArgs) Kind() string { return KindSync }

// InsertOpts makes the job unique per account.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: syncMaxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: activeStates},
	}
}

// syncMaxAttempts bounds the attempts of one sync (a killed worker, a
// storage outage), counting both the retries the sync service queues
// (SyncArgs.Tries) and River's own of this job (after a worker died);
// after them the run stays failed until the next trigger.
const syncMaxAttempts = 5

// SchedulerArgs is the periodic tick that enqueues due auto-syncs, expires
// trials and reaps expired leases. It is deliberately not unique: a tick
// left "running" by a killed worker must not block the ticks after it, and
// overlapping ticks are safe (each account is decided under its row lock).
type SchedulerArgs struct{}

// Kind is the River job kind.
func (SchedulerArgs) Kind() string { return KindScheduler }

// InsertOpts runs a tick once; the next one comes anyway.
func (SchedulerArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1}
}

// syncRetryDelay is how long a failed sync attempt waits before its retry:
// short at first (a killed worker, a blip), growing for a storage outage.
func syncRetryDelay(first time.Duration, attempt int) time.Duration {
	d := first
	for i := 1; i < attempt && d < 10*time.Minute; i++ {
		d *= 4
	}
	return min(d, 10*time.Minute)
}
