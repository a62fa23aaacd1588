package live

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/live/fswatch"
	"github.com/shelf-dam/shelf/internal/policy"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/localfs"
	"github.com/shelf-dam/shelf/internal/syncrun"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// batches records the live batches a Service applies; busy makes the
// first n calls answer ErrLiveBusy.
type batches struct {
	mu    sync.Mutex
	calls map[int64][][]string
	busy  int
	seen  chan int64
}

func newBatches() *batches {
	return &batches{calls: map[int64][][]string{}, seen: make(chan int64, 1000)}
}

func (b *batches) LiveBatch(_ context.Context, accountID int64, paths []string) (syncrun.LiveResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.busy > 0 {
		b.busy--
		return syncrun.LiveResult{}, syncrun.ErrLiveBusy
	}
	b.calls[accountID] = append(b.calls[accountID], slices.Clone(paths))
	select {
	case b.seen <- accountID:
	default:
	}
	return syncrun.LiveResult{}, nil
}

func (b *batches) got(accountID int64) [][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls[accountID])
}

type noConnectors struct{}

func (noConnectors) Connector(context.Context, int64) (storage.Connector, error) {
	return nil, fmt.Errorf("not used by S3 accounts")
}

func openStore(t *testing.T, db string) *catalog.Store {
	t.Helper()
	url := filepath.Join(t.TempDir(), "c.db")
	if db == "postgres" {
		url = testenv.PostgresURL(t)
	}
	s, err := catalog.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// liveAccounts makes n accounts with S3 storage on a plan that syncs S3 live.
func liveAccounts(t *testing.T, s *catalog.Store, n int) ([]int64, *policy.Policy) {
	t.Helper()
	pol, err := policy.Parse("[plans.trial]\ns3_auto = \"live\"\n")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var ids []int64
	for i := range n {
		a, err := s.CreateAccount(ctx, catalog.NewAccount{Name: fmt.Sprint("team ", i)}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutConnection(ctx, catalog.Connection{AccountID: a.ID, Kind: string(storage.KindS3), RootKey: fmt.Sprint("s3://b", i)}, time.Now()); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	return ids, pol
}

func newService(t *testing.T, s *catalog.Store, pol *policy.Policy, node string, b Batcher) *Service {
	t.Helper()
	svc, err := New(Config{Store: s, Policy: pol, Batches: b, Connectors: noConnectors{}, NodeID: node,
		LeaseTTL: time.Second, SuperviseEvery: 50 * time.Millisecond, Poll: 20 * time.Millisecond, Quiet: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func run(t *testing.T, svc *Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = svc.Run(ctx)
	}()
	stop = func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return stop
}

func (s *Service) watched() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int64
	for id := range s.watchers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func forEachDB(t *testing.T, fn func(t *testing.T, db string)) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			fn(t, db)
		})
	}
}

// Two processes share the live accounts: each account is watched by
// exactly one of them, both get a fair part, and when one stops the other
// takes its accounts over.
func TestEachLiveAccountWatchedByOneProcess(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db string) {
		s := openStore(t, db)
		ids, pol := liveAccounts(t, s, 12)
		a, b := newService(t, s, pol, "node-a", newBatches()), newService(t, s, pol, "node-b", newBatches())
		stopA := run(t, a)
		run(t, b)
		check := func() bool {
			wa, wb := a.watched(), b.watched()
			for _, id := range wa {
				if slices.Contains(wb, id) {
					t.Fatalf("account %d watched by both processes", id)
				}
			}
			return len(wa)+len(wb) == len(ids) && len(wa) >= 5 && len(wb) >= 5
		}
		waitUntil(t, "the accounts shared fairly", check)
		for range 20 { // and it stays so
			check()
			time.Sleep(20 * time.Millisecond)
		}
		stopA()
		waitUntil(t, "the other process watching every account", func() bool { return len(b.watched()) == len(ids) })
	})
}

