package media

import (
	"context"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/shelf-dam/shelf/internal/queue"
)

// SweepArgs asks for the derived images of an account's deleted assets to
// be removed from this node's disk: assets removed by a sync (and later
// purged tombstones) leave their previews behind otherwise.
type SweepArgs struct {
	AccountID int64 `json:"account_id"`
}

// Kind is the River job kind.
func (SweepArgs) Kind() string { return "media.sweep" }

// InsertOpts keeps one sweep per account waiting or running.
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       Queue,
		MaxAttempts: 3,
		UniqueOpts:  queue.OnePerArgs(),
	}
}

// AssetIDChecker tells which asset ids are live. A tombstoned asset's
// previews go too: if the file comes back and is relinked, its previews are
// made again on the first request (ServeThumb).
type AssetIDChecker interface {
	LiveAssetIDs(ctx context.Context, accountID int64, ids []int64) (map[int64]bool, error)
}

// SweepWorker runs SweepArgs jobs.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	thumbs *ThumbStore
	ids    AssetIDChecker
}

// NewSweepWorker returns a worker sweeping thumbs against the catalog.
func NewSweepWorker(thumbs *ThumbStore, ids AssetIDChecker) *SweepWorker {
	return &SweepWorker{thumbs: thumbs, ids: ids}
}

// Timeout bounds one sweep of a large account.
func (w *SweepWorker) Timeout(*river.Job[SweepArgs]) time.Duration { return time.Hour }

// Work removes the files of assets that are no longer live.
func (w *SweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	_, err := w.thumbs.Sweep(ctx, job.Args.AccountID, w.ids)
	return err
}

// Sweep removes the derived images of an account's assets that are no
// longer live, and reports how many files it removed. Files it cannot
// parse are left alone.
func (s *ThumbStore) Sweep(ctx context.Context, accountID int64, ids AssetIDChecker) (int, error) {
	dir, err := os.Open(s.accountDir(accountID))
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer dir.Close()
	removed := 0
	for {
		names, rerr := dir.Readdirnames(2000)
		files := map[int64][]string{}
		for _, n := range names {
			head, _, ok := strings.Cut(n, "-")
			id, err := strconv.ParseInt(head, 10, 64)
			if ok && err == nil && strings.HasSuffix(n, ".jpg") {
				files[id] = append(files[id], n)
			}
		}
		batch := make([]int64, 0, 1000)
		flush := func() error {
			known, err := ids.LiveAssetIDs(ctx, accountID, batch)
			if err != nil {
				return err
			}
			for _, id := range batch {
				if !known[id] {
					for _, n := range files[id] {
						if os.Remove(dir.Name()+string(os.PathSeparator)+n) == nil {
							removed++
						}
					}
				}
			}
			batch = batch[:0]
			return nil
		}
		for id := range files {
			batch = append(batch, id)
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return removed, err
				}
			}
		}
		if err := flush(); err != nil {
			return removed, err
		}
		if rerr != nil { // io.EOF: the whole directory was read
			return removed, nil
		}
	}
}
