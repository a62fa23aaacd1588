// Package library makes changes to an account's library the way SPEC §4
// asks: written through to the storage first, then recorded in the catalog,
// so the storage stays the source of truth and the next sync finds nothing
// to do.
//
// Every storage-changing operation runs inside a write intent
// (catalog.BeginWriteIntentOn): it is refused while a sync holds the
// library's lease, and a sync that takes the lease waits for open intents
// before it scans. The catalog commit re-checks the lease; if a sync took it
// while the storage was being written, the change is reported as deferred
// (the sync itself brings it in), never lost.
//
// The intent also claims the paths the write touches (a folder move or
// delete: the folders with everything in them), in the catalog database,
// so every process sharing it sees the claim: a write of a claimed path is
// refused as a conflict before it touches the storage. Under its claim a
// write checks that its target is free and then writes with the storage's
// own refusal to replace (Create, Move), so two writes of one name never
// both land, whichever processes they run in.
package library

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/storage"
)

// Catalog is the part of the catalog store the library uses; *catalog.Store
// implements it.
type Catalog interface {
	GetAsset(ctx context.Context, accountID, assetID int64) (catalog.Asset, error)
	GetAssetByStorageID(ctx context.Context, accountID int64, storageID string) (catalog.Asset, error)
	GetFolder(ctx context.Context, accountID, folderID int64) (catalog.Folder, error)
	GetFolderByPath(ctx context.Context, accountID int64, path string) (catalog.Folder, error)
	GetFolderByStorageID(ctx context.Context, accountID int64, storageID string) (catalog.Folder, error)

	BeginWriteIntentOn(ctx context.Context, accountID, userID int64, op string, claim catalog.PathClaim, now time.Time, ttl time.Duration) (int64, error)
	EndWriteIntent(ctx context.Context, accountID, intentID int64) error
	RenewWriteIntent(ctx context.Context, accountID, intentID int64, now time.Time, ttl time.Duration) error

	PutUploadedAsset(ctx context.Context, accountID, intentID int64, a catalog.Asset, now time.Time) (catalog.Asset, error)
	MoveAsset(ctx context.Context, accountID, intentID, assetID int64, folderID *int64, name, storageID string, now time.Time) (catalog.Asset, error)
	DeleteAsset(ctx context.Context, accountID, intentID, assetID int64, now time.Time) error
	CreateFolder(ctx context.Context, accountID, intentID int64, parentID *int64, name, storageID string, now time.Time) (catalog.Folder, error)
	MoveFolder(ctx context.Context, accountID, intentID, folderID int64, parentID *int64, name, storageID string, now time.Time) (catalog.Folder, error)
	DeleteFolder(ctx context.Context, accountID, intentID, folderID int64, now time.Time) (int64, error)
	UpdateAssetMetadata(ctx context.Context, accountID, assetID int64, m catalog.MetadataUpdate, now time.Time) (catalog.Asset, error)

	// Metadata write-back (SPEC §4.1).
	WriteMetadataToFiles(ctx context.Context, accountID int64) (bool, error)
	CommitMetadataWrite(ctx context.Context, accountID, intentID, assetID int64, m catalog.MetadataUpdate, edit bool, w catalog.WrittenFile, now time.Time) (catalog.Asset, error)
	SetMetadataWriteError(ctx context.Context, accountID, assetID int64, reason string, now time.Time) error
	GetFileFacts(ctx context.Context, accountID, assetID int64) (catalog.FileFacts, error)
	ListFolderAssetsByName(ctx context.Context, accountID int64, folderID *int64, names []string, prefix string) ([]catalog.Asset, error)
	CreateMetadataWrite(ctx context.Context, accountID int64, userID *int64, assetIDs []int64, now time.Time,
		enqueue func(ctx context.Context, t *catalog.QueueTx, w catalog.MetadataWrite) error) (catalog.MetadataWrite, error)
	WriteCatalog
	ListAssets(ctx context.Context, q catalog.AssetQuery) ([]catalog.Asset, string, error)
}

// ConnectorFactory opens the storage connector of an account.
type ConnectorFactory func(ctx context.Context, accountID int64) (storage.Connector, error)

