package embedmeta

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"strings"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// Catalog is the part of the catalog the metadata reader uses.
type Catalog interface {
	GetAsset(ctx context.Context, accountID, assetID int64) (catalog.Asset, error)
	ListFileMetaPending(ctx context.Context, accountID, afterID int64, limit int) ([]catalog.Asset, error)
	ListFolderAssetsByName(ctx context.Context, accountID int64, folderID *int64, names []string, prefix string) ([]catalog.Asset, error)
	ApplyFileMeta(ctx context.Context, seen catalog.Asset, m catalog.FileMeta, now time.Time) (bool, error)
	AddLatestRunNotes(ctx context.Context, accountID int64, notes []catalog.RunNote, now time.Time) error
	RecordFileMetaFailure(ctx context.Context, seen catalog.Asset) (int, error)
}

// ConnectorFactory opens the storage connector of an account.
type ConnectorFactory func(ctx context.Context, accountID int64) (storage.Connector, error)

// Config holds a Service's dependencies.
type Config struct {
	Catalog  Catalog
	Connect  ConnectorFactory
	Exiftool Exiftool
	// TempDir holds the temporary copies exiftool reads (default: the
	// system's).
	TempDir string
	// MaxFileBytes bounds the copy of one file (default 1 GiB): the
	// embedded metadata of a larger file is not read (its sidecar is).
	MaxFileBytes int64
	Logger       *slog.Logger
	Now          func() time.Time
}

// Service reads the metadata of new and changed files into the catalog.
type Service struct{ cfg Config }

// NewService returns a Service; Catalog and Connect are required.
func NewService(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = 1 << 30
	}
	return &Service{cfg: cfg}
}

// Exiftool returns the exiftool the service uses (Path empty: absent).
func (s *Service) Exiftool() Exiftool { return s.cfg.Exiftool }

// pendingBatch is how many assets one catalog query hands the reader.
const pendingBatch = 200

// ReadPending reads the metadata of every asset of the account whose
// current version was not read yet, in id order, and attaches what was
// skipped to the account's latest sync run. A storage that cannot be
// reached ends it with an error (the job retries); bad files are noted
// and passed.
//
// It reports more when files kept changing through its passes and may
// still be pending: the job then runs again shortly.
func (s *Service) ReadPending(ctx context.Context, accountID int64) (more bool, err error) {
	conn, err := s.cfg.Connect(ctx, accountID)
	if err != nil {
		return false, fmt.Errorf("opening the storage of account %d to read file metadata failed: %w", accountID, err)
	}
	// A file a sync changes while a pass runs may lie behind the pass;
	// later passes pick it up. A pass that reads nothing means nothing is
	// pending: a sync or upload after it queues its own job.
	for range 3 {
		done, err := s.pass(ctx, conn, accountID)
		if err != nil || done == 0 {
			return false, err
		}
	}
	return true, nil
}

// ReadOne reads one asset's metadata unless its current version was read
// already, and attaches the notes to the latest sync run.
func (s *Service) ReadOne(ctx context.Context, accountID, assetID int64) error {
	a, err := s.cfg.Catalog.GetAsset(ctx, accountID, assetID)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	conn, err := s.cfg.Connect(ctx, accountID)
	if err != nil {
		return fmt.Errorf("opening the storage of account %d to read file metadata failed: %w", accountID, err)
	}
	notes, err := s.ReadAsset(ctx, conn, a)
	if err != nil {
		return err
	}
	s.addNotes(ctx, accountID, notes)
	return nil
}

// maxReadAttempts is how many reads of one version of a file may fail
// (storage errors, across the job's retries) before that version is
// recorded as read incomplete and the reader goes on without it.
const maxReadAttempts = 3

// maxFailuresInARow ends a pass early: so many files failing one after
// the other means the storage itself is failing, not a file.
const maxFailuresInARow = 5

