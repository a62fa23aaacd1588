package library

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/embedmeta"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/storage"
)

// MetadataWriter writes team metadata into files (embedmeta.Exiftool).
type MetadataWriter interface {
	Available() bool
	WriteEmbedded(ctx context.Context, file string, v embedmeta.Values) error
	WriteSidecar(ctx context.Context, file string, v embedmeta.Values) error
	// Read returns what a file (or an XMP sidecar) says, to spell a
	// background write-back's keywords as the file does.
	Read(ctx context.Context, file string) (embedmeta.Meta, error)
}

// maxWriteBackBytes bounds the file a write-back downloads, rewrites and
// uploads again.
const maxWriteBackBytes = 2 << 30

// writesFileMeta reports whether an edit changes a field Shelf writes
// into files.
func writesFileMeta(m catalog.MetadataUpdate) bool {
	return m.Title != nil || m.Description != nil || m.Tags != nil || len(m.AddTags)+len(m.RemoveTags) > 0 || m.Rating != nil
}

// updateMetaWritingBack is UpdateMeta for an account with
// write_metadata_to_files: the edit goes into the storage first (the file's
// embedded XMP, or its XMP sidecar), under a write intent, then into the
// catalog with the written file's new fingerprint. When the file cannot
// be written the edit is kept in the catalog alone and the reason is
// recorded on the asset (shown on its page); a sync holding the lock
// refuses the whole edit (423).
func (s *Service) updateMetaWritingBack(ctx context.Context, accountID, userID int64, a catalog.Asset, patch catalog.MetadataUpdate) (catalog.Asset, error) {
	out, err := s.writeBack(ctx, accountID, userID, a, &patch)
	if refused(err) {
		return catalog.Asset{}, err // the edit as a whole is refused
	}
	if err != nil {
		return s.keepEditOnly(ctx, accountID, userID, a.ID, patch, writeFailureText(err))
	}
	s.publish(ctx, accountID, notify.AssetUpdated, assetPayload(out, userID, ""))
	return out, nil
}

// refused reports a write-back error that refuses the edit as a whole (the
// library is locked, the file is being changed, it is gone) rather than a
// file that cannot take the metadata.
func refused(err error) bool {
	var le *Error
	return errors.Is(err, ErrLocked) || errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrDeferred) ||
		errors.As(err, &le) && le.Kind == ErrInvalid
}

// WriteCurrentMetadata writes an asset's current title, description, tags
// and rating into its file (or sidecar), as a background write-back does:
// nothing is edited. A file that cannot take them gets the reason recorded
// on the asset and returned; refusals of the whole write (locked, busy,
// gone) are returned as they are.
func (s *Service) WriteCurrentMetadata(ctx context.Context, accountID, userID, assetID int64) error {
	a, err := s.cfg.Catalog.GetAsset(ctx, accountID, assetID)
	if err != nil {
		return fromCatalog(err, fmt.Sprintf("Asset %d", assetID))
	}
	out, err := s.writeBack(ctx, accountID, userID, a, nil)
	if err == nil {
		s.publish(ctx, accountID, notify.AssetUpdated, assetPayload(out, userID, ""))
		return nil
	}
	if !refused(err) {
		if rerr := s.cfg.Catalog.SetMetadataWriteError(ctx, accountID, assetID, writeFailureText(err), s.cfg.Now()); rerr != nil {
			s.cfg.Logger.Warn("recording a write-back failure failed", slog.Int64("asset_id", assetID), slog.String("error", rerr.Error()))
		}
	}
	return err
}

// shelfFields is the patch a background write-back writes into an asset's
// file: the fields whose value is the team's (edited in Shelf, or there
// before the file's metadata was first read), never one the file itself
// gave (the catalog keeps those lower-cased or shortened).
func (s *Service) shelfFields(ctx context.Context, a catalog.Asset) (catalog.MetadataUpdate, error) {
	facts, err := s.cfg.Catalog.GetFileFacts(ctx, a.AccountID, a.ID)
	if err != nil {
		return catalog.MetadataUpdate{}, fromCatalog(err, fmt.Sprintf("The file metadata of asset %d", a.ID))
	}
	team := func(field string, has bool) bool {
		if src, ok := facts.Sources[field]; ok {
			return src.Source == catalog.SourceShelf
		}
		return has
	}
	var m catalog.MetadataUpdate
	if team(catalog.FieldTitle, a.Title != "") {
		m.Title = &a.Title
	}
	if team(catalog.FieldDescription, a.Description != "") {
		m.Description = &a.Description
	}
	if team(catalog.FieldTags, len(a.Tags) > 0) {
		tags := slices.Clone(a.Tags)
		m.Tags = &tags
	}
	if team(catalog.FieldRating, a.Rating != 0) {
		m.Rating = &a.Rating
	}
	return m, nil
}