// A process that dies keeps its rows until they expire; another process
// then takes the accounts over within the lease TTL and re-lists them
// (changes made meanwhile were not seen by anyone).
func TestDeadProcessAccountsTakenOverWithinTTL(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, db string) {
		s := openStore(t, db)
		ids, pol := liveAccounts(t, s, 3)
		ctx := context.Background()
		died := time.Now()
		for _, id := range ids {
			if _, ok, err := s.ClaimLiveWatcher(ctx, id, "dead-node", died, time.Second); err != nil || !ok {
				t.Fatalf("claim for the dead node: %v %v", ok, err)
			}
		}
		bb := newBatches()
		b := newService(t, s, pol, "node-b", bb)
		run(t, b)
		time.Sleep(300 * time.Millisecond)
		if len(b.watched()) != 0 {
			t.Fatal("accounts taken over before the dead process's rows expired")
		}
		waitUntil(t, "the accounts taken over", func() bool { return len(b.watched()) == len(ids) })
		if took := time.Since(died); took > 2*time.Second {
			t.Fatalf("taking over took %s with a 1 s lease", took)
		}
		waitUntil(t, "catch-up re-lists", func() bool {
			for _, id := range ids {
				if c := bb.got(id); len(c) == 0 || !slices.Equal(c[0], []string{""}) {
					return false
				}
			}
			return true
		})
	})
}

// Changes recorded for a watched account are applied as a batch once they
// settled; a busy library keeps them for the next try.
func TestRecordedChangesAreApplied(t *testing.T) {
	t.Parallel()
	s := openStore(t, "sqlite")
	ids, pol := liveAccounts(t, s, 1)
	bb := newBatches()
	svc := newService(t, s, pol, "node-a", bb)
	run(t, svc)
	waitUntil(t, "the catch-up batch", func() bool { return len(bb.got(ids[0])) == 1 })
	bb.mu.Lock()
	bb.busy = 2
	bb.mu.Unlock()
	if _, err := s.AddLiveEvents(context.Background(), ids[0], []string{"b.jpg", "a/x.jpg", "b.jpg"}, 100, time.Now()); err != nil {
		t.Fatal(err)
	}
	svc.Wake()
	waitUntil(t, "the batch applied after the library was busy twice", func() bool { return len(bb.got(ids[0])) == 2 })
	got := bb.got(ids[0])[1]
	slices.Sort(got)
	if !slices.Equal(got, []string{"a/x.jpg", "b.jpg"}) {
		t.Fatalf("batch paths: %q", got)
	}
}

