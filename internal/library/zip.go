package library

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// DefaultZipMaxBytes is the default limit on the bytes of one zip download
// (the sum of the files' sizes in the library).
const DefaultZipMaxBytes int64 = 4 << 30

// ZipReportName is the entry that lists, inside a zip, the selected files
// that are not in it and why.
const ZipReportName = "NOT-INCLUDED.txt"

// Zip is a download of many files as one zip archive, checked and ready to
// stream: PlanZip refuses what would go over the limits before anything
// is sent, Write then streams each file from the storage into the archive
// as it reads it (no copy of the archive is kept anywhere).
type Zip struct {
	conn     storage.Connector
	maxBytes int64
	files    []zipFile
	// Skipped lists the selected files left out (unknown to this library,
	// Google documents without a file, unreadable), with why.
	Skipped []ZipSkip
	// Bytes is the sum of the included files' sizes in the library.
	Bytes int64
}

type zipFile struct {
	asset catalog.Asset
	name  string // unique in the archive
}

// ZipSkip is a selected file left out of a zip.
type ZipSkip struct {
	AssetID int64
	Name    string // the file's name; "" when not in this library
	Reason  string
}

// Files is the number of files the zip holds (before any fails to read).
func (z *Zip) Files() int { return len(z.files) }

// PlanZip checks a zip download of the assets ids of the account: at most
// MaxBulk files and maxBytes bytes (0: DefaultZipMaxBytes), else
// ErrTooLarge; ids unknown to this account's library are left out (and
// listed in the archive), none found is ErrNotFound. It opens the
// account's storage, so a storage that cannot be opened fails here, before
// any byte is sent.
func (s *Service) PlanZip(ctx context.Context, accountID int64, ids []int64, maxBytes int64) (*Zip, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultZipMaxBytes
	}
	if len(ids) > MaxBulk {
		return nil, newError(ErrTooLarge, nil, "%d files selected; a zip may hold at most %d. Select fewer and download in parts.", len(ids), MaxBulk)
	}
	ids, err := CheckBulkIDs(ids)
	if err != nil {
		return nil, err
	}
	z := &Zip{maxBytes: maxBytes}
	names := map[string]bool{}
	for _, id := range ids {
		a, err := s.cfg.Catalog.GetAsset(ctx, accountID, id)
		switch {
		case errors.Is(err, catalog.ErrNotFound):
			z.Skipped = append(z.Skipped, ZipSkip{AssetID: id, Reason: "not in this library (removed, or never here)"})
			continue
		case err != nil:
			return nil, fromCatalog(err, fmt.Sprintf("Asset %d", id))
		case a.Native:
			z.Skipped = append(z.Skipped, ZipSkip{AssetID: id, Name: a.Name, Reason: "a Google document without a downloadable file; open it in Google Drive"})
			continue
		}
		z.files = append(z.files, zipFile{asset: a, name: uniqueName(names, a.Name)})
		z.Bytes += a.Size
	}
	if len(z.files) == 0 {
		return nil, newError(ErrNotFound, nil, "None of the %d selected files can be downloaded: %s.", len(ids), z.Skipped[0].Reason)
	}
	if z.Bytes > maxBytes {
		return nil, newError(ErrTooLarge, nil, "The %d selected files hold %s; a zip may hold at most %s. Select fewer and download in parts.",
			len(z.files), humanBytes(z.Bytes), humanBytes(maxBytes))
	}
	z.conn, err = s.cfg.Connect(ctx, accountID)
	if err != nil {
		return nil, newError(ErrStorage, err, "The storage of this library cannot be opened (%v); an admin can check it in Settings → Storage.", err)
	}
	return z, nil
}

