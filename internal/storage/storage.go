// Package storage defines the interface every storage connector (local
// folder, S3, Google Drive) implements, and the types they exchange with the
// sync engine and the library.
//
// The required part is small (Connector); optional capabilities are separate
// interfaces a connector may also implement (Changer, ChangeWatcher,
// SortedScanner), in the style of rclone's optional features. Callers
// discover them with a type assertion.
package storage

import (
	"context"
	"io"
	"time"
)

// Kind names a storage connector type as stored in the catalog and used in
// the API ("s3", "gdrive", "local").
type Kind string

// The connector kinds Shelf supports.
const (
	KindS3     Kind = "s3"
	KindGDrive Kind = "gdrive"
	KindLocal  Kind = "local"
)

// Entry is one file or folder under a connector's root, as a scan reports it.
type Entry struct {
	// ID is the stable identity of the entry in its storage: the Drive file
	// ID, or the root-relative path for S3 and local folders (for folders
	// without the trailing slash).
	ID string
	// ParentID is the ID of the containing folder; "" for entries directly
	// under the root.
	ParentID string
	// Path is the root-relative, "/"-separated path ("a/b/c.jpg"). It never
	// starts or ends with "/" and never contains "." or ".." elements.
	Path string
	// Name is the last path element as the storage spells it.
	Name  string
	IsDir bool
	// Size in bytes; -1 when the storage does not know (Google-native docs).
	Size int64
	// ETag is the content fingerprint the storage offers: S3 ETag (quotes
	// removed), Drive md5Checksum, or for local files "" (local change
	// detection uses Size and ModTime; a content hash is computed on demand).
	ETag    string
	ModTime time.Time
	MIME    string
	// Native marks Google-native documents (Docs, Sheets, ...): listed as
	// assets but without downloadable content.
	Native bool
}

// ChangeKind says what happened to an entry in a changes feed.
type ChangeKind int

// Change kinds reported by Changer.
const (
	// ChangeUpsert: the entry exists (new, modified, renamed or moved) and
	// Entry describes it in full, Path included.
	ChangeUpsert ChangeKind = iota + 1
	// ChangeRemove: the entry with ID is gone from the root (deleted,
	// trashed, or moved outside the root).
	ChangeRemove
)

// Change is one item of a changes feed.
type Change struct {
	Kind  ChangeKind
	ID    string
	Entry Entry // valid for ChangeUpsert
}

// Connector is the required part every storage connector implements. Every
// call is confined to the connector's root: paths are root-relative and
// validated with CleanPath; nothing outside the root is listed, read, written
// or deleted.
type Connector interface {
	// Kind reports which kind of storage this is.
	Kind() Kind
	// Scan streams every file and folder under the root to emit, parents
	// before their children. A non-nil error means the listing is incomplete
	// and must not be used to delete anything. If emit returns an error the
	// scan stops and returns it.
	Scan(ctx context.Context, emit func(Entry) error) error
	// Stat returns the entry at a root-relative path, or an error
	// classified as ErrNotFound.
	Stat(ctx context.Context, path string) (Entry, error)
	// Open reads the content of the file at a root-relative path.
	Open(ctx context.Context, path string) (io.ReadCloser, error)
	// Put writes a file at a root-relative path (creating missing parent
	// folders) and returns its entry. size may be -1 when unknown. An
	// existing file there is replaced.
	Put(ctx context.Context, path string, r io.Reader, size int64, mime string) (Entry, error)
	// Create writes a new file as Put does but never replaces anything:
	// when a file or folder is at path already, or gets there while the
	// content is written, it returns ErrExists and what is there stays as
	// it was. Where the storage allows it the check and the write are one
	// step: a conditional write on S3 (If-None-Match: *), a rename that
	// refuses to replace on a local disk. Drive, where one folder may hold
	// several files of one name, looks right before it creates the file.
	Create(ctx context.Context, path string, r io.Reader, size int64, mime string) (Entry, error)
	// Move renames or moves a file or folder (with its content) from one
	// root-relative path to another and returns the moved entry. Something
	// at the destination is ErrExists; like Create, Move refuses to replace
	// in one step where the storage allows it.
	Move(ctx context.Context, from, to string) (Entry, error)
	// Delete removes a file or a folder with everything under it. Drive
	// sends it to the trash.
	Delete(ctx context.Context, path string) error
	// MkDir creates a folder (and missing parents) and returns its entry.
	MkDir(ctx context.Context, path string) (Entry, error)
}

// Changer is implemented by connectors with a changes feed (Google Drive).
type Changer interface {
	// StartCursor returns a cursor that marks "now": Changes(cursor) later
	// returns what changed after this call.
	StartCursor(ctx context.Context) (string, error)
	// Changes returns one page of changes after cursor and the cursor to
	// continue from. more reports whether another page follows at once.
	// An expired or invalid cursor yields an error classified as
	// ErrInvalidCursor; the caller then falls back to a full Scan.
	Changes(ctx context.Context, cursor string) (changes []Change, next string, more bool, err error)
}

// Channel is a push-notification channel a storage opened (Drive
// changes.watch).
type Channel struct {
	ID         string    // the channel ID Shelf chose (a UUID)
	ResourceID string    // the storage's ID of the watched resource (needed to stop it)
	Expiration time.Time // when the storage stops sending unless renewed
}

// ChangeWatcher is implemented by connectors whose changes feed can push
// notifications to an https address (Drive changes.watch). A notification
// only says that the feed moved: the receiver reads it with
// Changer.Changes.
type ChangeWatcher interface {
	// WatchChanges opens a channel that POSTs to address whenever the
	// changes feed after cursor moves; token is echoed in every
	// notification (X-Goog-Channel-Token) so the receiver can check it.
	// ttl is the wished lifetime; the storage may shorten it (Drive keeps
	// a changes channel at most a week) and Channel.Expiration says what
	// it granted. A channel ID in use already is ErrExists.
	WatchChanges(ctx context.Context, cursor, address, channelID, token string, ttl time.Duration) (Channel, error)
	// StopChannel stops a channel; a channel already gone is not an error.
	StopChannel(ctx context.Context, ch Channel) error
}

// SortedScanner is implemented by connectors that can list entries in
// strictly increasing byte order of Entry.Path, with folders compared as
// "path/" (so a folder sorts immediately before its contents). The sync
// engine merge-joins such a stream against the catalog sorted the same way,
// in constant memory.
type SortedScanner interface {
	ScanSorted(ctx context.Context, emit func(Entry) error) error
}

// SubtreeScanner is implemented by path-identified connectors (S3, local
// folders) that can list one folder's subtree alone, in ScanSorted's order:
// a live sync re-reads only the paths that changed.
type SubtreeScanner interface {
	// ScanSortedUnder streams every file and folder under the folder at
	// the root-relative path dir (dir itself excluded) in strictly
	// increasing storage.SortKey order. A dir that is not a folder lists
	// nothing, or fails with an error classified as ErrNotFound.
	ScanSortedUnder(ctx context.Context, dir string, emit func(Entry) error) error
}

// Hasher is implemented by connectors that can compute a content hash on
// demand (local folders), used to confirm move candidates.
type Hasher interface {
	Hash(ctx context.Context, path string) (string, error)
}

// SortKey returns the key entries are ordered by in a sorted scan: the path,
// with a trailing "/" for folders.
func SortKey(path string, isDir bool) string {
	if isDir {
		return path + "/"
	}
	return path
}
