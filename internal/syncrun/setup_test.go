package syncrun

import (
	"context"
	"errors"

	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/policy"
	"github.com/shelf-dam/shelf/internal/queue"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/localfs"
	"github.com/shelf-dam/shelf/internal/syncer"
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
	calls   []syncer.Job
	started chan syncer.Job
	// block, when set, makes runs wait for it to close (or ctx).
	block chan struct{}
	// ignoreCtx makes a blocked run ignore cancellation (a hung worker).
	ignoreCtx bool
	// blockCalls, when positive, limits blocking to the first calls.
	blockCalls int
	err        error
}

func newFakeSync() *fakeSync { return &fakeSync{started: make(chan syncer.Job, 100)} }

func (f *fakeSync) Run(ctx context.Context, req syncer.Job) (syncer.Result, error) {
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
				return syncer.Result{}, context.Cause(ctx)
			}
		}
	}
	if err != nil {
		return syncer.Result{}, err
	}
	return syncer.Result{State: catalog.RunSucceeded, Counts: catalog.Counts{Seen: 3, Added: 3}}, nil
}

func (f *fakeSync) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
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

// svcOpts is what a test may change of a service: the sync service's
// Config, the queue's settings, and stand-ins for the engine and the
// messages.
type svcOpts struct {
	Config
	NodeID      string
	SyncWorkers int
	// Sync replaces the bundle's fake engine.
	Sync func(ctx context.Context, job syncer.Job) (syncer.Result, error)
	// Finished is told what Messages.RunFinished is told.
	Finished func(ctx context.Context, run catalog.SyncRun) error
}

type engineFunc func(ctx context.Context, job syncer.Job) (syncer.Result, error)

func (f engineFunc) Run(ctx context.Context, job syncer.Job) (syncer.Result, error) {
	return f(ctx, job)
}

type messagesFunc func(ctx context.Context, run catalog.SyncRun) error

func (f messagesFunc) RunFinished(ctx context.Context, run catalog.SyncRun) error { return f(ctx, run) }

// localConnections connects every account to the bundle's folder.
type localConnections struct{ root string }

func (c localConnections) Connector(context.Context, int64) (storage.Connector, error) {
	return localfs.New(c.root, []string{c.root})
}

func (localConnections) MarkFailure(context.Context, int64, error) {}

// service builds a sync service on the bundle and, when work, starts its
// queue.
func (b *bundle) service(t *testing.T, work bool, mod func(*svcOpts)) *Service {
	t.Helper()
	o := svcOpts{
		Config: Config{
			Store:             b.store,
			Policy:            b.pol,
			Connections:       localConnections{root: b.root},
			Hub:               b.hub,
			Now:               b.clock.Now,
			SchedulerInterval: time.Hour, // tests call Tick themselves
			Lookahead:         -1,        // and see due syncs queued at the tick (see TestLookahead)
			Logger:            slog.New(slog.DiscardHandler),
		},
		SyncWorkers: 2,
		Sync:        b.sync.Run,
	}
	if mod != nil {
		mod(&o)
	}
	q, err := queue.New(queue.Config{
		Store:                b.store,
		Logger:               o.Logger,
		NodeID:               o.NodeID,
		Work:                 work,
		Queues:               map[string]int{river.QueueDefault: o.SyncWorkers},
		FetchPollInterval:    200 * time.Millisecond,
		RescueStuckJobsAfter: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := o.Config
	cfg.Queue, cfg.Engine = q, engineFunc(o.Sync)
	if o.Finished != nil {
		cfg.Messages = messagesFunc(o.Finished)
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if work {
		if err := q.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = q.Stop(ctx)
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

func (b *bundle) waitStarted(t *testing.T) syncer.Job {
	t.Helper()
	select {
	case r := <-b.sync.started:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no sync started within 30s")
	}
	return syncer.Job{}
}

func forEachDialect(t *testing.T, fn func(t *testing.T, d dialect)) {
	for _, d := range dialects() {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}
