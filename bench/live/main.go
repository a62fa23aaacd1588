// Command live measures live sync (SPEC §3.4) on in-process Shelf servers
// and prints Markdown tables; nothing here is a timed assertion.
//
//   - latency: a change in the storage until GET /api/v1/assets shows it,
//     p50 / p95 / max over -n adds, moves and deletes, for a local folder
//     (fsnotify), versitygw posting bucket events to the events URL, a
//     fake Drive with push channels and one polled every -drive-poll;
//   - burst: -burst-rate objects/s for -burst-for into one S3 account, each
//     with its event posted; then the counts (nothing lost), the time until
//     the catalog caught up, peak RSS and the live batches it took;
//   - idle: Drive calls of idle live accounts per account and hour;
//   - flood: -flood-rate single-record events/s for -flood-for at the
//     events URL from a separate process; HTTP statuses, the server's peak
//     RSS, whether the account was re-listed, catalog against bucket.
//
// Each measurement starts its own server (SQLite in a temporary directory,
// or a fresh database on the PostgreSQL server -db names).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/shelf-dam/shelf/bench/internal/machine"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

type options struct {
	tables, sources []string
	db              string
	logLevel        slog.Level

	n              int
	gapMin, gapMax time.Duration
	drivePoll      time.Duration

	burstRate  int
	burstFor   time.Duration
	burstStore []string

	idleFor      time.Duration
	idleAccounts int

	floodRate    int
	floodFor     time.Duration
	floodClients int
	floodReal    float64
}

// logOut carries progress lines (stderr, so stdout is only the tables).
var logOut io.Writer = os.Stderr

func main() {
	var o options
	var tables, sources, stores, level, loadFor, s3Buckets string
	flag.StringVar(&tables, "tables", "latency,burst,idle,flood", "tables to measure")
	flag.StringVar(&sources, "sources", "local,versitygw,drive-push,drive-poll", "latency rows")
	flag.StringVar(&o.db, "db", "", "PostgreSQL server URL such as $SHELF_TEST_POSTGRES_URL (a fresh database per server); empty: SQLite")
	flag.StringVar(&level, "log", "error", "server log level on stderr (debug, info, warn, error)")
	flag.IntVar(&o.n, "n", 50, "changes per latency row")
	flag.DurationVar(&o.gapMin, "gap-min", 300*time.Millisecond, "least time between two changes")
	flag.DurationVar(&o.gapMax, "gap-max", 500*time.Millisecond, "most time between two changes")
	flag.DurationVar(&o.drivePoll, "drive-poll", 15*time.Second, "drive_live_poll of the policy (Drive rows, idle table)")
	flag.IntVar(&o.burstRate, "burst-rate", 1000, "objects per second of the burst")
	flag.DurationVar(&o.burstFor, "burst-for", 30*time.Second, "length of the burst")
	flag.StringVar(&stores, "burst-store", "s3fake", "S3 servers of the burst: s3fake (events posted by the benchmark), versitygw (posts its own)")
	flag.DurationVar(&o.idleFor, "idle", 60*time.Second, "how long the Drive accounts stay idle")
	flag.IntVar(&o.idleAccounts, "idle-accounts", 3, "live Drive accounts in the idle table")
	flag.IntVar(&o.floodRate, "flood-rate", 10000, "events per second of the flood")
	flag.DurationVar(&o.floodFor, "flood-for", 10*time.Second, "length of the flood")
	flag.IntVar(&o.floodClients, "flood-clients", 256, "concurrent HTTP clients of the flood")
	flag.Float64Var(&o.floodReal, "flood-real", 0.01, "share of flood events whose object is really put in the bucket first")
	flag.StringVar(&loadFor, "load-client", "", "internal: run as the writers' process posting to this events URL")
	flag.StringVar(&s3Buckets, "s3fake", "", "internal: run as the s3fake process with these buckets")
	flag.Parse()
	if loadFor != "" || s3Buckets != "" {
		var err error
		if loadFor != "" {
			err = loadClient(loadFor, flag.Args())
		} else {
			err = serveS3fake(s3Buckets)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "live benchmark helper:", err)
			os.Exit(1)
		}
		return
	}
	o.tables, o.sources, o.burstStore = split(tables), split(sources), split(stores)
	if err := o.logLevel.UnmarshalText([]byte(level)); err != nil {
		fmt.Fprintln(os.Stderr, "-log:", err)
		os.Exit(2)
	}
	if o.gapMax < o.gapMin {
		o.gapMax = o.gapMin
	}
	ctx := context.Background()
	db := "SQLite"
	if o.db != "" {
		db = "PostgreSQL"
	}
	fmt.Printf("# Live sync benchmark\n\ncatalog: %s; %s\n", db, hostInfo())
	for _, t := range []struct {
		name string
		run  func(context.Context, options) error
	}{{"latency", latencyTable}, {"burst", burstTable}, {"idle", idleTable}, {"flood", floodTable}} {
		if !o.wants(o.tables, t.name) {
			continue
		}
		if err := t.run(ctx, o); err != nil {
			fmt.Fprintf(os.Stderr, "live benchmark, %s: %v\n", t.name, err)
			os.Exit(1)
		}
	}
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (o options) wants(list []string, name string) bool { return slices.Contains(list, name) }

// server is the serverOptions of a measurement.
func (o options) server(publicMe bool, drive *drivefake.Server, policy string) serverOptions {
	return serverOptions{db: o.db, policy: policy, publicMe: publicMe, drive: drive, logLevel: o.logLevel}
}

// hostInfo describes the CPUs the figures were taken on.
func hostInfo() string {
	n := 0
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		n = strings.Count(string(b), "\nprocessor")
		if strings.HasPrefix(string(b), "processor") {
			n++
		}
	}
	return fmt.Sprintf("%d CPUs, load average %s at start", n, machine.LoadAverage())
}