// Enqueuer queues a background job (*queue.Queue).
type Enqueuer interface {
	Enqueue(ctx context.Context, args river.JobArgs) error
}

// TxEnqueuer inserts a job inside a catalog transaction (*queue.Queue).
type TxEnqueuer interface {
	InsertTx(ctx context.Context, t *catalog.QueueTx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Config holds a Service's dependencies. Catalog and Connect are required.
type Config struct {
	Catalog Catalog
	Connect ConnectorFactory
	// Jobs queues the (re)making of an asset's preview (media.ThumbArgs);
	// the job queue (internal/queue) in production. Optional.
	Jobs Enqueuer
	// TxJobs inserts a job inside a catalog transaction (the job queue):
	// background write-backs. Optional; without it they are refused.
	TxJobs TxEnqueuer
	// Publish sends a live event (asset.*, folder.*), typically
	// notify.Hub.Publish. Optional.
	Publish func(ctx context.Context, ev notify.Event) error
	// Meta writes team metadata into files when the account asks for it
	// (write_metadata_to_files); nil: never written (the edit is kept in
	// the catalog and the asset says why).
	Meta MetadataWriter
	// TempDir holds the temporary copies a write-back rewrites (default:
	// the system's).
	TempDir string
	Logger  *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// IntentTTL is the write reservation held against a sync: a write
	// renews it every third of it while it runs, so only a write whose
	// process died holds a waiting sync, and for at most this long
	// (default 2 min).
	IntentTTL time.Duration
}

// Service performs library changes for the web API and CLI. It is safe for
// concurrent use.
type Service struct {
	cfg Config
}

// New returns a Service with cfg, defaults filled in.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IntentTTL <= 0 {
		cfg.IntentTTL = 2 * time.Minute
	}
	return &Service{cfg: cfg}
}

// write is one storage-changing operation in progress: its write intent,
// which claims the paths it touches, and the account's connector.
type write struct {
	s        *Service
	account  int64
	intentID int64
	conn     storage.Connector
	// stopRenew ends the goroutine that keeps the intent alive.
	stopRenew func()
}

// begin reserves a write: a write intent in the catalog claiming the paths
// the write touches (refused with ErrLocked while a sync runs, with
// ErrConflict while another write holds an overlapping claim), and the
// account's connector. The caller must call end.
func (s *Service) begin(ctx context.Context, accountID, userID int64, op string, claim catalog.PathClaim) (*write, error) {
	ttl := s.cfg.IntentTTL
	intentID, err := s.cfg.Catalog.BeginWriteIntentOn(ctx, accountID, userID, op, claim, s.cfg.Now(), ttl)
	if err != nil {
		return nil, fromCatalog(err, "the library")
	}
	w := &write{s: s, account: accountID, intentID: intentID}
	w.stopRenew = w.keepAlive(ttl)
	conn, err := s.cfg.Connect(ctx, accountID)
	if err != nil {
		w.end(ctx)
		return nil, newError(ErrStorage, err, "The storage of this library cannot be opened (%v); an admin can check it in Settings → Storage.", err)
	}
	w.conn = conn
	return w, nil
}

// end drops the write intent with its claim (a no-op when the catalog
// commit already ended it). It runs even when ctx was cancelled.
func (w *write) end(ctx context.Context) {
	w.stopRenew()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.s.cfg.Catalog.EndWriteIntent(ctx, w.account, w.intentID); err != nil {
		// The intent expires by itself; a sync waits at most until then.
		w.s.cfg.Logger.Warn("ending a library write intent failed",
			slog.Int64("account_id", w.account), slog.Int64("intent_id", w.intentID), slog.String("error", err.Error()))
	}
}

