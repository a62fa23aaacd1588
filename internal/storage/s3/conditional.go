package s3

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// writeMode says whether a write may replace an object at its key.
type writeMode int

const (
	// mayReplace: a plain write; whatever is at the key is replaced.
	mayReplace writeMode = iota
	// ifAbsent: the write carries If-None-Match: *, so S3 refuses it
	// (412 PreconditionFailed, classified ErrExists) when the key exists by
	// the time the object would be stored: the check and the write are one
	// step on the server. PutObject, CompleteMultipartUpload and CopyObject
	// take it (versitygw: the first two; it ignores it on CopyObject).
	ifAbsent
)

// conditional runs one write through the pacer; fn gets the If-None-Match
// value to send (nil for mayReplace). A server that does not implement
// conditional writes (501 NotImplemented) gets the write again without it:
// Shelf checks that the key is free before it writes and claims the path in
// its catalog, so only a writer outside Shelf could slip in between there.
func (c *Conn) conditional(ctx context.Context, op, p string, mode writeMode, fn func(ctx context.Context, ifNoneMatch *string) error) error {
	if mode == mayReplace {
		return c.call(ctx, op, p, func(ctx context.Context) error { return fn(ctx, nil) })
	}
	err := c.call(ctx, op, p, func(ctx context.Context) error { return fn(ctx, aws.String("*")) })
	if !isCode(err, "NotImplemented") {
		return err
	}
	c.logger.Info("s3: the server does not implement conditional writes (If-None-Match); writing without one",
		slog.String("bucket", c.bucket), slog.String("path", p), slog.String("error", err.Error()))
	return c.call(ctx, op, p, func(ctx context.Context) error { return fn(ctx, nil) })
}
