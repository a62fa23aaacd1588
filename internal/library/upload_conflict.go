package library

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/storage"
)

// OnConflict says what an upload does when its name is already taken in
// the folder.
type OnConflict string

// The conflict modes of an upload.
const (
	// ConflictFail refuses the upload with ErrConflict (the default).
	ConflictFail OnConflict = "fail"
	// ConflictReplace writes the new content over the existing file: the
	// asset keeps its id and team metadata (title, tags, …); only its file
	// facts change and its preview is made again. A folder of that name
	// is never replaced.
	ConflictReplace OnConflict = "replace"
	// ConflictKeepBoth stores the upload under the next free name:
	// "photo.jpg" becomes "photo (2).jpg", then "photo (3).jpg", …
	ConflictKeepBoth OnConflict = "keep_both"
	// ConflictSkip stores nothing and reports the upload skipped.
	ConflictSkip OnConflict = "skip"
)

// ParseOnConflict reads a conflict mode; "" is ConflictFail.
func ParseOnConflict(v string) (OnConflict, error) {
	switch m := OnConflict(v); m {
	case "":
		return ConflictFail, nil
	case ConflictFail, ConflictReplace, ConflictKeepBoth, ConflictSkip:
		return m, nil
	}
	return "", newError(ErrInvalid, nil, "on_conflict %q is not known; use fail, replace, keep_both or skip.", v)
}

// Outcomes of an upload.
const (
	OutcomeCreated  = "created"  // stored under its own name
	OutcomeRenamed  = "renamed"  // stored under the next free name (keep both)
	OutcomeReplaced = "replaced" // written over the existing file
	OutcomeSkipped  = "skipped"  // the name was taken; nothing stored
)

// UploadResult is what an upload did. Asset is the stored asset; for a
// skipped upload, the asset already there (zero when the library does not
// hold it yet).
type UploadResult struct {
	Outcome string
	Asset   catalog.Asset
}

// ErrNameTaken is the cause of an ErrConflict whose reason is that the
// name is taken (in the storage or the library), as opposed to another
// change of the same path being in progress.
var ErrNameTaken = errors.New("the name is taken")

// IsNameTaken reports whether err is a conflict because the name is taken:
// an upload with another conflict mode would resolve it.
func IsNameTaken(err error) bool {
	return errors.Is(err, ErrConflict) && (errors.Is(err, ErrNameTaken) || errors.Is(err, storage.ErrExists))
}

// maxKeepBothTries bounds the numbered names a keep-both upload tries.
const maxKeepBothTries = 200

// UploadAs is Upload with a conflict mode for a name that is taken.
func (s *Service) UploadAs(ctx context.Context, accountID, userID int64, folderID *int64, name string,
	r io.Reader, size int64, mimeType string, mode OnConflict) (UploadResult, error) {
	if err := checkName(name); err != nil {
		return UploadResult{}, err
	}
	dir, err := s.folderPath(ctx, accountID, folderID)
	if err != nil {
		return UploadResult{}, err
	}
	up := &upload{accountID: accountID, userID: userID, folderID: folderID, dir: dir, r: r, size: size, mime: mimeType, mode: mode}
	if mode != ConflictKeepBoth {
		return s.uploadTo(ctx, up, name)
	}
	given := name
	stem, ext, n := numbered(name)
	for range maxKeepBothTries {
		res, err := s.uploadTo(ctx, up, name)
		// Taken, or being written by another upload right now: the next
		// number. The content has not been read yet. Any other conflict
		// (the folder moved or claimed as a whole) is the answer.
		if err == nil || !nameInUse(err, storage.Join(up.dir, name)) || up.started {
			if err == nil && res.Outcome == OutcomeCreated && name != given {
				res.Outcome = OutcomeRenamed
			}
			return res, err
		}
		n++
		name = stem + " (" + strconv.Itoa(n) + ")" + ext
		if err := checkName(name); err != nil {
			return UploadResult{}, err
		}
	}
	return UploadResult{}, newError(ErrConflict, ErrNameTaken, "%d files named like %q are already in %q; rename the file before uploading it.",
		maxKeepBothTries, stem+ext, "/"+dir)
}

// nameInUse reports whether err refuses a write of p because the name is
// taken or claimed by another change of p itself (or of what is under p):
// the next name would do. A claim on a folder around p is not about the
// name.
func nameInUse(err error, p string) bool {
	if IsNameTaken(err) {
		return true
	}
	var busy *catalog.PathBusyError
	return errors.Is(err, ErrConflict) && errors.As(err, &busy) &&
		(busy.Path == p || strings.HasPrefix(busy.Path, p+"/"))
}