// writeBack writes patch into the asset's file or sidecar, then commits
// it (as a team edit) with the written file's fingerprint. A nil patch is
// a background write-back: the asset's team fields as they are under the
// write's claim (shelfFields), nothing edited, keywords spelled as the
// file spells them. An error either refuses the write (refused) or says
// why the file cannot take it.
func (s *Service) writeBack(ctx context.Context, accountID, userID int64, a catalog.Asset, patch *catalog.MetadataUpdate) (catalog.Asset, error) {
	target := embedmeta.WriteTarget(a.Name, a.MIME)
	var reason string
	switch {
	case s.cfg.Meta == nil || !s.cfg.Meta.Available():
		reason = "exiftool is not installed on the server (Debian: libimage-exiftool-perl); an operator can install it."
	case a.Native:
		reason = "Google documents carry no file metadata."
	case target == "":
		reason = fmt.Sprintf("Shelf writes metadata into JPEG, PNG, TIFF, PDF and DNG files and into sidecars of RAW files and videos, not into %s files.", strings.TrimPrefix(path.Ext(a.Name), "."))
	case a.Size > maxWriteBackBytes:
		reason = fmt.Sprintf("The file is larger than %d GiB, the limit for writing metadata into it.", maxWriteBackBytes>>30)
	}
	if reason != "" {
		return catalog.Asset{}, errors.New(reason)
	}
	sidecarPath, _, err := s.sidecarFor(ctx, a, target)
	if err != nil {
		return catalog.Asset{}, err
	}
	claim := []string{a.Path}
	if sidecarPath != "" {
		claim = append(claim, sidecarPath)
	}
	w, err := s.begin(ctx, accountID, userID, "write_metadata", catalog.PathClaim{Paths: claim})
	if err != nil {
		return catalog.Asset{}, err
	}
	defer w.end(ctx)
	// Under the claim: the asset and its sidecar as they are now (a sync
	// or an edit may have changed them since the look-up above).
	cur, err := s.cfg.Catalog.GetAsset(ctx, accountID, a.ID)
	if err != nil {
		return catalog.Asset{}, fromCatalog(err, fmt.Sprintf("Asset %d", a.ID))
	}
	if err := unmoved(fmt.Sprintf("The file %q", a.Path), a.Path, cur.Path); err != nil {
		return catalog.Asset{}, err
	}
	nowPath, sidecar, err := s.sidecarFor(ctx, cur, target)
	if err != nil {
		return catalog.Asset{}, err
	}
	if err := unmoved(fmt.Sprintf("The sidecar %q", sidecarPath), sidecarPath, nowPath); err != nil {
		return catalog.Asset{}, err
	}
	edit := patch != nil
	if !edit {
		m, err := s.shelfFields(ctx, cur)
		if err != nil {
			return catalog.Asset{}, err
		}
		if !writesFileMeta(m) {
			return cur, nil // nothing of the team's to write
		}
		patch = &m
	}
	written, err := s.writeFileMeta(ctx, w, cur, *patch, target, sidecarPath, sidecar, !edit)
	if err != nil {
		return catalog.Asset{}, err
	}
	out, err := s.cfg.Catalog.CommitMetadataWrite(ctx, accountID, w.intentID, a.ID, *patch, edit, written, s.cfg.Now())
	if err != nil {
		return catalog.Asset{}, afterStorage(err, fmt.Sprintf("Writing metadata into %q", a.Path))
	}
	return out, nil
}

// errWriteRefused marks a file the tool could not write (corrupt,
// unsupported inside): the edit is kept in the catalog.
var errWriteRefused = errors.New("the file could not be written")

// writeFailureText is the reason shown on the asset.
func writeFailureText(err error) string {
	var le *Error
	if errors.As(err, &le) {
		return le.Message
	}
	return err.Error()
}

