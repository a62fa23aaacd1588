package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3Server is a reachable S3 endpoint with its keys.
type s3Server struct {
	endpoint, access, secret string
	stop                     func()
	owned                    bool   // started here on a temporary folder that stop removes
	dir                      string // that folder (posix backend: one folder per bucket)
	pid                      int    // the server's process, when owned
}

// versityServer uses the test run's versitygw when SHELF_TEST_S3_ENDPOINT
// is set, or starts one on a temporary folder when the binary exists.
func versityServer(ctx context.Context) (*s3Server, error) {
	if ep := os.Getenv("SHELF_TEST_S3_ENDPOINT"); ep != "" {
		return &s3Server{endpoint: ep, access: os.Getenv("SHELF_TEST_S3_ACCESS_KEY"),
			secret: os.Getenv("SHELF_TEST_S3_SECRET_KEY"), stop: func() {}}, nil
	}
	return startVersitygw(ctx)
}

// startVersitygw starts versitygw's posix backend on a temporary folder;
// it returns nil, nil when the binary is not installed.
func startVersitygw(ctx context.Context) (*s3Server, error) {
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			gopath = filepath.Join(os.Getenv("HOME"), "go")
		}
		bin = filepath.Join(gopath, "bin", "versitygw")
		if _, err := os.Stat(bin); err != nil {
			return nil, nil
		}
	}
	dir, err := os.MkdirTemp("", "shelf-bench-versitygw-")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.CommandContext(ctx, bin, "--port", addr, "--access", "benchkey", "--secret", "benchsecret", "posix", dir)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting versitygw: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}
	for deadline := time.Now().Add(15 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, errors.New("versitygw did not start listening within 15s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &s3Server{endpoint: "http://" + addr, access: "benchkey", secret: "benchsecret", stop: stop, owned: true,
		dir: dir, pid: cmd.Process.Pid}, nil
}

func rawClient(srv *s3Server) *awss3.Client {
	return awss3.New(awss3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.endpoint), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider(srv.access, srv.secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// versityRows seeds a fresh bucket with opt.objects objects, lists it
// sequentially and in parallel, and deletes the bucket.
func versityRows(ctx context.Context, opt options, logger *slog.Logger, t *table, group string) error {
	srv, err := versityServer(ctx)
	if err != nil {
		return err
	}
	if srv == nil {
		fmt.Fprintln(os.Stderr, "versitygw not found (set SHELF_TEST_S3_ENDPOINT or install it); skipping its rows")
		return nil
	}
	defer srv.stop()
	client := rawClient(srv)
	bucket := fmt.Sprintf("shelf-bench-%d", time.Now().UnixNano())
	if _, err := client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("creating bench bucket: %w", err)
	}
	if !srv.owned { // a server of our own goes away with its folder
		defer emptyAndDelete(context.WithoutCancel(ctx), client, bucket)
	}

	fmt.Fprintf(os.Stderr, "seeding versitygw with %d objects (16 uploads at a time)\n", opt.objects)
	start := time.Now()
	if err := seedParallel(ctx, client, bucket, opt.objects, 16); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  seeded in %.1fs\n", time.Since(start).Seconds())
	for _, workers := range []int{0, opt.workers} {
		c, lc, err := s3Conn(ctx, srv.endpoint, srv.access, srv.secret, bucket, workers, logger)
		if err != nil {
			return err
		}
		m, err := measure(ctx, c.ScanSorted)
		if err != nil {
			return fmt.Errorf("versitygw raw listing: %w", err)
		}
		r := rowOf(group, "versitygw", modeName(workers), m, int(lc.lists.Load()))
		r.note = noteIf(workers == 0, "CPU counts only this process; versitygw runs in its own")
		t.add(r)
	}
	return nil
}

func seedParallel(ctx context.Context, client *awss3.Client, bucket string, n, workers int) error {
	keys := make(chan string)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for k := range keys {
				_, err := client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k),
					Body: bytes.NewReader([]byte("x"))})
				if err != nil {
					errs <- fmt.Errorf("seeding %s: %w", k, err)
					return
				}
			}
		})
	}
	var err error
feed:
	for i := range n {
		select {
		case keys <- rawKey(i):
		case err = <-errs:
			break feed
		}
	}
	close(keys)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

// emptyAndDelete removes every object of bucket and the bucket.
func emptyAndDelete(ctx context.Context, client *awss3.Client, bucket string) {
	p := awss3.NewListObjectsV2Paginator(client, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cleaning bench bucket:", err)
			return
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for _, o := range page.Contents {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				_, _ = client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			})
		}
		wg.Wait()
	}
	_, _ = client.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String(bucket)})
}
