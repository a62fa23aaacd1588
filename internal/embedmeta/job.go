package embedmeta

import (
	"context"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/shelf-dam/shelf/internal/queue"
)

// Queue is the River queue the metadata jobs run on: the preview queue
// ("media"), since reading metadata is the same kind of background work
// after a sync and must never delay a sync.
const Queue = "media"

// ReadArgs asks for the file metadata of every new or changed asset of an
// account (after a sync, a live batch or an upload).
type ReadArgs struct {
	AccountID int64 `json:"account_id"`
}

// Kind is the River job kind.
func (ReadArgs) Kind() string { return "embedmeta.read" }

// InsertOpts keeps one job per account at a time; the running one makes
// another pass for assets that became pending while it worked.
func (ReadArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       Queue,
		MaxAttempts: 10,
		UniqueOpts: river.UniqueOpts{
			ByArgs:  true,
			ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable},
		},
	}
}

// ReadWorker runs ReadArgs jobs.
type ReadWorker struct {
	river.WorkerDefaults[ReadArgs]
	service *Service
}

// Work reads the account's pending file metadata.
func (w *ReadWorker) Work(ctx context.Context, job *river.Job[ReadArgs]) error {
	return w.service.ReadPending(ctx, job.Args.AccountID)
}

// Timeout lets a first sync's backlog take its time; a cut-short job is
// retried and continues with what is still pending.
func (w *ReadWorker) Timeout(*river.Job[ReadArgs]) time.Duration { return 6 * time.Hour }

// RegisterWorkers adds the metadata jobs to the queue.
func RegisterWorkers(q *queue.Queue, svc *Service) {
	queue.AddWorker(q, river.Worker[ReadArgs](&ReadWorker{service: svc}))
}