// upload is one file being uploaded.
type upload struct {
	accountID, userID int64
	folderID          *int64
	dir               string
	r                 io.Reader
	size              int64
	mime              string
	mode              OnConflict
	// started is set once the content is being sent to the storage: the
	// upload can no longer try another name.
	started bool
}

// numberedName matches "stem (N)".
var numberedName = regexp.MustCompile(`^(.*) \(([0-9]{1,6})\)$`)

// numbered splits a name into its stem, extension and number:
// "photo (3).jpg" is ("photo", ".jpg", 3), "photo.jpg" ("photo", ".jpg",
// 1). A name starting with a dot (".env") has no extension.
func numbered(name string) (stem, ext string, n int) {
	ext = path.Ext(name)
	stem = strings.TrimSuffix(name, ext)
	if stem == "" {
		stem, ext = name, ""
	}
	if m := numberedName.FindStringSubmatch(stem); m != nil && m[1] != "" {
		if v, err := strconv.Atoi(m[2]); err == nil && v >= 2 {
			return m[1], ext, v
		}
	}
	return stem, ext, 1
}

// uploadTo uploads up under name, under a write intent claiming the path,
// applying up.mode when the name is taken (ConflictKeepBoth: the taken
// name's ErrConflict, for the caller to try the next).
func (s *Service) uploadTo(ctx context.Context, up *upload, name string) (UploadResult, error) {
	p := storage.Join(up.dir, name)
	what := fmt.Sprintf("Uploading %q", p)
	w, err := s.begin(ctx, up.accountID, up.userID, "upload", catalog.PathClaim{Paths: []string{p}})
	if err != nil {
		return UploadResult{}, err
	}
	defer w.end(ctx)
	if err := s.folderUnmoved(ctx, up.accountID, up.folderID, up.dir); err != nil {
		return UploadResult{}, err
	}
	outcome := OutcomeCreated
	if taken := w.checkFree(ctx, p, what); taken != nil {
		switch {
		case !IsNameTaken(taken) || up.mode == ConflictFail || up.mode == ConflictKeepBoth:
			return UploadResult{}, taken
		case up.mode == ConflictSkip:
			return UploadResult{Outcome: OutcomeSkipped, Asset: w.existing(ctx, p)}, nil
		}
		if err := w.replaceable(ctx, p, what); err != nil {
			return UploadResult{}, err
		}
		outcome = OutcomeReplaced
	}
	up.started = true
	var e storage.Entry
	if outcome == OutcomeReplaced {
		e, err = w.conn.Put(ctx, p, up.r, up.size, up.mime)
	} else {
		e, err = w.conn.Create(ctx, p, up.r, up.size, up.mime)
	}
	if err != nil {
		return UploadResult{}, fromStorage(err, what)
	}
	a, err := s.cfg.Catalog.PutUploadedAsset(ctx, up.accountID, w.intentID, assetFromEntry(up.folderID, e), s.cfg.Now())
	if err != nil {
		return UploadResult{}, afterStorage(err, fmt.Sprintf("The file %q", p))
	}
	s.checkPlaced(up.accountID, a.Path, e.Path)
	s.enqueueThumb(ctx, up.accountID, a.ID)
	event := notify.AssetCreated
	if outcome == OutcomeReplaced {
		event = notify.AssetUpdated
	}
	s.publish(ctx, up.accountID, event, assetPayload(a, up.userID, ""))
	return UploadResult{Outcome: outcome, Asset: a}, nil
}

// replaceable checks, under the write's claim, that what is at path is a
// file an upload may write over: not a folder, in the storage or the
// library.
func (w *write) replaceable(ctx context.Context, p, what string) error {
	e, err := w.conn.Stat(ctx, p)
	switch {
	case err == nil && e.IsDir:
		return newError(ErrConflict, ErrNameTaken, "%s: a folder named %q is there, and a file never replaces a folder; choose another name.", what, storage.Base(p))
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return fromStorage(err, what)
	}
	if _, err := w.s.cfg.Catalog.GetFolderByPath(ctx, w.account, p); err == nil {
		return newError(ErrConflict, ErrNameTaken, "%s: a folder named %q is in the library there, and a file never replaces a folder; choose another name.", what, storage.Base(p))
	} else if !errors.Is(err, catalog.ErrNotFound) {
		return fromCatalog(err, what)
	}
	return nil
}

// existing returns the library's asset for the file at path, or a zero
// Asset when the library does not hold it (yet).
func (w *write) existing(ctx context.Context, p string) catalog.Asset {
	e, err := w.conn.Stat(ctx, p)
	if err != nil || e.IsDir {
		return catalog.Asset{}
	}
	a, err := w.s.cfg.Catalog.GetAssetByStorageID(ctx, w.account, e.ID)
	if err != nil {
		return catalog.Asset{}
	}
	return a
}
