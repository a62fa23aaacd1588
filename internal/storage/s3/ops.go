package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/shelf-dam/shelf/internal/storage"
)

// copyConcurrency is how many objects a folder move copies at once.
const copyConcurrency = 8

// Stat returns the entry at a root-relative path: a file if the key
// exists, else a folder if any key lies under "path/". It uses LIST (not
// HEAD) so the entry carries exactly the ETag and time a scan reports.
func (c *Conn) Stat(ctx context.Context, p string) (storage.Entry, error) {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return storage.Entry{}, err
	}
	return c.stat(ctx, "stat", p)
}

func (c *Conn) stat(ctx context.Context, op, p string) (storage.Entry, error) {
	key := c.keyOf(p)
	// The first key with prefix "key" is "key" itself when it exists; the
	// second tells, in the common case, whether "key/" has keys too.
	objs, err := c.firstKeys(ctx, key, 2)
	if err != nil {
		return storage.Entry{}, err
	}
	if len(objs) > 0 && aws.ToString(objs[0].Key) == key {
		alsoFolder := false
		if len(objs) > 1 {
			next := aws.ToString(objs[1].Key)
			switch {
			case strings.HasPrefix(next, key+"/"):
				alsoFolder = true
			case next < key+"/":
				// Keys such as "key!x" sort between "key" and "key/".
				under, err := c.firstKeys(ctx, key+"/", 1)
				if err != nil {
					return storage.Entry{}, err
				}
				alsoFolder = len(under) > 0
			}
		}
		if !alsoFolder {
			return fileEntry(p, objs[0]), nil
		}
		// Both a file and a folder: scans report the folder only.
		objs = objs[1:]
	}
	if len(objs) > 0 {
		k := aws.ToString(objs[0].Key)
		switch {
		case k == key+"/":
			return folderEntry(p, &objs[0]), nil
		case strings.HasPrefix(k, key+"/"):
			return folderEntry(p, nil), nil
		}
	}
	objs, err = c.firstKeys(ctx, key+"/", 1)
	if err != nil {
		return storage.Entry{}, err
	}
	if len(objs) == 0 {
		return storage.Entry{}, storage.Classify(storage.ErrNotFound, op, p, nil)
	}
	if aws.ToString(objs[0].Key) == key+"/" {
		return folderEntry(p, &objs[0]), nil
	}
	return folderEntry(p, nil), nil
}

// Open reads the object at a root-relative path.
func (c *Conn) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return nil, err
	}
	var out *awss3.GetObjectOutput
	err = c.call(ctx, "open", p, func(ctx context.Context) error {
		var err error
		out, err = c.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(c.keyOf(p))})
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		if e, serr := c.stat(ctx, "open", p); serr == nil && e.IsDir {
			return nil, storage.Classify(storage.ErrInvalidPath, "open", p, errors.New("this is a folder; only files can be read"))
		}
	}
	if err != nil {
		return nil, err
	}
	return out.Body, nil
}

// Put writes an object (multipart above the part size; the body need not
// be seekable) and returns its entry as a scan would report it. An
// existing file is replaced; an existing folder is refused with ErrExists.
func (c *Conn) Put(ctx context.Context, p string, r io.Reader, size int64, mimeType string) (storage.Entry, error) {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return storage.Entry{}, err
	}
	key := c.keyOf(p)
	under, err := c.firstKeys(ctx, key+"/", 1)
	if err != nil {
		return storage.Entry{}, err
	}
	if len(under) > 0 {
		return storage.Entry{}, storage.Classify(storage.ErrExists, "put", p, errors.New("a folder of this name exists"))
	}
	if mimeType == "" {
		mimeType = mimeFor(storage.Base(p))
	}
	if err := c.upload(ctx, p, key, r, size, mimeType, mayReplace); err != nil {
		return storage.Entry{}, err
	}
	// Read the entry back from a listing: multipart ETags differ between
	// servers (and in gofakes3 between Complete and LIST), and only the
	// listing's values match what later scans report.
	return c.stat(ctx, "put", p)
}

// Create writes a new object as Put does, conditionally (If-None-Match: *
// on the PutObject or the CompleteMultipartUpload): an object that is at
// the key by the time S3 would store the new one makes S3 refuse it, and
// Create returns ErrExists with nothing replaced. A file or folder already
// there is ErrExists before anything is sent.
func (c *Conn) Create(ctx context.Context, p string, r io.Reader, size int64, mimeType string) (storage.Entry, error) {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return storage.Entry{}, err
	}
	if e, err := c.stat(ctx, "create", p); err == nil {
		what := "a file of this name exists"
		if e.IsDir {
			what = "a folder of this name exists"
		}
		return storage.Entry{}, storage.Classify(storage.ErrExists, "create", p, errors.New(what))
	} else if !errors.Is(err, storage.ErrNotFound) {
		return storage.Entry{}, err
	}
	if mimeType == "" {
		mimeType = mimeFor(storage.Base(p))
	}
	if err := c.upload(ctx, p, c.keyOf(p), r, size, mimeType, ifAbsent); err != nil {
		return storage.Entry{}, err
	}
	return c.stat(ctx, "create", p)
}

