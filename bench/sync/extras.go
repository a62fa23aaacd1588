package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
	"github.com/shelf-dam/shelf/internal/storage/s3"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// driveScanCost syncs a Drive tree of about 10,000 folders from drivefake
// with latency injected on every call and compares the files.list calls
// with the target (folders/50 + files/1000) × 1.2.
func driveScanCost(ctx context.Context, w io.Writer, dir string, latency time.Duration) error {
	fake := drivefake.NewServer(drivefake.Options{})
	defer fake.Close()
	root := fake.CreateFolder("root", "Library")
	folders, files := 0, 0
	for i := range 100 {
		top := fake.CreateFolder(root, fmt.Sprintf("top-%03d", i))
		folders++
		for j := range 100 {
			sub := fake.CreateFolder(top, fmt.Sprintf("sub-%03d", j))
			folders++
			for k := range 3 {
				fake.CreateFile(sub, fmt.Sprintf("file-%d.jpg", k), "image/jpeg", []byte(fmt.Sprintf("%d/%d/%d", i, j, k)))
				files++
			}
		}
	}
	fake.SetOptions(func(o *drivefake.Options) { o.Latency = latency })
	conn, err := gdrive.New(ctx, gdrive.Config{FolderID: root, Endpoint: fake.URL(), HTTPClient: fake.Client()}, nil)
	if err != nil {
		return err
	}
	store, _, cleanup, err := openCatalog(ctx, "sqlite", dir)
	if err != nil {
		return err
	}
	defer cleanup()
	acct, err := store.CreateAccount(ctx, catalog.NewAccount{Name: "bench"}, time.Now())
	if err != nil {
		return err
	}
	if _, err := store.PutConnection(ctx, catalog.Connection{AccountID: acct.ID, Kind: "gdrive", RootKey: root}, time.Now()); err != nil {
		return err
	}
	eng, err := syncer.New(syncer.Config{Store: store})
	if err != nil {
		return err
	}
	fake.ResetCalls()
	start := time.Now()
	res, err := eng.Run(ctx, syncer.Job{AccountID: acct.ID, Conn: conn})
	if err != nil {
		return err
	}
	took := time.Since(start)
	lists := fake.Calls("files.list")
	target := (float64(folders)/50 + float64(files)/1000) * 1.2
	fmt.Fprintf(w, "Drive initial scan, %v latency per call: %d folders, %d files, %d entries synced in %.1f s; files.list calls %d, target ≤ %.0f (%s)\n",
		latency, folders, files, res.Counts.Seen, took.Seconds(), lists, target, verdict(float64(lists) <= target))
	return nil
}

// s3ParallelListing lists an S3 fake whose LIST calls take latency, with
// 64+ top-level prefixes, sequentially and with parallel prefixes.
func s3ParallelListing(ctx context.Context, w io.Writer, latency time.Duration, parallel int) error {
	const perTop = 200 // 64 top-level prefixes of 200 objects (2 folders of 100)
	const n = 64 * perTop
	src, err := s3FakeSourceWith(ctx, n, latency, 0, perTop)
	if err != nil {
		return err
	}
	defer src.close()
	seq, err := timeSorted(ctx, src.conn)
	if err != nil {
		return err
	}
	par, err := s3.New(ctx, s3.Config{Bucket: "bench", Endpoint: src.endpoint, PathStyle: true,
		AccessKeyID: "bench", SecretAccessKey: "bench", ParallelPrefixes: parallel}, nil)
	if err != nil {
		return err
	}
	pt, err := timeSorted(ctx, par)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "S3 listing of %d objects under 64 top-level prefixes, %v per LIST call: sequential %.2f s, %d parallel prefixes %.2f s: %.1f× faster, target ≥ 8× (%s)\n",
		n, latency, seq.Seconds(), parallel, pt.Seconds(), seq.Seconds()/pt.Seconds(), verdict(seq.Seconds()/pt.Seconds() >= 8))
	return nil
}

func timeSorted(ctx context.Context, c storage.Connector) (time.Duration, error) {
	start := time.Now()
	err := c.(storage.SortedScanner).ScanSorted(ctx, func(storage.Entry) error { return nil })
	return time.Since(start), err
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

func runExtras(ctx context.Context, w io.Writer, list, dir string) error {
	for _, x := range strings.Split(list, ",") {
		var err error
		switch strings.TrimSpace(x) {
		case "", "rclone": // rclone: with the table (main)
			continue
		case "drive":
			err = driveScanCost(ctx, w, filepath.Clean(dir), 30*time.Millisecond)
		case "s3parallel":
			err = s3ParallelListing(ctx, w, 30*time.Millisecond, 16)
		default:
			err = fmt.Errorf("unknown extra %q (want drive, s3parallel, rclone)", x)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
