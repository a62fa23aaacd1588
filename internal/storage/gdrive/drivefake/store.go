package drivefake

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// MIME types Drive gives folders, shortcuts and Google-native documents.
const (
	FolderMIME   = "application/vnd.google-apps.folder"
	ShortcutMIME = "application/vnd.google-apps.shortcut"
	DocMIME      = "application/vnd.google-apps.document"
	SheetMIME    = "application/vnd.google-apps.spreadsheet"
	nativePrefix = "application/vnd.google-apps."
)

// Access is the permission the fake's single user has on a file or folder
// (inherited by everything under a folder unless set again lower down).
type Access int

// Access levels. AccessNone makes an item invisible, as Drive answers 404 for
// files the user cannot see.
const (
	AccessInherit Access = iota
	AccessWriter
	AccessReader
	AccessNone
)

// file is one item of the fake Drive: a folder, a file with content, a
// Google-native document or a shortcut.
type file struct {
	seq      int64 // creation order; listings are in this order
	id       string
	name     string
	mime     string
	parent   string // "" only for My Drive's root and shared drive roots
	driveID  string // shared drive holding the file; "" for My Drive
	content  []byte
	md5      string
	modified time.Time
	created  time.Time
	trashed  bool
	// explicit marks a file trashed by itself rather than with its folder;
	// restoring a folder restores only what was trashed with it.
	explicit bool
	target   string // shortcut target ID
	targetMT string
	access   Access
}

func (f *file) isFolder() bool { return f.mime == FolderMIME }

// hasContent reports whether the file has downloadable bytes (a size and an
// md5Checksum): not folders, shortcuts or Google-native documents.
func (f *file) hasContent() bool { return !strings.HasPrefix(f.mime, nativePrefix) }

// json renders the file the way Drive v3 does with fields=* for the fields
// Shelf may ask for. size is a JSON string, as in Drive.
func (f *file) json() map[string]any {
	m := map[string]any{
		"kind":         "drive#file",
		"id":           f.id,
		"name":         f.name,
		"mimeType":     f.mime,
		"trashed":      f.trashed,
		"modifiedTime": f.modified.UTC().Format("2006-01-02T15:04:05.000Z"),
		"createdTime":  f.created.UTC().Format("2006-01-02T15:04:05.000Z"),
	}
	if f.parent != "" {
		m["parents"] = []any{f.parent}
	}
	if f.driveID != "" {
		m["driveId"] = f.driveID
	}
	if f.hasContent() {
		m["size"] = fmt.Sprint(len(f.content))
		m["md5Checksum"] = f.md5
	}
	if f.mime == ShortcutMIME {
		m["shortcutDetails"] = map[string]any{"targetId": f.target, "targetMimeType": f.targetMT}
	}
	return m
}

// change is one entry of the changes feed: the file changed at seq (its
// current state is reported, as Drive does), or was deleted for good. An
// entry without a fileID concerns no file (see RejectChangeTokens).
type change struct {
	seq     int64
	fileID  string
	driveID string
	removed bool
	// departure marks the file leaving driveID for another drive: a
	// removal in that drive's feed only.
	departure bool
	at        time.Time
}

// store holds the fake Drive's state. All access is under Server.mu.
type store struct {
	now      func() time.Time
	nextSeq  int64
	files    map[string]*file
	children map[string]map[string]*file
	drives   []string // shared drive IDs in creation order
	changes  []change // changes[i].seq == i+1
	lastSeq  map[string]int64
	// lastInDrive is the latest change of a file within one drive's feed,
	// keyed by driveKey.
	lastInDrive map[string]int64
	minToken    int64 // page tokens below this are rejected
	rootID      string
	// tokenRejection is how changes.list answers a rejected token.
	tokenRejection TokenRejection
	// onChange is told of every change appended to the feed (push
	// notifications).
	onChange func(change)
}

func newStore(now func() time.Time) *store {
	s := &store{
		now:         now,
		files:       map[string]*file{},
		children:    map[string]map[string]*file{},
		lastSeq:     map[string]int64{},
		lastInDrive: map[string]int64{},
		minToken:    1,
	}
	root := s.add(&file{name: "My Drive", mime: FolderMIME})
	s.rootID = root.id
	return s
}

// newID returns a fresh Drive-like file ID (33 characters).
func (s *store) newID(prefix string) (string, int64) {
	s.nextSeq++
	return fmt.Sprintf("%s%031d", prefix, s.nextSeq), s.nextSeq
}

func (s *store) add(f *file) *file {
	s.place(f)
	s.record(f)
	return f
}