// keepEditOnly saves the edit in the catalog alone and records why it was
// not written into the file.
func (s *Service) keepEditOnly(ctx context.Context, accountID, userID, assetID int64, patch catalog.MetadataUpdate, reason string) (catalog.Asset, error) {
	a, err := s.cfg.Catalog.UpdateAssetMetadata(ctx, accountID, assetID, patch, s.cfg.Now())
	if err != nil {
		return catalog.Asset{}, fromCatalog(err, fmt.Sprintf("Asset %d", assetID))
	}
	if err := s.cfg.Catalog.SetMetadataWriteError(ctx, accountID, assetID, reason, s.cfg.Now()); err != nil {
		s.cfg.Logger.Warn("recording a write-back failure failed", slog.Int64("asset_id", assetID), slog.String("error", err.Error()))
	}
	s.publish(ctx, accountID, notify.AssetUpdated, assetPayload(a, userID, ""))
	return a, nil
}

// sidecarFor finds where a sidecar-written asset's metadata goes: its
// existing sidecar (name.ext.xmp or name.xmp), else a new name.xmp
// (Lightroom's naming). "" for files written in place.
func (s *Service) sidecarFor(ctx context.Context, a catalog.Asset, target string) (string, *catalog.Asset, error) {
	if target != "sidecar" {
		return "", nil, nil
	}
	names := []string{a.Name + ".xmp", strings.TrimSuffix(a.Name, path.Ext(a.Name)) + ".xmp"}
	found, err := s.cfg.Catalog.ListFolderAssetsByName(ctx, a.AccountID, a.FolderID, names, "")
	if err != nil {
		return "", nil, fromCatalog(err, "Looking for the file's sidecar")
	}
	for _, n := range names {
		for _, f := range found {
			if strings.EqualFold(f.Name, n) {
				return f.Path, &f, nil
			}
		}
	}
	return storage.Join(storage.Dir(a.Path), names[1]), nil, nil
}

