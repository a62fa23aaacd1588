// Package jobs runs Shelf's background work on River, on the catalog's own
// database: the sync worker (lease, progress, completion messages), the
// periodic scheduler that enqueues due auto-syncs, expires trials and reaps
// expired leases, and the calls that start a sync (manual, initial, CLI).
//
// On PostgreSQL any number of processes run a Service against the same
// database and share the work; River elects the one that runs the
// periodic scheduler. On SQLite there is one process.
package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/policy"
	"github.com/shelf-dam/shelf/internal/storage"
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

// ConnectFunc builds the storage connector of an account from its stored
// connection (the application decrypts credentials and applies the
// operator's settings).
type ConnectFunc func(ctx context.Context, accountID int64) (storage.Connector, error)

// SyncRequest is one sync for the engine to run. The caller holds the
// account's lease for the whole call.
type SyncRequest struct {
	AccountID int64
	RunID     int64
	Trigger   string
	Conn      storage.Connector
	// ConfirmedMassDelete lets the engine apply removals the mass-delete
	// guard would hold back (an admin confirmed them).
	ConfirmedMassDelete bool
	// Progress reports the run's progress (counts, phase, estimate, rate);
	// it may be called often.
	Progress func(p catalog.RunProgress)
}

// SyncResult is what a finished sync reports.
type SyncResult struct {
	Counts catalog.Counts
	// NeedsConfirmation: the run stopped before removing a large share of
	// the library; an admin must confirm.
	NeedsConfirmation bool
	// Message explains NeedsConfirmation to the admin.
	Message string
	// PendingRemovals and PendingRemovalPaths: with NeedsConfirmation, how
	// many assets a confirmation removes and the first of their paths.
	PendingRemovals     int64
	PendingRemovalPaths []string
}

// SyncFunc runs the sync engine (syncer.Syncer) for one request.
type SyncFunc func(ctx context.Context, req SyncRequest) (SyncResult, error)

// FinishedFunc is told about every run that ended (succeeded, failed or
// needs confirmation), after its row and the lease are settled: it keeps the
// notification, sends webhooks and email (notify.Dispatcher.RunFinished).
type FinishedFunc func(ctx context.Context, run catalog.SyncRun) error

// Config is what a Service needs. Store, Policy, Connect and Sync are
// required.
type Config struct {
	// Store is the catalog; River runs on the same database.
	Store *catalog.Store
	// Catalog overrides the catalog calls (tests wrap Store); nil: Store.
	Catalog Catalog
	Policy  *policy.Policy
	Connect ConnectFunc
	Sync    SyncFunc
	// Hub publishes live events; nil publishes none.
	Hub *notify.Hub
	// Finished is told about ended runs; nil does nothing more.
	Finished FinishedFunc
	Logger   *slog.Logger
	// Now is the clock (tests inject one); nil: time.Now.
	Now func() time.Time
	// NodeID names this process in leases and River; empty: host:pid:random.
	NodeID string

	// Work makes this process work jobs and take part in leader election
	// (run the scheduler). A process that only enqueues (a CLI command)
	// leaves it false.
	Work bool
	// SyncWorkers is how many syncs this process runs at once.
	SyncWorkers int
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
	// SyncRetryDelay is the wait before the first retry of a failed sync;
	// each further retry waits four times longer (up to 10 minutes).
	// Zero means 5 s.
	SyncRetryDelay time.Duration
	// RegisterWorkers adds more job kinds (thumbnails, webhooks, email).
	RegisterWorkers func(*river.Workers)
	// Queues adds queues beside the default one (name → workers).
	Queues map[string]int
	// FetchPollInterval overrides River's poll fallback (tests, SQLite).
	FetchPollInterval time.Duration
}

