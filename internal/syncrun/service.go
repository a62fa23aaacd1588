// Package syncrun owns the life of a sync, from the request that starts it
// to the messages after it ends: starting (manual with the plan's
// cooldown, initial, auto, CLI, confirmation), the job on the queue, the
// library lease, the storage connection, the engine, the run's outcome and
// the follow-ups (notifications, webhooks, email, previews). life.go reads
// top to bottom as one sync; start.go is how syncs begin, scheduler.go the
// periodic tick (auto-syncs, trial expiry, lease reaping), status.go the
// one answer to "can this account sync now?".
//
// On PostgreSQL any number of processes run a Service against the same
// database and share the work; River elects the one that runs the
// periodic scheduler. On SQLite there is one process.
package syncrun

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/policy"
	"github.com/shelf-dam/shelf/internal/queue"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// Defaults of Config.
const (
	DefaultLeaseTTL          = 30 * time.Second
	DefaultSchedulerInterval = 30 * time.Second
	DefaultSyncWorkers       = 4
	DefaultMaxSyncDuration   = 12 * time.Hour
	// DefaultDueBatch is how many due accounts one scheduler tick enqueues;
	// the rest wait for the next tick, longest overdue first.
	DefaultDueBatch = 1000
)

// Engine runs one sync over a connector (syncer.Engine; tests fake it).
type Engine interface {
	Run(ctx context.Context, job syncer.Job) (syncer.Result, error)
}

// Connections builds an account's connector from its stored connection and
// records what a failure says about the connection
// (connections.Service).
type Connections interface {
	Connector(ctx context.Context, accountID int64) (storage.Connector, error)
	MarkFailure(ctx context.Context, accountID int64, err error)
}

// Messenger tells people about a run that ended (notify.Dispatcher): a
// notification, webhooks, a failure email.
type Messenger interface {
	RunFinished(ctx context.Context, run catalog.SyncRun) error
}

// Config is what a Service needs. Store, Queue, Policy, Connections and
// Engine are required.
type Config struct {
	// Store is the catalog; the queue runs on the same database.
	Store *catalog.Store
	// Catalog overrides the catalog calls (tests wrap Store); nil: Store.
	Catalog     Catalog
	Queue       *queue.Queue
	Policy      *policy.Policy
	Connections Connections
	Engine      Engine
	// Hub publishes live events; nil publishes none.
	Hub *notify.Hub
	// Messages is told about ended runs; nil tells no one.
	Messages Messenger
	Logger   *slog.Logger
	// Now is the clock (tests inject one); nil: time.Now.
	Now func() time.Time

	// LeaseTTL is how long a sync's lease lasts without renewal; it is
	// renewed every third of it. A killed worker's library unlocks (and
	// its run is retried) about one TTL plus one scheduler tick later.
	LeaseTTL time.Duration
	// SchedulerInterval is the period of the scheduler tick.
	SchedulerInterval time.Duration
	// Lookahead: each tick also queues the auto-syncs due within this
	// time ahead, as jobs scheduled at their due time, so they start on
	// time instead of at the next tick. Zero means SchedulerInterval;
	// negative turns it off (a sync starts at the first tick after it is
	// due).
	Lookahead time.Duration
	// MaxSyncDuration is the longest one sync may run before River gives
	// up on it.
	MaxSyncDuration time.Duration
	DueBatch        int
	// WriteWaitLimit is how long a sync waits, without locking the
	// library, for library writes in flight (a slow upload) to end; after
	// it, it locks the library and waits for them holding the lock.
	// Zero means 10 minutes.
	WriteWaitLimit time.Duration
	// SyncRetryDelay is the wait before the first retry of a failed sync;
	// each further retry waits four times longer (up to 10 minutes).
	// Zero means 5 s.
	SyncRetryDelay time.Duration
}

// Service owns the life of every sync. Build it with New before the
// queue starts: it registers its workers and the scheduler tick.
type Service struct {
	cfg    Config
	cat    Catalog
	store  *catalog.Store
	queue  *queue.Queue
	policy *policy.Policy
	logger *slog.Logger
	now    func() time.Time
}

// New builds a Service and registers its job workers on the queue.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Queue == nil || cfg.Policy == nil || cfg.Connections == nil || cfg.Engine == nil {
		return nil, errors.New("syncrun: Store, Queue, Policy, Connections and Engine are required")
	}
	s := &Service{cfg: cfg, store: cfg.Store, queue: cfg.Queue, policy: cfg.Policy, logger: cfg.Logger, now: cfg.Now}
	s.cat = cfg.Catalog
	if s.cat == nil {
		s.cat = cfg.Store
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.cfg.LeaseTTL <= 0 {
		s.cfg.LeaseTTL = DefaultLeaseTTL
	}
	if s.cfg.SchedulerInterval <= 0 {
		s.cfg.SchedulerInterval = DefaultSchedulerInterval
	}
	if s.cfg.Lookahead == 0 {
		s.cfg.Lookahead = s.cfg.SchedulerInterval
	}
	if s.cfg.Lookahead < 0 {
		s.cfg.Lookahead = 0
	}
	if s.cfg.MaxSyncDuration <= 0 {
		s.cfg.MaxSyncDuration = DefaultMaxSyncDuration
	}
	if s.cfg.WriteWaitLimit <= 0 {
		s.cfg.WriteWaitLimit = 10 * time.Minute
	}
	if s.cfg.SyncRetryDelay <= 0 {
		s.cfg.SyncRetryDelay = 5 * time.Second
	}
	if s.cfg.DueBatch <= 0 {
		s.cfg.DueBatch = DefaultDueBatch
	}
	queue.AddWorker(s.queue, river.Worker[SyncArgs](&syncWorker{svc: s}))
	queue.AddWorker(s.queue, river.Worker[SchedulerArgs](&schedulerWorker{svc: s}))
	queue.AddWorker(s.queue, river.Worker[SearchFillArgs](&searchFillWorker{svc: s}))
	s.queue.AddPeriodic(KindScheduler, s.cfg.SchedulerInterval, func() river.JobArgs { return SchedulerArgs{} })
	return s, nil
}

// accountSyncJobs lists the account's sync jobs in the given states.
func (s *Service) accountSyncJobs(ctx context.Context, accountID int64, states ...rivertype.JobState) ([]*rivertype.JobRow, error) {
	jobs, err := s.queue.ListByAccount(ctx, KindSync, accountID, states...)
	if err != nil {
		return nil, err
	}
	var out []*rivertype.JobRow
	for _, j := range jobs {
		var args SyncArgs
		if unmarshalArgs(j, &args) == nil && args.AccountID == accountID {
			out = append(out, j)
		}
	}
	return out, nil
}

// NodeID names this process in leases.
func (s *Service) NodeID() string { return s.queue.NodeID() }