// pass reads every pending asset once, in id order, and reports how many.
// A file that cannot be read is counted and passed (after
// maxReadAttempts it is recorded as read incomplete, with a note); the
// pass then ends with the failures joined, so the job retries.
func (s *Service) pass(ctx context.Context, conn storage.Connector, accountID int64) (int, error) {
	var after int64
	done, inARow := 0, 0
	var failures []error
	for {
		batch, err := s.cfg.Catalog.ListFileMetaPending(ctx, accountID, after, pendingBatch)
		if err != nil {
			return done, errors.Join(append(failures, err)...)
		}
		if len(batch) == 0 {
			return done, errors.Join(failures...)
		}
		done += len(batch)
		var notes []catalog.RunNote
		for _, a := range batch {
			after = a.ID
			n, err := s.ReadAsset(ctx, conn, a)
			if err == nil {
				inARow = 0
				notes = append(notes, n...)
				continue
			}
			if ctx.Err() != nil {
				return done, ctx.Err()
			}
			note, err := s.readFailed(ctx, a, err)
			if note != nil {
				notes = append(notes, *note)
			}
			if err != nil {
				failures = append(failures, err)
			}
			if inARow++; inARow >= maxFailuresInARow {
				s.addNotes(ctx, accountID, notes)
				return done, errors.Join(failures...)
			}
		}
		s.addNotes(ctx, accountID, notes)
	}
}

// readFailed counts a failed read of a's current version. Before
// maxReadAttempts it returns the failure (the job retries); at the last
// attempt the version is recorded as read incomplete (what could not be
// read keeps the last read's values) and a note for the sync run says so.
func (s *Service) readFailed(ctx context.Context, a catalog.Asset, readErr error) (*catalog.RunNote, error) {
	n, err := s.cfg.Catalog.RecordFileMetaFailure(ctx, a)
	if err != nil {
		return nil, errors.Join(readErr, err)
	}
	if n < maxReadAttempts {
		return nil, readErr
	}
	note := fmt.Sprintf("metadata not read after %d attempts: %v", n, readErr)
	if _, err := s.cfg.Catalog.ApplyFileMeta(ctx, a, catalog.FileMeta{Incomplete: true, Notes: note}, s.cfg.Now()); err != nil {
		return nil, errors.Join(readErr, fmt.Errorf("recording the metadata of %q as unread: %w", a.Path, err))
	}
	return &catalog.RunNote{Path: a.Path, Note: note}, nil
}

// addNotes attaches notes to the account's latest sync run.
func (s *Service) addNotes(ctx context.Context, accountID int64, notes []catalog.RunNote) {
	if err := s.cfg.Catalog.AddLatestRunNotes(ctx, accountID, notes, s.cfg.Now()); err != nil {
		s.cfg.Logger.Warn("recording metadata notes on the sync run failed", slog.Int64("account_id", accountID), slog.String("error", err.Error()))
	}
}

// ReadAsset reads one asset's metadata (or, for a sidecar, re-reads the
// files it describes) and returns the notes for the sync run. The error
// is a storage or catalog failure worth retrying.
func (s *Service) ReadAsset(ctx context.Context, conn storage.Connector, a catalog.Asset) ([]catalog.RunNote, error) {
	if IsSidecar(a.Name) {
		return s.readSidecarAsset(ctx, conn, a)
	}
	m, reader, err := s.readFile(ctx, conn, a)
	if err != nil {
		return nil, err
	}
	found, err := s.cfg.Catalog.ListFolderAssetsByName(ctx, a.AccountID, a.FolderID, sidecarNames(a.Name), "")
	if err != nil {
		return nil, err
	}
	sidecarPath := ""
	var sidecarTime *time.Time
	if sc, ok := pickSidecar(a.Name, found); ok {
		sm, err := s.openSidecar(ctx, conn, sc)
		if err != nil {
			return nil, err
		}
		m = m.overlay(sm)
		sidecarPath, sidecarTime = sc.Path, sc.ModTime
	}
	fm := toCatalog(m, reader, sidecarPath)
	fm.SidecarModTime = sidecarTime
	if _, err := s.cfg.Catalog.ApplyFileMeta(ctx, a, fm, s.cfg.Now()); err != nil {
		return nil, fmt.Errorf("recording the metadata of %q: %w", a.Path, err)
	}
	var notes []catalog.RunNote
	for _, n := range m.Notes {
		notes = append(notes, catalog.RunNote{Path: a.Path, Note: n})
	}
	return notes, nil
}

