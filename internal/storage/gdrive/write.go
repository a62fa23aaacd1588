package gdrive

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"

	"github.com/shelf-dam/shelf/internal/storage"
)

// errSizeMismatch marks an upload body whose length is not the announced
// size.
var errSizeMismatch = errors.New("the body length differs from the announced size")

// Put writes a file. An existing file at the path gets the new content as a
// new revision (it keeps its Drive ID); an existing folder is ErrExists;
// missing parent folders are created. Files up to ChunkSize go in one
// multipart request that is retried on transient errors; larger ones use a
// resumable upload (see uploadLarge). A body whose length differs from a
// size that is not -1 is refused and nothing is written.
func (c *Conn) Put(ctx context.Context, p string, r io.Reader, size int64, mime string) (storage.Entry, error) {
	return c.write(ctx, "put", p, r, size, mime, false)
}

// Create writes a new file as Put does, but never over anything. Drive lets
// one folder hold several files of one name and has no conditional create,
// so Create looks for the name in the folder before it reads the content
// and again right before the request that creates the file, and refuses
// with ErrExists when anything has it. The library claims the path in its
// catalog before it writes, which keeps Shelf's own writes apart; only a
// writer outside Shelf can slip in between the last look and the create.
func (c *Conn) Create(ctx context.Context, p string, r io.Reader, size int64, mime string) (storage.Entry, error) {
	return c.write(ctx, "create", p, r, size, mime, true)
}

// write is Put (create false) or Create.
func (c *Conn) write(ctx context.Context, op, p string, r io.Reader, size int64, mime string, create bool) (storage.Entry, error) {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return storage.Entry{}, err
	}
	root, err := c.rootFolder(ctx)
	if err != nil {
		return storage.Entry{}, err
	}
	folder, _, err := c.mkdirAll(ctx, root, op, storage.Dir(p))
	if err != nil {
		return storage.Entry{}, err
	}
	parentID := idOf(folder, root)
	name := storage.Base(p)
	dest := target{root: root, op: op, path: p, parentID: parentID, name: name, create: create}
	if create {
		if _, err := dest.free(ctx, c, nil); err != nil {
			return storage.Entry{}, err
		}
	} else if dest.existing, err = c.fileToReplace(ctx, root, p, parentID, name); err != nil {
		return storage.Entry{}, err
	}

	head, err := io.ReadAll(io.LimitReader(r, int64(c.cfg.ChunkSize)+1))
	if err != nil {
		return storage.Entry{}, storage.Classify(storage.ErrFatal, op, p, fmt.Errorf("reading the content to upload: %w", err))
	}
	var f *drive.File
	if len(head) <= c.cfg.ChunkSize {
		if size >= 0 && int64(len(head)) != size {
			return storage.Entry{}, storage.Classify(storage.ErrInvalidPath, op, p,
				fmt.Errorf("the body had %d bytes but %d were announced; nothing was written", len(head), size))
		}
		f, err = c.uploadSmall(ctx, &dest, head, mime)
	} else {
		f, err = c.uploadLarge(ctx, &dest, head, r, size, mime)
	}
	if err != nil {
		return storage.Entry{}, err
	}
	parentEntryID := parentID
	if parentID == root.id {
		parentEntryID = ""
	}
	return toEntry(f, parentEntryID, storage.Dir(p), name), nil
}

// target is where a write goes: the folder, the name, and the file it
// replaces (existing, Put only; "" makes a new file).
type target struct {
	root           *rootInfo
	op, path       string
	parentID, name string
	create         bool
	existing       string
}

// free looks for the name in the folder right before a create: nil when it
// is free; ErrExists when anything has it, unless it is a file with the
// content this write sends (md5 of it, nil when unknown) — the file an
// attempt whose answer was lost made, returned so the write need not
// repeat it.
func (t *target) free(ctx context.Context, c *Conn, md5sum []byte) (*drive.File, error) {
	matches, err := c.children(ctx, t.root, t.op, t.path, t.parentID, t.name, false)
	if err != nil || len(matches) == 0 {
		return nil, err
	}
	for _, m := range matches {
		if md5sum != nil && m.MimeType != folderMIME && m.Md5Checksum == hex.EncodeToString(md5sum) {
			return m, nil
		}
	}
	return nil, storage.Classify(storage.ErrExists, t.op, t.path, errors.New("an item of this name is in the folder"))
}

