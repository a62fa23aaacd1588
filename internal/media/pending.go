package media

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/shelf-dam/shelf/internal/queue"
	"golang.org/x/sync/errgroup"
)

// PendingArgs asks for the previews of every asset of an account still
// waiting for one (after a sync added or changed files). One job walks the
// backlog in id order, instead of one job per file, so an initial sync of a
// million files queues one job, not a million.
type PendingArgs struct {
	AccountID int64 `json:"account_id"`
}

// Kind is the River job kind.
func (PendingArgs) Kind() string { return "media.pending" }

// InsertOpts keeps one backlog job per account at a time; the running job
// makes a new pass for assets that became pending while it worked.
func (PendingArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       Queue,
		MaxAttempts: 10,
		UniqueOpts:  queue.OnePerArgs(),
	}
}

// PendingLister finds assets whose previews are still to be made.
type PendingLister interface {
	ListPendingPreviewIDs(ctx context.Context, accountID, afterID int64, limit int) ([]int64, error)
}

// PendingWorker runs PendingArgs jobs.
type PendingWorker struct {
	river.WorkerDefaults[PendingArgs]
	service *Service
	list    PendingLister
	// Parallel is how many previews are made at once (default 2).
	Parallel int
}

// NewPendingWorker returns a worker making the backlog's previews with
// service.
func NewPendingWorker(service *Service, list PendingLister) *PendingWorker {
	return &PendingWorker{service: service, list: list, Parallel: 2}
}

// Timeout lets a large backlog take its time; a cut-short job is retried
// and continues with what is still pending.
func (w *PendingWorker) Timeout(*river.Job[PendingArgs]) time.Duration { return 6 * time.Hour }

// Work makes the previews of the account's pending assets. A file that
// cannot be read right now is left pending and the job fails at the end, so
// River retries it with backoff; undecodable files are recorded by
// Generate and never retried.
func (w *PendingWorker) Work(ctx context.Context, job *river.Job[PendingArgs]) error {
	// A file changed by a sync while a pass runs keeps its id and may lie
	// behind the pass; later passes pick it up.
	for pass := 0; pass < 3; pass++ {
		done, err := w.pass(ctx, job.Args.AccountID)
		if err != nil || done == 0 {
			return err
		}
	}
	return nil
}

// pass makes the previews of every pending asset once, in id order, and
// reports how many it handled.
func (w *PendingWorker) pass(ctx context.Context, accountID int64) (int, error) {
	var after int64
	var firstErr error
	handled := 0
	for {
		ids, err := w.list.ListPendingPreviewIDs(ctx, accountID, after, 200)
		if err != nil {
			return handled, err
		}
		if len(ids) == 0 {
			return handled, firstErr
		}
		handled += len(ids)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(max(w.Parallel, 1))
		errs := make([]error, len(ids))
		for i, id := range ids {
			g.Go(func() error {
				errs[i] = w.service.Generate(gctx, accountID, id)
				return nil
			})
		}
		_ = g.Wait()
		if err := ctx.Err(); err != nil {
			return handled, err
		}
		for i, err := range errs {
			if err != nil {
				w.service.cfg.Logger.WarnContext(ctx, "preview failed; will retry", slog.Int64("account_id", accountID), slog.Int64("asset_id", ids[i]), slog.Any("err", err))
				if firstErr == nil {
					firstErr = err
				}
			}
		}
		after = ids[len(ids)-1]
	}
}
