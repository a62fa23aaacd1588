package media

import (
	"context"
	"time"

	"github.com/riverqueue/river"
	"github.com/shelf-dam/shelf/internal/queue"
)

// Queue is the River queue thumbnail jobs run on, kept apart from syncs so a
// burst of previews after a large first sync never delays a sync. The River
// client must list it in Config.Queues (for example {MaxWorkers: 2}: image
// decoding is CPU-bound).
const Queue = "media"

// ThumbArgs asks for the previews and content facts of one asset; for an
// asset that was deleted meanwhile, it removes the derived files.
type ThumbArgs struct {
	AccountID int64 `json:"account_id"`
	AssetID   int64 `json:"asset_id"`
}

// Kind is the River job kind.
func (ThumbArgs) Kind() string { return "media.thumbnail" }

// InsertOpts puts thumbnail jobs on Queue, unique per asset while one is
// waiting or running (a finished job does not block a new one after the
// file changes; Generate itself starts over when the file changes while it
// runs).
func (ThumbArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       Queue,
		MaxAttempts: 5,
		UniqueOpts:  queue.OnePerArgs(),
	}
}

// ThumbWorker runs ThumbArgs jobs. Register it with
// river.AddWorker(workers, media.NewThumbWorker(service)).
type ThumbWorker struct {
	river.WorkerDefaults[ThumbArgs]
	service *Service
}

// NewThumbWorker returns a worker that makes previews with service.
func NewThumbWorker(service *Service) *ThumbWorker {
	return &ThumbWorker{service: service}
}

// Work makes the asset's previews. Errors (storage unreachable) make River
// retry with backoff; undecodable files are recorded, not retried.
func (w *ThumbWorker) Work(ctx context.Context, job *river.Job[ThumbArgs]) error {
	return w.service.Generate(ctx, job.Args.AccountID, job.Args.AssetID)
}

// Timeout bounds one job: downloading a large video and running ffmpeg on
// it may take minutes.
func (w *ThumbWorker) Timeout(*river.Job[ThumbArgs]) time.Duration { return 10 * time.Minute }
