package gdrive

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/shelf-dam/shelf/internal/storage"
)

// Stat returns the entry at a root-relative path.
func (c *Conn) Stat(ctx context.Context, p string) (storage.Entry, error) {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return storage.Entry{}, err
	}
	res, err := c.resolve(ctx, "stat", p)
	if err != nil {
		return storage.Entry{}, err
	}
	return entryAt(res, p)
}

// Open streams a file's content. Folders, Google-native documents and
// shortcuts have no content and are refused with a clear error.
func (c *Conn) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	p, err := storage.CleanPath(p, false)
	if err != nil {
		return nil, err
	}
	res, err := c.resolve(ctx, "open", p)
	if err != nil {
		return nil, err
	}
	switch f := res.file; {
	case f.MimeType == folderMIME:
		return nil, storage.Classify(storage.ErrInvalidPath, "open", p, fmt.Errorf("this is a folder, not a file"))
	case f.MimeType == shortcutMIME:
		return nil, storage.Classify(storage.ErrFatal, "open", p, fmt.Errorf("this is a Drive shortcut; Shelf does not follow shortcuts, so it has no content to read"))
	case isNative(f.MimeType):
		return nil, storage.Classify(storage.ErrFatal, "open", p, fmt.Errorf("this is a Google-native document (%s) without downloadable content; open it in Google Drive", f.MimeType))
	}
	var resp *http.Response
	err = c.do(ctx, "open", p, func(ctx context.Context) error {
		var err error
		resp, err = c.svc.Files.Get(res.file.Id).SupportsAllDrives(true).Context(ctx).Download()
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
