// Package queue is Shelf's job queue: River on the catalog's own database
// (riversqlite or riverpgxv5), one client per process. It is plumbing only —
// the sync's life (internal/syncrun), previews (media), webhooks and email
// (notify) register their workers and enqueue their jobs through it.
//
// Register every worker with AddWorker before Start. A job enqueued with a
// catalog change goes through InsertTx inside catalog.Store.InQueueTx, so
// both commit or roll back together.
package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// Config is what a Queue needs; Store is required.
type Config struct {
	Store  *catalog.Store
	Logger *slog.Logger
	// NodeID names this process (River client ID); empty: host:pid:random.
	NodeID string
	// Work makes this process work jobs and take part in leader election
	// (periodic jobs). A process that only enqueues leaves it false.
	Work bool
	// Queues are the queues this process works (name → workers); the
	// default queue must be among them when Work.
	Queues map[string]int
	// RescueStuckJobsAfter is when River presumes a running job's worker
	// dead (River's default when zero).
	RescueStuckJobsAfter time.Duration
	// FetchPollInterval overrides River's poll fallback (tests, SQLite).
	FetchPollInterval time.Duration
}

// Queue is the River client of this process and its transactional
// operations on catalog.QueueTx.
type Queue struct {
	cfg     Config
	logger  *slog.Logger
	nodeID  string
	workers *river.Workers

	client client
	exec   riverdriver.Executor
	// The operations that need River's transaction type, bound once.
	insertTx   func(ctx context.Context, t *catalog.QueueTx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	deleteTx   func(ctx context.Context, t *catalog.QueueTx, id int64) error
	completeTx func(ctx context.Context, t *catalog.QueueTx, job *rivertype.JobRow) error

	mu      sync.Mutex
	started bool
}

// client is the part of river.Client[TTx] used here that does not depend on
// the transaction type.
type client interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	JobDelete(ctx context.Context, id int64) (*rivertype.JobRow, error)
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
	PeriodicJobs() *river.PeriodicJobBundle
}

// New builds the queue's River client without starting it.
func New(cfg Config) (*Queue, error) {
	if cfg.Store == nil {
		return nil, errors.New("queue: Config.Store is required")
	}
	q := &Queue{cfg: cfg, logger: cfg.Logger, nodeID: cfg.NodeID}
	if q.logger == nil {
		q.logger = slog.New(slog.DiscardHandler)
	}
	if q.nodeID == "" {
		q.nodeID = defaultNodeID()
	}
	rc := &river.Config{
		// River's own info lines (producer heartbeats every few seconds)
		// are debug-level chatter for an operator.
		Logger:               catalog.QuietLogger(q.logger.With("component", "river")),
		ID:                   riverID(q.nodeID),
		RescueStuckJobsAfter: cfg.RescueStuckJobsAfter,
		FetchPollInterval:    cfg.FetchPollInterval,
		// River's default 100 ms between fetches caps a worker at
		// MaxWorkers jobs per 100 ms (40 short syncs/s at 4 workers);
		// 20 ms lets one worker keep up with 10,000 accounts on 5 minutes.
		FetchCooldown: 20 * time.Millisecond,
	}
	if cfg.Work {
		q.workers = river.NewWorkers()
		rc.Workers = q.workers
		rc.Queues = map[string]river.QueueConfig{}
		for name, n := range cfg.Queues {
			rc.Queues[name] = river.QueueConfig{MaxWorkers: max(n, 1)}
		}
		if _, ok := rc.Queues[river.QueueDefault]; !ok {
			rc.Queues[river.QueueDefault] = river.QueueConfig{MaxWorkers: 1}
		}
	}
	var err error
	if cfg.Store.Dialect() == catalog.DialectPostgres {
		err = bind(q, riverpgxv5.New(cfg.Store.PgxPool()), rc, (*catalog.QueueTx).Pgx)
	} else {
		err = bind(q, riversqlite.New(cfg.Store.DB()), rc, (*catalog.QueueTx).SQL)
	}
	if err != nil {
		return nil, err
	}
	return q, nil
}

