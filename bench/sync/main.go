// Command sync benchmarks the sync engine: for each storage, library size
// and database it measures the raw listing of the storage, a first full
// sync into an empty catalog, and a no-op resync, and prints a table with
// the ratios to the raw listing, objects per second, peak RSS and the rows
// written.
//
//	go run ./bench/sync -n 100000,1000000 -storage s3fake,local -db sqlite,postgres
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
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
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
		extras   = flag.String("extra", "", "comma-separated extra measurements: drive (files.list calls of a 10k-folder Drive scan at 30 ms latency), s3parallel (parallel vs sequential S3 listing at 30 ms per LIST)")
		latency  = flag.Duration("s3-list-latency", 0, "internal: latency of the served S3 fake's LIST calls")
		perTop   = flag.Int("s3-per-prefix", 1000, "internal: objects per top-level prefix in the served S3 fake")
	)
	flag.Parse()
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
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "storage\tcatalog\tobjects\tlist s\tlist CPU s\tfull s\tfull/list\tfull obj/s\tfull CPU s\tfull RSS MiB\tfull rows\tsearch s\tnoop s\tnoop/list\tnoop CPU s\tnoop RSS MiB\tnoop rows\t")
	for _, ns := range strings.Split(*sizes, ",") {
		if ns == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(ns))
		if err != nil {
			log.Fatalf("bad -n value %q", ns)
		}
		for _, st := range strings.Split(*storages, ",") {
			src, err := openSource(ctx, strings.TrimSpace(st), n, dir)
			if err != nil {
				log.Fatalf("preparing %s with %d objects: %v", st, n, err)
			}
			for _, db := range strings.Split(*dbs, ",") {
				r, err := measure(ctx, src, strings.TrimSpace(db), dir, *batch)
				if err != nil {
					src.close()
					log.Fatalf("%s into %s: %v", st, db, err)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%.2f\t%.0f\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%d\t\n",
					st, db, n, r.list.Seconds(), r.listCPU.Seconds(), r.full.Seconds(), r.full.Seconds()/r.list.Seconds(),
					float64(n)/r.full.Seconds(), r.fullCPU.Seconds(), mib(r.fullRSS), r.fullRows, r.search.Seconds(),
					r.noop.Seconds(), r.noop.Seconds()/r.list.Seconds(), r.noopCPU.Seconds(), mib(r.noopRSS), r.noopRows)
				fmt.Fprintf(os.Stderr, "done: %s into %s, %d objects\n", st, db, n)
			}
			src.close()
		}
	}
	tw.Flush()
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// phase measures a phase's wall time, CPU time (this process) and peak RSS.
func phase(fn func() error) (wall, cpu time.Duration, rss int64, err error) {
	resetPeakRSS()
	c0 := cpuTime()
	start := time.Now()
	err = fn()
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