// MkDir creates a folder as a folder-marker object ("path/"). An existing
// folder is fine; an existing file of that name is ErrExists.
func (c *Conn) MkDir(ctx context.Context, p string) (storage.Entry, error) {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return storage.Entry{}, err
	}
	e, err := c.stat(ctx, "mkdir", p)
	switch {
	case err == nil && e.IsDir:
		return e, nil
	case err == nil:
		return storage.Entry{}, storage.Classify(storage.ErrExists, "mkdir", p, errors.New("a file of this name exists"))
	case !errors.Is(err, storage.ErrNotFound):
		return storage.Entry{}, err
	}
	if err := c.putSmall(ctx, "mkdir", p, c.keyOf(p)+"/", nil, "", mayReplace); err != nil {
		return storage.Entry{}, err
	}
	return c.stat(ctx, "mkdir", p)
}

// Delete removes a file, or a folder with every key under it.
func (c *Conn) Delete(ctx context.Context, p string) error {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return err
	}
	e, err := c.stat(ctx, "delete", p)
	if err != nil {
		return err
	}
	key := c.keyOf(p)
	if !e.IsDir {
		err = c.deleteKeys(ctx, p, []string{key})
	} else {
		err = c.listPages(ctx, listQuery{prefix: key + "/"}, func(objs []types.Object, _ []string) error {
			keys := make([]string, 0, len(objs))
			for _, o := range objs {
				keys = append(keys, aws.ToString(o.Key))
			}
			return c.deleteKeys(ctx, p, keys)
		})
	}
	if err != nil {
		return err
	}
	return c.keepParent(ctx, "delete", p)
}

// keepParent keeps the folder that held p after p was deleted or moved
// away. An S3 folder without a marker exists only through the keys under
// it, so removing its last key would make it vanish, unlike a folder on a
// disk or on Drive; a marker is written in that case.
func (c *Conn) keepParent(ctx context.Context, op, p string) error {
	parent := storage.Dir(p)
	if parent == "" {
		return nil
	}
	objs, err := c.firstKeys(ctx, c.keyOf(parent)+"/", 1)
	if err != nil || len(objs) > 0 {
		return err
	}
	return c.putSmall(ctx, op, parent, c.keyOf(parent)+"/", nil, "", mayReplace)
}

// Move renames or moves a file or folder. S3 has no rename, so each
// object is copied to its new key and then deleted; a folder moves page by
// page (copy 1000 keys, delete them, list on). The destination must not
// exist (ErrExists), and a folder cannot move into itself. The copies are
// conditional (If-None-Match: *), so on servers that honour that on copies
// an object written at the destination meanwhile is never replaced; the
// others (versitygw) replace it, and the library's claim on the path in its
// catalog is what keeps Shelf's own writes apart there.
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
	src, err := c.stat(ctx, "move", from)
	if err != nil {
		return storage.Entry{}, err
	}
	if _, err := c.stat(ctx, "move", to); err == nil {
		return storage.Entry{}, storage.Classify(storage.ErrExists, "move", to, errors.New("the destination exists"))
	} else if !errors.Is(err, storage.ErrNotFound) {
		return storage.Entry{}, err
	}
	if !src.IsDir {
		if err := c.copyObject(ctx, "move", from, c.keyOf(from), c.keyOf(to), src.Size, ifAbsent); err != nil {
			return storage.Entry{}, err
		}
		if err := c.deleteKeys(ctx, from, []string{c.keyOf(from)}); err != nil {
			return storage.Entry{}, err
		}
		if err := c.keepParent(ctx, "move", from); err != nil {
			return storage.Entry{}, err
		}
		return c.stat(ctx, "move", to)
	}
	fromKey, toKey := c.keyOf(from)+"/", c.keyOf(to)+"/"
	err = c.listPages(ctx, listQuery{prefix: fromKey}, func(objs []types.Object, _ []string) error {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(copyConcurrency)
		keys := make([]string, 0, len(objs))
		for _, o := range objs {
			k := aws.ToString(o.Key)
			dst := toKey + strings.TrimPrefix(k, fromKey)
			keys = append(keys, k)
			g.Go(func() error {
				if strings.HasSuffix(k, "/") && aws.ToInt64(o.Size) == 0 {
					// A folder marker is made anew: file-system backed
					// stores (versitygw) refuse to copy directory objects.
					return c.putSmall(gctx, "move", from, dst, nil, "", ifAbsent)
				}
				return c.copyObject(gctx, "move", from, k, dst, aws.ToInt64(o.Size), ifAbsent)
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		// Delete only what was copied, one page at a time: a move that
		// stops part way leaves copies, never losses.
		return c.deleteKeys(ctx, from, keys)
	})
	if err != nil {
		return storage.Entry{}, fmt.Errorf("moving folder %q to %q stopped part way; run the move again to finish it: %w", from, to, err)
	}
	if err := c.keepParent(ctx, "move", from); err != nil {
		return storage.Entry{}, err
	}
	return c.stat(ctx, "move", to)
}
