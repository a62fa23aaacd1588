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
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
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

func fakeConn(ctx context.Context, srv *s3fake.Server, bucket string, workers int, logger *slog.Logger) (*s3.Conn, error) {
	return s3.New(ctx, s3.Config{Bucket: bucket, Endpoint: srv.URL, PathStyle: true,
		AccessKeyID: "bench", SecretAccessKey: "bench", ParallelPrefixes: workers}, logger)
}

// parallelVsSequential lists opt.prefixes top-level prefixes of
// opt.perPrefix objects each on s3fake with opt.latency per LIST call,
// sequentially and with opt.workers prefixes in parallel.
func parallelVsSequential(ctx context.Context, opt options, logger *slog.Logger, t *table) error {
	srv := s3fake.Start()
	defer srv.Close()
	const bucket = "bench"
	if err := srv.CreateBucket(bucket); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seeding s3fake: %d prefixes × %d objects\n", opt.prefixes, opt.perPrefix)
	for p := range opt.prefixes {
		for j := range opt.perPrefix {
			if err := srv.PutObject(bucket, fmt.Sprintf("p%03d/f%05d.jpg", p, j), []byte("x")); err != nil {
				return err
			}
		}
	}
	srv.SetLatency(s3fake.OpList, opt.latency)
	seq, err := fakeConn(ctx, srv, bucket, 0, logger)
	if err != nil {
		return err
	}
	par, err := fakeConn(ctx, srv, bucket, opt.workers, logger)
	if err != nil {
		return err
	}
	group := fmt.Sprintf("A: %d prefixes, %v/LIST", opt.prefixes, opt.latency)
	runs := []struct {
		mode string
		scan scanFunc
	}{
		{"sequential ScanSorted", seq.ScanSorted},
		{fmt.Sprintf("parallel(%d) ScanSorted", opt.workers), par.ScanSorted},
		{fmt.Sprintf("parallel(%d) Scan", opt.workers), par.Scan},
	}
	var base time.Duration
	for i, r := range runs {
		srv.ResetCalls()
		m, err := measure(ctx, r.scan)
		if err != nil {
			return fmt.Errorf("%s: %w", r.mode, err)
		}
		d := m.elapsed
		row := rowOf(group, "s3fake", r.mode, m, srv.Calls(s3fake.OpList))
		row.ratio = "1.0×"
		if i == 0 {
			base = d
		} else {
			speedup := base.Seconds() / d.Seconds()
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

	// s3fake
	srv := s3fake.Start()
	defer srv.Close()
	const bucket = "raw"
	if err := srv.CreateBucket(bucket); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seeding s3fake with %d objects\n", opt.objects)
	for i := range opt.objects {
		if err := srv.PutObject(bucket, rawKey(i), []byte("x")); err != nil {
			return err
		}
	}
	for _, workers := range []int{0, opt.workers} {
		c, err := fakeConn(ctx, srv, bucket, workers, logger)
		if err != nil {
			return err
		}
		srv.ResetCalls()
		m, err := measure(ctx, c.ScanSorted)
		if err != nil {
			return fmt.Errorf("s3fake raw listing: %w", err)
		}
		r := rowOf(group, "s3fake", modeName(workers), m, srv.Calls(s3fake.OpList))
		r.note = noteIf(workers == 0, "CPU and peak RSS include the in-process fake server holding every object")
		t.add(r)
	}

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
