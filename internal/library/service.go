// Package library makes changes to an account's library the way SPEC §4
// asks: written through to the storage first, then recorded in the catalog,
// so the storage stays the source of truth and the next sync finds nothing
// to do.
//
// Every storage-changing operation runs inside a write intent
// (catalog.BeginWriteIntent): it is refused while a sync holds the
// library's lease, and a sync that takes the lease waits for open intents
// before it scans. The catalog commit re-checks the lease; if a sync took it
// while the storage was being written, the change is reported as deferred
// (the sync itself brings it in), never lost.
package library

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

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

	BeginWriteIntent(ctx context.Context, accountID, userID int64, op string, now time.Time, ttl time.Duration) (int64, error)
	EndWriteIntent(ctx context.Context, accountID, intentID int64) error
	RenewWriteIntent(ctx context.Context, accountID, intentID int64, now time.Time, ttl time.Duration) error

	PutUploadedAsset(ctx context.Context, accountID, intentID int64, a catalog.Asset, now time.Time) (catalog.Asset, error)
	MoveAsset(ctx context.Context, accountID, intentID, assetID int64, folderID *int64, name, storageID string, now time.Time) (catalog.Asset, error)
	DeleteAsset(ctx context.Context, accountID, intentID, assetID int64, now time.Time) error
	CreateFolder(ctx context.Context, accountID, intentID int64, parentID *int64, name, storageID string, now time.Time) (catalog.Folder, error)
	MoveFolder(ctx context.Context, accountID, intentID, folderID int64, parentID *int64, name, storageID string, now time.Time) (catalog.Folder, error)
	DeleteFolder(ctx context.Context, accountID, intentID, folderID int64, now time.Time) (int64, error)
	UpdateAssetMetadata(ctx context.Context, accountID, assetID int64, m catalog.MetadataUpdate, now time.Time) (catalog.Asset, error)
	ListAssets(ctx context.Context, q catalog.AssetQuery) ([]catalog.Asset, string, error)
}

// ConnectorFactory opens the storage connector of an account.
type ConnectorFactory func(ctx context.Context, accountID int64) (storage.Connector, error)

// Enqueuer queues a background job (*queue.Queue).
type Enqueuer interface {
	Enqueue(ctx context.Context, args river.JobArgs) error
}

// Config holds a Service's dependencies. Catalog and Connect are required.
type Config struct {
	Catalog Catalog
	Connect ConnectorFactory
	// Jobs queues the (re)making of an asset's preview (media.ThumbArgs);
	// the job queue (internal/queue) in production. Optional.
	Jobs Enqueuer
	// Publish sends a live event (asset.*, folder.*), typically
	// notify.Hub.Publish. Optional.
	Publish func(ctx context.Context, ev notify.Event) error
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
	cfg   Config
	locks locks
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
	return &Service{cfg: cfg, locks: locks{accounts: map[int64]*accountLock{}}}
}

// write is one storage-changing operation in progress: its write intent,
// the account's connector and the target path held against concurrent
// writes from this process.
type write struct {
	s        *Service
	account  int64
	intentID int64
	conn     storage.Connector
	unlock   func()
	// stopRenew ends the goroutine that keeps the intent alive.
	stopRenew func()
}

// begin reserves a write: the in-process lock (see locks; tree for folder
// moves and deletes, else the target paths), a write intent in the catalog
// (refused with ErrLocked while a sync runs), and the account's connector.
// The caller must call end.
func (s *Service) begin(ctx context.Context, accountID, userID int64, op string, ttl time.Duration, tree bool, paths ...string) (*write, error) {
	var unlock func()
	if tree {
		unlock = s.locks.lockTree(accountID)
	} else {
		unlock = s.locks.lockPaths(accountID, paths...)
	}
	intentID, err := s.cfg.Catalog.BeginWriteIntent(ctx, accountID, userID, op, s.cfg.Now(), ttl)
	if err != nil {
		unlock()
		return nil, fromCatalog(err, "the library")
	}
	w := &write{s: s, account: accountID, intentID: intentID, unlock: unlock}
	w.stopRenew = w.keepAlive(ttl)
	conn, err := s.cfg.Connect(ctx, accountID)
	if err != nil {
		w.end(ctx)
		return nil, newError(ErrStorage, err, "The storage of this library cannot be opened (%v); an admin can check it in Settings → Storage.", err)
	}
	w.conn = conn
	return w, nil
}

