package drivefake

import (
	"fmt"
	"strings"
)

// FileInfo describes a file or folder of the fake Drive, for assertions.
type FileInfo struct {
	ID, Name, MIME, ParentID, DriveID string
	Content                           []byte
	MD5                               string
	Trashed                           bool
	ShortcutTarget                    string
}

func (f *file) info() FileInfo {
	return FileInfo{
		ID: f.id, Name: f.name, MIME: f.mime, ParentID: f.parent, DriveID: f.driveID,
		Content: append([]byte(nil), f.content...), MD5: f.md5, Trashed: f.trashed, ShortcutTarget: f.target,
	}
}

// RootID returns the ID of My Drive's root folder (what "root" stands for).
func (s *Server) RootID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.rootID
}

// The Create* methods seed the fake as a user would, recording each
// creation in the changes feed. They panic when the parent does not exist
// or is not a folder: that is a mistake in the test.

// CreateFolder creates a folder and returns its ID.
func (s *Server) CreateFolder(parentID, name string) string {
	return s.create(parentID, &file{name: name, mime: FolderMIME})
}

// CreateFile creates a file with content and returns its ID.
func (s *Server) CreateFile(parentID, name, mime string, content []byte) string {
	if strings.HasPrefix(mime, nativePrefix) {
		panic("drivefake: CreateFile with a Google-native MIME type; use CreateNative")
	}
	if content == nil {
		content = []byte{}
	}
	return s.create(parentID, &file{name: name, mime: mime, content: content})
}

// CreateNative creates a Google-native document (no size, no md5, no
// downloadable content) such as DocMIME or SheetMIME, and returns its ID.
func (s *Server) CreateNative(parentID, name, mime string) string {
	if !strings.HasPrefix(mime, nativePrefix) {
		panic("drivefake: CreateNative needs an application/vnd.google-apps.* type")
	}
	return s.create(parentID, &file{name: name, mime: mime})
}

// CreateShortcut creates a shortcut to targetID and returns its ID.
func (s *Server) CreateShortcut(parentID, name, targetID string) string {
	s.mu.Lock()
	t, ok := s.st.files[targetID]
	var tm string
	if ok {
		tm = t.mime
	}
	s.mu.Unlock()
	if !ok {
		panic(fmt.Sprintf("drivefake: shortcut target %s does not exist", targetID))
	}
	return s.create(parentID, &file{name: name, mime: ShortcutMIME, target: targetID, targetMT: tm})
}

// CreateSharedDrive creates a shared drive and returns its ID, which is
// also the ID of its root folder.
func (s *Server) CreateSharedDrive(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.addDrive(name).id
}

func (s *Server) create(parentID string, f *file) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if parentID == "root" || parentID == "" {
		parentID = s.st.rootID
	}
	p, ok := s.st.files[parentID]
	if !ok || !p.isFolder() {
		panic(fmt.Sprintf("drivefake: parent %s is not an existing folder", parentID))
	}
	f.parent, f.driveID = p.id, p.driveID
	return s.st.add(f).id
}

// withFile runs fn on a file under the lock, or reports that it is missing.
func (s *Server) withFile(id string, fn func(f *file) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.st.files[id]
	if !ok {
		return fmt.Errorf("drivefake: no file %s", id)
	}
	return fn(f)
}

// Move moves a file or folder to another folder, as a user dragging it in
// Drive would.
func (s *Server) Move(id, newParentID string) error {
	return s.withFile(id, func(f *file) error {
		d, ok := s.st.files[newParentID]
		if !ok || !d.isFolder() || s.st.ancestorOrSelf(d, f.id) || f.parent == "" {
			return fmt.Errorf("drivefake: cannot move %s into %s", id, newParentID)
		}
		s.st.unlink(f)
		f.parent = d.id
		s.st.link(f)
		if d.driveID != f.driveID {
			s.st.setDrive(f, d.driveID)
		}
		s.st.record(f)
		return nil
	})
}

// Rename renames a file or folder.
func (s *Server) Rename(id, name string) error {
	return s.withFile(id, func(f *file) error {
		f.name = name
		f.modified = s.opts.Now()
		s.st.record(f)
		return nil
	})
}

// SetContent replaces a file's content (a new revision).
func (s *Server) SetContent(id string, content []byte) error {
	return s.withFile(id, func(f *file) error {
		if !f.hasContent() {
			return fmt.Errorf("drivefake: %s has no binary content", id)
		}
		f.setContent(content)
		f.modified = s.opts.Now()
		s.st.record(f)
		return nil
	})
}

// Trash sends a file or folder (with everything under it) to the trash.
func (s *Server) Trash(id string) error {
	return s.withFile(id, func(f *file) error {
		s.setTrashed(f, true)
		return nil
	})
}

// Untrash restores a file or folder from the trash.
func (s *Server) Untrash(id string) error {
	return s.withFile(id, func(f *file) error {
		s.setTrashed(f, false)
		return nil
	})
}

// Delete deletes a file or folder (with everything under it) for good.
func (s *Server) Delete(id string) error {
	return s.withFile(id, func(f *file) error {
		if f.parent == "" {
			return fmt.Errorf("drivefake: cannot delete a root folder")
		}
		s.st.removeTree(f)
		return nil
	})
}

// SetAccess sets the user's access to a file or folder (inherited below a
// folder). AccessNone hides it: Drive answers 404 for it. AccessReader
// refuses writes with 403 insufficientFilePermissions.
func (s *Server) SetAccess(id string, a Access) error {
	return s.withFile(id, func(f *file) error {
		f.access = a
		return nil
	})
}

// File returns a file's current state.
func (s *Server) File(id string) (FileInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.st.files[id]
	if !ok {
		return FileInfo{}, false
	}
	return f.info(), true
}

// Children returns the items in a folder (trashed ones included), in
// creation order.
func (s *Server) Children(parentID string) []FileInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	if parentID == "root" || parentID == "" {
		parentID = s.st.rootID
	}
	var out []FileInfo
	for _, f := range s.st.sortedChildren(parentID) {
		out = append(out, f.info())
	}
	return out
}

// FindPath returns the non-trashed item at a "/"-separated path under a
// folder (the first one in creation order when names repeat).
func (s *Server) FindPath(folderID, path string) (FileInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.st.files[folderID]
	if !ok {
		return FileInfo{}, false
	}
	for _, el := range strings.Split(path, "/") {
		var next *file
		for _, k := range s.st.sortedChildren(cur.id) {
			if k.name == el && !k.trashed {
				next = k
				break
			}
		}
		if next == nil {
			return FileInfo{}, false
		}
		cur = next
	}
	return cur.info(), true
}