// readSidecarAsset marks a sidecar read and re-reads the files it
// describes; a sidecar without its file is an orphan, noted in the run.
func (s *Service) readSidecarAsset(ctx context.Context, conn storage.Connector, sc catalog.Asset) ([]catalog.RunNote, error) {
	if _, err := s.cfg.Catalog.ApplyFileMeta(ctx, sc, catalog.FileMeta{Reader: "sidecar"}, s.cfg.Now()); err != nil {
		return nil, fmt.Errorf("recording the sidecar %q: %w", sc.Path, err)
	}
	stem := base(sc.Name) // "IMG_1.CR2" of "IMG_1.CR2.xmp", "IMG_1" of "IMG_1.xmp"
	found, err := s.cfg.Catalog.ListFolderAssetsByName(ctx, sc.AccountID, sc.FolderID, []string{stem}, stem+".")
	if err != nil {
		return nil, err
	}
	var notes []catalog.RunNote
	described := 0
	for _, f := range found {
		if IsSidecar(f.Name) || !describedBy(f.Name, sc.Name) {
			continue
		}
		described++
		n, err := s.ReadAsset(ctx, conn, f)
		if err != nil {
			return nil, err
		}
		notes = append(notes, n...)
	}
	if described == 0 {
		notes = append(notes, catalog.RunNote{Path: sc.Path,
			Note: fmt.Sprintf("orphan XMP sidecar: no file %q (or %q with any extension) beside it; not imported", stem, base(stem))})
	}
	return notes, nil
}

// readFile reads the metadata embedded in an asset's content.
func (s *Service) readFile(ctx context.Context, conn storage.Connector, a catalog.Asset) (Meta, string, error) {
	var m Meta
	if a.Native || !carriesMetadata(a.Name, a.MIME) {
		return m, "", nil
	}
	if a.Size > s.cfg.MaxFileBytes {
		m.skip("file larger than %d MiB: its embedded metadata was not read", s.cfg.MaxFileBytes>>20)
		return m, "", nil
	}
	rc, err := conn.Open(ctx, a.Path)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		m.Incomplete = true // gone: the next sync removes it
		return m, "", nil
	case errors.Is(err, storage.ErrPermission):
		m.skip("the storage refused to let Shelf read the file: %v", err)
		return m, "", nil
	case err != nil:
		return m, "", fmt.Errorf("reading %q from storage for its metadata failed: %w", a.Path, err)
	}
	defer func() { _ = rc.Close() }()
	tmp, err := os.CreateTemp(s.cfg.TempDir, "shelf-meta-*"+tempExt(a.Name))
	if err != nil {
		return m, "", fmt.Errorf("creating a temporary file to read metadata failed (check the data directory is writable): %w", err)
	}
	defer func() {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
	}()
	if _, err := io.Copy(tmp, io.LimitReader(rc, s.cfg.MaxFileBytes)); err != nil {
		return m, "", fmt.Errorf("copying %q to read its metadata failed: %w", a.Path, err)
	}
	if err := tmp.Close(); err != nil {
		return m, "", fmt.Errorf("writing the temporary copy of %q failed: %w", a.Path, err)
	}
	m, reader := ReadEmbedded(ctx, s.cfg.Exiftool, tmp.Name())
	if ctx.Err() != nil {
		return m, "", ctx.Err()
	}
	return m, reader, nil
}

// openSidecar reads a sidecar asset's content.
func (s *Service) openSidecar(ctx context.Context, conn storage.Connector, sc catalog.Asset) (Meta, error) {
	rc, err := conn.Open(ctx, sc.Path)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return Meta{Incomplete: true}, nil
	case errors.Is(err, storage.ErrPermission):
		var m Meta
		m.skip("the storage refused to let Shelf read the sidecar %s: %v", sc.Name, err)
		return m, nil
	case err != nil:
		return Meta{}, fmt.Errorf("reading the sidecar %q failed: %w", sc.Path, err)
	}
	defer func() { _ = rc.Close() }()
	return ReadSidecar(rc), nil
}

// tempExt keeps a short plain extension for the temporary copy (exiftool
// tells some formats by it, RAW ones among them).
func tempExt(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if len(ext) > 6 || strings.ContainsFunc(ext[min(1, len(ext)):], func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		return ""
	}
	return ext
}

// toCatalog is the catalog's form of what was read.
func toCatalog(m Meta, reader, sidecarPath string) catalog.FileMeta {
	return catalog.FileMeta{
		Title: m.Title, Description: m.Description, Tags: m.Tags, Rating: m.Rating,
		Creator: m.Creator, Copyright: m.Copyright, Lens: m.Lens, GPSLat: m.GPSLat, GPSLon: m.GPSLon,
		SidecarPath: sidecarPath, Reader: reader, Notes: strings.Join(m.Notes, "; "), Incomplete: m.Incomplete,
	}
}