// beforeRetry prepares another attempt after one that failed and may have
// made the file anyway: Put then replaces that file instead of making a
// second one; Create looks again (the file it finds, if it has this
// content, is the write's own: done is then that file).
func (t *target) beforeRetry(ctx context.Context, c *Conn, md5sum []byte) (done *drive.File, err error) {
	if t.create {
		return t.free(ctx, c, md5sum)
	}
	if t.existing == "" {
		t.existing, err = c.fileToReplace(ctx, t.root, t.path, t.parentID, t.name)
	}
	return nil, err
}

// fileToReplace returns the file a Put overwrites ("" for a new file). A
// folder, Google-native document or shortcut of that name (and no plain
// file) is ErrExists: Put never turns one into a plain file.
func (c *Conn) fileToReplace(ctx context.Context, root *rootInfo, p, parentID, name string) (string, error) {
	matches, err := c.children(ctx, root, "put", p, parentID, name, false)
	if err != nil {
		return "", err
	}
	for _, m := range matches {
		if m.MimeType != folderMIME && !isNative(m.MimeType) {
			return m.Id, nil
		}
	}
	switch {
	case len(matches) == 0:
		return "", nil
	case matches[0].MimeType == folderMIME:
		return "", storage.Classify(storage.ErrExists, "put", p, errors.New("a folder of this name exists"))
	}
	return "", storage.Classify(storage.ErrExists, "put", p,
		fmt.Errorf("a Google-native document or shortcut of this name exists (%s); rename or remove it in Drive", matches[0].MimeType))
}

// uploadSmall uploads an in-memory body through the pacer. A create
// retried after a transient failure first looks again (see
// target.beforeRetry), so the retry makes no duplicate; Create also looks
// right before its first attempt.
func (c *Conn) uploadSmall(ctx context.Context, t *target, data []byte, mime string) (*drive.File, error) {
	sum := md5.Sum(data)
	var f *drive.File
	attempt := 0
	err := c.do(ctx, t.op, t.path, func(ctx context.Context) error {
		attempt++
		var err error
		switch {
		case attempt > 1:
			f, err = t.beforeRetry(ctx, c, sum[:])
		case t.create:
			_, err = t.free(ctx, c, nil)
		}
		if err != nil || f != nil {
			return err
		}
		f, err = c.upload(ctx, t.parentID, t.name, t.existing, bytes.NewReader(data), mime)
		return err
	})
	return f, err
}

// uploadLarge uploads a body larger than one chunk (head is its start,
// already read from r) in a resumable session, whose chunks the Drive
// client retries itself. When r can seek back, a failed session is started
// again through the pacer (a retried create first looks for a file the
// failed attempt made); otherwise it is tried once. Create looks for the
// name right before it starts the session.
func (c *Conn) uploadLarge(ctx context.Context, t *target, head []byte, r io.Reader, size int64, mime string) (*drive.File, error) {
	seeker, rewindable := r.(io.Seeker)
	var start int64
	if rewindable {
		cur, err := seeker.Seek(0, io.SeekCurrent)
		rewindable = err == nil && cur >= int64(len(head))
		start = cur - int64(len(head))
	}
	var (
		f    *drive.File
		sent []byte // the md5 of the whole body, once an attempt has read it all
	)
	attempt := 0
	try := func(ctx context.Context) error {
		attempt++
		var body io.Reader = io.MultiReader(bytes.NewReader(head), r)
		switch {
		case attempt > 1:
			if _, err := seeker.Seek(start, io.SeekStart); err != nil {
				return storage.Classify(storage.ErrFatal, t.op, t.path, fmt.Errorf("rewinding the content for a retry: %w", err))
			}
			body = r
			done, err := t.beforeRetry(ctx, c, sent)
			if err != nil || done != nil {
				f = done
				return err
			}
		case t.create:
			if _, err := t.free(ctx, c, nil); err != nil {
				return err
			}
		}
		if size >= 0 {
			body = &sizeChecker{r: body, want: size}
		}
		hash := md5.New()
		body = io.TeeReader(body, hash)
		var err error
		f, err = c.upload(ctx, t.parentID, t.name, t.existing, &eofNotifier{r: body, eof: func() { sent = hash.Sum(nil) }}, mime)
		if errors.Is(err, errSizeMismatch) {
			return storage.Classify(storage.ErrInvalidPath, t.op, t.path,
				fmt.Errorf("the body length differs from the announced %d bytes; nothing was written", size))
		}
		return err
	}
	if rewindable {
		return f, c.do(ctx, t.op, t.path, try)
	}
	return f, classify(t.op, t.path, try(ctx))
}

