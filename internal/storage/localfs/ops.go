package localfs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/shelf-dam/shelf/internal/storage"
)

// lookup returns the file info of a visible entry: like Scan, a symbolic
// link is visible only when it stays inside the root and leads to a file.
func (c *Conn) lookup(root *os.Root, op, p string) (fs.FileInfo, error) {
	fi, err := root.Lstat(p)
	if err != nil {
		return nil, classify(op, p, err)
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		if !fi.IsDir() && !fi.Mode().IsRegular() {
			return nil, storage.Classify(storage.ErrNotFound, op, p, errors.New("not a regular file or folder"))
		}
		return fi, nil
	}
	target, err := root.Stat(p)
	if err != nil || !target.Mode().IsRegular() {
		return nil, storage.Classify(storage.ErrNotFound, op, p,
			errors.New("a symbolic link that leads outside the folder, to a folder, or nowhere is not followed"))
	}
	return target, nil
}

// Stat returns the entry at a root-relative path.
func (c *Conn) Stat(ctx context.Context, p string) (storage.Entry, error) {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return storage.Entry{}, err
	}
	if err := checkCtx(ctx); err != nil {
		return storage.Entry{}, err
	}
	root, err := c.openRoot("stat")
	if err != nil {
		return storage.Entry{}, err
	}
	defer root.Close()
	fi, err := c.lookup(root, "stat", p)
	if err != nil {
		return storage.Entry{}, err
	}
	return entryFor(p, fi), nil
}

// Open reads the file at a root-relative path.
func (c *Conn) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return nil, err
	}
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	root, err := c.openRoot("open")
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fi, err := c.lookup(root, "open", p)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, storage.Classify(storage.ErrInvalidPath, "open", p, errors.New("this is a folder; only files can be read"))
	}
	f, err := root.Open(p)
	if err != nil {
		return nil, classify("open", p, err)
	}
	return f, nil
}

// Hash returns the hex SHA-256 of the file's content.
func (c *Conn) Hash(ctx context.Context, p string) (string, error) {
	rc, err := c.Open(ctx, p)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, rc}); err != nil {
		return "", classify("hash", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Put writes a file atomically: the content goes to a temporary file in the
// destination folder, which is then renamed over the destination, so a
// reader never sees a half-written file. Missing parent folders are
// created; an existing file is replaced; an existing folder is refused
// with ErrExists. When size is not -1 a body of another length is refused.
func (c *Conn) Put(ctx context.Context, p string, r io.Reader, size int64, mimeType string) (storage.Entry, error) {
	return c.write(ctx, "put", p, r, size, false)
}

// Create writes a new file as Put does, but the temporary file takes the
// destination's name with a rename that refuses to replace anything (see
// renameNoReplace): whatever is at the path, or gets there while the
// content is written, stays, and Create returns ErrExists.
func (c *Conn) Create(ctx context.Context, p string, r io.Reader, size int64, mimeType string) (storage.Entry, error) {
	return c.write(ctx, "create", p, r, size, true)
}

// write is Put (create false) or Create.
func (c *Conn) write(ctx context.Context, op, p string, r io.Reader, size int64, create bool) (storage.Entry, error) {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return storage.Entry{}, err
	}
	root, err := c.openRoot(op)
	if err != nil {
		return storage.Entry{}, err
	}
	defer root.Close()
	if fi, err := root.Lstat(p); err == nil && (create || fi.IsDir()) {
		what := "a file of this name exists"
		if fi.IsDir() {
			what = "a folder of this name exists"
		}
		return storage.Entry{}, storage.Classify(storage.ErrExists, op, p, errors.New(what))
	}
	if dir := storage.Dir(p); dir != "" {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return storage.Entry{}, classify(op, p, fmt.Errorf("creating the parent folder: %w", err))
		}
	}
	tmp := storage.Join(storage.Dir(p), tempPrefix+randomSuffix())
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return storage.Entry{}, classify(op, p, err)
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			root.Remove(tmp)
		}
	}()
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		return storage.Entry{}, classify(op, p, fmt.Errorf("writing the content: %w", err))
	}
	if size >= 0 && n != size {
		return storage.Entry{}, storage.Classify(storage.ErrInvalidPath, op, p,
			fmt.Errorf("the body had %d bytes but %d were announced; nothing was written", n, size))
	}
	if err := f.Sync(); err != nil {
		return storage.Entry{}, classify(op, p, err)
	}
	if err := f.Close(); err != nil {
		return storage.Entry{}, classify(op, p, err)
	}
	done = true
	if create {
		err = renameNoReplace(root, tmp, p)
	} else {
		err = root.Rename(tmp, p)
	}
	if err != nil {
		root.Remove(tmp)
		if create && errors.Is(err, fs.ErrExist) {
			return storage.Entry{}, storage.Classify(storage.ErrExists, op, p, errors.New("another file of this name was written meanwhile; nothing was replaced"))
		}
		return storage.Entry{}, classify(op, p, err)
	}
	fi, err := root.Lstat(p)
	if err != nil {
		return storage.Entry{}, classify(op, p, err)
	}
	return entryFor(p, fi), nil
}