// addDrive creates a shared drive's root folder, which is in the drive
// its own ID names.
func (s *store) addDrive(name string) *file {
	f := &file{name: name, mime: FolderMIME}
	s.place(f)
	f.driveID = f.id
	s.drives = append(s.drives, f.id)
	s.record(f)
	return f
}

// place gives f an ID and puts it in its folder, without recording it.
func (s *store) place(f *file) {
	prefix := "1F"
	if f.parent == "" {
		prefix = "0A"
	}
	f.id, f.seq = s.newID(prefix)
	now := s.now()
	f.created, f.modified = now, now
	if f.hasContent() {
		f.setContent(f.content)
	}
	s.files[f.id] = f
	s.link(f)
}

func (f *file) setContent(b []byte) {
	f.content = append([]byte(nil), b...)
	sum := md5.Sum(f.content)
	f.md5 = hex.EncodeToString(sum[:])
}

func (s *store) link(f *file) {
	if f.parent == "" {
		return
	}
	kids := s.children[f.parent]
	if kids == nil {
		kids = map[string]*file{}
		s.children[f.parent] = kids
	}
	kids[f.id] = f
}

func (s *store) unlink(f *file) {
	if kids := s.children[f.parent]; kids != nil {
		delete(kids, f.id)
	}
}

// record appends a change for f to the feed.
func (s *store) record(f *file) {
	seq := s.appendChange(change{fileID: f.id, driveID: f.driveID})
	s.lastSeq[f.id] = seq
	s.lastInDrive[driveKey(f.driveID, f.id)] = seq
}

func driveKey(driveID, fileID string) string { return driveID + "\x00" + fileID }

// recordRemoved appends a "removed" change (permanent deletion).
func (s *store) recordRemoved(id, driveID string) {
	seq := s.appendChange(change{fileID: id, driveID: driveID, removed: true})
	s.lastSeq[id] = seq
	s.lastInDrive[driveKey(driveID, id)] = seq
}

// recordDeparture appends the removal of a file from one drive's feed when
// it moves to another drive.
func (s *store) recordDeparture(id, driveID string) {
	seq := s.appendChange(change{fileID: id, driveID: driveID, removed: true, departure: true})
	s.lastInDrive[driveKey(driveID, id)] = seq
}

// appendChange numbers a change, appends it to the feed and tells
// onChange; it returns the change's seq.
func (s *store) appendChange(c change) int64 {
	c.seq, c.at = int64(len(s.changes)+1), s.now()
	s.changes = append(s.changes, c)
	if s.onChange != nil {
		s.onChange(c)
	}
	return c.seq
}

// startToken is the page token that marks "now" in the changes feed.
func (s *store) startToken() int64 { return int64(len(s.changes) + 1) }

// sortedChildren returns the children of a folder in creation order.
func (s *store) sortedChildren(id string) []*file {
	kids := s.children[id]
	out := make([]*file, 0, len(kids))
	for _, f := range kids {
		out = append(out, f)
	}
	sortBySeq(out)
	return out
}

// sortBySeq orders files by creation, the order listings use.
func sortBySeq(fs []*file) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].seq < fs[j].seq })
}

// access returns the effective access of the user to f.
func (s *store) access(f *file) Access {
	for cur := f; cur != nil; cur = s.files[cur.parent] {
		if cur.access != AccessInherit {
			return cur.access
		}
		if cur.parent == "" {
			break
		}
	}
	return AccessWriter
}

// visible reports whether the user can see f at all.
func (s *store) visible(f *file) bool { return s.access(f) != AccessNone }

// ancestorOrSelf reports whether id is f or one of its ancestors.
func (s *store) ancestorOrSelf(f *file, id string) bool {
	for cur := f; cur != nil; cur = s.files[cur.parent] {
		if cur.id == id {
			return true
		}
		if cur.parent == "" {
			return false
		}
	}
	return false
}

// removeTree deletes f and everything under it for good.
func (s *store) removeTree(f *file) {
	for _, k := range s.sortedChildren(f.id) {
		s.removeTree(k)
	}
	s.unlink(f)
	delete(s.files, f.id)
	delete(s.children, f.id)
	s.recordRemoved(f.id, f.driveID)
}

// setDrive moves f and everything under it into a shared drive (or My Drive
// when driveID is ""), as happens when items move between drives: each
// leaves the old drive's feed and appears in the new one.
func (s *store) setDrive(f *file, driveID string) {
	s.recordDeparture(f.id, f.driveID)
	f.driveID = driveID
	s.record(f)
	for _, k := range s.sortedChildren(f.id) {
		s.setDrive(k, driveID)
	}
}
