package gdrive

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/api/drive/v3"

	"github.com/shelf-dam/shelf/internal/storage"
)

// maxDepth bounds walks up the parent chain (Drive allows 100 levels).
const maxDepth = 200

func (c *Conn) rememberFolder(id, parent, name string) {
	c.foldersMu.Lock()
	defer c.foldersMu.Unlock()
	c.folders[id] = folderNode{parent: parent, name: name}
}

func (c *Conn) forgetFolder(id string) {
	c.foldersMu.Lock()
	defer c.foldersMu.Unlock()
	delete(c.folders, id)
}

func (c *Conn) knownFolder(id string) (folderNode, bool) {
	c.foldersMu.Lock()
	defer c.foldersMu.Unlock()
	n, ok := c.folders[id]
	return n, ok
}

// folderPath returns the root-relative path of a folder and whether it is
// under the root at all, walking its parents up to the root — through the
// folders already known, asking Drive for the others.
func (c *Conn) folderPath(ctx context.Context, id string) (string, bool, error) {
	root, err := c.rootFolder(ctx)
	if err != nil {
		return "", false, err
	}
	var names []string
	cur := id
	for depth := 0; cur != root.id; depth++ {
		if depth > maxDepth {
			return "", false, nil
		}
		node, ok := c.knownFolder(cur)
		if ok && node.parent == "" {
			return "", false, nil // a top: My Drive's root or a shared drive
		}
		if !ok {
			f, err := c.getFile(ctx, "resolve", "", cur, "id,name,mimeType,parents,trashed")
			switch {
			case errors.Is(err, storage.ErrNotFound):
				return "", false, nil
			case err != nil:
				return "", false, err
			case f.MimeType == folderMIME && len(f.Parents) == 0:
				c.rememberFolder(cur, "", "")
				return "", false, nil
			case f.Trashed || f.MimeType != folderMIME || len(f.Parents) == 0:
				return "", false, nil
			}
			name, valid := pathName(f.Name)
			if !valid {
				return "", false, nil
			}
			node = folderNode{parent: f.Parents[0], name: name}
			c.rememberFolder(cur, node.parent, node.name)
		}
		names = append(names, node.name)
		cur = node.parent
	}
	for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
		names[i], names[j] = names[j], names[i]
	}
	return strings.Join(names, "/"), true, nil
}

// resolved is a path resolved under the root.
type resolved struct {
	root   *rootInfo
	file   *drive.File // nil when the path is the root itself
	parent string      // Drive ID of the containing folder
}

// resolve finds the item at a clean root-relative path by walking names
// from the root. With duplicate names, folders win on the way down and the
// oldest item wins at the end.
func (c *Conn) resolve(ctx context.Context, op, p string) (resolved, error) {
	root, err := c.rootFolder(ctx)
	if err != nil {
		return resolved{}, err
	}
	res := resolved{root: root, parent: root.id}
	cur := root.id
	els := strings.Split(p, "/")
	for i, el := range els {
		last := i == len(els)-1
		f, err := c.child(ctx, root, op, p, cur, el, !last)
		if err != nil {
			return resolved{}, err
		}
		if f == nil || (!last && f.MimeType != folderMIME) {
			return resolved{}, storage.Classify(storage.ErrNotFound, op, p, errors.New("no such file or folder in the connected Drive folder"))
		}
		res.parent, res.file = cur, f
		cur = f.Id
	}
	return res, nil
}

// child finds the item named el (a path element) in a folder, or nil.
// preferFolder picks a folder over files of the same name.
func (c *Conn) child(ctx context.Context, root *rootInfo, op, p, parentID, el string, preferFolder bool) (*drive.File, error) {
	matches, err := c.children(ctx, root, op, p, parentID, el, preferFolder)
	if err != nil || len(matches) == 0 {
		return nil, err
	}
	return matches[0], nil
}

// children returns the non-trashed items named el (a path element) in a
// folder: folders first when preferFolder, then the oldest first.
func (c *Conn) children(ctx context.Context, root *rootInfo, op, p, parentID, el string, preferFolder bool) ([]*drive.File, error) {
	names := []string{escapeQuery(el)}
	if decoded := strings.NewReplacer("／", "/", "＼", `\`).Replace(el); decoded != el {
		names = append(names, escapeQuery(decoded))
	}
	for i, n := range names {
		names[i] = "name = " + n
	}
	q := escapeQuery(parentID) + " in parents and trashed = false and (" + strings.Join(names, " or ") + ")"
	var matches []*drive.File
	_, err := c.listQueryFields(ctx, root, q, fileFields+",createdTime", func(f *drive.File) error {
		if got, ok := pathName(f.Name); ok && got == el && firstParent(f) == parentID {
			matches = append(matches, f)
		}
		return nil
	})
	if err != nil {
		return nil, retag(err, op, p)
	}
	sort.SliceStable(matches, func(i, j int) bool {
		a, b := matches[i], matches[j]
		if preferFolder && (a.MimeType == folderMIME) != (b.MimeType == folderMIME) {
			return a.MimeType == folderMIME
		}
		if a.CreatedTime != b.CreatedTime {
			return a.CreatedTime < b.CreatedTime
		}
		return a.Id < b.Id
	})
	return matches, nil
}

// retag gives a classified error the operation and path of the caller.
func retag(err error, op, p string) error {
	var ce *storage.ClassError
	if errors.As(err, &ce) && ce.Path == "" {
		return storage.Classify(ce.Class, op, p, ce.Err)
	}
	return err
}

// entryAt converts a resolved item into an Entry at path p.
func entryAt(res resolved, p string) (storage.Entry, error) {
	name, ok := pathName(res.file.Name)
	if !ok {
		return storage.Entry{}, storage.Classify(storage.ErrInvalidPath, "stat", p, fmt.Errorf("Drive name %q cannot be a path element", res.file.Name))
	}
	parentID := res.parent
	if parentID == res.root.id {
		parentID = ""
	}
	return toEntry(res.file, parentID, storage.Dir(p), name), nil
}
