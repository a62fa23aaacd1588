// Command drive measures the Google Drive connector against drivefake with
// a fixed latency on every Drive call (default 30 ms, about what a real
// files.list costs) and prints a table of calls and wall time:
//
//   - a full scan of a large tree (default 10,000 folders) walking by
//     folders with 50 parents OR-ed per files.list query: the call count
//     should be close to folders/50 + items/1000; and the same with several
//     queries at a time (ScanWorkers);
//   - the same scan on a smaller tree with one parent per query, and with
//     Drive's OR-ed-parents bug forcing the fallback, for comparison;
//   - draining the changes feed after k changes: at most ⌈k/1000⌉+1
//     changes.list calls.
//
// All traffic stays on loopback.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

type options struct {
	folders, filesPerFolder, compareFolders, changes, workers int
	latency                                                   time.Duration
}

func main() {
	var opt options
	flag.IntVar(&opt.folders, "folders", 10000, "folders in the large scan")
	flag.IntVar(&opt.filesPerFolder, "files-per-folder", 2, "files in each folder")
	flag.IntVar(&opt.compareFolders, "compare-folders", 1000, "folders in the one-parent-per-query and OR-bug comparison (0 skips it)")
	flag.IntVar(&opt.changes, "changes", 2500, "changes in the changes-feed run")
	flag.IntVar(&opt.workers, "workers", 4, "ScanWorkers for the parallel scan row (0 skips it)")
	flag.DurationVar(&opt.latency, "latency", 30*time.Millisecond, "latency added to every Drive call")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if err := run(ctx, opt); err != nil {
		fmt.Fprintln(os.Stderr, "drive benchmark:", err)
		os.Exit(1)
	}
}

// result is one measured run.
type result struct {
	run                 string
	folders, files      int
	parentsPerQuery     int
	entries, calls      int
	elapsed             time.Duration
	expectedCalls, note string
}

func run(ctx context.Context, opt options) error {
	var rows []result
	add := func(r result) {
		rows = append(rows, r)
		fmt.Fprintf(os.Stderr, "  %s: %d calls in %.2fs\n", r.run, r.calls, r.elapsed.Seconds())
	}

	r, err := scanRun(ctx, "scan", opt.folders, opt.filesPerFolder, 50, 1, false, opt.latency)
	if err != nil {
		return err
	}
	add(r)
	if opt.workers > 1 {
		r, err := scanRun(ctx, fmt.Sprintf("scan, %d workers", opt.workers), opt.folders, opt.filesPerFolder, 50, opt.workers, false, opt.latency)
		if err != nil {
			return err
		}
		add(r)
	}
	if opt.compareFolders > 0 {
		for _, c := range []struct {
			name   string
			ppq    int
			broken bool
		}{
			{"scan (small tree)", 50, false},
			{"scan, 1 parent/query", 1, false},
			{"scan, OR bug fallback", 50, true},
		} {
			r, err := scanRun(ctx, c.name, opt.compareFolders, opt.filesPerFolder, c.ppq, 1, c.broken, opt.latency)
			if err != nil {
				return err
			}
			add(r)
		}
	}
	r, err = changesRun(ctx, opt.changes, opt.latency)
	if err != nil {
		return err
	}
	add(r)

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "run\tfolders\tfiles\tparents/query\tentries\tDrive calls\texpected\tseconds\tnote\t\n")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%.2f\t%s\t\n", r.run, r.folders, r.files, r.parentsPerQuery,
			r.entries, r.calls, r.expectedCalls, r.elapsed.Seconds(), r.note)
	}
	fmt.Fprintf(tw, "(latency %v on every call)\t\t\t\t\t\t\t\t\t\n", opt.latency)
	return tw.Flush()
}

// tree builds a two-level tree: ~√folders top folders, the rest spread
// below them, filesPerFolder files in each lower folder.
func tree(fake *drivefake.Server, root string, folders, filesPerFolder int) (int, int) {
	top := 1
	for top*top < folders {
		top++
	}
	made, files := 0, 0
	for i := 0; i < top && made < folders; i++ {
		d := fake.CreateFolder(root, fmt.Sprintf("top%04d", i))
		made++
		for j := 0; j < top-1 && made < folders; j++ {
			s := fake.CreateFolder(d, fmt.Sprintf("sub%04d", j))
			made++
			for k := range filesPerFolder {
				fake.CreateFile(s, fmt.Sprintf("f%d.jpg", k), "image/jpeg", nil)
				files++
			}
		}
	}
	return made, files
}

func connect(ctx context.Context, fake *drivefake.Server, root string, ppq, workers int) (*gdrive.Conn, error) {
	return gdrive.New(ctx, gdrive.Config{
		FolderID: root, Endpoint: fake.URL(), HTTPClient: fake.Client(), ParentsPerQuery: ppq, ScanWorkers: workers,
		Pacer: storage.NewPacer(storage.PacerConfig{}),
	}, slog.New(slog.DiscardHandler))
}

func scanRun(ctx context.Context, name string, folders, filesPerFolder, ppq, workers int, broken bool, latency time.Duration) (result, error) {
	fake := drivefake.NewServer(drivefake.Options{BrokenORParents: broken})
	defer fake.Close()
	root := fake.CreateFolder("root", "Shelf")
	nf, files := tree(fake, root, folders, filesPerFolder)
	conn, err := connect(ctx, fake, root, ppq, workers)
	if err != nil {
		return result{}, err
	}
	fake.SetOptions(func(o *drivefake.Options) { o.Latency = latency })
	fake.ResetCalls()
	entries := 0
	start := time.Now()
	if err := conn.Scan(ctx, func(storage.Entry) error { entries++; return nil }); err != nil {
		return result{}, fmt.Errorf("%s: %w", name, err)
	}
	r := result{
		run: name, folders: nf, files: files, parentsPerQuery: ppq, entries: entries,
		calls: fake.TotalCalls(), elapsed: time.Since(start),
		expectedCalls: fmt.Sprintf("~%d", (nf+1+ppq-1)/ppq+(nf+files)/1000),
	}
	if broken {
		r.note = "every OR-ed query answers nothing"
		r.expectedCalls = "-"
	}
	if entries != nf+files {
		return r, fmt.Errorf("%s: scan reported %d entries, want %d", name, entries, nf+files)
	}
	return r, nil
}

func changesRun(ctx context.Context, k int, latency time.Duration) (result, error) {
	fake := drivefake.NewServer(drivefake.Options{})
	defer fake.Close()
	root := fake.CreateFolder("root", "Shelf")
	conn, err := connect(ctx, fake, root, 50, 1)
	if err != nil {
		return result{}, err
	}
	cursor, err := conn.StartCursor(ctx)
	if err != nil {
		return result{}, err
	}
	for i := range k {
		fake.CreateFile(root, fmt.Sprintf("c%d.jpg", i), "image/jpeg", nil)
	}
	fake.SetOptions(func(o *drivefake.Options) { o.Latency = latency })
	fake.ResetCalls()
	got := 0
	start := time.Now()
	for {
		chs, next, more, err := conn.Changes(ctx, cursor)
		if err != nil {
			return result{}, err
		}
		got += len(chs)
		cursor = next
		if !more {
			break
		}
	}
	return result{
		run: "changes feed", files: k, entries: got, calls: fake.TotalCalls(), elapsed: time.Since(start),
		expectedCalls: fmt.Sprintf("<=%d", (k+999)/1000+1), note: "k new files after the cursor",
	}, nil
}
