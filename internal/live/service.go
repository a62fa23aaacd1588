// Package live makes a change made in the storage show in the library within
// seconds (SPEC §3.4) for accounts whose plan says "live".
//
// Where changes come from, per storage kind:
//   - a local folder: filesystem notifications (fswatch), or — where the
//     folder cannot be watched — a re-listing every policy.LocalLivePoll;
//   - S3 and compatibles: bucket event notifications POSTed to the
//     connection's events URL (Receiver, running in every serving process);
//   - Google Drive: the changes feed read every policy.DriveLivePoll, and a
//     changes.watch push channel where Shelf has a public https URL.
//
// Every source ends the same way: the changed paths go into the catalog's
// live_events table, coalesced per path and bounded per account (beyond
// the bound they collapse into "re-list everything"). The process that
// watches the account takes them once they settled (Config.Quiet after the
// last, at most Config.MaxDelay after the first) and applies them as a live
// batch (syncrun.Service.LiveBatch): the engine's own rules on those paths
// only, the library locked for the batch alone.
//
// With several processes on PostgreSQL each live account is watched by
// exactly one of them: a row in live_watchers, renewed every third of
// Config.LeaseTTL and taken over by another process once it expired. A
// process that starts watching an account first re-lists it (or reads the
// Drive feed), since changes may have been missed while nobody watched;
// the plan's reconciliation (policy.LiveReconcile, at least daily) is the
// safety net for events lost otherwise.
package live

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/live/fswatch"
	"github.com/shelf-dam/shelf/internal/policy"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/syncrun"
)

// Defaults of Config.
const (
	DefaultLeaseTTL   = 30 * time.Second
	DefaultPoll       = 200 * time.Millisecond
	DefaultQuiet      = 250 * time.Millisecond
	DefaultMaxDelay   = time.Second
	DefaultMaxPending = 10000
	DefaultWorkers    = 4
	// superviseMax bounds the time between two supervision rounds.
	superviseMax = 5 * time.Second
	// maxBatchPaths bounds the paths of one batch, so that the library is
	// held for a short time; the rest go in the next batch at once.
	maxBatchPaths = 200
)

// Batcher applies live batches (syncrun.Service).
type Batcher interface {
	LiveBatch(ctx context.Context, accountID int64, paths []string) (syncrun.LiveResult, error)
}

// Connectors builds an account's storage connector (connections.Service).
type Connectors interface {
	Connector(ctx context.Context, accountID int64) (storage.Connector, error)
}

// Config configures a Service.
type Config struct {
	Store      *catalog.Store
	Policy     *policy.Policy
	Batches    Batcher
	Connectors Connectors
	// NodeID names this process in live_watchers (unique per process).
	NodeID string
	// PublicURL is SHELF_PUBLIC_URL: Drive push channels are opened only
	// when it is https.
	PublicURL string
	// LeaseTTL: a dead process's live accounts are watched again by
	// another within this time.
	LeaseTTL time.Duration
	// Poll is how often waiting changes are looked for (a change noticed
	// in this process wakes the loop at once).
	Poll time.Duration
	// Quiet and MaxDelay debounce a batch: applied once no change came for
	// Quiet, or MaxDelay after its first change.
	Quiet, MaxDelay time.Duration
	// MaxPending bounds the distinct paths waiting per account; beyond it
	// the account is re-listed instead.
	MaxPending int
	// Workers bounds the batches applied at once by this process.
	Workers int
	// WatchFolder watches a local folder (fswatch.Watch when nil; tests
	// make it refuse, as a network mount does).
	WatchFolder func(ctx context.Context, root string, opts fswatch.Options, send func(fswatch.Batch)) error
	// DriveChannelTTL is the lifetime asked of a Drive push channel
	// (changes.watch); 24 h when 0. A channel is replaced an hour before it
	// ends, or half-way through a shorter one.
	DriveChannelTTL time.Duration
	// SuperviseEvery is the time between two supervision rounds (renewing,
	// claiming, releasing); min(LeaseTTL/3, 5 s) when 0.
	SuperviseEvery time.Duration
	Logger         *slog.Logger
	Now            func() time.Time
}

