package localfs

import (
	"context"
	"io/fs"
	"log/slog"
	"mime"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/shelf-dam/shelf/internal/storage"
)

// tempPrefix starts the names of Put's temporary files; scans skip them.
const tempPrefix = ".shelf-tmp-"

// Scan streams every file and folder under the root, parents before
// children. It is the same walk as ScanSorted.
func (c *Conn) Scan(ctx context.Context, emit func(storage.Entry) error) error {
	return c.ScanSorted(ctx, emit)
}

// ScanSorted streams every file and folder under the root in strictly
// increasing byte order of storage.SortKey. It walks depth-first and sorts
// each folder's children by their sort key, which yields the global order
// because every descendant of folder "a" shares the key prefix "a/".
//
// Skipped, with a log line: names Shelf cannot address (control
// characters, backslashes, invalid UTF-8), symbolic links that lead
// outside the root or to a folder (never followed, so no loops), dangling
// links, devices, sockets and pipes, and Put's temporary files.
func (c *Conn) ScanSorted(ctx context.Context, emit func(storage.Entry) error) error {
	root, err := c.openRoot("scan")
	if err != nil {
		return err
	}
	defer root.Close()
	return c.walk(ctx, root, "", emit)
}

// ScanSortedUnder streams the subtree of the folder at dir in ScanSorted's
// order, with ScanSorted's rules.
func (c *Conn) ScanSortedUnder(ctx context.Context, dir string, emit func(storage.Entry) error) error {
	dir, err := storage.CleanPath(dir, false)
	if err != nil {
		return err
	}
	root, err := c.openRoot("scan")
	if err != nil {
		return err
	}
	defer root.Close()
	return c.walk(ctx, root, dir, emit)
}

func (c *Conn) walk(ctx context.Context, root *os.Root, dir string, emit func(storage.Entry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	children, err := c.readDir(root, dir)
	if err != nil {
		return err
	}
	for _, e := range children {
		if err := emit(e); err != nil {
			return err
		}
		if e.IsDir {
			if err := c.walk(ctx, root, e.Path, emit); err != nil {
				return err
			}
		}
	}
	return nil
}

// readDir lists the visible children of dir, sorted by sort key.
func (c *Conn) readDir(root *os.Root, dir string) ([]storage.Entry, error) {
	name := dir
	if name == "" {
		name = "."
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, classify("scan", dir, err)
	}
	des, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return nil, classify("scan", dir, err)
	}
	out := make([]storage.Entry, 0, len(des))
	for _, de := range des {
		p := storage.Join(dir, de.Name())
		if strings.HasPrefix(de.Name(), tempPrefix) {
			continue
		}
		if err := storage.CheckName(de.Name()); err != nil {
			c.logger.Warn("local scan: skipping a name Shelf cannot use",
				slog.String("path", p), slog.String("reason", err.Error()))
			continue
		}
		fi, ok := c.visible(root, p, de)
		if !ok {
			continue
		}
		out = append(out, entryFor(p, fi))
	}
	slices.SortFunc(out, func(a, b storage.Entry) int {
		return strings.Compare(storage.SortKey(a.Name, a.IsDir), storage.SortKey(b.Name, b.IsDir))
	})
	return out, nil
}

// visible applies the listing rules to one directory entry and returns the
// file info to report.
func (c *Conn) visible(root *os.Root, p string, de fs.DirEntry) (fs.FileInfo, bool) {
	mode := de.Type()
	switch {
	case mode.IsDir():
		fi, err := de.Info()
		return fi, err == nil
	case mode.IsRegular():
		fi, err := de.Info()
		return fi, err == nil
	case mode&fs.ModeSymlink != 0:
		fi, err := root.Stat(p) // refuses links that leave the root
		if err != nil {
			c.logger.Info("local scan: skipping a symbolic link that leads outside the folder or nowhere",
				slog.String("path", p), slog.String("reason", err.Error()))
			return nil, false
		}
		if !fi.Mode().IsRegular() {
			c.logger.Info("local scan: skipping a symbolic link to a folder (not followed)", slog.String("path", p))
			return nil, false
		}
		return fi, true
	default:
		return nil, false // devices, sockets, pipes
	}
}

// entryFor builds the Entry for a root-relative path.
func entryFor(p string, fi fs.FileInfo) storage.Entry {
	e := storage.Entry{
		ID:       p,
		ParentID: storage.Dir(p),
		Path:     p,
		Name:     storage.Base(p),
		IsDir:    fi.IsDir(),
		ModTime:  fi.ModTime().UTC(),
	}
	if e.IsDir {
		return e
	}
	e.Size = fi.Size()
	e.MIME = mimeFor(e.Name)
	return e
}

// mimeFor guesses a media type from a file name's extension ("" when
// unknown), without parameters such as charset.
func mimeFor(name string) string {
	t := mime.TypeByExtension(strings.ToLower(path.Ext(name)))
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	return t
}
