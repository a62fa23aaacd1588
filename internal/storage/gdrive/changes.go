package gdrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"

	"github.com/shelf-dam/shelf/internal/storage"
)

// changeFields asks changes.list for what Changes needs.
const changeFields = "nextPageToken,newStartPageToken,changes(changeType,fileId,removed,file(" + fileFields + "))"

// StartCursor returns the changes page token that marks now (for the
// shared drive holding the root, when it is in one).
func (c *Conn) StartCursor(ctx context.Context) (string, error) {
	root, err := c.rootFolder(ctx)
	if err != nil {
		return "", err
	}
	var tok *drive.StartPageToken
	err = c.do(ctx, "changes", "", func(ctx context.Context) error {
		call := c.svc.Changes.GetStartPageToken().SupportsAllDrives(true).Context(ctx)
		if root.driveID != "" {
			call = call.DriveId(root.driveID)
		}
		var err error
		tok, err = call.Do()
		return err
	})
	if err != nil {
		return "", err
	}
	return tok.StartPageToken, nil
}

// Changes returns one page (up to PageSize) of changes after cursor,
// confined to the root: an item moved out of the root, trashed or deleted
// is a ChangeRemove; one inside (new, changed, renamed, moved, or moved in
// from elsewhere) is a ChangeUpsert with its path. A folder moved into the
// root arrives alone — its content is not in the feed; the sync engine lists
// it with ScanFolder. Changes to items outside the root are dropped, except
// that removals of unknown items are passed on (Drive does not say where a
// deleted item was; removing an ID the catalog does not hold is a no-op).
// A cursor Drive refuses is storage.ErrInvalidCursor while the connected
// folder still exists, and storage.ErrNotFound when it is gone.
func (c *Conn) Changes(ctx context.Context, cursor string) ([]storage.Change, string, bool, error) {
	root, err := c.rootFolder(ctx)
	if err != nil {
		return nil, "", false, err
	}
	if cursor == "" {
		return nil, "", false, storage.Classify(storage.ErrInvalidCursor, "changes", "", errors.New("no changes cursor; run a full scan first"))
	}
	var page *drive.ChangeList
	err = c.do(ctx, "changes", "", func(ctx context.Context) error {
		call := c.svc.Changes.List(cursor).PageSize(int64(c.cfg.PageSize)).IncludeRemoved(true).
			SupportsAllDrives(true).IncludeItemsFromAllDrives(true).
			Fields(googleapi.Field(changeFields)).Context(ctx)
		if root.driveID != "" {
			call = call.DriveId(root.driveID)
		}
		var err error
		page, err = call.Do()
		return err
	})
	if ge, ok := tokenRefused(err); ok {
		return nil, "", false, c.refusedCursor(ctx, ge)
	}
	if err != nil {
		return nil, "", false, err
	}

	// Folders first, so paths below reflect this page's end state.
	for _, ch := range page.Changes {
		if ch.File != nil && ch.File.MimeType == folderMIME && !ch.Removed && !ch.File.Trashed && len(ch.File.Parents) > 0 {
			if name, ok := pathName(ch.File.Name); ok {
				c.rememberFolder(ch.File.Id, ch.File.Parents[0], name)
				continue
			}
		}
		if ch.Removed || (ch.File != nil && (ch.File.Trashed || ch.File.MimeType == folderMIME)) {
			c.forgetFolder(ch.FileId)
		}
	}

	var out []storage.Change
	for _, ch := range page.Changes {
		if ch.ChangeType != "" && ch.ChangeType != "file" {
			continue
		}
		if ch.FileId == root.id {
			if ch.Removed || ch.File == nil || ch.File.Trashed {
				return nil, "", false, storage.Classify(storage.ErrNotFound, "changes", "",
					errors.New("the connected Drive folder was deleted or trashed; restore it in Drive or connect another folder"))
			}
			continue
		}
		change, keep, err := c.convertChange(ctx, root, ch)
		if err != nil {
			return nil, "", false, err
		}
		if keep {
			out = append(out, change)
		}
	}
	if page.NextPageToken != "" {
		return out, page.NextPageToken, true, nil
	}
	if page.NewStartPageToken == "" {
		return nil, "", false, storage.Classify(storage.ErrFatal, "changes", "", errors.New("Drive answered a changes page with neither a next page nor a new start token"))
	}
	return out, page.NewStartPageToken, false, nil
}

// tokenRefused reports whether changes.list may have refused its page
// token. Drive answers 400 "Invalid Value" at location pageToken for a
// token it cannot use; an expired one has also been answered 404 (like a
// missing file) and 410 Gone. A 400 naming only other parameters is about
// them, not the token. A 404 may also mean the root's shared drive is out
// of reach: refusedCursor tells the two apart.
func tokenRefused(err error) (*googleapi.Error, bool) {
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return nil, false
	}
	switch ge.Code {
	case http.StatusNotFound, http.StatusGone:
		return ge, true
	case http.StatusBadRequest:
		locs := errorLocations(ge)
		return ge, len(locs) == 0 || slices.Contains(locs, "pageToken")
	}
	return nil, false
}

// errorLocations returns the parameters a Drive error names (the client
// library does not decode them).
func errorLocations(ge *googleapi.Error) []string {
	var body struct {
		Error struct {
			Errors []struct {
				Location string `json:"location"`
			} `json:"errors"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(ge.Body), &body) != nil {
		return nil
	}
	var out []string
	for _, e := range body.Error.Errors {
		if e.Location != "" {
			out = append(out, e.Location)
		}
	}
	return out
}

// refusedCursor classifies Drive's answer to a changes.list whose page
// token it may have refused. The answer does not say whether the token or
// the connected folder is the problem, so the folder is looked up afresh:
// gone (deleted, trashed, no longer shared) is its storage.ErrNotFound,
// which asks for a reconnect; still there means only the token was refused:
// storage.ErrInvalidCursor, and the engine scans in full. The answer is
// wrapped, not its class, so a 404 does not read as storage.ErrNotFound.
func (c *Conn) refusedCursor(ctx context.Context, answer *googleapi.Error) error {
	if _, err := c.resolveRoot(ctx, true); err != nil {
		return err
	}
	return storage.Classify(storage.ErrInvalidCursor, "changes", "",
		fmt.Errorf("Drive refused the saved changes cursor (%w); a full scan follows", answer))
}

// convertChange turns one Drive change into a storage change, if it
// concerns the root.
func (c *Conn) convertChange(ctx context.Context, root *rootInfo, ch *drive.Change) (storage.Change, bool, error) {
	remove := storage.Change{Kind: storage.ChangeRemove, ID: ch.FileId}
	f := ch.File
	if ch.Removed || f == nil || f.Trashed || len(f.Parents) == 0 {
		return remove, true, nil
	}
	parent := f.Parents[0]
	parentPath, under, err := c.folderPath(ctx, parent)
	if err != nil {
		return storage.Change{}, false, err
	}
	if !under {
		// Moved out of the root, or never in it: a removal is harmless
		// for an ID the catalog does not hold.
		return remove, true, nil
	}
	name, ok := pathName(f.Name)
	if !ok {
		c.log.Warn("drive item with a name Shelf cannot use as a path element; treated as absent",
			slog.String("id", f.Id), slog.String("name", f.Name))
		return remove, true, nil
	}
	parentID := parent
	if parent == root.id {
		parentID = ""
	}
	return storage.Change{Kind: storage.ChangeUpsert, ID: f.Id, Entry: toEntry(f, parentID, parentPath, name)}, true, nil
}