// end drops the write intent (a no-op when the catalog commit already ended
// it) and the path locks. It runs even when ctx was cancelled.
func (w *write) end(ctx context.Context) {
	w.stopRenew()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.s.cfg.Catalog.EndWriteIntent(ctx, w.account, w.intentID); err != nil {
		// The intent expires by itself; a sync waits at most until then.
		w.s.cfg.Logger.Warn("ending a library write intent failed",
			slog.Int64("account_id", w.account), slog.Int64("intent_id", w.intentID), slog.String("error", err.Error()))
	}
	w.unlock()
}

// checkFree makes sure nothing is at path, neither in the storage (the
// source of truth) nor in the library, so a write never replaces an item
// silently. what names the destination for messages.
func (w *write) checkFree(ctx context.Context, path, what string) error {
	_, err := w.conn.Stat(ctx, path)
	switch {
	case err == nil:
		return newError(ErrConflict, nil, "%s: an item named %q already exists there; choose another name.", what, storage.Base(path))
	case !errors.Is(err, storage.ErrNotFound):
		return fromStorage(err, what)
	}
	cat := w.s.cfg.Catalog
	if _, err := cat.GetFolderByPath(ctx, w.account, path); err == nil {
		return newError(ErrConflict, nil, "%s: a folder named %q is already in the library there; choose another name.", what, storage.Base(path))
	} else if !errors.Is(err, catalog.ErrNotFound) {
		return fromCatalog(err, what)
	}
	if w.conn.Kind() != storage.KindGDrive { // S3 and local identify files by path
		if _, err := cat.GetAssetByStorageID(ctx, w.account, path); err == nil {
			return newError(ErrConflict, nil, "%s: a file named %q is already in the library there; choose another name.", what, storage.Base(path))
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

// locks serialises writes within this process: writes to the same path
// wait for each other (two uploads of one name cannot both pass the
// collision check), and a folder move or delete waits for, and holds off,
// every other write of the account, so no upload lands in a folder that is
// being moved away. Across nodes the catalog's checks and the next sync
// keep things consistent.
type locks struct {
	mu       sync.Mutex
	accounts map[int64]*accountLock
}

type accountLock struct {
	tree  sync.RWMutex // held exclusively by folder moves and deletes
	refs  int
	paths map[string]*pathLock
}

type pathLock struct {
	mu   sync.Mutex
	refs int
}

// lockTree takes the account exclusively (folder moves and deletes).
func (l *locks) lockTree(accountID int64) func() {
	a := l.account(accountID)
	a.tree.Lock()
	return func() {
		a.tree.Unlock()
		l.release(accountID, a)
	}
}

// lockPaths takes the account shared and the given paths exclusively, in
// sorted order so that two writes never wait for each other.
func (l *locks) lockPaths(accountID int64, paths ...string) func() {
	a := l.account(accountID)
	a.tree.RLock()
	paths = slices.Clone(paths)
	slices.Sort(paths)
	paths = slices.Compact(paths)
	held := make([]*pathLock, 0, len(paths))
	for _, p := range paths {
		l.mu.Lock()
		pl := a.paths[p]
		if pl == nil {
			pl = &pathLock{}
			a.paths[p] = pl
		}
		pl.refs++
		l.mu.Unlock()
		pl.mu.Lock()
		held = append(held, pl)
	}
	return func() {
		for i, pl := range held {
			pl.mu.Unlock()
			l.mu.Lock()
			if pl.refs--; pl.refs == 0 {
				delete(a.paths, paths[i])
			}
			l.mu.Unlock()
		}
		a.tree.RUnlock()
		l.release(accountID, a)
	}
}

func (l *locks) account(accountID int64) *accountLock {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.accounts[accountID]
	if a == nil {
		a = &accountLock{paths: map[string]*pathLock{}}
		l.accounts[accountID] = a
	}
	a.refs++
	return a
}

func (l *locks) release(accountID int64, a *accountLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a.refs--; a.refs == 0 {
		delete(l.accounts, accountID)
	}
}
