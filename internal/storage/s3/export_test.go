package s3

import "context"

// ListDelimitedForTest runs the top-level delimited listing the parallel
// scan starts with.
func ListDelimitedForTest(ctx context.Context, c *Conn) error {
	_, err := c.listTopLevel(ctx)
	return err
}
