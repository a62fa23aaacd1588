package jobs

import (
	"context"
	"errors"

	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/policy"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/localfs"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// fakeSync is a sync engine whose runs the test controls.
type fakeSync struct {
	mu      sync.Mutex
	calls   []SyncRequest
	started chan SyncRequest
	// block, when set, makes runs wait for it to close (or ctx).
	block chan struct{}
	// ignoreCtx makes a blocked run ignore cancellation (a hung worker).
	ignoreCtx bool
	// blockCalls, when positive, limits blocking to the first calls.
	blockCalls int
	err        error
}

func newFakeSync() *fakeSync { return &fakeSync{started: make(chan SyncRequest, 100)} }

func (f *fakeSync) Run(ctx context.Context, req SyncRequest) (SyncResult, error) {
	f.mu.Lock()
	f.calls = append(f.calls, req)
	block, ignore, err := f.block, f.ignoreCtx, f.err
	if f.blockCalls > 0 && len(f.calls) > f.blockCalls {
		block = nil
	}
	f.mu.Unlock()
	f.started <- req
	req.Progress(catalog.RunProgress{Counts: catalog.Counts{Seen: 1}, Phase: catalog.PhaseListing})
	if block != nil {
		if ignore {
			<-block
		} else {
			select {
			case <-block:
			case <-ctx.Done():
				return SyncResult{}, context.Cause(ctx)
			}
		}
	}
	if err != nil {
		return SyncResult{}, err
	}
	return SyncResult{Counts: catalog.Counts{Seen: 3, Added: 3}}, nil
}

func (f *fakeSync) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// bundle is one test's fixtures.
type bundle struct {
	store *catalog.Store
	clock *clock
	sync  *fakeSync
	hub   *notify.Hub
	root  string
	pol   *policy.Policy
}

type dialect struct {
	name string
	open func(t *testing.T) *catalog.Store
}

func dialects() []dialect {
	return []dialect{
		{"sqlite", func(t *testing.T) *catalog.Store {
			return openStore(t, filepath.Join(t.TempDir(), "shelf.db"))
		}},
		{"postgres", func(t *testing.T) *catalog.Store {
			return openStore(t, testenv.PostgresURL(t))
		}},
	}
}

func openStore(t *testing.T, url string) *catalog.Store {
	t.Helper()
	ctx := context.Background()
	s, err := catalog.Open(ctx, url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newBundle(t *testing.T, d dialect) *bundle {
	t.Helper()
	b := &bundle{store: d.open(t), clock: &clock{t: t0}, sync: newFakeSync(), root: t.TempDir(), pol: policy.Default()}
	if err := os.WriteFile(filepath.Join(b.root, "a.txt"), []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.hub = notify.NewHub(notify.HubConfig{Pool: b.store.PgxPool()})
	if err := b.hub.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.hub.Stop)
	return b
}

// service builds (and, when work, starts) a jobs service on the bundle.
func (b *bundle) service(t *testing.T, work bool, mod func(*Config)) *Service {
	t.Helper()
	cfg := Config{
		Store:  b.store,
		Policy: b.pol,
		Connect: func(ctx context.Context, accountID int64) (storage.Connector, error) {
			return localfs.New(b.root, []string{b.root})
		},
		Sync:              b.sync.Run,
		Hub:               b.hub,
		Now:               b.clock.Now,
		Work:              work,
		SyncWorkers:       2,
		SchedulerInterval: time.Hour, // tests call Tick themselves
		Lookahead:         -1,        // and see due syncs queued at the tick (see TestLookahead)
		FetchPollInterval: 200 * time.Millisecond,
		Logger:            slog.New(slog.DiscardHandler),
	}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if work {
		if err := svc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = svc.Stop(ctx)
		})
	}
	return svc
}

// account creates an account on plan with storage of kind.
func (b *bundle) account(t *testing.T, plan, kind string) catalog.Account {
	t.Helper()
	ctx := context.Background()
	a, err := b.store.CreateAccount(ctx, catalog.NewAccount{Name: "team " + plan, Plan: plan}, b.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.PutConnection(ctx, catalog.Connection{AccountID: a.ID, Kind: kind, RootKey: b.root}, b.clock.Now()); err != nil {
		t.Fatal(err)
	}
	return a
}

// waitRun polls until the run reaches one of states (the job runs on River's
// goroutines); it fails after a generous bound, never as a timing check.
func (b *bundle) waitRun(t *testing.T, accountID, runID int64, states ...string) catalog.SyncRun {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := b.store.GetSyncRun(context.Background(), accountID, runID)
		if err != nil && !errors.Is(err, catalog.ErrNotFound) {
			t.Fatal(err)
		}
		for _, s := range states {
			if err == nil && r.State == s {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d is %q, want one of %v", runID, r.State, states)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (b *bundle) waitStarted(t *testing.T) SyncRequest {
	t.Helper()
	select {
	case r := <-b.sync.started:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no sync started within 30s")
	}
	return SyncRequest{}
}

func forEachDialect(t *testing.T, fn func(t *testing.T, d dialect)) {
	for _, d := range dialects() {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}
