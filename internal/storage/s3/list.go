package s3

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/shelf-dam/shelf/internal/storage"
)

// Listing protocol violations. A listing that hits one stops with an error
// classified storage.ErrFatal wrapping one of these, never with a silently
// short result.
var (
	// ErrRepeatedPrefix: a delimited listing reported a CommonPrefix that
	// an earlier page already reported (or one out of order). gofakes3
	// does this whenever a page ends inside a prefix.
	ErrRepeatedPrefix = errors.New("the server repeated a common prefix across listing pages")
	// ErrTruncatedWithoutToken: a page said IsTruncated but gave no
	// continuation token, so the rest cannot be listed.
	ErrTruncatedWithoutToken = errors.New("the server said the listing is truncated but gave no continuation token")
	// ErrRepeatedToken: a page returned the continuation token it was
	// asked with, which would loop forever.
	ErrRepeatedToken = errors.New("the server returned the same continuation token twice")
	// ErrKeysOutOfOrder: keys did not come in strictly increasing byte
	// order (S3 guarantees it; sorted scans rely on it).
	ErrKeysOutOfOrder = errors.New("the server listed keys out of order")
	// ErrKeyOutsidePrefix: the server returned a key outside the requested
	// prefix.
	ErrKeyOutsidePrefix = errors.New("the server listed a key outside the requested prefix")
)

// listQuery is one ListObjectsV2 listing.
type listQuery struct {
	prefix    string // full key prefix
	delimiter string // "" or "/"
	maxKeys   int32  // per page; 0 means pageSize
	onePage   bool   // stop after the first page
}

// listPages pages through a listing, calling fn for each page's objects
// and common prefixes, and guards against servers that break the paging
// protocol (see the Err* variables above).
func (c *Conn) listPages(ctx context.Context, q listQuery, fn func(objs []types.Object, prefixes []string) error) error {
	maxKeys := q.maxKeys
	if maxKeys <= 0 {
		maxKeys = pageSize
	}
	var token *string
	lastKey, lastPrefix := "", ""
	for page := 1; ; page++ {
		in := &awss3.ListObjectsV2Input{
			Bucket:            aws.String(c.bucket),
			Prefix:            aws.String(q.prefix),
			MaxKeys:           aws.Int32(maxKeys),
			ContinuationToken: token,
			// Keys may hold characters XML 1.0 cannot carry; ask for
			// URL-encoded keys and decode them only when the answer says
			// it is encoded (many S3-compatible stores ignore the request).
			EncodingType: types.EncodingTypeUrl,
		}
		if q.delimiter != "" {
			in.Delimiter = aws.String(q.delimiter)
		}
		var out *awss3.ListObjectsV2Output
		err := c.call(ctx, "list", "", func(ctx context.Context) error {
			var err error
			out, err = c.client.ListObjectsV2(ctx, in, c.listOptions...)
			return err
		})
		if err != nil {
			return err
		}
		if len(c.listOptions) > 0 && !fastDecoderRan(out.ResultMetadata) {
			c.slowListWarning.Do(func() {
				c.logger.Warn("S3 listings are decoded by the AWS SDK's slower XML decoder: Shelf's fast decoder could not be " +
					"spliced into this SDK version (its deserialize step was renamed); listings work but cost more CPU. " +
					"Please report this to Shelf's developers.")
			})
		}
		violation := func(err error, detail string) error {
			return storage.Classify(storage.ErrFatal, "list", "",
				fmt.Errorf("%w (%s; page %d of the listing of %q); the listing was stopped so nothing is missed silently", err, detail, page, q.prefix))
		}
		if err := decodeKeys(out); err != nil {
			return violation(err, "URL-encoded listing")
		}
		for _, o := range out.Contents {
			k := aws.ToString(o.Key)
			if !strings.HasPrefix(k, q.prefix) {
				return violation(ErrKeyOutsidePrefix, fmt.Sprintf("key %q", k))
			}
			if lastKey != "" && k <= lastKey {
				return violation(ErrKeysOutOfOrder, fmt.Sprintf("key %q after %q", k, lastKey))
			}
			lastKey = k
		}
		prefixes := make([]string, 0, len(out.CommonPrefixes))
		for _, cp := range out.CommonPrefixes {
			p := aws.ToString(cp.Prefix)
			if !strings.HasPrefix(p, q.prefix) {
				return violation(ErrKeyOutsidePrefix, fmt.Sprintf("common prefix %q", p))
			}
			if lastPrefix != "" && p <= lastPrefix {
				return violation(ErrRepeatedPrefix, fmt.Sprintf("common prefix %q after %q", p, lastPrefix))
			}
			lastPrefix = p
			prefixes = append(prefixes, p)
		}
		if err := fn(out.Contents, prefixes); err != nil {
			return err
		}
		if !aws.ToBool(out.IsTruncated) || q.onePage {
			return nil
		}
		next := aws.ToString(out.NextContinuationToken)
		if next == "" {
			return violation(ErrTruncatedWithoutToken, "IsTruncated=true, NextContinuationToken empty")
		}
		if token != nil && next == *token {
			return violation(ErrRepeatedToken, "token "+next)
		}
		token = aws.String(next)
	}
}

// ErrBadEncoding: a URL-encoded listing held a key that does not decode.
var ErrBadEncoding = errors.New("the server sent a URL-encoded key that does not decode")

// decodeKeys decodes keys and common prefixes in place when the answer
// says they are URL-encoded ("+" is a space, as AWS encodes).
func decodeKeys(out *awss3.ListObjectsV2Output) error {
	if out.EncodingType != types.EncodingTypeUrl {
		return nil
	}
	dec := func(s *string) error {
		if s == nil {
			return nil
		}
		v, err := url.QueryUnescape(*s)
		if err != nil {
			return fmt.Errorf("%w: %q", ErrBadEncoding, *s)
		}
		*s = v
		return nil
	}
	for i := range out.Contents {
		if err := dec(out.Contents[i].Key); err != nil {
			return err
		}
	}
	for i := range out.CommonPrefixes {
		if err := dec(out.CommonPrefixes[i].Prefix); err != nil {
			return err
		}
	}
	return nil
}

// firstKeys returns up to n objects under prefix (one LIST call).
func (c *Conn) firstKeys(ctx context.Context, prefix string, n int32) ([]types.Object, error) {
	var objs []types.Object
	err := c.listPages(ctx, listQuery{prefix: prefix, maxKeys: n, onePage: true}, func(o []types.Object, _ []string) error {
		objs = o
		return nil
	})
	return objs, err
}
