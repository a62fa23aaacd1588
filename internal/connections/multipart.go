package connections

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/queue"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/s3"
)

// Abandoned S3 multipart uploads. A running upload is renewed every
// minute (s3.UploadTracker), so one not renewed for StaleUploadAge was
// left by a process that died; the cleanup aborts it every
// StaleUploadCleanupInterval.
const (
	StaleUploadAge             = time.Hour
	StaleUploadCleanupInterval = 15 * time.Minute
)

// uploadTracker records an account's S3 multipart uploads in the catalog.
type uploadTracker struct {
	store     *catalog.Store
	accountID int64
	now       func() time.Time
}

func (t uploadTracker) Started(ctx context.Context, u s3.Upload) error {
	return t.store.RecordMultipartUpload(ctx, catalog.MultipartUpload{AccountID: t.accountID, Bucket: u.Bucket, Key: u.Key, UploadID: u.ID}, t.now())
}

func (t uploadTracker) Renew(ctx context.Context, u s3.Upload) error {
	return t.store.RenewMultipartUpload(ctx, t.accountID, u.ID, t.now())
}

func (t uploadTracker) Ended(ctx context.Context, u s3.Upload) error {
	return t.store.ForgetMultipartUpload(ctx, t.accountID, u.ID)
}

// AbortStaleUploads aborts the recorded multipart uploads not renewed
// since before (their process died) and forgets them, and reports how many
// it aborted. An upload that can no longer be reached (the account's
// storage was disconnected or moved to another bucket or prefix, or its
// keys were revoked) is forgotten with a warning: a bucket lifecycle rule
// must clean it up (docs/operations.md). Other failures keep the record
// for the next run.
func (s *Service) AbortStaleUploads(ctx context.Context, before time.Time) (int, error) {
	aborted := 0
	var after int64
	for {
		stale, err := s.Store.StaleMultipartUploads(ctx, before, after, 100)
		if err != nil {
			return aborted, err
		}
		for _, u := range stale {
			after = u.ID
			log := s.Logger.With(slog.Int64("account_id", u.AccountID), slog.String("bucket", u.Bucket),
				slog.String("key", u.Key), slog.Time("started_at", u.StartedAt))
			err := s.abortUpload(ctx, u)
			switch {
			case err == nil:
				aborted++
				log.Info("aborted an abandoned multipart upload (its process stopped renewing it)")
			case errors.Is(err, errUnreachableUpload):
				log.Warn("an abandoned multipart upload cannot be aborted by Shelf any more; a bucket lifecycle rule for incomplete multipart uploads removes it",
					slog.String("error", err.Error()))
			default:
				log.Warn("aborting an abandoned multipart upload failed; retrying at the next cleanup", slog.String("error", err.Error()))
				continue
			}
			if err := s.Store.ForgetMultipartUpload(ctx, u.AccountID, u.UploadID); err != nil {
				return aborted, err
			}
		}
		if len(stale) < 100 {
			return aborted, nil
		}
	}
}

var errUnreachableUpload = errors.New("the upload's storage is not connected to its library any more")

// abortUpload aborts one recorded upload with the account's connector.
func (s *Service) abortUpload(ctx context.Context, u catalog.MultipartUpload) error {
	conn, err := s.Connector(ctx, u.AccountID)
	if errors.Is(err, ErrNoStorage) {
		return errUnreachableUpload
	}
	if err != nil {
		return err
	}
	s3conn, ok := conn.(*s3.Conn)
	if !ok {
		return errUnreachableUpload
	}
	err = s3conn.AbortUpload(ctx, s3.Upload{Bucket: u.Bucket, Key: u.Key, ID: u.UploadID})
	if errors.Is(err, storage.ErrInvalidPath) || errors.Is(err, storage.ErrAuth) || errors.Is(err, storage.ErrPermission) {
		return errors.Join(errUnreachableUpload, err)
	}
	return err
}

// AbortStaleUploadsArgs is the periodic job that aborts abandoned
// multipart uploads.
type AbortStaleUploadsArgs struct{}

// Kind is the River job kind.
func (AbortStaleUploadsArgs) Kind() string { return "storage.abort_stale_uploads" }

// InsertOpts keeps one cleanup waiting or running.
func (AbortStaleUploadsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: 3,
		UniqueOpts:  queue.OnePerArgs(),
	}
}

// AbortStaleUploadsWorker runs AbortStaleUploadsArgs jobs.
type AbortStaleUploadsWorker struct {
	river.WorkerDefaults[AbortStaleUploadsArgs]
	conns *Service
}

// NewAbortStaleUploadsWorker returns the cleanup worker of conns.
func NewAbortStaleUploadsWorker(conns *Service) *AbortStaleUploadsWorker {
	return &AbortStaleUploadsWorker{conns: conns}
}

// Work aborts the uploads not renewed for StaleUploadAge.
func (w *AbortStaleUploadsWorker) Work(ctx context.Context, _ *river.Job[AbortStaleUploadsArgs]) error {
	_, err := w.conns.AbortStaleUploads(ctx, w.conns.now().Add(-StaleUploadAge))
	return err
}