// checkFree makes sure nothing is at path, neither in the storage (the
// source of truth) nor in the library, so a write never replaces an item
// silently. what names the destination for messages.
func (w *write) checkFree(ctx context.Context, path, what string) error {
	_, err := w.conn.Stat(ctx, path)
	switch {
	case err == nil:
		return newError(ErrConflict, ErrNameTaken, "%s: an item named %q already exists there; choose another name.", what, storage.Base(path))
	case !errors.Is(err, storage.ErrNotFound):
		return fromStorage(err, what)
	}
	cat := w.s.cfg.Catalog
	if _, err := cat.GetFolderByPath(ctx, w.account, path); err == nil {
		return newError(ErrConflict, ErrNameTaken, "%s: a folder named %q is already in the library there; choose another name.", what, storage.Base(path))
	} else if !errors.Is(err, catalog.ErrNotFound) {
		return fromCatalog(err, what)
	}
	if w.conn.Kind() != storage.KindGDrive { // S3 and local identify files by path
		if _, err := cat.GetAssetByStorageID(ctx, w.account, path); err == nil {
			return newError(ErrConflict, ErrNameTaken, "%s: a file named %q is already in the library there; choose another name.", what, storage.Base(path))
		} else if !errors.Is(err, catalog.ErrNotFound) {
			return fromCatalog(err, what)
		}
	}
	return nil
}

// keepAlive renews the write intent every third of ttl until the returned
// stop is called. It stops by itself once the intent is gone (the catalog
// commit ended it, or it lapsed): a lapsed write is then deferred to the
// sync by the commit's own check.
func (w *write) keepAlive(ttl time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), ttl/3)
			err := w.s.cfg.Catalog.RenewWriteIntent(ctx, w.account, w.intentID, w.s.cfg.Now(), ttl)
			cancel()
			if errors.Is(err, catalog.ErrIntentExpired) {
				return
			}
			if err != nil {
				w.s.cfg.Logger.Warn("renewing a library write intent failed; retrying",
					slog.Int64("account_id", w.account), slog.Int64("intent_id", w.intentID), slog.String("error", err.Error()))
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// folderPath returns the path of folder id (nil: the root, "") after
// checking that it exists.
func (s *Service) folderPath(ctx context.Context, accountID int64, id *int64) (string, error) {
	if id == nil {
		return "", nil
	}
	f, err := s.cfg.Catalog.GetFolder(ctx, accountID, *id)
	if err != nil {
		return "", fromCatalog(err, fmt.Sprintf("Folder %d", *id))
	}
	return f.Path, nil
}

// checkName validates a new file or folder name.
func checkName(name string) error {
	if err := storage.CheckName(name); err != nil {
		return newError(ErrInvalid, err, "The name %q cannot be used: %v.", name, err)
	}
	if strings.Contains(name, "/") {
		return newError(ErrInvalid, nil, "The name %q contains a slash; a name cannot contain \"/\".", name)
	}
	if name != "" && (name[0] == ' ' || name[len(name)-1] == ' ') {
		return newError(ErrInvalid, nil, "The name %q starts or ends with a space; remove it.", name)
	}
	return nil
}

// folderUnmoved re-reads, under a write's claim, the path of folder id (nil:
// the root) that the claim was made from; see unmoved.
func (s *Service) folderUnmoved(ctx context.Context, accountID int64, id *int64, before string) error {
	now, err := s.folderPath(ctx, accountID, id)
	if err != nil {
		return err
	}
	return unmoved(fmt.Sprintf("The folder %q", before), before, now)
}

// assetUnmoved re-reads, under a write's claim, the path of asset a that
// the claim was made from; see unmoved.
func (s *Service) assetUnmoved(ctx context.Context, a catalog.Asset) error {
	now, err := s.cfg.Catalog.GetAsset(ctx, a.AccountID, a.ID)
	if err != nil {
		return fromCatalog(err, fmt.Sprintf("Asset %d", a.ID))
	}
	return unmoved(fmt.Sprintf("The file %q", a.Path), a.Path, now.Path)
}

// unmoved checks, under a write's claim, that a path the claim was made
// from still holds: another process may have moved the file or folder
// between the look-up and the claim, and the write would then act on the
// old place. what names the item for the message.
func unmoved(what, before, now string) error {
	if before == now {
		return nil
	}
	return newError(ErrConflict, nil, "%s was moved or renamed (to %q) while this change was being made; nothing was changed. Reload and try again.", what, now)
}
