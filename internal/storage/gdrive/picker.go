package gdrive

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"

	"github.com/shelf-dam/shelf/internal/storage"
)

// Folder is one choice in the folder picker.
type Folder struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// HasChildren reports whether the folder may hold subfolders (so the
	// picker can offer to open it); see markHasChildren.
	HasChildren bool `json:"has_children"`
	// SharedDrive marks a shared drive (its ID is also its root folder's).
	SharedDrive bool `json:"shared_drive"`
}

// isFolderQuery restricts a query to folders.
const isFolderQuery = "mimeType = '" + folderMIME + "'"

// ListFolders lists the folders in parentID for the folder picker, sorted
// by name. For "" or "root" it lists My Drive's top level followed by the
// shared drives the account can see. It does not depend on the connected
// folder and may be used before one is chosen.
func (c *Conn) ListFolders(ctx context.Context, parentID string) ([]Folder, error) {
	top := parentID == "" || parentID == "root"
	if top {
		parentID = "root"
	}
	var out []Folder
	err := c.listChildren(ctx, nil, []folderRef{{id: parentID}}, isFolderQuery, func(f *drive.File) error {
		out = append(out, Folder{ID: f.Id, Name: f.Name})
		return nil
	})
	if err != nil {
		return nil, retag(err, "list folders", "")
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	if top {
		drives, err := c.SharedDrives(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, drives...)
	}
	if err := c.markHasChildren(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// markHasChildren sets HasChildren with one OR-ed query per
// ParentsPerQuery folders. When such a query answers nothing at all, Drive's
// OR bug cannot be told from a batch without subfolders, and asking folder
// by folder would make the picker slow, so the batch is marked as possibly
// having children: opening one then shows an empty list at worst.
func (c *Conn) markHasChildren(ctx context.Context, folders []Folder) error {
	index := make(map[string]int, len(folders))
	for i, f := range folders {
		index[f.ID] = i
	}
	for start := 0; start < len(folders); start += c.cfg.ParentsPerQuery {
		var batch []folderRef
		for _, f := range folders[start:min(start+c.cfg.ParentsPerQuery, len(folders))] {
			batch = append(batch, folderRef{id: f.ID})
		}
		n, err := c.listBatch(ctx, nil, batch, isFolderQuery, func(f *drive.File) error {
			if i, ok := index[firstParent(f)]; ok {
				folders[i].HasChildren = true
			}
			return nil
		})
		if err != nil {
			return retag(err, "list folders", "")
		}
		if n == 0 && len(batch) > 1 {
			for _, f := range batch {
				folders[index[f.id]].HasChildren = true
			}
		}
	}
	return nil
}

// SharedDrives lists the shared drives the account can see, sorted by name.
func (c *Conn) SharedDrives(ctx context.Context) ([]Folder, error) {
	var out []Folder
	token := ""
	for {
		var page *drive.DriveList
		err := c.do(ctx, "list shared drives", "", func(ctx context.Context) error {
			call := c.svc.Drives.List().PageSize(100).Fields(googleapi.Field("nextPageToken,drives(id,name)")).Context(ctx)
			if token != "" {
				call = call.PageToken(token)
			}
			var err error
			page, err = call.Do()
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, d := range page.Drives {
			out = append(out, Folder{ID: d.Id, Name: d.Name, SharedDrive: true})
		}
		if page.NextPageToken == "" || page.NextPageToken == token {
			break
		}
		token = page.NextPageToken
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out, nil
}

// ValidateRoot checks that folderID can be connected: it exists, the
// account can see it, it is a folder, it is not in the trash, and its
// content can be listed. Errors say what to fix (ErrNotFound,
// ErrInvalidPath for "not a folder", ErrPermission, ErrAuth).
func (c *Conn) ValidateRoot(ctx context.Context, folderID string) (Folder, error) {
	const op = "validate"
	if folderID == "" {
		return Folder{}, storage.Classify(storage.ErrInvalidPath, op, "", errors.New("choose a Drive folder to connect"))
	}
	f, err := c.getFile(ctx, op, "", folderID, "id,name,mimeType,trashed,driveId")
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return Folder{}, storage.Classify(storage.ErrNotFound, op, "", fmt.Errorf("Drive folder %s was not found, or it is not shared with this Google account; check the ID and the folder's sharing", folderID))
	case errors.Is(err, storage.ErrPermission):
		return Folder{}, storage.Classify(storage.ErrPermission, op, "", fmt.Errorf("this Google account has no access to Drive folder %s; share it with the account", folderID))
	case err != nil:
		return Folder{}, err
	case f.MimeType != folderMIME:
		return Folder{}, storage.Classify(storage.ErrInvalidPath, op, "", fmt.Errorf("%q is a file (%s), not a folder; choose a folder", f.Name, f.MimeType))
	case f.Trashed:
		return Folder{}, storage.Classify(storage.ErrNotFound, op, "", fmt.Errorf("Drive folder %q is in the trash; restore it or choose another folder", f.Name))
	}
	root := &rootInfo{id: f.Id, driveID: f.DriveId, name: f.Name}
	err = c.do(ctx, op, "", func(ctx context.Context) error {
		call := c.svc.Files.List().Q(escapeQuery(f.Id) + " in parents and trashed = false").PageSize(1).
			Fields("files(id)").SupportsAllDrives(true).IncludeItemsFromAllDrives(true).Context(ctx)
		if root.driveID != "" {
			call = call.Corpora("drive").DriveId(root.driveID)
		}
		_, err := call.Do()
		return err
	})
	if err != nil {
		return Folder{}, err
	}
	return Folder{ID: f.Id, Name: f.Name, SharedDrive: f.DriveId != "" && f.DriveId == f.Id}, nil
}

// ProbeWrite checks the account may write in the connected folder: it
// creates a small marker file there and sends it to the trash. A read-only
// share is ErrPermission.
func (c *Conn) ProbeWrite(ctx context.Context) error {
	const op = "probe write"
	root, err := c.rootFolder(ctx)
	if err != nil {
		return err
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := ".shelf-write-check-" + hex.EncodeToString(suffix)
	var f *drive.File
	err = c.do(ctx, op, "", func(ctx context.Context) error {
		var err error
		f, err = c.svc.Files.Create(&drive.File{Name: name, Parents: []string{root.id}}).
			Media(strings.NewReader("Shelf checks it may write here; this file can be deleted.\n"), googleapi.ContentType("text/plain")).
			SupportsAllDrives(true).Fields("id").Context(ctx).Do()
		return err
	})
	if errors.Is(err, storage.ErrPermission) {
		return storage.Classify(storage.ErrPermission, op, "", fmt.Errorf("this Google account can read Drive folder %q but not write to it; give it edit access", root.name))
	}
	if err != nil {
		return err
	}
	return c.do(ctx, op, "", func(ctx context.Context) error {
		_, err := c.svc.Files.Update(f.Id, &drive.File{Trashed: true}).SupportsAllDrives(true).Fields("id").Context(ctx).Do()
		return err
	})
}
