//go:build !linux

package localfs

import "os"

// renameAt2 exists on Linux only.
func renameAt2(*os.Root, string, string) error { return errNoRenameAt2 }