// Service watches live accounts and applies their changes. Run it in
// every process that runs jobs.
type Service struct {
	cfg Config
	log *slog.Logger

	wake chan struct{}
	sem  chan struct{}

	mu       sync.Mutex
	watchers map[int64]*watcher      // accounts this process watches
	busy     map[int64]bool          // a batch of the account is being applied
	backoff  map[int64]time.Time     // the account's next batch waits until then
	wait     map[int64]time.Duration // the account's last wait after a failure
	// unsaved holds paths taken for a batch that failed and could not be
	// put back into the catalog (the database was failing too): they are
	// put back at the next tick ("" alone beyond MaxPending).
	unsaved map[int64][]string
	wg      sync.WaitGroup
}

// New returns a Service with cfg's zero fields set to their defaults.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Policy == nil || cfg.Batches == nil || cfg.Connectors == nil || cfg.NodeID == "" {
		return nil, errors.New("live sync: Store, Policy, Batches, Connectors and NodeID are required")
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Quiet <= 0 {
		cfg.Quiet = DefaultQuiet
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.WatchFolder == nil {
		cfg.WatchFolder = fswatch.Watch
	}
	if cfg.SuperviseEvery <= 0 || cfg.SuperviseEvery > cfg.LeaseTTL/3 {
		cfg.SuperviseEvery = min(cfg.LeaseTTL/3, superviseMax)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{
		cfg: cfg, log: cfg.Logger.With("component", "live"),
		wake: make(chan struct{}, 1), sem: make(chan struct{}, cfg.Workers),
		watchers: map[int64]*watcher{}, busy: map[int64]bool{}, backoff: map[int64]time.Time{}, wait: map[int64]time.Duration{}, unsaved: map[int64][]string{},
	}, nil
}

// Holder is this process's name in live_watchers.
func (s *Service) Holder() string { return s.cfg.NodeID }

// Wake makes the batch loop look for waiting changes now (a change was
// recorded in this process).
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run watches and applies until ctx ends, then stops every watcher and
// gives its accounts up (so another process takes them over at once).
func (s *Service) Run(ctx context.Context) error {
	defer s.shutdown()
	s.supervise(ctx)
	// Renewing needs every third of the TTL; accounts that became live
	// (connected, upgraded) are picked up within superviseMax.
	every := s.cfg.SuperviseEvery
	// Processes started together should not claim in lockstep.
	superviseAt := time.Now().Add(every + rand.N(every/4+1))
	tick := time.NewTicker(s.cfg.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-s.wake:
		}
		if time.Now().After(superviseAt) {
			s.supervise(ctx)
			superviseAt = time.Now().Add(every)
		}
		s.dispatch(ctx)
	}
}

// shutdown stops the watchers, waits for batches in flight and releases
// the accounts.
func (s *Service) shutdown() {
	s.mu.Lock()
	ws := make([]*watcher, 0, len(s.watchers))
	for _, w := range s.watchers {
		ws = append(ws, w)
	}
	s.watchers = map[int64]*watcher{}
	s.mu.Unlock()
	for _, w := range ws {
		w.stop()
	}
	s.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, w := range ws {
		if err := s.cfg.Store.ReleaseLiveWatcher(ctx, w.account, s.Holder()); err != nil {
			s.log.Warn("giving up a live account", "account_id", w.account, "error", err)
		}
	}
	if err := s.cfg.Store.LeaveLive(ctx, s.Holder()); err != nil {
		s.log.Warn("leaving live sync", "error", err)
	}
}

// keepUnsaved holds paths the catalog could not take back, bounded.
func (s *Service) keepUnsaved(accountID int64, paths []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := append(s.unsaved[accountID], paths...)
	if len(kept) > s.cfg.MaxPending {
		kept = []string{""}
	}
	s.unsaved[accountID] = kept
}

