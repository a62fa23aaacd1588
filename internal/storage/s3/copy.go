package s3

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/shelf-dam/shelf/internal/storage"
)

// maxCopySize is the largest object one CopyObject may copy (5 GiB);
// larger ones are copied in parts with UploadPartCopy.
const maxCopySize = 5 << 30

// copyObject copies srcKey to dstKey within the bucket, keeping content
// type and metadata. With mode ifAbsent the copy refuses to replace an
// object at dstKey (where the server honours If-None-Match on copies).
func (c *Conn) copyObject(ctx context.Context, op, p, srcKey, dstKey string, size int64, mode writeMode) error {
	if size > c.copyLimit() {
		return c.copyMultipart(ctx, op, p, srcKey, dstKey, size, mode)
	}
	return c.conditional(ctx, op, p, mode, func(ctx context.Context, ifNoneMatch *string) error {
		_, err := c.client.CopyObject(ctx, &awss3.CopyObjectInput{
			Bucket:      aws.String(c.bucket),
			Key:         aws.String(dstKey),
			CopySource:  aws.String(c.copySource(srcKey)),
			IfNoneMatch: ifNoneMatch,
		})
		return err
	})
}

func (c *Conn) copyLimit() int64 {
	if c.copyPartSize > 0 {
		return c.copyPartSize
	}
	return maxCopySize
}

// copyMultipart copies a large object part by part.
func (c *Conn) copyMultipart(ctx context.Context, op, p, srcKey, dstKey string, size int64, mode writeMode) (err error) {
	var created *awss3.CreateMultipartUploadOutput
	err = c.call(ctx, op, p, func(ctx context.Context) error {
		var err error
		created, err = c.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
			Bucket: aws.String(c.bucket), Key: aws.String(dstKey)})
		return err
	})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = c.call(context.WithoutCancel(ctx), op, p, func(ctx context.Context) error {
				_, err := c.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
					Bucket: aws.String(c.bucket), Key: aws.String(dstKey), UploadId: created.UploadId})
				return err
			})
		}
	}()
	part := c.copyLimit()
	var parts []types.CompletedPart
	for num, off := int32(1), int64(0); off < size; num, off = num+1, off+part {
		end := min(off+part, size) - 1
		var out *awss3.UploadPartCopyOutput
		err := c.call(ctx, op, p, func(ctx context.Context) error {
			var err error
			out, err = c.client.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{
				Bucket: aws.String(c.bucket), Key: aws.String(dstKey), UploadId: created.UploadId,
				PartNumber: aws.Int32(num), CopySource: aws.String(c.copySource(srcKey)),
				CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
			})
			return err
		})
		if err != nil {
			return err
		}
		parts = append(parts, types.CompletedPart{ETag: out.CopyPartResult.ETag, PartNumber: aws.Int32(num)})
	}
	return c.conditional(ctx, op, p, mode, func(ctx context.Context, ifNoneMatch *string) error {
		_, err := c.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
			Bucket: aws.String(c.bucket), Key: aws.String(dstKey), UploadId: created.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}, IfNoneMatch: ifNoneMatch})
		return err
	})
}

// copySource is the URL-encoded "bucket/key" CopyObject wants. Every byte
// but unreserved characters and "/" is escaped, so keys with "+", "?",
// "#", "%" or spaces survive servers that decode "+" as a space.
func (c *Conn) copySource(key string) string {
	var b strings.Builder
	b.WriteString(c.bucket)
	b.WriteByte('/')
	for i := 0; i < len(key); i++ {
		ch := key[i]
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9',
			ch == '-', ch == '_', ch == '.', ch == '~', ch == '/':
			b.WriteByte(ch)
		default:
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}

// deleteKeys deletes up to 1000 keys with one DeleteObjects call (one
// DeleteObject for a single key). A key the server reports it could not
// delete fails the call.
func (c *Conn) deleteKeys(ctx context.Context, p string, keys []string) error {
	switch len(keys) {
	case 0:
		return nil
	case 1:
		return c.call(ctx, "delete", p, func(ctx context.Context) error {
			_, err := c.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(keys[0])})
			return err
		})
	}
	ids := make([]types.ObjectIdentifier, len(keys))
	for i, k := range keys {
		ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
	}
	return c.call(ctx, "delete", p, func(ctx context.Context) error {
		out, err := c.client.DeleteObjects(ctx, &awss3.DeleteObjectsInput{
			Bucket: aws.String(c.bucket),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return err
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			hint, class := classOf(400, aws.ToString(e.Code)) // per-key errors carry a code, not a status
			return storage.Classify(class, "delete", p, fmt.Errorf("%d of %d keys were not deleted; first %q: %s %s %s",
				len(out.Errors), len(keys), aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message), hint))
		}
		return nil
	})
}
