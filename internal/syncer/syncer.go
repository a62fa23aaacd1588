// Package syncer is the sync engine: it mirrors what a storage connector
// holds under its root into an account's catalog (folders and assets),
// keeping the team's metadata across content changes, moves and deletions.
//
// A run scans, diffs and applies as one stream with bounded memory:
//   - connectors with a sorted scan (S3, local) are merge-joined against the
//     catalog read in the same order, page by page;
//   - other full scans (Drive) go in bounded batches, each looked up in the
//     catalog by storage ID, the IDs seen recorded in the database;
//   - Drive syncs after the first read the changes feed from the saved
//     cursor, falling back to a full scan when the cursor is refused and
//     every Config.FullScanEvery as a safety net.
//
// Additions and updates are applied as the scan goes, in transactions of
// Config.BatchSize rows. Deletions, and the move matching of S3 and local
// folders (a delete and a create of the same content within one sync), wait
// until the scan completed: a failed, cut-short or empty scan deletes
// nothing. A run that would remove more than Config.MassDeleteShare of a
// library stops before removing anything and asks for confirmation.
//
// The engine does not take the library lease: the caller (internal/syncrun)
// acquires the account's sync lease before Run, renews it while Run works
// and cancels Run's context when it is lost, and releases it afterwards,
// so nothing else writes the account's folders and assets meanwhile. Run is idempotent: after a crash at any
// point, running it again converges to the storage's state.
package syncer

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
)

// Defaults for the zero fields of Config.
const (
	DefaultBatchSize = 1000
	DefaultReadPage  = 5000
	// DefaultBulkAfter: a run adding more assets than this is a big
	// import (catalog.StartSearchBacklog): a big import's browse pages are
	// complete sooner, and search follows within seconds.
	DefaultBulkAfter       = 2000
	DefaultTombstoneTTL    = 30 * 24 * time.Hour
	DefaultMassDeleteShare = 0.5
	DefaultMassDeleteMin   = 100
	// DefaultMassDeleteWindow is how far back the mass-removal guard
	// counts removals.
	DefaultMassDeleteWindow = 24 * time.Hour
	DefaultFullScanEvery    = 24 * time.Hour
	// defaultProgressEvery is how often progress is reported (the run row
	// and Job.Progress): twice a second, so a page updates every second
	// even after the live events' own coalescing.
	defaultProgressEvery = 500 * time.Millisecond
	// analyzeAfter is the number of rows written after which the planner
	// statistics of the written tables are refreshed.
	analyzeAfter = 10000
)

// Config configures an Engine.
type Config struct {
	Store  *catalog.Store
	Logger *slog.Logger
	// Clock returns the current time; time.Now when nil.
	Clock func() time.Time
	// BatchSize is the number of changes written per transaction (and the
	// page size of catalog reads); DefaultBatchSize when 0.
	BatchSize int
	// BulkAfter is how many new assets a run adds before it leaves the
	// search index to catch up after the sync; DefaultBulkAfter when 0.
	BulkAfter int64
	// ReadPage is how many catalog rows one page of the merge-join reads:
	// more than a write batch, so a resync that finds nothing to change
	// makes few round trips (the next page is read while this one is
	// compared). DefaultReadPage when 0, and never less than BatchSize.
	ReadPage int
	// TombstoneTTL is how long a removed asset's metadata is kept for a
	// relink; DefaultTombstoneTTL when 0.
	TombstoneTTL time.Duration
	// MassDeleteShare and MassDeleteMin: a run that would remove more than
	// this share of a library of at least MassDeleteMin assets stops and
	// waits for confirmation. Defaults 0.5 and 100; a negative share turns
	// the guard off.
	MassDeleteShare float64
	MassDeleteMin   int64
	// MassDeleteWindow: the guard counts a run's removals together with
	// those of the runs before it within this window (since the last
	// confirmation, if later), against the library's size at the window's
	// start, so several runs each under the share cannot empty a library
	// unconfirmed. DefaultMassDeleteWindow when 0.
	MassDeleteWindow time.Duration
	// FullScanEvery is how often a connector with a changes feed is scanned
	// in full anyway; DefaultFullScanEvery when 0.
	FullScanEvery time.Duration
	// ProgressEvery is the time between two progress reports (the run
	// row and Job.Progress) while a run works; half a second when 0.
	ProgressEvery time.Duration
}

// Engine runs syncs. It is safe for concurrent use by runs of different
// accounts.
type Engine struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
}

// New returns an Engine with cfg's zero fields set to their defaults.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil {
		return nil, errors.New("sync engine: Config.Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.BulkAfter <= 0 {
		cfg.BulkAfter = DefaultBulkAfter
	}
	if cfg.ReadPage <= 0 {
		cfg.ReadPage = DefaultReadPage
	}
	cfg.ReadPage = max(cfg.ReadPage, cfg.BatchSize)
	if cfg.TombstoneTTL <= 0 {
		cfg.TombstoneTTL = DefaultTombstoneTTL
	}
	if cfg.MassDeleteShare == 0 {
		cfg.MassDeleteShare = DefaultMassDeleteShare
	}
	if cfg.MassDeleteMin <= 0 {
		cfg.MassDeleteMin = DefaultMassDeleteMin
	}
	if cfg.MassDeleteWindow <= 0 {
		cfg.MassDeleteWindow = DefaultMassDeleteWindow
	}
	if cfg.FullScanEvery <= 0 {
		cfg.FullScanEvery = DefaultFullScanEvery
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = defaultProgressEvery
	}
	return &Engine{cfg: cfg, log: cfg.Logger, now: cfg.Clock}, nil
}