// writeFileMeta downloads the file (or its sidecar), writes the edit into
// it with exiftool and puts it back in the storage, and returns what was
// written.
//
// fileCasing (a background write-back of the catalog's lower-cased tags)
// spells every keyword the file has already, ignoring case, as the file
// spells it.
func (s *Service) writeFileMeta(ctx context.Context, w *write, a catalog.Asset, patch catalog.MetadataUpdate, target, sidecarPath string, sidecar *catalog.Asset, fileCasing bool) (catalog.WrittenFile, error) {
	v := embedmeta.Values{Title: patch.Title, Description: patch.Description, Tags: patch.Tags, Rating: patch.Rating}
	if v.Title != nil {
		t := strings.TrimSpace(*v.Title)
		v.Title = &t
	}
	if v.Tags != nil {
		// As the team typed them (the catalog keeps them lower-cased),
		// trimmed, without blanks and repeats.
		tags := make([]string, 0, len(*v.Tags))
		for _, t := range *v.Tags {
			if t = strings.TrimSpace(t); t != "" && !slices.ContainsFunc(tags, func(u string) bool { return strings.EqualFold(t, u) }) {
				tags = append(tags, t)
			}
		}
		v.Tags = &tags
	}
	src, ext := a.Path, path.Ext(a.Name)
	if target == "sidecar" {
		src, ext = sidecarPath, ".xmp"
	}
	tmp, err := os.MkdirTemp(s.cfg.TempDir, "shelf-writeback-*")
	if err != nil {
		return catalog.WrittenFile{}, fmt.Errorf("creating a temporary folder for the write-back failed (check the data directory is writable): %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	file := tmp + "/file" + strings.ToLower(ext)
	// Never overwrite a change made in the storage since the last sync:
	// the file written must be the version the catalog knows.
	known := &a
	if target == "sidecar" {
		known = sidecar
	}
	var before storage.Entry
	if known != nil {
		before, err = w.conn.Stat(ctx, known.Path)
		if err != nil {
			return catalog.WrittenFile{}, fromStorage(err, fmt.Sprintf("Looking at %q before writing metadata into it", known.Path))
		}
		if factsDiffer(w.conn.Kind(), *known, before) {
			return catalog.WrittenFile{}, fmt.Errorf("%w: %q changed in the storage since the last sync; sync, then save again", errWriteRefused, known.Path)
		}
	}
	if target == "embedded" || sidecar != nil {
		if err := download(ctx, w.conn, src, file); err != nil {
			return catalog.WrittenFile{}, err
		}
		if fileCasing && v.Tags != nil {
			// A file whose keywords cannot be read gets the catalog's
			// spelling: the write itself says what is wrong with it.
			if m, err := s.cfg.Meta.Read(ctx, file); err == nil {
				tags := inFileCasing(*v.Tags, m.Tags)
				v.Tags = &tags
			}
		}
	}
	if target == "sidecar" {
		err = s.cfg.Meta.WriteSidecar(ctx, file, v)
	} else {
		err = s.cfg.Meta.WriteEmbedded(ctx, file, v)
	}
	if err != nil {
		return catalog.WrittenFile{}, fmt.Errorf("%w: %v", errWriteRefused, err)
	}
	f, err := os.Open(file)
	if err != nil {
		return catalog.WrittenFile{}, fmt.Errorf("reading the rewritten file failed: %w", err)
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return catalog.WrittenFile{}, fmt.Errorf("reading the rewritten file failed: %w", err)
	}
	mime := a.MIME
	if target == "sidecar" {
		mime = "application/rdf+xml"
		if sidecar != nil {
			mime = sidecar.MIME
		}
	}
	var e storage.Entry
	if known == nil {
		e, err = w.conn.Create(ctx, src, f, st.Size(), mime)
	} else {
		// A version saved in the storage while the copy was downloaded
		// and rewritten must not be replaced by the old content.
		if err := unchangedSince(ctx, w.conn, known.Path, before); err != nil {
			return catalog.WrittenFile{}, err
		}
		e, err = w.conn.Put(ctx, src, f, st.Size(), mime)
	}
	if known == nil && errors.Is(err, storage.ErrExists) {
		// A sidecar saved in the storage that no sync has brought in yet:
		// never replaced unseen; the edit stays in the catalog.
		return catalog.WrittenFile{}, fmt.Errorf("%w: a sidecar %q is in the storage but not yet in Shelf; sync, then save again", errWriteRefused, src)
	}
	if err != nil {
		return catalog.WrittenFile{}, fromStorage(err, fmt.Sprintf("Writing metadata into %q", src))
	}
	wf := catalog.WrittenFile{Sidecar: target == "sidecar", FolderID: a.FolderID, StorageID: e.ID, Name: storage.Base(src),
		Size: storedSize(e.Size), ETag: e.ETag, ModTime: storedTime(e.ModTime), MIME: e.MIME}
	return wf, nil
}

// errChangedMeanwhile is a write-back that found a new version of the file
// in the storage right before putting the rewritten copy back.
var errChangedMeanwhile = fmt.Errorf("%w: the file changed in the storage meanwhile; sync, then save again", errWriteRefused)

// unchangedSince looks at the file again right before it is replaced and
// refuses when its size, fingerprint or time moved since before.
func unchangedSince(ctx context.Context, conn storage.Connector, p string, before storage.Entry) error {
	now, err := conn.Stat(ctx, p)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return errChangedMeanwhile
		}
		return fromStorage(err, fmt.Sprintf("Looking at %q before writing metadata into it", p))
	}
	if now.Size != before.Size || now.ETag != before.ETag || !now.ModTime.Equal(before.ModTime) || now.ID != before.ID {
		return errChangedMeanwhile
	}
	return nil
}

// inFileCasing returns tags with each one the file has (ignoring case)
// spelled as the file spells it.
func inFileCasing(tags, file []string) []string {
	out := slices.Clone(tags)
	for i, t := range out {
		for _, k := range file {
			if strings.EqualFold(strings.TrimSpace(k), t) {
				out[i] = strings.TrimSpace(k)
				break
			}
		}
	}
	return out
}

// download copies a storage file into a local file.
func download(ctx context.Context, conn storage.Connector, from, to string) error {
	rc, err := conn.Open(ctx, from)
	if err != nil {
		return fromStorage(err, fmt.Sprintf("Reading %q to write metadata into it", from))
	}
	defer func() { _ = rc.Close() }()
	f, err := os.Create(to)
	if err != nil {
		return fmt.Errorf("creating the temporary copy failed: %w", err)
	}
	if _, err := io.Copy(f, io.LimitReader(rc, maxWriteBackBytes+1)); err != nil {
		_ = f.Close()
		return fromStorage(err, fmt.Sprintf("Reading %q to write metadata into it", from))
	}
	return f.Close()
}
