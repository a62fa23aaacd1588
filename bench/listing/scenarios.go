package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/localfs"
	"github.com/shelf-dam/shelf/internal/storage/s3"
)

type scanFunc func(ctx context.Context, emit func(storage.Entry) error) error

// measurement is one scan's cost.
type measurement struct {
	entries int
	elapsed time.Duration
	cpu     time.Duration
	rss     string
}

// measure runs one scan and counts its entries.
func measure(ctx context.Context, scan scanFunc) (measurement, error) {
	runtime.GC()
	resetPeakRSS()
	n := 0
	cpu0, start := cpuTime(), time.Now()
	err := scan(ctx, func(storage.Entry) error { n++; return nil })
	return measurement{entries: n, elapsed: time.Since(start), cpu: cpuTime() - cpu0, rss: peakRSS()}, err
}

// rowOf starts a table row from a measurement.
func rowOf(group, storageName, mode string, m measurement, lists int) row {
	return row{group: group, storage: storageName, mode: mode, objects: m.entries, elapsed: m.elapsed,
		cpu: m.cpu, lists: lists, rssMiB: m.rss}
}

func s3Conn(ctx context.Context, endpoint, access, secret, bucket string, workers int, logger *slog.Logger) (*s3.Conn, *listCounter, error) {
	hc, lc := countingClient()
	c, err := s3.New(ctx, s3.Config{Bucket: bucket, Endpoint: endpoint, PathStyle: true,
		AccessKeyID: access, SecretAccessKey: secret, ParallelPrefixes: workers, HTTPClient: hc}, logger)
	return c, lc, err
}

// parallelVsSequential lists opt.prefixes top-level prefixes of
// opt.perPrefix objects each on s3fake with opt.latency per LIST call,
// sequentially and with opt.workers prefixes in parallel.
func parallelVsSequential(ctx context.Context, opt options, logger *slog.Logger, t *table) error {
	fmt.Fprintf(os.Stderr, "starting s3fake with %d prefixes × %d objects\n", opt.prefixes, opt.perPrefix)
	child, err := startFakeChild(fakeLayout{prefixes: opt.prefixes, perPrefix: opt.perPrefix, latency: opt.latency, cpuProfile: opt.fakeProfile})
	if err != nil {
		return err
	}
	defer child.stop()
	group := fmt.Sprintf("A: %d prefixes, %v/LIST", opt.prefixes, opt.latency)
	var base time.Duration
	for i, run := range []struct {
		workers int
		sorted  bool
	}{{0, true}, {opt.workers, true}, {opt.workers, false}} {
		c, lc, err := s3Conn(ctx, child.endpoint, "bench", "bench", fakeBucket, run.workers, logger)
		if err != nil {
			return err
		}
		scan, mode := c.ScanSorted, modeName(run.workers)
		if !run.sorted {
			scan, mode = c.Scan, fmt.Sprintf("parallel(%d) Scan", run.workers)
		}
		m, err := measure(ctx, scan)
		if err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
		row := rowOf(group, "s3fake", mode, m, int(lc.lists.Load()))
		row.ratio = "1.0×"
		if i == 0 {
			base = m.elapsed
		} else {
			speedup := base.Seconds() / m.elapsed.Seconds()
			row.ratio = fmt.Sprintf("%.1f× faster", speedup)
			verdict := "meets"
			if speedup < 8 {
				verdict = "MISSES"
			}
			row.note = fmt.Sprintf("%s the target of at least 8× the sequential scan (%.1f×)", verdict, speedup)
		}
		t.add(row)
	}
	return nil
}

// rawKey names object i of the raw listing runs: 100 top-level folders.
func rawKey(i int) string { return fmt.Sprintf("d%03d/f%06d.jpg", i%100, i) }

// rawListing lists opt.objects objects on each storage without added
// latency.
func rawListing(ctx context.Context, opt options, logger *slog.Logger, t *table) error {
	group := fmt.Sprintf("B: %d objects", opt.objects)

	// s3fake, in a child process
	fmt.Fprintf(os.Stderr, "starting s3fake with %d objects\n", opt.objects)
	child, err := startFakeChild(fakeLayout{objects: opt.objects})
	if err != nil {
		return err
	}
	defer child.stop()
	for _, workers := range []int{0, opt.workers} {
		c, lc, err := s3Conn(ctx, child.endpoint, "bench", "bench", fakeBucket, workers, logger)
		if err != nil {
			return err
		}
		m, err := measure(ctx, c.ScanSorted)
		if err != nil {
			return fmt.Errorf("s3fake raw listing: %w", err)
		}
		t.add(rowOf(group, "s3fake", modeName(workers), m, int(lc.lists.Load())))
	}
	child.stop()

	// versitygw
	if !opt.skipVersity {
		if err := versityRows(ctx, opt, logger, t, group); err != nil {
			return err
		}
	}

	// local folder
	dir, err := os.MkdirTemp("", "shelf-bench-local-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(os.Stderr, "creating %d files in %s\n", opt.objects, dir)
	for i := range opt.objects {
		p := filepath.Join(dir, filepath.FromSlash(rawKey(i)))
		if i < 100 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			return err
		}
	}
	lc, err := localfs.New(dir, []string{dir}, localfs.WithLogger(logger))
	if err != nil {
		return err
	}
	m, err := measure(ctx, lc.ScanSorted)
	if err != nil {
		return fmt.Errorf("local raw listing: %w", err)
	}
	t.add(rowOf(group, "local", "ScanSorted", m, -1))
	return nil
}

func modeName(workers int) string {
	if workers > 1 {
		return fmt.Sprintf("parallel(%d) ScanSorted", workers)
	}
	return "sequential ScanSorted"
}

func noteIf(cond bool, s string) string {
	if cond {
		return s
	}
	return ""
}
