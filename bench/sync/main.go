// Command sync benchmarks the sync engine: for each storage, library size
// and database it measures the raw listing of the storage, a first full
// sync into an empty catalog, and a no-op resync, and prints a table with
// the ratios to the raw listing, objects per second, peak RSS and the rows
// written.
//
//	go run ./bench/sync -n 100000,1000000 -storage s3fake,local -db sqlite,postgres
//	go run ./bench/sync -n 1000000 -storage versitygw -db sqlite,postgres -extra rclone
//
// The S3 fake runs in a child process (this program re-executed), so the
// RSS measured is the engine's and the catalog driver's, not the fake's.
// PostgreSQL needs SHELF_TEST_POSTGRES_URL (a database is created per run);
// versitygw needs the versitygw binary on PATH or in $(go env GOPATH)/bin.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/shelf-dam/shelf/bench/internal/machine"
)

func main() {
	var (
		sizes    = flag.String("n", "100000", "comma-separated library sizes (objects)")
		storages = flag.String("storage", "s3fake,local", "comma-separated storages: s3fake, local, versitygw")
		dbs      = flag.String("db", "sqlite", "comma-separated catalogs: sqlite, postgres")
		work     = flag.String("dir", "", "working directory for local trees and SQLite files (default: a temporary one)")
		batch    = flag.Int("batch", 1000, "sync batch size")
		serve    = flag.Int("serve-s3fake", -1, "internal: serve an S3 fake holding this many objects")
		cpuprof  = flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
		traceOut = flag.String("trace", "", "write an execution trace of the whole run to this file (go tool trace): where the merge waits")
		extras   = flag.String("extra", "", "comma-separated extra measurements: drive (files.list calls of a 10k-folder Drive scan at 30 ms latency), s3parallel (parallel vs sequential S3 listing at 30 ms per LIST), rclone (rclone lsf and sync --dry-run on each S3 storage of the table, after Shelf's rows)")
		warmup   = flag.Bool("warmup", true, "list each storage once, untimed, before its rows, so the first raw listing does not pay for a cold cache (inodes, versitygw's attributes) that the syncs after it do not")
		keep     = flag.Bool("keep", false, "keep each catalog (SQLite file, PostgreSQL database) for inspection instead of removing it")
		vgwFill  = flag.String("versitygw-fill", "direct", "how a new versitygw data directory is filled: direct (written as versitygw's posix backend stores objects) or api (uploaded; slow)")
		latency  = flag.Duration("s3-list-latency", 0, "internal: latency of the served S3 fake's LIST calls")
		perTop   = flag.Int("s3-per-prefix", 1000, "internal: objects per top-level prefix in the served S3 fake")
	)
	flag.Parse()
	startLoad := machine.LoadAverage()
	keepCatalogs = *keep
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if *traceOut != "" {
		f, err := os.Create(*traceOut)
		if err != nil {
			log.Fatal(err)
		}
		if err := trace.Start(f); err != nil {
			log.Fatal(err)
		}
		defer trace.Stop()
	}
	if *serve >= 0 {
		serveS3Fake(*serve, *latency, *perTop)
		return
	}
	dir := *work
	if dir == "" {
		d, err := os.MkdirTemp("", "shelf-bench-sync-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	ctx := context.Background()
	if *extras != "" {
		if err := runExtras(ctx, os.Stdout, *extras, dir); err != nil {
			log.Fatal(err)
		}
		if *sizes == "" {
			return
		}
	}
	withRclone := false
	for _, x := range strings.Split(*extras, ",") {
		withRclone = withRclone || strings.TrimSpace(x) == "rclone"
	}
	var notes []string
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "storage\tcatalog\tobjects\tload1\tlist s\tlists s\tlist CPU s\tfull s\tfull/list\tfull obj/s\tfull CPU s\tfull RSS MiB\tfull rows\tsearch s\tnoop s\tnoop/list\tnoop CPU s\tnoop RSS MiB\tnoop rows\t")
	for _, ns := range strings.Split(*sizes, ",") {
		if ns == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(ns))
		if err != nil {
			log.Fatalf("bad -n value %q", ns)
		}
		for _, st := range strings.Split(*storages, ",") {
			src, err := openSource(ctx, strings.TrimSpace(st), n, dir, *vgwFill)
			if err != nil {
				log.Fatalf("preparing %s with %d objects: %v", st, n, err)
			}
			if *warmup {
				took, err := timeSorted(ctx, src.conn)
				if err != nil {
					src.close()
					log.Fatalf("warm-up listing of %s: %v", st, err)
				}
				fmt.Fprintf(os.Stderr, "warm-up listing of %s, %d objects: %.2f s\n", st, n, took.Seconds())
			}
			var lastList time.Duration
			for _, db := range strings.Split(*dbs, ",") {
				load, _, _ := strings.Cut(machine.LoadAverage(), " ")
				r, err := measure(ctx, src, strings.TrimSpace(db), dir, *batch)
				if err != nil {
					src.close()
					log.Fatalf("%s into %s: %v", st, db, err)
				}
				lastList = r.list
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%.2f\t%.1f/%.1f\t%.2f\t%.2f\t%.2f\t%.0f\t%.2f\t%.0f\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%d\t\n",
					st, db, n, load, r.list.Seconds(), r.list1.Seconds(), r.list2.Seconds(), r.listCPU.Seconds(), r.full.Seconds(), r.full.Seconds()/r.list.Seconds(),
					float64(n)/r.full.Seconds(), r.fullCPU.Seconds(), mib(r.fullRSS), r.fullRows, r.search.Seconds(),
					r.noop.Seconds(), r.noop.Seconds()/r.list.Seconds(), r.noopCPU.Seconds(), mib(r.noopRSS), r.noopRows)
				notes = append(notes, fmt.Sprintf("CPU s, this process / PostgreSQL / storage server, %s into %s, %d objects: list %.1f / - / %.1f; full %.1f / %.1f / %.1f; search - / %.1f / -; no-op %.1f / %.1f / %.1f",
					st, db, n, r.listCPU.Seconds(), r.srv.list.store.Seconds(), r.fullCPU.Seconds(), r.srv.full.pg.Seconds(), r.srv.full.store.Seconds(),
					r.srv.search.pg.Seconds(), r.noopCPU.Seconds(), r.srv.noop.pg.Seconds(), r.srv.noop.store.Seconds()))
				fmt.Fprintf(os.Stderr, "done: %s into %s, %d objects: list %.2f s (%.2f, %.2f), full %.2f s, search %.2f s, no-op %.2f s\n",
					st, db, n, r.list.Seconds(), r.list1.Seconds(), r.list2.Seconds(), r.full.Seconds(), r.search.Seconds(), r.noop.Seconds())
			}
			if withRclone && src.endpoint != "" {
				load := machine.LoadAverage()
				runs, err := measureRclone(ctx, src, dir)
				if err != nil {
					src.close()
					log.Fatal(err)
				}
				for _, rc := range runs {
					notes = append(notes, fmt.Sprintf("%s, %s, %d objects (load %s): %.2f s = %.2f × the raw listing of the row above (%.2f s), CPU %.2f s, peak RSS %.0f MiB, %d lines",
						rc.cmd, st, n, load, rc.wall.Seconds(), rc.wall.Seconds()/lastList.Seconds(), lastList.Seconds(), rc.cpu.Seconds(), mib(rc.rss), rc.lines))
				}
			}
			src.close()
		}
	}
	tw.Flush()
	for _, note := range notes {
		fmt.Println(note)
	}
	fmt.Printf("load average (1, 5, 15 min) at the start: %s, at the end: %s\n", startLoad, machine.LoadAverage())
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// phase measures a phase's wall time, CPU time (this process) and peak RSS.
// Its samples in a -cpuprofile carry the label phase=name besides ctx's
// (storage, catalog, objects), and so do those of the goroutines it
// starts: go tool pprof -top -tagfocus phase=noop (one filter; profile
// one storage and catalog per run to tell them apart).
func phase(ctx context.Context, name string, fn func() error) (wall, cpu time.Duration, rss int64, err error) {
	resetPeakRSS()
	c0 := cpuTime()
	start := time.Now()
	pprof.Do(ctx, pprof.Labels("phase", name), func(context.Context) { err = fn() })
	return time.Since(start), cpuTime() - c0, peakRSS(), err
}

// cpuTime is the user and system CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