// Move renames or moves a file or folder (with its content). The
// destination must not exist (ErrExists), and the rename refuses to replace
// anything that gets there meanwhile (see renameNoReplace); its missing
// parents are created. A folder cannot move into itself (ErrInvalidPath).
func (c *Conn) Move(ctx context.Context, from, to string) (storage.Entry, error) {
	from, err := storage.CleanPath(from, false)
	if err != nil {
		return storage.Entry{}, err
	}
	to, err = storage.CleanPath(to, false)
	if err != nil {
		return storage.Entry{}, err
	}
	if err := checkCtx(ctx); err != nil {
		return storage.Entry{}, err
	}
	if to == from || strings.HasPrefix(to, from+"/") {
		return storage.Entry{}, storage.Classify(storage.ErrInvalidPath, "move", to,
			fmt.Errorf("cannot move %q into itself", from))
	}
	root, err := c.openRoot("move")
	if err != nil {
		return storage.Entry{}, err
	}
	defer root.Close()
	if _, err := c.lookup(root, "move", from); err != nil {
		return storage.Entry{}, err
	}
	if _, err := root.Lstat(to); err == nil {
		return storage.Entry{}, storage.Classify(storage.ErrExists, "move", to, errors.New("the destination exists"))
	}
	if dir := storage.Dir(to); dir != "" {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return storage.Entry{}, classify("move", to, fmt.Errorf("creating the destination folder: %w", err))
		}
	}
	if err := renameNoReplace(root, from, to); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return storage.Entry{}, storage.Classify(storage.ErrExists, "move", to, errors.New("the destination was written meanwhile; nothing was replaced"))
		}
		return storage.Entry{}, classify("move", from, err)
	}
	fi, err := c.lookup(root, "move", to)
	if err != nil {
		return storage.Entry{}, err
	}
	return entryFor(to, fi), nil
}

// Delete removes a file, or a folder with everything under it. A symbolic
// link is removed itself; its target is never touched.
func (c *Conn) Delete(ctx context.Context, p string) error {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return err
	}
	if err := checkCtx(ctx); err != nil {
		return err
	}
	root, err := c.openRoot("delete")
	if err != nil {
		return err
	}
	defer root.Close()
	if _, err := root.Lstat(p); err != nil {
		return classify("delete", p, err)
	}
	if err := root.RemoveAll(p); err != nil {
		return classify("delete", p, err)
	}
	return nil
}

// MkDir creates a folder and its missing parents. An existing folder is
// fine; an existing file of that name is ErrExists.
func (c *Conn) MkDir(ctx context.Context, p string) (storage.Entry, error) {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return storage.Entry{}, err
	}
	if err := checkCtx(ctx); err != nil {
		return storage.Entry{}, err
	}
	root, err := c.openRoot("mkdir")
	if err != nil {
		return storage.Entry{}, err
	}
	defer root.Close()
	if err := root.MkdirAll(p, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) || errors.Is(err, syscall.ENOTDIR) {
			return storage.Entry{}, storage.Classify(storage.ErrExists, "mkdir", p, errors.New("a file of this name is in the way"))
		}
		return storage.Entry{}, classify("mkdir", p, err)
	}
	fi, err := root.Lstat(p)
	if err != nil {
		return storage.Entry{}, classify("mkdir", p, err)
	}
	return entryFor(p, fi), nil
}

// ctxReader stops a copy when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
