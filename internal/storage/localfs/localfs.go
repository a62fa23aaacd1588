// Package localfs is the storage connector for a folder on the server's own
// disk. The connected folder must lie inside one of the roots the operator
// allows (SHELF_LOCAL_ROOTS). Every call goes through an os.Root opened on
// the connected folder, so no path, and no symbolic link, can reach outside
// it: links that lead outside are neither listed nor followed.
package localfs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/shelf-dam/shelf/internal/storage"
)

// Conn is a connector confined to one local folder. It is safe for
// concurrent use.
type Conn struct {
	dir    string // absolute, symlink-free path of the connected folder
	logger *slog.Logger
}

// Compile-time checks of the capabilities Conn offers.
var (
	_ storage.Connector     = (*Conn)(nil)
	_ storage.SortedScanner = (*Conn)(nil)
	_ storage.Hasher        = (*Conn)(nil)
)

// Option adjusts a Conn made by New.
type Option func(*Conn)

// WithLogger sets the logger for skipped entries and similar notices
// (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *Conn) {
		if l != nil {
			c.logger = l
		}
	}
}

// New returns a connector for the folder root. root must be an existing
// folder that, after resolving symbolic links, is one of allowedRoots or lies
// inside one of them; allowedRoots are the operator's SHELF_LOCAL_ROOTS.
func New(root string, allowedRoots []string, opts ...Option) (*Conn, error) {
	if len(allowedRoots) == 0 {
		return nil, storage.Classify(storage.ErrPermission, "connect", root,
			errors.New("no local folders are allowed on this server; the operator must list allowed folders in SHELF_LOCAL_ROOTS"))
	}
	if root == "" || !filepath.IsAbs(root) {
		return nil, storage.Classify(storage.ErrInvalidPath, "connect", root,
			errors.New("give the folder as an absolute path, such as /srv/media/photos"))
	}
	dir, err := resolveDir(root)
	if err != nil {
		return nil, err
	}
	allowed := false
	for _, a := range allowedRoots {
		ar, err := filepath.EvalSymlinks(filepath.Clean(a))
		if err != nil {
			continue // an allowed root that does not exist allows nothing
		}
		if within(dir, ar) {
			allowed = true
			break
		}
	}
	if !allowed {
		return nil, storage.Classify(storage.ErrPermission, "connect", root,
			fmt.Errorf("the folder is not inside a folder the operator allows (SHELF_LOCAL_ROOTS: %s); pick a folder under one of them",
				strings.Join(allowedRoots, ", ")))
	}
	c := &Conn{dir: dir, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// resolveDir makes root absolute and symlink-free and checks that it is an
// existing folder.
func resolveDir(root string) (string, error) {
	dir, err := filepath.EvalSymlinks(filepath.Clean(root))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", storage.Classify(storage.ErrNotFound, "connect", root,
				errors.New("the folder does not exist; create it or fix the path"))
		}
		return "", classify("connect", root, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", classify("connect", root, err)
	}
	if !fi.IsDir() {
		return "", storage.Classify(storage.ErrInvalidPath, "connect", root,
			errors.New("the path is a file, not a folder"))
	}
	return dir, nil
}

// within reports whether dir equals parent or lies inside it.
func within(dir, parent string) bool {
	if dir == parent {
		return true
	}
	rel, err := filepath.Rel(parent, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// Kind reports storage.KindLocal.
func (c *Conn) Kind() storage.Kind { return storage.KindLocal }

// Dir returns the absolute, symlink-free path of the connected folder.
func (c *Conn) Dir() string { return c.dir }

// openRoot opens the connected folder as an os.Root for one call. Opening
// per call (instead of holding a descriptor) needs no Close on the
// connector and notices a folder that was removed and recreated.
func (c *Conn) openRoot(op string) (*os.Root, error) {
	r, err := os.OpenRoot(c.dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, storage.Classify(storage.ErrFatal, op, "",
				fmt.Errorf("the connected folder %s is gone; recreate it or reconnect storage", c.dir))
		}
		return nil, classify(op, "", err)
	}
	return r, nil
}

// checkCtx returns ctx's error, if any, for calls that otherwise ignore ctx.
func checkCtx(ctx context.Context) error { return ctx.Err() }