// Write streams the archive to w, each file read from the storage as it
// is written. A file that cannot be opened is left out and listed in the
// archive's NOT-INCLUDED.txt. An error returned means the archive is
// incomplete (a file broke off while being read, the files grew past the
// byte limit since the last sync, or w failed): the caller must not let
// it pass for a whole archive (an HTTP handler aborts the response).
func (z *Zip) Write(ctx context.Context, w io.Writer) error {
	zw := zip.NewWriter(w)
	left := z.maxBytes
	for _, f := range z.files {
		n, err := z.writeFile(ctx, zw, f, left)
		if errors.Is(err, errUnreadable) {
			z.Skipped = append(z.Skipped, ZipSkip{AssetID: f.asset.ID, Name: f.asset.Name, Reason: err.Error()})
			continue
		}
		if err != nil {
			return err
		}
		left -= n
	}
	if len(z.Skipped) > 0 {
		if err := z.writeReport(zw); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("finishing the zip: %w", err)
	}
	return nil
}

// errUnreadable marks a file that could not be opened in the storage.
var errUnreadable = errors.New("unreadable")

type unreadableError struct{ msg string }

func (e unreadableError) Error() string        { return e.msg }
func (e unreadableError) Is(target error) bool { return target == errUnreadable }

func (z *Zip) writeFile(ctx context.Context, zw *zip.Writer, f zipFile, left int64) (int64, error) {
	rc, err := z.conn.Open(ctx, f.asset.Path)
	if err != nil {
		return 0, unreadableError{msg: "could not be read from the storage (" + storageWords(err) + ")"}
	}
	defer rc.Close()
	h := &zip.FileHeader{Name: f.name, Method: zipMethod(f.asset.MIME)}
	if f.asset.ModTime != nil {
		h.Modified = *f.asset.ModTime
	} else {
		h.Modified = time.Now()
	}
	ew, err := zw.CreateHeader(h)
	if err != nil {
		return 0, fmt.Errorf("adding %q to the zip: %w", f.name, err)
	}
	n, err := io.Copy(ew, io.LimitReader(rc, left+1))
	switch {
	case err != nil:
		return n, fmt.Errorf("reading %q from the storage stopped after %d bytes: %w", f.asset.Path, n, err)
	case n > left:
		return n, fmt.Errorf("the files grew past the zip limit of %s since the last sync", humanBytes(z.maxBytes))
	}
	return n, nil
}

func (z *Zip) writeReport(zw *zip.Writer) error {
	ew, err := zw.CreateHeader(&zip.FileHeader{Name: ZipReportName, Method: zip.Deflate, Modified: time.Now()})
	if err != nil {
		return fmt.Errorf("adding the report to the zip: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d selected file(s) are not in this zip:\r\n\r\n", len(z.Skipped))
	for _, s := range z.Skipped {
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("asset %d", s.AssetID)
		}
		fmt.Fprintf(&b, "%s: %s\r\n", name, s.Reason)
	}
	_, err = io.WriteString(ew, b.String())
	return err
}

// storageWords is a storage failure in a few words, for the report.
func storageWords(err error) string {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return "it is no longer there; the next sync removes it from the library"
	case errors.Is(err, storage.ErrPermission), errors.Is(err, storage.ErrAuth):
		return "the storage refused access"
	}
	return "the storage failed"
}

// zipMethod stores media (already compressed) as they are and deflates the
// rest.
func zipMethod(mimeType string) uint16 {
	for _, p := range []string{"image/", "video/", "audio/", "application/zip", "application/pdf"} {
		if strings.HasPrefix(mimeType, p) && mimeType != "image/svg+xml" && mimeType != "image/bmp" {
			return zip.Store
		}
	}
	return zip.Deflate
}

// uniqueName is name, or "name (2).ext", "name (3).ext"… when an earlier
// file took it (in any case: archives are unpacked on case-insensitive
// file systems too). The archive's own report name is never taken.
func uniqueName(taken map[string]bool, name string) string {
	if len(taken) == 0 {
		taken[strings.ToLower(ZipReportName)] = true
	}
	stem, ext := name, ""
	if dot := strings.LastIndexByte(name, '.'); dot > 0 {
		stem, ext = name[:dot], name[dot:]
	}
	out := name
	for i := 2; taken[strings.ToLower(out)]; i++ {
		out = fmt.Sprintf("%s (%d)%s", stem, i, ext)
	}
	taken[strings.ToLower(out)] = true
	return out
}

// humanBytes is a byte count for people, in the decimal units the
// library page shows sizes in.
func humanBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d bytes", n)
}
