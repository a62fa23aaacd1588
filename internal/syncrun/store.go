package syncrun

import (
	"context"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// Catalog is the part of *catalog.Store the sync service calls outside its
// own transactions. Tests wrap the store to inject failures.
type Catalog interface {
	GetAccount(ctx context.Context, id int64) (catalog.Account, error)
	GetConnection(ctx context.Context, accountID int64) (catalog.Connection, error)
	SetConnectionStatus(ctx context.Context, accountID int64, status, message string, now time.Time) error
	SetNextAutoSync(ctx context.Context, accountID int64, at *time.Time, now time.Time) error
	ListDueAccounts(ctx context.Context, now time.Time, limit int) ([]catalog.Account, error)
	ListDueAccountsAfter(ctx context.Context, now, afterAt time.Time, afterID int64, limit int) ([]catalog.Account, error)
	ExpireTrials(ctx context.Context, now time.Time) ([]int64, error)

	GetSyncRun(ctx context.Context, accountID, runID int64) (catalog.SyncRun, error)
	ActiveSyncRun(ctx context.Context, accountID int64) (catalog.SyncRun, error)
	LatestFinishedSyncRun(ctx context.Context, accountID int64) (catalog.SyncRun, error)
	ListSyncRuns(ctx context.Context, accountID int64, limit int) ([]catalog.SyncRun, error)
	CreateSyncRun(ctx context.Context, r catalog.SyncRun, now time.Time) (catalog.SyncRun, error)
	UpdateSyncRun(ctx context.Context, r catalog.SyncRun) error
	SetSyncRunHeldRemovals(ctx context.Context, accountID, runID, removals int64, paths []string) error
	SetLastChange(ctx context.Context, accountID int64, at time.Time) error
	GetLiveWatcher(ctx context.Context, accountID int64) (catalog.LiveWatcher, error)

	AcquireIdleLease(ctx context.Context, accountID, runID int64, holder string, now time.Time, ttl time.Duration) (catalog.Lease, error)
	AcquireLease(ctx context.Context, accountID, runID int64, holder string, now time.Time, ttl time.Duration) (catalog.Lease, error)
	RenewLease(ctx context.Context, accountID, runID int64, holder string, now time.Time, ttl time.Duration) error
	ReleaseLease(ctx context.Context, accountID, runID int64, holder string) error
	GetLease(ctx context.Context, accountID int64, now time.Time) (catalog.Lease, error)
	ListExpiredLeases(ctx context.Context, now time.Time, limit int) ([]catalog.Lease, error)
	DeleteExpiredLease(ctx context.Context, accountID, runID int64, now time.Time) error
	CountOpenWriteIntents(ctx context.Context, accountID int64, now time.Time) (int64, error)
}

var _ Catalog = (*catalog.Store)(nil)
