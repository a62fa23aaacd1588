package s3

import (
	"context"
	"time"
)

// ListDelimitedForTest runs the top-level delimited listing the parallel
// scan starts with.
func ListDelimitedForTest(ctx context.Context, c *Conn) error {
	_, err := c.listTopLevel(ctx)
	return err
}

// SetCopyPartSizeForTest lowers the size above which Move copies an
// object in parts, so the multipart copy path runs on small files.
func SetCopyPartSizeForTest(c *Conn, n int64) { c.copyPartSize = n }

// SetRenewEveryForTest sets how often running multipart uploads are
// renewed with the tracker.
func SetRenewEveryForTest(c *Conn, d time.Duration) { c.renewEvery = d }
