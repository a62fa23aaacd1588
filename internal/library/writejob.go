package library

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/embedmeta"
	"github.com/shelf-dam/shelf/internal/queue"
	"github.com/shelf-dam/shelf/internal/storage"
)

// WriteMetadataArgs asks for a background write-back (a
// catalog.MetadataWrite): each of its files gets the asset's current
// title, description, tags and rating, with a result per file.
type WriteMetadataArgs struct {
	AccountID int64 `json:"account_id"`
	WriteID   int64 `json:"write_id"`
	UserID    int64 `json:"user_id,omitempty"`
}

// Kind is the River job kind.
func (WriteMetadataArgs) Kind() string { return "library.write_metadata" }

// InsertOpts puts the job on the metadata queue (beside the metadata
// reads, off the sync and preview queues), one per write.
func (WriteMetadataArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       embedmeta.Queue,
		MaxAttempts: 10,
		UniqueOpts:  queue.OnePerArgs(),
	}
}

// maxWriteAttempts is how often a file failing for a temporary reason
// (storage unavailable) is tried before it is marked failed.
const maxWriteAttempts = 3

// WriteCatalog is what the write-back job records in the catalog.
type WriteCatalog interface {
	ListMetadataWriteItems(ctx context.Context, accountID, writeID int64, state string, afterAsset int64, limit int) ([]catalog.MetadataWriteItem, error)
	SetMetadataWriteItem(ctx context.Context, writeID, assetID int64, state, reason string, now time.Time) error
	FinishMetadataWrite(ctx context.Context, writeID int64, now time.Time) (bool, error)
}

// WriteMetadataWorker runs WriteMetadataArgs jobs.
type WriteMetadataWorker struct {
	river.WorkerDefaults[WriteMetadataArgs]
	lib *Service
	cat WriteCatalog
}

// RegisterWorkers adds the library's background jobs to the queue.
func RegisterWorkers(q *queue.Queue, lib *Service) {
	queue.AddWorker(q, river.Worker[WriteMetadataArgs](NewWriteMetadataWorker(lib)))
}

// NewWriteMetadataWorker returns the worker of WriteMetadataArgs jobs.
func NewWriteMetadataWorker(lib *Service) *WriteMetadataWorker {
	return &WriteMetadataWorker{lib: lib, cat: lib.cfg.Catalog}
}

// turnedOff is the result of the files a write-back had not reached when
// the account's write_metadata_to_files was turned off.
const turnedOff = "Writing metadata into files was turned off before this file was written."

// ErrWriteBackOff: a background write-back was asked while the account's
// write_metadata_to_files is off (HTTP 409).
var ErrWriteBackOff = errors.New("writing metadata into files is off")

// maxBulkWrite bounds the files of one background write-back.
const maxBulkWrite = 10_000

// StartMetadataWrite queues a background write-back of the assets'
// current title, description, tags and rating into their files, with a
// result per file (catalog.MetadataWrite). It needs the account's
// write_metadata_to_files.
func (s *Service) StartMetadataWrite(ctx context.Context, accountID, userID int64, assetIDs []int64) (catalog.MetadataWrite, error) {
	switch {
	case len(assetIDs) == 0:
		return catalog.MetadataWrite{}, newError(ErrInvalid, nil, "Give the ids of the assets to write (asset_ids).")
	case len(assetIDs) > maxBulkWrite:
		return catalog.MetadataWrite{}, newError(ErrInvalid, nil, "%d assets given; one write-back takes at most %d.", len(assetIDs), maxBulkWrite)
	case s.cfg.TxJobs == nil:
		return catalog.MetadataWrite{}, newError(ErrInvalid, nil, "This server runs no background jobs.")
	}
	on, err := s.cfg.Catalog.WriteMetadataToFiles(ctx, accountID)
	if err != nil {
		return catalog.MetadataWrite{}, fromCatalog(err, "The account's settings")
	}
	if !on {
		return catalog.MetadataWrite{}, newError(ErrWriteBackOff, nil, "Writing metadata into files is off for this library; an admin can turn it on (write_metadata_to_files).")
	}
	w, err := s.cfg.Catalog.CreateMetadataWrite(ctx, accountID, &userID, assetIDs, s.cfg.Now(),
		func(ctx context.Context, t *catalog.QueueTx, w catalog.MetadataWrite) error {
			_, err := s.cfg.TxJobs.InsertTx(ctx, t, WriteMetadataArgs{AccountID: accountID, WriteID: w.ID, UserID: userID}, nil)
			return err
		})
	if err != nil {
		return catalog.MetadataWrite{}, fromCatalog(err, "The assets")
	}
	return w, nil
}

// Timeout lets a large write-back take its time; a cut-short job is
// retried and goes on with the files still pending.
func (w *WriteMetadataWorker) Timeout(*river.Job[WriteMetadataArgs]) time.Duration {
	return 6 * time.Hour
}

// Work writes the pending files of the write one by one. While a sync
// holds the library the job waits (snoozes) and goes on after it; a file
// failing for a temporary reason is tried again on the job's retry, up to
// maxWriteAttempts; any other failure is that file's result.
func (w *WriteMetadataWorker) Work(ctx context.Context, job *river.Job[WriteMetadataArgs]) error {
	a := job.Args
	var after int64
	retry := false
	for {
		// Turned off since the write was asked (or while it runs): the
		// files not written yet are not written.
		on, err := w.lib.cfg.Catalog.WriteMetadataToFiles(ctx, a.AccountID)
		if err != nil {
			return err
		}
		items, err := w.cat.ListMetadataWriteItems(ctx, a.AccountID, a.WriteID, "pending", after, 100)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			break
		}
		if !on {
			for _, it := range items {
				after = it.AssetID
				if err := w.cat.SetMetadataWriteItem(ctx, a.WriteID, it.AssetID, "failed", turnedOff, w.lib.cfg.Now()); err != nil && !errors.Is(err, catalog.ErrNotFound) {
					return err
				}
			}
			continue
		}
		for _, it := range items {
			after = it.AssetID
			err := w.lib.WriteCurrentMetadata(ctx, a.AccountID, a.UserID, it.AssetID)
			state, reason := "written", ""
			switch {
			case errors.Is(err, ErrLocked), errors.Is(err, ErrConflict):
				return river.JobSnooze(5 * time.Second) // a sync or another write holds it: go on later
			case ctx.Err() != nil:
				return ctx.Err()
			case err != nil && storage.IsRetryable(err) && it.Attempts+1 < maxWriteAttempts:
				state, reason, retry = "pending", writeFailureText(err), true
			case err != nil:
				state, reason = "failed", writeFailureText(err)
			}
			if err := w.cat.SetMetadataWriteItem(ctx, a.WriteID, it.AssetID, state, reason, w.lib.cfg.Now()); err != nil && !errors.Is(err, catalog.ErrNotFound) {
				return err // (a file whose asset was deleted meanwhile has no item any more)
			}
		}
	}
	if retry {
		return fmt.Errorf("some files of metadata write %d could not be written for now; retrying", a.WriteID)
	}
	_, err := w.cat.FinishMetadataWrite(ctx, a.WriteID, w.lib.cfg.Now())
	return err
}
