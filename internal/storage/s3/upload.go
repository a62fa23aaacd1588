package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/shelf-dam/shelf/internal/storage"
)

// upload writes r to key: one PutObject when the body fits in one part,
// else a multipart upload. The body is read one part at a time into
// memory, so it need not be seekable and every request can be retried.
// When size is not -1, a body of another length is refused and nothing is
// stored. With mode ifAbsent an object that is at key by the time the
// upload would be stored makes it fail with ErrExists (nothing replaced).
func (c *Conn) upload(ctx context.Context, p, key string, r io.Reader, size int64, mimeType string, mode writeMode) error {
	if r == nil {
		r = bytes.NewReader(nil)
	}
	buf := make([]byte, c.bufSize(size))
	n, err := fill(r, buf)
	switch {
	case err == io.EOF:
		if size >= 0 && int64(n) != size {
			return sizeMismatch(p, int64(n), size)
		}
		return c.putSmall(ctx, "put", p, key, buf[:n], mimeType, mode)
	case err != nil:
		return storage.Classify(storage.ErrFatal, "put", p, fmt.Errorf("reading the content to upload: %w", err))
	}
	// The part is full: is there more?
	var one [1]byte
	m, err := fill(r, one[:])
	if m == 0 && err == io.EOF {
		if size >= 0 && int64(n) != size {
			return sizeMismatch(p, int64(n), size)
		}
		return c.putSmall(ctx, "put", p, key, buf[:n], mimeType, mode)
	}
	if err != nil && err != io.EOF {
		return storage.Classify(storage.ErrFatal, "put", p, fmt.Errorf("reading the content to upload: %w", err))
	}
	if size >= 0 && int64(n) >= size {
		return storage.Classify(storage.ErrInvalidPath, "put", p,
			fmt.Errorf("the body is longer than the %d bytes announced; nothing was stored", size))
	}
	rest := io.MultiReader(bytes.NewReader(one[:m]), r)
	return c.putMultipart(ctx, p, key, buf, rest, size, mimeType, mode)
}

// fill reads r into buf until buf is full (nil error) or r ends: io.EOF
// only when r itself ended cleanly. Unlike io.ReadFull it passes r's own
// errors through, io.ErrUnexpectedEOF included: a body cut off in transit
// (an HTTP request whose client went away) fails with it, and taking it
// for a short last part would store the truncated file.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// bufSize is the buffer for the first part: the whole body when it is
// known to be small, else a full part.
func (c *Conn) bufSize(size int64) int64 {
	if size >= 0 && size < c.partSize {
		return size
	}
	return c.partSize
}

func sizeMismatch(p string, got, want int64) error {
	return storage.Classify(storage.ErrInvalidPath, "put", p,
		fmt.Errorf("the body had %d bytes but %d were announced; nothing was stored", got, want))
}

// putSmall stores body with one PutObject.
func (c *Conn) putSmall(ctx context.Context, op, p, key string, body []byte, mimeType string, mode writeMode) error {
	attempts := 0
	err := c.conditional(ctx, op, p, mode, func(ctx context.Context, ifNoneMatch *string) error {
		attempts++
		in := &awss3.PutObjectInput{
			Bucket:        aws.String(c.bucket),
			Key:           aws.String(key),
			Body:          bytes.NewReader(body),
			ContentLength: aws.Int64(int64(len(body))),
			IfNoneMatch:   ifNoneMatch,
		}
		if mimeType != "" {
			in.ContentType = aws.String(mimeType)
		}
		_, err := c.client.PutObject(ctx, in)
		return err
	})
	if attempts > 1 && errors.Is(err, storage.ErrExists) && c.holds(ctx, key, body) {
		// An attempt whose answer was lost stored it; the retry found it.
		return nil
	}
	return err
}

// holds reports whether the object at key has exactly body as content, by
// its ETag (the MD5 of a single-part object's content).
func (c *Conn) holds(ctx context.Context, key string, body []byte) bool {
	objs, err := c.firstKeys(ctx, key, 1)
	if err != nil || len(objs) == 0 || aws.ToString(objs[0].Key) != key {
		return false
	}
	sum := md5.Sum(body)
	return strings.Trim(aws.ToString(objs[0].ETag), `"`) == hex.EncodeToString(sum[:])
}