// A flood of distinct paths is held in bounded memory: beyond the bound
// the account collapses to one "re-list everything".
func TestReceiverFloodIsBounded(t *testing.T) {
	t.Parallel()
	s := openStore(t, "sqlite")
	ids, _ := liveAccounts(t, s, 1)
	r := NewReceiver(ReceiverConfig{Store: s, Connectors: noConnectors{}, MaxPending: 100})
	for i := range 100000 {
		r.add(ids[0], []string{fmt.Sprintf("flood/%06d.jpg", i)})
		if r.buffered > 100 {
			t.Fatalf("%d paths buffered with a bound of 100", r.buffered)
		}
	}
	r.flush(context.Background())
	paths, err := s.TakeLiveEvents(context.Background(), ids[0], 0, 0, 1000, time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(paths, []string{""}) {
		t.Fatalf("after a flood the account should be re-listed once; waiting: %d paths, first %q", len(paths), paths[:min(3, len(paths))])
	}
}

type localConnectors struct{ dir string }

func (c localConnectors) Connector(context.Context, int64) (storage.Connector, error) {
	return localfs.New(c.dir, []string{c.dir})
}

// A local folder that cannot be watched (a network mount, the watch
// limit) is looked at every local_live_poll instead: the Sync page says
// so, an unchanged folder queues nothing, a change queues a re-list.
func TestUnwatchableFolderIsPolled(t *testing.T) {
	t.Parallel()
	s := openStore(t, "sqlite")
	dir := t.TempDir()
	pol, err := policy.Parse("local_live_poll = \"1s\"\n[plans.trial]\nlocal_auto = \"live\"\n")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := s.CreateAccount(ctx, catalog.NewAccount{Name: "nfs"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutConnection(ctx, catalog.Connection{AccountID: a.ID, Kind: string(storage.KindLocal), RootKey: dir}, time.Now()); err != nil {
		t.Fatal(err)
	}
	bb := newBatches()
	svc, err := New(Config{Store: s, Policy: pol, Batches: bb, Connectors: localConnectors{dir}, NodeID: "n",
		LeaseTTL: time.Second, SuperviseEvery: 50 * time.Millisecond, Poll: 20 * time.Millisecond, Quiet: 30 * time.Millisecond,
		WatchFolder: func(context.Context, string, fswatch.Options, func(fswatch.Batch)) error {
			return fmt.Errorf("%w: the folder is on nfs", fswatch.ErrUnsupported)
		}})
	if err != nil {
		t.Fatal(err)
	}
	run(t, svc)
	waitUntil(t, "the catch-up re-list", func() bool { return len(bb.got(a.ID)) == 1 })
	w, err := s.GetLiveWatcher(ctx, a.ID)
	if err != nil || w.Mode != ModePolling || !strings.Contains(w.Note, "every 1s") || !strings.Contains(w.Note, "nfs") {
		t.Fatalf("watcher row of a polled folder: %+v %v", w, err)
	}
	time.Sleep(2500 * time.Millisecond) // two looks at an unchanged folder
	if n := len(bb.got(a.ID)); n != 1 {
		t.Fatalf("an unchanged folder queued %d re-lists after the catch-up", n-1)
	}
	if err := os.WriteFile(filepath.Join(dir, "new.jpg"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a re-list after the change", func() bool { return len(bb.got(a.ID)) == 2 })
}

// Paths a failing database could not take back are held in memory,
// bounded, and put back at the next tick.
func TestUnsavedChangesAreKept(t *testing.T) {
	t.Parallel()
	s := openStore(t, "sqlite")
	ids, pol := liveAccounts(t, s, 2)
	svc := newService(t, s, pol, "node-a", newBatches())
	svc.cfg.MaxPending = 3
	svc.keepUnsaved(ids[0], []string{"a.jpg", "b.jpg"})
	svc.keepUnsaved(ids[1], []string{"1", "2"})
	svc.keepUnsaved(ids[1], []string{"3", "4"}) // over the bound: re-list
	svc.saveUnsaved(context.Background())
	for i, want := range [][]string{{"a.jpg", "b.jpg"}, {""}} {
		got, err := s.TakeLiveEvents(context.Background(), ids[i], 0, 0, 100, time.Now().Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("account %d: %q, want %q", i, got, want)
		}
	}
}

// Accounts get their batches in the order their changes waited, and only
// once settled: an account whose changes are still coming takes no turn
// from the others (a thousand accounts, four workers: none is left behind).
func TestSettledAccountsLongestWaitingFirst(t *testing.T) {
	t.Parallel()
	s := openStore(t, "sqlite")
	ids, _ := liveAccounts(t, s, 3)
	ctx := context.Background()
	now := time.Now()
	for _, id := range ids {
		if _, ok, err := s.ClaimLiveWatcher(ctx, id, "n", now, time.Minute); err != nil || !ok {
			t.Fatal(err)
		}
	}
	add := func(id int64, p string, at time.Time) {
		if _, err := s.AddLiveEvents(ctx, id, []string{p}, 100, at); err != nil {
			t.Fatal(err)
		}
	}
	add(ids[2], "old.jpg", now.Add(-5*time.Second))          // waiting longest
	add(ids[0], "newer.jpg", now.Add(-2*time.Second))        // settled
	add(ids[1], "coming.jpg", now.Add(-10*time.Millisecond)) // not settled yet
	got, err := s.LiveEventAccounts(ctx, "n", 250*time.Millisecond, time.Second, now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int64{ids[2], ids[0]}) {
		t.Fatalf("accounts to apply: %v, want %v (longest waiting first, the unsettled one later)", got, []int64{ids[2], ids[0]})
	}
}