// eofNotifier calls eof once its reader has ended cleanly.
type eofNotifier struct {
	r   io.Reader
	eof func()
}

func (e *eofNotifier) Read(b []byte) (int, error) {
	n, err := e.r.Read(b)
	if err == io.EOF && e.eof != nil {
		e.eof()
		e.eof = nil
	}
	return n, err
}

// upload creates a file in parentID, or replaces existing's content.
func (c *Conn) upload(ctx context.Context, parentID, name, existing string, body io.Reader, mime string) (*drive.File, error) {
	opts := []googleapi.MediaOption{googleapi.ChunkSize(c.cfg.ChunkSize)}
	if mime != "" {
		opts = append(opts, googleapi.ContentType(mime))
	}
	if existing != "" {
		return c.svc.Files.Update(existing, &drive.File{}).Media(body, opts...).
			SupportsAllDrives(true).Fields(fileFields).Context(ctx).Do()
	}
	return c.svc.Files.Create(&drive.File{Name: name, Parents: []string{parentID}}).Media(body, opts...).
		SupportsAllDrives(true).Fields(fileFields).Context(ctx).Do()
}

// sizeChecker fails a read stream whose length is not want.
type sizeChecker struct {
	r    io.Reader
	want int64
	n    int64
}

func (s *sizeChecker) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	s.n += int64(n)
	if s.n > s.want || (errors.Is(err, io.EOF) && s.n != s.want) {
		return n, errSizeMismatch
	}
	return n, err
}

// MkDir creates a folder and its missing parents; an existing folder is
// returned as is, a file in the way is ErrExists.
func (c *Conn) MkDir(ctx context.Context, p string) (storage.Entry, error) {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return storage.Entry{}, err
	}
	root, err := c.rootFolder(ctx)
	if err != nil {
		return storage.Entry{}, err
	}
	f, parentID, err := c.mkdirAll(ctx, root, "mkdir", p)
	if err != nil {
		return storage.Entry{}, err
	}
	return entryAt(resolved{root: root, file: f, parent: parentID}, p)
}

// mkdirAll makes sure the folders of path dir exist and returns the folder
// at dir (nil for the root itself) and the ID of its parent.
func (c *Conn) mkdirAll(ctx context.Context, root *rootInfo, op, dir string) (*drive.File, string, error) {
	if dir == "" {
		return nil, "", nil
	}
	parent, cur := "", root.id
	var last *drive.File
	for _, el := range strings.Split(dir, "/") {
		f, err := c.folderChild(ctx, root, op, dir, cur, el)
		if err != nil {
			return nil, "", err
		}
		if f == nil {
			f, err = c.createFolder(ctx, root, op, dir, cur, el)
			if err != nil {
				return nil, "", err
			}
		}
		c.rememberFolder(f.Id, cur, el)
		last, parent, cur = f, cur, f.Id
	}
	return last, parent, nil
}

// idOf returns a folder's ID, the root's for nil.
func idOf(folder *drive.File, root *rootInfo) string {
	if folder == nil {
		return root.id
	}
	return folder.Id
}