// putMultipart uploads first, then the rest of r, in parts of
// c.partSize. On any failure the upload is aborted so no parts linger.
func (c *Conn) putMultipart(ctx context.Context, p, key string, first []byte, rest io.Reader, size int64, mimeType string, mode writeMode) (err error) {
	var created *awss3.CreateMultipartUploadOutput
	err = c.call(ctx, "put", p, func(ctx context.Context) error {
		in := &awss3.CreateMultipartUploadInput{Bucket: aws.String(c.bucket), Key: aws.String(key)}
		if mimeType != "" {
			in.ContentType = aws.String(mimeType)
		}
		var err error
		created, err = c.client.CreateMultipartUpload(ctx, in)
		return err
	})
	if err != nil {
		return err
	}
	uploadID := created.UploadId
	abort := func() error {
		// Abort even when ctx was cancelled, or the parts are billed forever.
		return c.call(context.WithoutCancel(ctx), "put", p, func(ctx context.Context) error {
			_, err := c.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
				Bucket: aws.String(c.bucket), Key: aws.String(key), UploadId: uploadID})
			return err
		})
	}
	endTracking, err := c.trackUpload(ctx, Upload{Bucket: c.bucket, Key: key, ID: aws.ToString(uploadID)})
	if err != nil {
		if aerr := abort(); aerr != nil {
			c.logger.Warn("s3: aborting an upload that could not be recorded failed; a lifecycle rule for incomplete uploads cleans it up",
				slog.String("bucket", c.bucket), slog.String("key", key), slog.String("error", aerr.Error()))
		}
		return storage.Classify(storage.ErrFatal, "put", p, err)
	}
	defer func() {
		if err == nil {
			endTracking(true)
			return
		}
		aerr := abort()
		if aerr != nil {
			c.logger.Warn("s3: aborting a failed multipart upload failed; the cleanup of abandoned uploads (or a bucket lifecycle rule) aborts it later",
				slog.String("bucket", c.bucket), slog.String("key", key), slog.String("error", aerr.Error()))
		}
		endTracking(aerr == nil || errors.Is(aerr, storage.ErrNotFound))
	}()

	parts, total, err := c.uploadParts(ctx, p, key, uploadID, first, rest)
	if err != nil {
		return err
	}
	if size >= 0 && total != size {
		return sizeMismatch(p, total, size)
	}
	return c.conditional(ctx, "put", p, mode, func(ctx context.Context, ifNoneMatch *string) error {
		_, err := c.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
			Bucket: aws.String(c.bucket), Key: aws.String(key), UploadId: uploadID,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
			IfNoneMatch:     ifNoneMatch,
		})
		return err
	})
}

// uploadParts sends first and then the rest of r as parts, up to
// c.uploadConcurrency at a time; memory is bounded by that many part
// buffers plus the one being filled.
func (c *Conn) uploadParts(ctx context.Context, p, key string, uploadID *string, first []byte, rest io.Reader) ([]types.CompletedPart, int64, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.uploadConcurrency)
	free := make(chan []byte, c.uploadConcurrency+1)
	allocated := 1
	var mu sync.Mutex
	var parts []types.CompletedPart
	var total int64
	buf := first
	var readErr error
	for num := int32(1); ; num++ {
		part, n := buf, num
		total += int64(len(part))
		g.Go(func() error {
			etag, err := c.uploadPart(gctx, p, key, uploadID, n, part)
			if err != nil {
				return err
			}
			mu.Lock()
			parts = append(parts, types.CompletedPart{ETag: etag, PartNumber: aws.Int32(n)})
			mu.Unlock()
			free <- part[:cap(part)]
			return nil
		})
		select {
		case buf = <-free:
		default:
			if allocated <= c.uploadConcurrency {
				buf = make([]byte, c.partSize)
				allocated++
			} else {
				select {
				case buf = <-free:
				case <-gctx.Done():
				}
			}
		}
		if gctx.Err() != nil {
			break
		}
		k, err := fill(rest, buf)
		buf = buf[:k]
		if err != nil && err != io.EOF {
			readErr = storage.Classify(storage.ErrFatal, "put", p, fmt.Errorf("reading the content to upload: %w", err))
			break
		}
		if k == 0 {
			break
		}
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	if readErr != nil {
		return nil, 0, readErr
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(aws.ToInt32(a.PartNumber) - aws.ToInt32(b.PartNumber)) })
	return parts, total, nil
}

func (c *Conn) uploadPart(ctx context.Context, p, key string, uploadID *string, num int32, body []byte) (*string, error) {
	var out *awss3.UploadPartOutput
	err := c.call(ctx, "put", p, func(ctx context.Context) error {
		var err error
		out, err = c.client.UploadPart(ctx, &awss3.UploadPartInput{
			Bucket: aws.String(c.bucket), Key: aws.String(key), UploadId: uploadID,
			PartNumber: aws.Int32(num), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.ETag, nil
}