// bind creates the River client on driver and the queue's transactional
// operations, whose River transaction is txOf of a catalog.QueueTx.
func bind[TDriver riverdriver.Driver[TTx], TTx any](q *Queue, driver TDriver, rc *river.Config, txOf func(*catalog.QueueTx) TTx) error {
	c, err := river.NewClient[TTx](driver, rc)
	if err != nil {
		return fmt.Errorf("creating the River job client: %w", err)
	}
	q.client, q.exec = c, driver.GetExecutor()
	q.insertTx = func(ctx context.Context, t *catalog.QueueTx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
		return c.InsertTx(ctx, txOf(t), args, opts)
	}
	q.deleteTx = func(ctx context.Context, t *catalog.QueueTx, id int64) error {
		_, err := c.JobDeleteTx(ctx, txOf(t), id)
		return err
	}
	q.completeTx = func(ctx context.Context, t *catalog.QueueTx, job *rivertype.JobRow) error {
		_, err := river.JobCompleteTx[TDriver](ctx, txOf(t), &river.Job[rawArgs]{JobRow: job})
		return err
	}
	return nil
}

// OnePerArgs is the uniqueness of a job of which one with the same
// arguments may be waiting or running at a time: a copy enqueued meanwhile
// is dropped, one enqueued after it finished (completed, cancelled,
// discarded) runs.
func OnePerArgs() river.UniqueOpts {
	return river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateScheduled, rivertype.JobStateRetryable,
	}}
}

// rawArgs stands for any job's arguments where only the job row counts.
type rawArgs struct{}

func (rawArgs) Kind() string { return "" }

// AddWorker registers a worker for its job kind; call it before Start, in a
// process that works jobs (Config.Work). Elsewhere it does nothing.
func AddWorker[T river.JobArgs](q *Queue, w river.Worker[T]) {
	if q != nil && q.workers != nil {
		river.AddWorker(q.workers, w)
	}
}

// AddPeriodic runs a job every interval on the elected leader (and once at
// start). It does nothing in a process that does not work jobs.
func (q *Queue) AddPeriodic(id string, every time.Duration, args func() river.JobArgs) {
	if !q.cfg.Work {
		return
	}
	q.client.PeriodicJobs().Add(river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return args(), nil },
		&river.PeriodicJobOpts{ID: id, RunOnStart: true}))
}

// Start starts working jobs (when Config.Work).
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started || !q.cfg.Work {
		return nil
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("starting the River job client: %w", err)
	}
	q.started = true
	return nil
}

// Stop lets running jobs finish until ctx is done, then cancels them.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.started {
		return nil
	}
	q.started = false
	err := q.client.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = q.client.StopAndCancel(cctx)
	}
	if err != nil {
		return fmt.Errorf("stopping the River job client: %w", err)
	}
	return nil
}

// NodeID names this process.
func (q *Queue) NodeID() string { return q.nodeID }

// Enqueue inserts a job on its own. It must not be called while a catalog
// transaction is open in the same goroutine (SQLite has one writer).
func (q *Queue) Enqueue(ctx context.Context, args river.JobArgs) error {
	if _, err := q.client.Insert(ctx, args, nil); err != nil {
		return fmt.Errorf("enqueueing %s job: %w", args.Kind(), err)
	}
	return nil
}

// InsertTx inserts a job inside t.
func (q *Queue) InsertTx(ctx context.Context, t *catalog.QueueTx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := q.insertTx(ctx, t, args, opts)
	if err != nil {
		return nil, fmt.Errorf("enqueueing %s job: %w", args.Kind(), err)
	}
	return res, nil
}

// DeleteTx deletes a job that is not running inside t
// (rivertype.ErrJobRunning when it is).
func (q *Queue) DeleteTx(ctx context.Context, t *catalog.QueueTx, id int64) error {
	return q.deleteTx(ctx, t, id)
}

// CompleteTx marks the running job completed inside t, so what it
// finished and the end of the job commit together. ctx must carry the
// worker's values (River finds its client there); it may be detached from
// the worker's cancellation (context.WithoutCancel).
func (q *Queue) CompleteTx(ctx context.Context, t *catalog.QueueTx, job *rivertype.JobRow) error {
	if err := q.completeTx(ctx, t, job); err != nil {
		return fmt.Errorf("completing %s job %d: %w", job.Kind, job.ID, err)
	}
	return nil
}

// List lists jobs.
func (q *Queue) List(ctx context.Context, params *river.JobListParams) ([]*rivertype.JobRow, error) {
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("listing jobs: %w", err)
	}
	return res.Jobs, nil
}

// Delete deletes a job that is not running.
func (q *Queue) Delete(ctx context.Context, id int64) error {
	_, err := q.client.JobDelete(ctx, id)
	return err
}

// Subscribe exposes River's job events (tests and metrics).
func (q *Queue) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return q.client.Subscribe(kinds...)
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
