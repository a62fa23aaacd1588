package syncrun

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/shelf-dam/shelf/internal/queue"
)

// KindSearchFill is the job that catches the search index up after a big
// import (catalog.FillSearchBacklog).
const KindSearchFill = "shelf.search_fill"

// searchFillChunk is how many assets one transaction of the catch-up
// indexes: short transactions, so library writes and syncs go between.
const searchFillChunk = 5000

// SearchFillArgs catches up the search index of an account's assets that
// a big import left for later. Unique per account while waiting.
type SearchFillArgs struct {
	AccountID int64 `json:"account_id" river:"unique"`
}

// Kind is the River job kind.
func (SearchFillArgs) Kind() string { return KindSearchFill }

// InsertOpts makes the job unique per account among the waiting ones (one
// queued while another runs still runs after it: it finds what the first
// left).
func (SearchFillArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: queue.OnePerArgs()}
}

type searchFillWorker struct {
	river.WorkerDefaults[SearchFillArgs]
	svc *Service
}

// Timeout leaves room for a million assets.
func (w *searchFillWorker) Timeout(*river.Job[SearchFillArgs]) time.Duration { return time.Hour }

func (w *searchFillWorker) Work(ctx context.Context, job *river.Job[SearchFillArgs]) error {
	for {
		done, err := w.svc.store.FillSearchBacklog(ctx, job.Args.AccountID, searchFillChunk)
		if err != nil {
			return fmt.Errorf("catching up the search index of account %d: %w", job.Args.AccountID, err)
		}
		if done {
			return nil
		}
	}
}

// queueSearchFill queues the catch-up after a run that deferred indexing.
func (s *Service) queueSearchFill(ctx context.Context, accountID int64) error {
	return s.queue.Enqueue(ctx, SearchFillArgs{AccountID: accountID})
}
