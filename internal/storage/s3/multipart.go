package s3

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shelf-dam/shelf/internal/storage"
)

// Upload names a multipart upload: its bucket, the object's full key
// (prefix included) and the upload ID the server gave it.
type Upload struct {
	Bucket, Key, ID string
}

// UploadTracker records a Conn's multipart uploads while they run. The
// parts of an upload are stored (and billed) but listed nowhere until it
// is completed or aborted; a process killed in between leaves them behind.
// With the record, a cleanup finds the uploads nobody renews any more and
// aborts them (AbortUpload).
type UploadTracker interface {
	// Started records an upload just created. When it fails the upload
	// is aborted and Put fails: an upload nobody could clean up must not
	// go on.
	Started(ctx context.Context, u Upload) error
	// Renew says the upload is still running; it is called every
	// renewal interval while the upload's parts are sent.
	Renew(ctx context.Context, u Upload) error
	// Ended forgets an upload that was completed or aborted.
	Ended(ctx context.Context, u Upload) error
}

// defaultRenewEvery is how often a running upload is renewed.
const defaultRenewEvery = time.Minute

// trackUpload records u with the tracker and renews it until the returned
// end is called with whether the upload is finished (completed or
// aborted); an unfinished upload stays recorded for the cleanup.
func (c *Conn) trackUpload(ctx context.Context, u Upload) (end func(finished bool), err error) {
	if c.uploads == nil {
		return func(bool) {}, nil
	}
	if err := c.uploads.Started(ctx, u); err != nil {
		return nil, fmt.Errorf("recording the multipart upload: %w", err)
	}
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(c.renewEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if err := c.uploads.Renew(context.WithoutCancel(ctx), u); err != nil {
					c.logger.Warn("s3: renewing the record of a running multipart upload failed; it is renewed again in a while",
						slog.String("bucket", u.Bucket), slog.String("key", u.Key), slog.String("error", err.Error()))
				}
			}
		}
	}()
	return func(finished bool) {
		close(stop)
		<-stopped
		if !finished {
			return
		}
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := c.uploads.Ended(ectx, u); err != nil {
			// The cleanup finds the upload gone and forgets it then.
			c.logger.Warn("s3: forgetting a finished multipart upload failed",
				slog.String("bucket", u.Bucket), slog.String("key", u.Key), slog.String("error", err.Error()))
		}
	}, nil
}

// AbortUpload aborts a multipart upload of this connector's bucket and
// prefix (one a dead process left behind): its parts are deleted. An
// upload that is already gone (completed or aborted) is not an error; one
// outside the bucket or prefix is refused with ErrInvalidPath.
func (c *Conn) AbortUpload(ctx context.Context, u Upload) error {
	if u.Bucket != c.bucket || !strings.HasPrefix(u.Key, c.prefix) || u.ID == "" {
		return storage.Classify(storage.ErrInvalidPath, "abort upload", u.Key,
			fmt.Errorf("the upload is not in bucket %q under prefix %q", c.bucket, c.prefix))
	}
	p := strings.TrimPrefix(u.Key, c.prefix)
	err := c.call(ctx, "abort upload", p, func(ctx context.Context) error {
		_, err := c.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
			Bucket: aws.String(c.bucket), Key: aws.String(u.Key), UploadId: aws.String(u.ID)})
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}