// saveUnsaved puts held paths back into the catalog.
func (s *Service) saveUnsaved(ctx context.Context) {
	s.mu.Lock()
	held := s.unsaved
	s.unsaved = map[int64][]string{}
	s.mu.Unlock()
	for id, paths := range held {
		if _, err := s.cfg.Store.AddLiveEvents(ctx, id, paths, s.cfg.MaxPending, s.cfg.Now()); err != nil {
			s.keepUnsaved(id, paths)
		}
	}
}

// dispatch starts a batch for every watched account whose changes settled,
// the longest waiting first, up to Config.Workers at once.
func (s *Service) dispatch(ctx context.Context) {
	s.saveUnsaved(ctx)
	ids, err := s.cfg.Store.LiveEventAccounts(ctx, s.Holder(), s.cfg.Quiet, s.cfg.MaxDelay, s.cfg.Now())
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("looking for storage changes", "error", err)
		}
		return
	}
	now := time.Now()
	for _, id := range ids {
		s.mu.Lock()
		skip := s.busy[id] || now.Before(s.backoff[id])
		if !skip {
			s.busy[id] = true
		}
		s.mu.Unlock()
		if skip {
			continue
		}
		select {
		case s.sem <- struct{}{}:
		default:
			s.mu.Lock()
			delete(s.busy, id)
			s.mu.Unlock()
			return // every worker is busy; the next tick goes on
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.sem }()
			s.apply(ctx, id)
		}()
	}
}

// apply takes the account's settled changes and applies them as one batch.
func (s *Service) apply(ctx context.Context, accountID int64) {
	defer func() {
		s.mu.Lock()
		delete(s.busy, accountID)
		s.mu.Unlock()
	}()
	paths, err := s.cfg.Store.TakeLiveEvents(ctx, accountID, s.cfg.Quiet, s.cfg.MaxDelay, maxBatchPaths, s.cfg.Now())
	if err != nil || len(paths) == 0 {
		if err != nil && ctx.Err() == nil {
			s.log.Warn("taking storage changes", "account_id", accountID, "error", err)
		}
		return
	}
	_, err = s.cfg.Batches.LiveBatch(ctx, accountID, paths)
	if err == nil {
		s.mu.Lock()
		delete(s.backoff, accountID)
		delete(s.wait, accountID)
		s.mu.Unlock()
		return
	}
	// Not applied: the paths wait again, and the account a while.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, aerr := s.cfg.Store.AddLiveEvents(rctx, accountID, paths, s.cfg.MaxPending, s.cfg.Now()); aerr != nil {
		s.log.Warn("keeping storage changes for a later batch; holding them in memory meanwhile", "account_id", accountID, "error", aerr)
		s.keepUnsaved(accountID, paths)
	}
	s.mu.Lock()
	wait := time.Second
	if !errors.Is(err, syncrun.ErrLiveBusy) && ctx.Err() == nil {
		// A failure: 2 s, then twice as long each time, up to a minute.
		wait = min(2*s.wait[accountID]+2*time.Second, time.Minute)
		s.wait[accountID] = wait
		s.log.Warn("live batch failed; trying again later", "account_id", accountID, "retry_in", wait, "error", err)
	}
	s.backoff[accountID] = time.Now().Add(wait)
	s.mu.Unlock()
}

// record adds changed paths of an account and wakes the batch loop.
func (s *Service) record(ctx context.Context, accountID int64, paths []string) {
	over, err := s.cfg.Store.AddLiveEvents(ctx, accountID, paths, s.cfg.MaxPending, s.cfg.Now())
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("recording storage changes; holding them in memory meanwhile", "account_id", accountID, "error", err)
			s.keepUnsaved(accountID, paths)
		}
		return
	}
	if over {
		s.log.Info("too many storage changes at once; the folder is re-listed instead", "account_id", accountID)
	}
	s.Wake()
}