// folderChild returns the folder named el in parentID, nil if there is
// none, or ErrExists when only files have that name.
func (c *Conn) folderChild(ctx context.Context, root *rootInfo, op, p, parentID, el string) (*drive.File, error) {
	matches, err := c.children(ctx, root, op, p, parentID, el, true)
	if err != nil || len(matches) == 0 {
		return nil, err
	}
	if matches[0].MimeType != folderMIME {
		return nil, storage.Classify(storage.ErrExists, op, p, fmt.Errorf("a file named %q is in the way of a folder", el))
	}
	return matches[0], nil
}

// createFolder creates a folder through the pacer; a retry first checks
// whether the failed attempt made it after all.
func (c *Conn) createFolder(ctx context.Context, root *rootInfo, op, p, parentID, name string) (*drive.File, error) {
	var f *drive.File
	attempt := 0
	err := c.do(ctx, op, p, func(ctx context.Context) error {
		attempt++
		if attempt > 1 {
			got, err := c.folderChild(ctx, root, op, p, parentID, name)
			if err != nil || got != nil {
				f = got
				return err
			}
		}
		var err error
		f, err = c.svc.Files.Create(&drive.File{Name: name, MimeType: folderMIME, Parents: []string{parentID}}).
			SupportsAllDrives(true).Fields(fileFields).Context(ctx).Do()
		return err
	})
	return f, err
}

// Move renames or moves a file or folder. The destination must not exist
// (ErrExists); its missing parent folders are created; a folder cannot move
// into itself (ErrInvalidPath). The item keeps its Drive ID.
func (c *Conn) Move(ctx context.Context, from, to string) (storage.Entry, error) {
	from, err := storage.CleanPath(from, false)
	if err != nil {
		return storage.Entry{}, err
	}
	to, err = storage.CleanPath(to, false)
	if err != nil {
		return storage.Entry{}, err
	}
	if to == from || strings.HasPrefix(to, from+"/") {
		return storage.Entry{}, storage.Classify(storage.ErrInvalidPath, "move", to, fmt.Errorf("cannot move %q into itself", from))
	}
	src, err := c.resolve(ctx, "move", from)
	if err != nil {
		return storage.Entry{}, err
	}
	folder, _, err := c.mkdirAll(ctx, src.root, "move", storage.Dir(to))
	if err != nil {
		return storage.Entry{}, err
	}
	destParent := idOf(folder, src.root)
	name := storage.Base(to)
	taken, err := c.children(ctx, src.root, "move", to, destParent, name, false)
	if err != nil {
		return storage.Entry{}, err
	}
	if len(taken) > 0 {
		return storage.Entry{}, storage.Classify(storage.ErrExists, "move", to, errors.New("the destination exists"))
	}
	update := &drive.File{}
	if src.file.Name != name {
		update.Name = name
	}
	var f *drive.File
	err = c.do(ctx, "move", from, func(ctx context.Context) error {
		call := c.svc.Files.Update(src.file.Id, update).SupportsAllDrives(true).Fields(fileFields).Context(ctx)
		if destParent != src.parent {
			call = call.AddParents(destParent).RemoveParents(src.parent)
		}
		var err error
		f, err = call.Do()
		return err
	})
	if err != nil {
		return storage.Entry{}, err
	}
	if f.MimeType == folderMIME {
		c.rememberFolder(f.Id, destParent, name)
	}
	return entryAt(resolved{root: src.root, file: f, parent: destParent}, to)
}

// Delete sends a file or folder (with its content) to Drive's trash.
func (c *Conn) Delete(ctx context.Context, p string) error {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return err
	}
	res, err := c.resolve(ctx, "delete", p)
	if err != nil {
		return err
	}
	err = c.do(ctx, "delete", p, func(ctx context.Context) error {
		_, err := c.svc.Files.Update(res.file.Id, &drive.File{Trashed: true}).
			SupportsAllDrives(true).Fields("id").Context(ctx).Do()
		return err
	})
	if err != nil {
		return err
	}
	c.forgetFolder(res.file.Id)
	return nil
}
