package gdrive

import (
	"strings"
	"time"

	"google.golang.org/api/drive/v3"

	"github.com/shelf-dam/shelf/internal/storage"
)

// Drive allows "/" and "\" in names; paths show them as the full-width
// "／" and "＼" so a name stays one path element.
var (
	nameToPath = strings.NewReplacer("/", "／", `\`, "＼")
)

// pathName returns the path element for a Drive name, and false when the
// name cannot be one (".", "..", control characters, over-long): such items
// are skipped with a warning.
func pathName(name string) (string, bool) {
	el := nameToPath.Replace(name)
	if storage.CheckName(el) != nil {
		return "", false
	}
	return el, true
}

// isNative reports whether a MIME type is a Google-native item without
// downloadable content (Docs, Sheets, ..., shortcuts).
func isNative(mime string) bool {
	return strings.HasPrefix(mime, nativePrefix) && mime != folderMIME
}

// toEntry converts a Drive file under a folder at parentPath into an Entry.
// parentID is "" for the root's children.
func toEntry(f *drive.File, parentID, parentPath, name string) storage.Entry {
	e := storage.Entry{
		ID:       f.Id,
		ParentID: parentID,
		Path:     storage.Join(parentPath, name),
		Name:     name,
		IsDir:    f.MimeType == folderMIME,
		Size:     f.Size,
		ETag:     f.Md5Checksum,
		MIME:     f.MimeType,
		Native:   isNative(f.MimeType),
	}
	if e.Native {
		e.Size = -1
		e.ETag = ""
	}
	if e.IsDir {
		e.Size = 0
	}
	if t, err := time.Parse(time.RFC3339Nano, f.ModifiedTime); err == nil {
		e.ModTime = t
	}
	return e
}

// firstParent returns a file's parent (Drive items have exactly one).
func firstParent(f *drive.File) string {
	if len(f.Parents) == 0 {
		return ""
	}
	return f.Parents[0]
}

// escapeQuery quotes a value for a Drive query string.
func escapeQuery(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
