// Command scale benchmarks Shelf's auto-sync scheduler as an operator
// scales it out: the real shelf binary as one `shelf serve --no-workers` and
// two `shelf worker` processes on one PostgreSQL database, with thousands of
// accounts each syncing a small local folder on its plan's interval.
//
//	go run ./bench/scale -accounts 10000 -interval 5m -intervals 3 [-kill]
//
// It creates the accounts straight in the catalog (internal/catalog, the
// same calls the multi-node test uses: a CLI process per account would take
// longer than the benchmark), spreads their first due times over one
// interval, lets those first syncs (each library's import) settle, then
// observes -intervals further intervals and reads sync_runs and River's
// jobs to report double runs, missed intervals, start delays and where the
// delay comes from, with the peak RSS and CPU of every process. With -kill
// it then SIGKILLs a worker in the middle of its syncs and reports how the
// lease reaper and the survivor recover. With -accounts 0 -live N it
// measures live sync instead: N accounts on a live plan whose folders change
// once a minute each, the change-to-visible latency, and with -live-kill
// how long a SIGKILLed worker's live accounts stay unwatched. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// options are the command line.
type options struct {
	accounts          int
	files             int
	interval          time.Duration
	intervals         int
	slack             time.Duration
	kill              bool
	leaseTTL          time.Duration
	schedulerInterval time.Duration
	syncWorkers       int
	poolMaxConns      int
	dbURL             string
	bin               string
	keep              bool
	logLevel          string
	live              int
	liveMinutes       int
	liveKill          bool
}

func parseFlags() options {
	var o options
	flag.IntVar(&o.accounts, "accounts", 10000, "number of accounts, each with its own local folder")
	flag.IntVar(&o.files, "files", 3, "files in each account's folder")
	flag.DurationVar(&o.interval, "interval", 5*time.Minute, "the accounts' plan's local auto-sync interval (policy file)")
	flag.IntVar(&o.intervals, "intervals", 3, "intervals observed after the first syncs settle")
	flag.DurationVar(&o.slack, "slack", 0, "an account's consecutive auto-syncs starting more than interval + slack apart count as a missed interval (0: half the interval)")
	flag.BoolVar(&o.kill, "kill", false, "after the steady phase, SIGKILL a worker in the middle of its syncs and observe one more interval with the survivor alone")
	flag.DurationVar(&o.leaseTTL, "lease-ttl", 30*time.Second, "SHELF_SYNC_LEASE_TTL of the shelf processes")
	flag.DurationVar(&o.schedulerInterval, "scheduler-interval", 0, "SHELF_SCHEDULER_INTERVAL of the shelf processes (0: the binary's default)")
	flag.IntVar(&o.syncWorkers, "sync-workers", 0, "SHELF_SYNC_WORKERS of the shelf processes (0: the binary's default)")
	flag.IntVar(&o.poolMaxConns, "pool-max-conns", 0, "pool_max_conns added to the shelf processes' database URL (0: pgx's default, max(4, CPUs))")
	flag.StringVar(&o.dbURL, "db", os.Getenv("SHELF_TEST_POSTGRES_URL"), "PostgreSQL URL of a database the benchmark may create its own database from (default $SHELF_TEST_POSTGRES_URL)")
	flag.StringVar(&o.bin, "bin", "", "a shelf binary to run (default: go build ./cmd/shelf into a temporary directory)")
	flag.BoolVar(&o.keep, "keep", false, "keep the benchmark's database, folders and process logs (their paths are printed)")
	flag.StringVar(&o.logLevel, "log-level", "info", "SHELF_LOG_LEVEL of the shelf processes (debug shows every scheduler tick)")
	flag.IntVar(&o.live, "live", 0, "live phase: this many accounts on a live plan (local folders), each changing one file a minute; needs -accounts 0")
	flag.IntVar(&o.liveMinutes, "live-minutes", 3, "minutes the live phase's changes are measured")
	flag.BoolVar(&o.liveKill, "live-kill", false, "after the live phase, SIGKILL the worker watching most live accounts and measure the takeover")
	flag.Parse()
	levelSet := false
	flag.Visit(func(f *flag.Flag) { levelSet = levelSet || f.Name == "log-level" })
	if o.live > 0 {
		// The live phase counts batches from the workers' debug lines.
		if !levelSet {
			o.logLevel = "debug"
		}
		o.liveKill = o.liveKill || o.kill
		o.kill = false
	}
	if o.slack == 0 {
		o.slack = o.interval / 2
	}
	return o
}

func main() {
	o := parseFlags()
	switch {
	case o.live > 0 && (o.accounts != 0 || o.liveMinutes < 1):
		fmt.Fprintln(os.Stderr, "scale: -live needs -accounts 0 (the live phase runs alone) and -live-minutes at least 1")
		os.Exit(2)
	case o.live == 0 && (o.accounts < 1 || o.files < 1 || o.intervals < 1 || o.interval < time.Second):
		fmt.Fprintln(os.Stderr, "scale: -accounts, -files and -intervals must be at least 1 and -interval at least 1s")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, o))
}

// run is the whole benchmark; it returns the exit status.
func run(ctx context.Context, o options) int {
	b, err := newBench(ctx, o)
	if errors.Is(err, errNoPostgres) {
		fmt.Fprintf(os.Stderr, "scale: %v\n\n%s", err, startPostgresHint)
		return 2
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "scale: %v\n", err)
		if b == nil {
			return 1
		}
	}
	defer b.close()
	if err != nil {
		return 1
	}
	if err := b.execute(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "scale: %v\n", err)
		return 1
	}
	return 0
}