// Service owns the River client and the sync machinery. Build it with New,
// then Start and Stop it.
type Service struct {
	cfg    Config
	cat    Catalog
	store  *catalog.Store
	policy *policy.Policy
	logger *slog.Logger
	now    func() time.Time
	nodeID string

	client   riverClient
	insertTx func(ctx context.Context, t *txn, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	// deleteTx deletes a job that is not running inside t.
	deleteTx func(ctx context.Context, t *txn, id int64) error
	// completeTx marks a sync job completed inside t, so the job's unique
	// slot frees in the same commit that finishes its run.
	completeTx func(ctx context.Context, t *txn, job *river.Job[SyncArgs]) error
	exec       riverdriver.Executor

	mu      sync.Mutex
	started bool
}

// riverClient is the part of river.Client[TTx] used here that does not
// depend on the transaction type.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	JobDelete(ctx context.Context, id int64) (*rivertype.JobRow, error)
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
}

// New builds a Service (and its River client) without starting it.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Policy == nil || cfg.Connect == nil || cfg.Sync == nil {
		return nil, errors.New("jobs: Store, Policy, Connect and Sync are required")
	}
	s := &Service{cfg: cfg, store: cfg.Store, policy: cfg.Policy, logger: cfg.Logger, now: cfg.Now, nodeID: cfg.NodeID}
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
	if s.nodeID == "" {
		s.nodeID = defaultNodeID()
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
	if s.cfg.SyncWorkers <= 0 {
		s.cfg.SyncWorkers = DefaultSyncWorkers
	}
	if s.cfg.MaxSyncDuration <= 0 {
		s.cfg.MaxSyncDuration = DefaultMaxSyncDuration
	}
	if s.cfg.SyncRetryDelay <= 0 {
		s.cfg.SyncRetryDelay = 5 * time.Second
	}
	if s.cfg.DueBatch <= 0 {
		s.cfg.DueBatch = DefaultDueBatch
	}

	rc := &river.Config{
		Logger:               s.logger.With("component", "river"),
		ID:                   riverID(s.nodeID),
		RescueStuckJobsAfter: s.cfg.MaxSyncDuration + time.Hour,
		FetchPollInterval:    s.cfg.FetchPollInterval,
	}
	if cfg.Work {
		workers := river.NewWorkers()
		river.AddWorker(workers, &syncWorker{svc: s})
		river.AddWorker(workers, &schedulerWorker{svc: s})
		if cfg.RegisterWorkers != nil {
			cfg.RegisterWorkers(workers)
		}
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: s.cfg.SyncWorkers}}
		for name, n := range cfg.Queues {
			rc.Queues[name] = river.QueueConfig{MaxWorkers: n}
		}
		rc.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(s.cfg.SchedulerInterval),
				func() (river.JobArgs, *river.InsertOpts) { return SchedulerArgs{}, nil },
				&river.PeriodicJobOpts{ID: KindScheduler, RunOnStart: true}),
		}
	}

	var err error
	switch cfg.Store.Dialect() {
	case catalog.DialectPostgres:
		err = bindRiver(s, riverpgxv5.New(cfg.Store.PgxPool()), rc, func(t *txn) pgx.Tx { return t.pg })
	default:
		err = bindRiver(s, riversqlite.New(cfg.Store.DB()), rc, func(t *txn) *sql.Tx { return t.sql })
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Start starts working jobs (when Config.Work) and the scheduler election.
// A Service that only enqueues needs no Start.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || !s.cfg.Work {
		return nil
	}
	if err := s.client.Start(ctx); err != nil {
		return fmt.Errorf("starting the River job client: %w", err)
	}
	s.started = true
	s.logger.Info("job service started", "node", s.nodeID, "sync_workers", s.cfg.SyncWorkers,
		"lease_ttl", s.cfg.LeaseTTL, "scheduler_interval", s.cfg.SchedulerInterval)
	return nil
}

// Stop lets running jobs finish until ctx is done, then cancels them (their
// runs are retried elsewhere once their leases expire).
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return nil
	}
	s.started = false
	err := s.client.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = s.client.StopAndCancel(cctx)
	}
	if err != nil {
		return fmt.Errorf("stopping the River job client: %w", err)
	}
	return nil
}

