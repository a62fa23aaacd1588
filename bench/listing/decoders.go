package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shelf-dam/shelf/internal/storage/s3"
)

// Run C (-compare-decoders) answers one question: does the connector's
// own ListObjectsV2 decoder (listxml.go) save enough of a real server's
// listing time to keep? It lists opt.objects objects on versitygw with the
// built-in decoder and with the SDK's, interleaved, opt.reps times each.

// decoderRun is one measured listing of run C.
type decoderRun struct {
	rep       int
	mode      string
	decoder   string
	m         measurement
	serverCPU time.Duration
	lists     int
}

// compareDecoders runs run C and prints its table and summary.
func compareDecoders(ctx context.Context, opt options, logger *slog.Logger, w io.Writer) error {
	srv, err := startVersitygw(ctx)
	if err != nil {
		return err
	}
	if srv == nil {
		return errors.New("run C needs the versitygw binary (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
	}
	defer srv.stop()
	client := rawClient(srv)
	bucket := fmt.Sprintf("shelf-bench-%d", time.Now().UnixNano())
	if _, err := client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("creating bench bucket: %w", err)
	}
	fmt.Fprintf(os.Stderr, "writing %d objects into versitygw's bucket folder\n", opt.objects)
	start := time.Now()
	if err := seedPosix(filepath.Join(srv.dir, bucket), opt.objects); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  written in %.1fs\n", time.Since(start).Seconds())
	// One unmeasured listing warms the server's directory and attribute
	// caches, which the first measured run would otherwise pay for alone.
	warm, _, err := s3Conn(ctx, srv.endpoint, srv.access, srv.secret, bucket, 0, logger)
	if err != nil {
		return err
	}
	if _, err := measure(ctx, warm.ScanSorted); err != nil {
		return fmt.Errorf("versitygw warm-up listing: %w", err)
	}

	type config struct {
		workers int
		sdk     bool
	}
	var configs []config
	for _, workers := range []int{0, opt.workers} {
		configs = append(configs, config{workers, false}, config{workers, true})
	}
	var runs []decoderRun
	for rep := 1; rep <= opt.reps; rep++ {
		order := slices.Clone(configs)
		if rep%2 == 0 { // alternate which decoder goes first
			for i := 0; i+1 < len(order); i += 2 {
				order[i], order[i+1] = order[i+1], order[i]
			}
		}
		for _, cfg := range order {
			hc, lc := countingClient()
			c, err := s3.New(ctx, s3.Config{Bucket: bucket, Endpoint: srv.endpoint, PathStyle: true,
				AccessKeyID: srv.access, SecretAccessKey: srv.secret, ParallelPrefixes: cfg.workers,
				HTTPClient: hc, SDKListDecoder: cfg.sdk}, logger)
			if err != nil {
				return err
			}
			server0 := processCPU(srv.pid)
			m, err := measure(ctx, c.ScanSorted)
			if err != nil {
				return fmt.Errorf("versitygw listing: %w", err)
			}
			r := decoderRun{rep: rep, mode: modeName(cfg.workers), decoder: decoderName(cfg.sdk), m: m,
				serverCPU: processCPU(srv.pid) - server0, lists: int(lc.lists.Load())}
			if r.m.entries != opt.objects+100 {
				return fmt.Errorf("versitygw listed %d entries, want %d (100 folders + %d files)", r.m.entries, opt.objects+100, opt.objects)
			}
			fmt.Fprintf(os.Stderr, "  rep %d %s %s: %.2fs, client CPU %.2fs, server CPU %.2fs\n",
				rep, r.mode, r.decoder, m.elapsed.Seconds(), m.cpu.Seconds(), r.serverCPU.Seconds())
			runs = append(runs, r)
		}
	}
	printDecoderRuns(w, runs)
	return nil
}

func decoderName(sdk bool) string {
	if sdk {
		return "SDK"
	}
	return "built-in"
}

// seedPosix creates n one-byte objects named rawKey(i) straight in the
// bucket's folder of versitygw's posix backend, with the ETag and checksum
// attributes a PUT leaves, so listings carry what they carry for uploads.
func seedPosix(bucketDir string, n int) error {
	for i := range n {
		p := filepath.Join(bucketDir, filepath.FromSlash(rawKey(i)))
		if i < 100 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
		}
		body := []byte("x")
		if err := os.WriteFile(p, body, 0o644); err != nil {
			return err
		}
		sum := md5.Sum(body)
		etag := `"` + hex.EncodeToString(sum[:]) + `"`
		if err := syscall.Setxattr(p, "user.etag", []byte(etag), 0); err != nil {
			return fmt.Errorf("setting the ETag attribute (the folder's file system needs user xattrs): %w", err)
		}
		if err := syscall.Setxattr(p, "user.checksums", []byte(`{"Algorithm":"CRC32","Type":"FULL_OBJECT","CRC32":"g7PTkw=="}`), 0); err != nil {
			return err
		}
	}
	return nil
}

// processCPU is the CPU time (user + system) process pid used so far, from
// /proc/<pid>/stat; 0 when it cannot be read.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start at state.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

func printDecoderRuns(w io.Writer, runs []decoderRun) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rep\tmode\tdecoder\tentries\tseconds\tclient CPU s\tserver CPU s\tLIST calls\tpeak RSS MiB\t")
	for _, r := range runs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%.2f\t%.2f\t%.2f\t%d\t%s\t\n", r.rep, r.mode, r.decoder, r.m.entries,
			r.m.elapsed.Seconds(), r.m.cpu.Seconds(), r.serverCPU.Seconds(), r.lists, r.m.rss)
	}
	tw.Flush()

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tdecoder\tmedian s\tmin s\tmax s\tmedian client CPU s\tmax peak RSS MiB\twall saved by built-in\t")
	var modes []string
	for _, r := range runs {
		if !slices.Contains(modes, r.mode) {
			modes = append(modes, r.mode)
		}
	}
	for _, mode := range modes {
		medians := map[string]float64{}
		for _, dec := range []string{"built-in", "SDK"} {
			var secs, cpu []float64
			peak := 0
			for _, r := range runs {
				if r.mode == mode && r.decoder == dec {
					secs = append(secs, r.m.elapsed.Seconds())
					cpu = append(cpu, r.m.cpu.Seconds())
					if v, err := strconv.Atoi(r.m.rss); err == nil {
						peak = max(peak, v)
					}
				}
			}
			medians[dec] = median(secs)
			saved := ""
			if dec == "SDK" {
				saved = fmt.Sprintf("%.1f%%", 100*(medians["SDK"]-medians["built-in"])/medians["SDK"])
			}
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%s\t\n", mode, dec, medians[dec],
				slices.Min(secs), slices.Max(secs), median(cpu), peak, saved)
		}
	}
	tw.Flush()
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
