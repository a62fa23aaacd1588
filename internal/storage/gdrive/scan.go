package gdrive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"

	"github.com/shelf-dam/shelf/internal/storage"
)

// folderRef is a folder waiting to be listed during a walk.
type folderRef struct {
	id   string
	path string
}

// Scan streams every file and folder under the root, parents before
// children, walking the tree breadth-first with up to ParentsPerQuery
// folders per files.list query (ScanWorkers queries at a time).
func (c *Conn) Scan(ctx context.Context, emit func(storage.Entry) error) error {
	root, err := c.resolveRoot(ctx, true)
	if err != nil {
		return err
	}
	seen := map[string]folderNode{}
	err = c.walk(ctx, root, folderRef{id: root.id}, func(e storage.Entry, parent string) error {
		if e.IsDir {
			seen[e.ID] = folderNode{parent: parent, name: e.Name}
		}
		return emit(e)
	})
	if err != nil {
		return err
	}
	c.foldersMu.Lock()
	c.folders = seen
	c.foldersMu.Unlock()
	return nil
}

// ScanFolder streams everything under one folder inside the root (not the
// folder itself), parents before children, with root-relative paths. The
// sync engine calls it when the changes feed reports a folder it did not
// know — one moved into the root arrives as a single change, without its
// content. A folder not under the root is storage.ErrNotFound.
func (c *Conn) ScanFolder(ctx context.Context, folderID string, emit func(storage.Entry) error) error {
	root, err := c.rootFolder(ctx)
	if err != nil {
		return err
	}
	path, ok, err := c.folderPath(ctx, folderID)
	if err != nil {
		return err
	}
	if !ok {
		return storage.Classify(storage.ErrNotFound, "scan", "", fmt.Errorf("folder %s is not inside the connected folder", folderID))
	}
	return c.walk(ctx, root, folderRef{id: folderID, path: path}, func(e storage.Entry, parent string) error {
		if e.IsDir {
			c.rememberFolder(e.ID, parent, e.Name)
		}
		return emit(e)
	})
}

// listChildren lists the non-trashed children of the folders in batch
// (extra, if not "", is AND-ed to the query), calling fn for each. When an
// OR-ed query over several folders returns nothing at all, it asks again one
// folder per query, as Drive sometimes answers OR-ed parent queries with
// nothing. (A batch of truly empty folders therefore costs one query per
// folder; correctness first.)
func (c *Conn) listChildren(ctx context.Context, root *rootInfo, batch []folderRef, extra string, fn func(*drive.File) error) error {
	n, err := c.listBatch(ctx, root, batch, extra, fn)
	if err != nil || n > 0 || len(batch) == 1 {
		return err
	}
	c.log.Debug("drive OR-ed parents query returned nothing; listing each folder on its own",
		slog.Int("folders", len(batch)))
	for _, f := range batch {
		if _, err := c.listBatch(ctx, root, []folderRef{f}, extra, fn); err != nil {
			return err
		}
	}
	return nil
}

// listBatch runs one files.list query over the children of the folders in
// batch and returns how many items Drive reported.
func (c *Conn) listBatch(ctx context.Context, root *rootInfo, batch []folderRef, extra string, fn func(*drive.File) error) (int, error) {
	terms := make([]string, len(batch))
	for i, f := range batch {
		terms[i] = escapeQuery(f.id) + " in parents"
	}
	q := "(" + strings.Join(terms, " or ") + ") and trashed = false"
	if extra != "" {
		q += " and " + extra
	}
	return c.listQueryFields(ctx, root, q, fileFields, fn)
}

// listQueryFields runs a files.list query over all its pages, asking for the
// given file fields, and returns how many files it reported.
func (c *Conn) listQueryFields(ctx context.Context, root *rootInfo, q, fields string, fn func(*drive.File) error) (int, error) {
	count := 0
	token := ""
	for {
		var page *drive.FileList
		err := c.do(ctx, "scan", "", func(ctx context.Context) error {
			call := c.svc.Files.List().Q(q).PageSize(int64(c.cfg.PageSize)).
				Fields(googleapi.Field("nextPageToken,incompleteSearch,files(" + fields + ")")).
				SupportsAllDrives(true).IncludeItemsFromAllDrives(true).Context(ctx)
			switch {
			case root == nil: // folder picker: the folder may be anywhere
				call = call.Corpora("allDrives")
			case root.driveID != "":
				call = call.Corpora("drive").DriveId(root.driveID)
			}
			if token != "" {
				call = call.PageToken(token)
			}
			var err error
			page, err = call.Do()
			return err
		})
		if err != nil {
			return count, err
		}
		if page.IncompleteSearch && root != nil {
			return count, storage.Classify(storage.ErrRetryable, "scan", "", errors.New("Drive reported an incomplete search; the listing cannot be trusted, try again later"))
		}
		for _, f := range page.Files {
			count++
			if f.Trashed {
				continue
			}
			if err := fn(f); err != nil {
				return count, err
			}
		}
		if page.NextPageToken == "" {
			return count, nil
		}
		if page.NextPageToken == token {
			return count, storage.Classify(storage.ErrFatal, "scan", "", fmt.Errorf("Drive repeated the page token %q; the listing is incomplete", token))
		}
		token = page.NextPageToken
	}
}
