// Command listing measures how fast Shelf's storage connectors list a
// storage root, and prints a table. It answers two questions:
//
//  1. Does listing top-level prefixes in parallel pay off when every LIST
//     call is slow (30 ms on s3fake, 64+ top-level prefixes)? Target: the
//     parallel sorted scan is at least 8× faster than the sequential one.
//  2. How fast is the raw listing at 100k objects on s3fake, on a real S3
//     server (versitygw) and on a local folder?
//  3. With -compare-decoders only: how much of a versitygw listing does the
//     connector's own ListObjectsV2 decoder save over the SDK's?
//
// versitygw is used when SHELF_TEST_S3_ENDPOINT (with _ACCESS_KEY and
// _SECRET_KEY) is set, or started on a temporary folder when the
// versitygw binary is on PATH; otherwise its rows are skipped. All
// traffic stays on loopback.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"time"
)

func main() {
	var opt options
	flag.IntVar(&opt.prefixes, "prefixes", 64, "top-level prefixes in the parallel-vs-sequential run")
	flag.IntVar(&opt.perPrefix, "per-prefix", 2000, "objects under each top-level prefix in the parallel-vs-sequential run")
	flag.DurationVar(&opt.latency, "latency", 30*time.Millisecond, "latency added to every LIST call in the parallel-vs-sequential run")
	flag.IntVar(&opt.workers, "workers", 16, "ParallelPrefixes for the parallel runs")
	flag.IntVar(&opt.objects, "objects", 100000, "objects in the raw listing runs")
	flag.BoolVar(&opt.skipRaw, "skip-raw", false, "only run the parallel-vs-sequential comparison")
	flag.BoolVar(&opt.skipVersity, "skip-versitygw", false, "skip the versitygw rows")
	flag.BoolVar(&opt.compareDecoders, "compare-decoders", false, "only run C: list -objects objects on versitygw with the built-in and the SDK's ListObjectsV2 decoder, interleaved")
	flag.IntVar(&opt.reps, "reps", 5, "repetitions of each listing in run C")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the scans to this file")
	flag.StringVar(&opt.fakeProfile, "fake-server-cpuprofile", "", "write a CPU profile of the fake S3 server (run A) to this file")
	var child fakeLayout
	serve := flag.Bool("serve-s3fake", false, "internal: run as the fake S3 child process")
	flag.IntVar(&child.prefixes, "fake-prefixes", 0, "internal: child layout A prefixes")
	flag.IntVar(&child.perPrefix, "fake-per-prefix", 0, "internal: child layout A objects per prefix")
	flag.IntVar(&child.objects, "fake-objects", 0, "internal: child layout B objects")
	flag.DurationVar(&child.latency, "fake-latency", 0, "internal: child LIST latency")
	flag.StringVar(&child.cpuProfile, "fake-cpuprofile", "", "write a CPU profile of the fake S3 child to this file")
	flag.Parse()
	if *serve {
		if child.cpuProfile != "" {
			if f, err := os.Create(child.cpuProfile); err == nil {
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err == nil {
					defer pprof.StopCPUProfile()
				}
			}
		}
		if err := serveFake(child); err != nil {
			fmt.Fprintln(os.Stderr, "fake S3 child:", err)
			os.Exit(1)
		}
		return
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "listing benchmark:", err)
			os.Exit(1)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "listing benchmark:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if err := run(ctx, opt, logger); err != nil {
		fmt.Fprintln(os.Stderr, "listing benchmark:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

type options struct {
	prefixes, perPrefix int
	latency             time.Duration
	workers             int
	objects             int
	skipRaw             bool
	skipVersity         bool
	compareDecoders     bool
	reps                int
	fakeProfile         string
}

func run(ctx context.Context, opt options, logger *slog.Logger) error {
	if opt.compareDecoders {
		return compareDecoders(ctx, opt, logger, os.Stdout)
	}
	t := &table{}
	if err := parallelVsSequential(ctx, opt, logger, t); err != nil {
		return err
	}
	if !opt.skipRaw {
		if err := rawListing(ctx, opt, logger, t); err != nil {
			return err
		}
	}
	t.print(os.Stdout)
	return nil
}