// Enqueue inserts a job of any registered kind (webhook deliveries, email,
// thumbnails). It must not be called while a catalog transaction is open in
// the same goroutine (SQLite has one writer).
func (s *Service) Enqueue(ctx context.Context, args river.JobArgs) error {
	if _, err := s.client.Insert(ctx, args, nil); err != nil {
		return fmt.Errorf("enqueueing %s job: %w", args.Kind(), err)
	}
	return nil
}

// accountSyncJobs lists the account's sync jobs in the given states.
func (s *Service) accountSyncJobs(ctx context.Context, accountID int64, states ...rivertype.JobState) ([]*rivertype.JobRow, error) {
	p := river.NewJobListParams().Kinds(KindSync).States(states...).First(1000)
	if s.store.Dialect() == catalog.DialectPostgres {
		p = p.Where("args->>'account_id' = @account_id", river.NamedArgs{"account_id": strconv.FormatInt(accountID, 10)})
	} else {
		p = p.Where("args ->> '$.account_id' = @account_id", river.NamedArgs{"account_id": accountID})
	}
	res, err := s.client.JobList(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("listing the sync jobs of account %d: %w", accountID, err)
	}
	var out []*rivertype.JobRow
	for _, j := range res.Jobs {
		var args SyncArgs
		if unmarshalArgs(j, &args) == nil && args.AccountID == accountID {
			out = append(out, j)
		}
	}
	return out, nil
}

// NodeID names this process in leases.
func (s *Service) NodeID() string { return s.nodeID }

// Subscribe exposes River's job events (tests and metrics).
func (s *Service) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return s.client.Subscribe(kinds...)
}

func defaultNodeID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// riverID turns a node ID into a River client ID (letters, digits, _ - .).
func riverID(node string) string {
	out := []byte(node)
	for i, c := range out {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
		if !ok {
			out[i] = '_'
		}
	}
	return string(out)
}

// txn is one catalog transaction that River can insert into: a *sql.Tx on
// SQLite, a pgx.Tx on PostgreSQL.
type txn struct {
	sql    *sql.Tx
	pg     pgx.Tx
	rebind func(string) string
}

type rowScanner interface{ Scan(dest ...any) error }

func (t *txn) exec(ctx context.Context, query string, args ...any) (int64, error) {
	if t.pg != nil {
		tag, err := t.pg.Exec(ctx, t.rebind(query), args...)
		return tag.RowsAffected(), err
	}
	res, err := t.sql.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *txn) queryRow(ctx context.Context, query string, args ...any) rowScanner {
	if t.pg != nil {
		return t.pg.QueryRow(ctx, t.rebind(query), args...)
	}
	return t.sql.QueryRowContext(ctx, query, args...)
}

// inTx runs fn in a transaction River can insert into.
func (s *Service) inTx(ctx context.Context, fn func(t *txn) error) error {
	if s.store.Dialect() == catalog.DialectPostgres {
		return pgx.BeginFunc(ctx, s.store.PgxPool(), func(tx pgx.Tx) error {
			return fn(&txn{pg: tx, rebind: s.store.Rebind})
		})
	}
	return s.store.InTx(ctx, func(tx *sql.Tx) error {
		return fn(&txn{sql: tx, rebind: s.store.Rebind})
	})
}

// bindRiver creates the River client on driver and the service's
// transactional job operations, whose transaction is txOf of a txn.
func bindRiver[TDriver riverdriver.Driver[TTx], TTx any](s *Service, driver TDriver, rc *river.Config, txOf func(*txn) TTx) error {
	c, err := river.NewClient[TTx](driver, rc)
	if err != nil {
		return fmt.Errorf("creating the River job client: %w", err)
	}
	s.client, s.exec = c, driver.GetExecutor()
	s.insertTx = func(ctx context.Context, t *txn, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
		return c.InsertTx(ctx, txOf(t), args, opts)
	}
	s.deleteTx = func(ctx context.Context, t *txn, id int64) error {
		_, err := c.JobDeleteTx(ctx, txOf(t), id)
		return err
	}
	s.completeTx = func(ctx context.Context, t *txn, job *river.Job[SyncArgs]) error {
		_, err := river.JobCompleteTx[TDriver](ctx, txOf(t), job)
		return err
	}
	return nil
}
