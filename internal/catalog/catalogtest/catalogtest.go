// Package catalogtest is the catalog's conformance suite: one set of tests
// that every database behind catalog.Store must pass (SQLite and
// PostgreSQL), run by each dialect's test file with a function that opens a
// fresh, migrated store.
package catalogtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// OpenFunc opens a fresh, empty, migrated store for one test; the store is
// closed by the caller's cleanup.
type OpenFunc func(t *testing.T) *catalog.Store

// Run runs the whole suite against stores opened by open.
func Run(t *testing.T, open OpenFunc) {
	t.Run("Migrate", func(t *testing.T) { t.Parallel(); testMigrate(t, open) })
	t.Run("Accounts", func(t *testing.T) { t.Parallel(); testAccounts(t, open) })
	t.Run("Users", func(t *testing.T) { t.Parallel(); testUsers(t, open) })
	t.Run("Sessions", func(t *testing.T) { t.Parallel(); testSessions(t, open) })
	t.Run("APITokens", func(t *testing.T) { t.Parallel(); testAPITokens(t, open) })
	t.Run("AccountAPITokens", func(t *testing.T) { t.Parallel(); testAccountAPITokens(t, open) })
	t.Run("Connections", func(t *testing.T) { t.Parallel(); testConnections(t, open) })
	t.Run("Folders", func(t *testing.T) { t.Parallel(); testFolders(t, open) })
	t.Run("AssetPages", func(t *testing.T) { t.Parallel(); testAssetPages(t, open) })
	t.Run("AssetSearch", func(t *testing.T) { t.Parallel(); testAssetSearch(t, open) })
	t.Run("TagEdits", func(t *testing.T) { t.Parallel(); testTagEdits(t, open) })
	t.Run("SearchBacklog", func(t *testing.T) { t.Parallel(); testSearchBacklog(t, open) })
	t.Run("SyncRuns", func(t *testing.T) { t.Parallel(); testSyncRuns(t, open) })
	t.Run("Lease", func(t *testing.T) { t.Parallel(); testLease(t, open) })
	t.Run("LibraryLock", func(t *testing.T) { t.Parallel(); testLibraryLock(t, open) })
	t.Run("LiveLock", func(t *testing.T) { t.Parallel(); testLiveLock(t, open) })
	t.Run("FolderMoves", func(t *testing.T) { t.Parallel(); testFolderMoves(t, open) })
	t.Run("BigFolderMoves", func(t *testing.T) { t.Parallel(); testBigFolderMoves(t, open) })
	t.Run("LockRace", func(t *testing.T) { t.Parallel(); testLockRace(t, open) })
	t.Run("PathClaims", func(t *testing.T) { t.Parallel(); testPathClaims(t, open) })
	t.Run("Notifications", func(t *testing.T) { t.Parallel(); testNotifications(t, open) })
	t.Run("Webhooks", func(t *testing.T) { t.Parallel(); testWebhooks(t, open) })
	t.Run("OAuthStates", func(t *testing.T) { t.Parallel(); testOAuthStates(t, open) })
	t.Run("MultipartUploads", func(t *testing.T) { t.Parallel(); testMultipartUploads(t, open) })
	t.Run("SignInAttempts", func(t *testing.T) { t.Parallel(); testSignInAttempts(t, open) })
	t.Run("FileMeta", func(t *testing.T) { t.Parallel(); testFileMeta(t, open) })
	t.Run("FileMetaSidecarTime", func(t *testing.T) { t.Parallel(); testFileMetaSidecarTime(t, open) })
	t.Run("MetadataWriteCounts", func(t *testing.T) { t.Parallel(); testMetadataWriteCounts(t, open) })
}

// fixture is the usual starting point: a store, a clock, and two accounts
// each with an admin, to check that nothing leaks from one to the other.
type fixture struct {
	ctx    context.Context
	store  *catalog.Store
	now    time.Time
	accA   catalog.Account
	adminA catalog.User
	accB   catalog.Account
	adminB catalog.User
}

func setup(t *testing.T, open OpenFunc) *fixture {
	t.Helper()
	f := &fixture{
		ctx:   context.Background(),
		store: open(t),
		now:   time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
	}
	var err error
	f.accA, f.adminA, err = f.store.CreateAccountWithAdmin(f.ctx, catalog.NewAccount{Name: "Alpha"},
		catalog.NewUser{Email: "Admin@Alpha.example", Name: "Ann", PasswordHash: "hash-a"}, f.now)
	if err != nil {
		t.Fatalf("creating account A: %v", err)
	}
	f.accB, f.adminB, err = f.store.CreateAccountWithAdmin(f.ctx, catalog.NewAccount{Name: "Beta"},
		catalog.NewUser{Email: "admin@beta.example", Name: "Bob", PasswordHash: "hash-b"}, f.now)
	if err != nil {
		t.Fatalf("creating account B: %v", err)
	}
	return f
}

// must fails the test on err.
func must(t *testing.T, err error, what string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}

// wantErr fails the test unless err is (or wraps) target.
func wantErr(t *testing.T, err, target error, what string, args ...any) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", fmt.Sprintf(what, args...), err, target)
	}
}

// wantLocked fails the test unless err is a *catalog.LockedError for runID.
func wantLocked(t *testing.T, err error, runID int64, what string, args ...any) {
	t.Helper()
	var le *catalog.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("%s: got error %v, want *catalog.LockedError", fmt.Sprintf(what, args...), err)
	}
	if le.RunID != runID {
		t.Fatalf("%s: locked by run %d, want %d", fmt.Sprintf(what, args...), le.RunID, runID)
	}
}

func ptr[T any](v T) *T { return &v }

func timeEq(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