// ScanMode says how a run reads the storage.
type ScanMode int

// Scan modes.
const (
	// ScanAuto: the changes feed when the connector has one, a cursor is
	// saved and the last full scan is recent; a full scan otherwise.
	ScanAuto ScanMode = iota
	// ScanFull: always a full scan.
	ScanFull
)

// Job is one sync of one account.
type Job struct {
	AccountID int64
	// RunID is the sync_runs row whose counters Run keeps up to date; 0
	// for none. Run does not change the row's state: the caller records
	// the outcome from Result and the error.
	RunID int64
	Conn  storage.Connector
	Kind  ScanMode
	// Cursor is the saved changes-feed cursor ("" for none) and
	// LastFullScan the time of the last complete scan (nil for never), both
	// from the storage connection. Run saves the new ones itself.
	Cursor       string
	LastFullScan *time.Time
	// Paths, when set, makes the run a live batch on path-identified
	// storage (S3, local): it re-reads only these root-relative paths —
	// each a file, a folder with its subtree, or nothing any more — and
	// applies what differs with the full scan's rules, moves within the
	// batch included. The changes cursor and the time of the last full
	// scan stay as they are. "" among them means the whole root: a full
	// scan. Ignored for storage identified by ID (Drive), whose live
	// batches read the changes feed.
	Paths []string
	// Prefetched, with Paths, is what Engine.Prefetch read of them before
	// the run: the run then asks the storage nothing more (but for a
	// subtree too big to hold).
	Prefetched *Prefetched
	// ConfirmedMassDelete lets the run remove more than the mass-delete
	// guard allows, and empty a library whose storage root is now empty:
	// an admin confirmed it after a run ended in needs_confirmation. Such
	// a run always lists the storage in full.
	ConfirmedMassDelete bool
	// Progress, when set, is called from Run's goroutine with the run's
	// progress (counters that never go back, phase, estimate, rate) every
	// Config.ProgressEvery while the run works, when a phase starts and at
	// the end — after the run row (RunID) got the same.
	Progress func(p catalog.RunProgress)
}

// Result is the outcome of a run that did not fail.
type Result struct {
	// State is catalog.RunSucceeded, or catalog.RunNeedsConfirmation when
	// the mass-delete guard held the removals back (everything else was
	// applied).
	State  string
	Counts catalog.Counts
	// FullScan reports whether the storage was listed in full.
	FullScan bool
	// Cursor is the changes-feed cursor now saved ("" for connectors
	// without a feed).
	Cursor string
	// PendingRemovals is, for needs_confirmation, how many assets the run
	// would have removed, and PendingRemovalPaths the first of their paths
	// (catalog.MaxPendingRemovalPaths, in path order).
	PendingRemovals     int64
	PendingRemovalPaths []string
	// Message explains a needs_confirmation state to an admin.
	Message string
	// Writes counts the library rows (folders and assets) the run
	// inserted, updated, moved or removed: 0 for a run that found nothing
	// to do. StageWrites counts its writes of working state (sync_stage):
	// removals and move candidates waiting for the end of the scan, and the
	// IDs an unsorted (Drive) full scan saw.
	Writes, StageWrites int64
	// SearchDeferred: the run added so many assets that their search
	// indexing was left for catalog.FillSearchBacklog (the caller queues
	// it, whatever the outcome).
	SearchDeferred bool
}

// Run syncs one account. On error nothing was deleted unless the scan had
// completed, the returned Result carries the counters so far, and the error
// says what failed and what to do.
func (e *Engine) Run(ctx context.Context, job Job) (Result, error) {
	r, err := e.newRun(ctx, job)
	if err != nil {
		return Result{}, err
	}
	res, err := r.execute(ctx)
	r.publish(ctx, true)
	if r.writes >= analyzeAfter {
		if aerr := r.store.SyncAnalyze(context.WithoutCancel(ctx), "assets", "folders"); aerr != nil {
			r.log.Warn("refreshing catalog statistics after a large sync", slog.String("error", aerr.Error()))
		}
	}
	res.Counts = r.counts
	res.Writes, res.StageWrites = r.writes, r.stageWrites
	res.SearchDeferred = r.searchDeferred
	if err != nil {
		e.log.Warn("sync failed", slog.Int64("account", job.AccountID), slog.Int64("run", job.RunID), slog.String("error", err.Error()))
		return res, err
	}
	e.log.Debug("sync finished", slog.Int64("account", job.AccountID), slog.Int64("run", job.RunID),
		slog.String("state", res.State), slog.Bool("full_scan", res.FullScan),
		slog.Int64("seen", r.counts.Seen), slog.Int64("added", r.counts.Added), slog.Int64("updated", r.counts.Updated),
		slog.Int64("moved", r.counts.Moved), slog.Int64("removed", r.counts.Removed), slog.Int64("errors", r.counts.Errors))
	return res, nil
}
