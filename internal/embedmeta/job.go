package embedmeta

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/shelf-dam/shelf/internal/queue"
)

// Queue is the River queue the metadata jobs (reads, bulk write-back) run
// on: a queue of their own, off the sync queue (never delaying a sync) and
// off the preview queue, so a pass reading a whole new library (a download
// and an exiftool run per file) never keeps thumbnails from appearing.
const Queue = "metadata"

// ReadArgs asks for the file metadata of every new or changed asset of an
// account (after a sync or a live batch: RunID), or of one asset (after an
// upload: AssetID). Each sync queues its own job, so a job already running
// for an earlier sync never swallows a later one's; the batches of one
// live run (one RunID) tell theirs apart by Batch.
type ReadArgs struct {
	AccountID int64 `json:"account_id"`
	RunID     int64 `json:"run_id,omitempty"`
	AssetID   int64 `json:"asset_id,omitempty"`
	// Batch is a live batch's own mark (the time it was applied, in
	// nanoseconds): a read queued or running for an earlier batch, whose
	// pass may be past this batch's assets, does not take its place.
	Batch int64 `json:"batch,omitempty"`
}

// Kind is the River job kind.
func (ReadArgs) Kind() string { return "embedmeta.read" }

// InsertOpts keeps one job per sync (or asset) at a time.
func (ReadArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       Queue,
		MaxAttempts: 10,
		UniqueOpts:  queue.OnePerArgs(),
	}
}

// ReadWorker runs ReadArgs jobs.
type ReadWorker struct {
	river.WorkerDefaults[ReadArgs]
	service *Service
}

// Work reads the account's pending file metadata.
func (w *ReadWorker) Work(ctx context.Context, job *river.Job[ReadArgs]) error {
	if job.Args.AssetID != 0 {
		return w.service.ReadOne(ctx, job.Args.AccountID, job.Args.AssetID)
	}
	more, err := w.service.ReadPending(ctx, job.Args.AccountID)
	if err == nil && more {
		return river.JobSnooze(time.Second)
	}
	return err
}

// Timeout lets a first sync's backlog take its time; a cut-short job is
// retried and continues with what is still pending.
func (w *ReadWorker) Timeout(*river.Job[ReadArgs]) time.Duration { return 6 * time.Hour }

// RegisterWorkers adds the metadata jobs to the queue.
func RegisterWorkers(q *queue.Queue, svc *Service) {
	queue.AddWorker(q, river.Worker[ReadArgs](&ReadWorker{service: svc}))
}
