//go:build !linux

package fswatch

import (
	"context"
	"fmt"
)

// Supported reports whether root can be watched; only Linux (inotify) is
// supported.
func Supported(root string) error {
	return fmt.Errorf("%w: live watching of %s needs Linux (inotify)", ErrUnsupported, root)
}

// Watch is unavailable off Linux: it returns the Supported error.
func Watch(ctx context.Context, root string, opts Options, send func(Batch)) error {
	return Supported(root)
}
